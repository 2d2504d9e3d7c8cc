/*
 * The test root's /sbin/init: prints what the booted system really shows as
 * "RESULT ..." lines on the console, then powers off. The QEMU tests assert
 * on these lines.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fnv.h"
#include "netreport.h"

#define RAMFS_MAGIC_ 0x858458f6
#define TMPFS_MAGIC_ 0x01021994

static void print_file_line(const char *key, const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	printf("RESULT %s=%s\n", key, buf);
}

/* CPU time this process has used, and its reaped children: execve()
 * keeps both counts, so at the start they are what /init (PID 1 before
 * us) spent and what its jobs (child processes: identification, header
 * loads, KDFs) spent, as the kernel counted them. */
static void print_cpu_time(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* After "(comm)": state is field 3, utime 14, stime 15, cutime 16,
	 * cstime 17. */
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0, cut = 0, cst = 0;
	if (!p || sscanf(p + 2,
			 "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%llu %llu %llu %llu",
			 &ut, &st, &cut, &cst) != 4) {
		printf("RESULT cpu_ms=unknown\n");
		printf("RESULT children_cpu_ms=unknown\n");
		return;
	}
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long per = (unsigned long long)(hz > 0 ? hz : 100);
	printf("RESULT cpu_ms=%llu\n", (ut + st) * 1000ULL / per);
	printf("RESULT children_cpu_ms=%llu\n", (cut + cst) * 1000ULL / per);
}

/* The most memory this process ever had resident, as the kernel counts
 * it: execve() keeps the old image's high-water mark, so this is /init's
 * peak (PID 1 before us; its jobs are children and not in it). */
static void print_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("RESULT maxrss_kb=%ld\n", ru.ru_maxrss);
}

/* Whether a console's echo is on, as /init must leave it after a prompt
 * with echo off (the real init and its getty inherit it). */
static void print_echo(const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/%s", name);
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct termios t;
	if (fd >= 0 && tcgetattr(fd, &t) == 0)
		printf("RESULT echo.%s=%d\n", name, (t.c_lflag & ECHO) != 0);
	if (fd >= 0)
		close(fd);
}

/* mountinfo: id parent maj:min root mountpoint opts [tags] - type src sopts */
static void print_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		printf("RESULT mountinfo=unreadable\n");
		return;
	}
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		char root[256], mp[256], opts[256], type[64], src[256],
			sopts[512];
		char *dash = strstr(line, " - ");
		if (!dash ||
		    sscanf(line, "%*s %*s %*s %255s %255s %255s", root, mp,
			   opts) != 3 ||
		    sscanf(dash + 3, "%63s %255s %511s", type, src, sopts) != 3)
			continue;
		if (strcmp(mp, "/") == 0)
			printf("RESULT root source=%s fstype=%s subpath=%s mountopts=%s superopts=%s\n",
			       src, type, root, opts, sopts);
		else
			printf("RESULT mount %s %s\n", mp, type);
	}
	fclose(f);
}

static void print_btrfs_devices(void)
{
	DIR *d = opendir("/sys/fs/btrfs");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "features") == 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "/sys/fs/btrfs/%s/devices",
			 de->d_name);
		DIR *dd = opendir(path);
		struct dirent *e;
		int n = 0;
		char names[512] = "";
		while (dd && (e = readdir(dd))) {
			if (e->d_name[0] == '.')
				continue;
			n++;
			strncat(names, " ", sizeof(names) - strlen(names) - 1);
			strncat(names, e->d_name,
				sizeof(names) - strlen(names) - 1);
		}
		if (dd)
			closedir(dd);
		printf("RESULT btrfs fsid=%s devices=%d:%s\n", de->d_name, n,
		       names);
	}
	if (d)
		closedir(d);
}

static void read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* A dm-crypt table's optional parameters ("allow_discards", ...): the
 * fields after "cipher key iv_offset device offset [count]". The key is
 * never printed. */
static void crypt_options(const char *dm_name, char *out, size_t size)
{
	static char buf[16384];
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	memset(buf, 0, sizeof(buf));
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = sizeof(buf);
	io->data_start = sizeof(*io);
	io->flags = DM_STATUS_TABLE_FLAG;
	snprintf(io->name, sizeof(io->name), "%s", dm_name);
	snprintf(out, size, "?");
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	int rc = ioctl(fd, DM_TABLE_STATUS, io);
	close(fd);
	if (rc < 0 || io->target_count < 1)
		return;
	struct dm_target_spec *t =
		(struct dm_target_spec *)(buf + io->data_start);
	const char *p = (const char *)(t + 1);
	out[0] = '\0';
	if (strcmp(t->target_type, "crypt") != 0)
		return;
	int field = 0;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (len == 0)
			break;
		if (field++ >= 6) { /* past the count of optional params */
			snprintf(out + strlen(out), size - strlen(out),
				 "%s%.*s", out[0] ? "," : "", (int)len, p);
		}
		p += len;
	}
	explicit_bzero(buf, sizeof(buf));
}

/* Each device-mapper device: its name, what it sits on, whether discards
 * pass through, and its dm-crypt options. */
static void print_dm_devices(void)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		char path[512], name[128], discard[32], opts[512];
		char slaves[1024] = "";
		snprintf(path, sizeof(path), "/sys/block/%s/dm/name",
			 de->d_name);
		read_line(path, name, sizeof(name));
		snprintf(path, sizeof(path),
			 "/sys/block/%s/queue/discard_max_bytes", de->d_name);
		read_line(path, discard, sizeof(discard));
		snprintf(path, sizeof(path), "/sys/block/%s/slaves",
			 de->d_name);
		DIR *sd = opendir(path);
		struct dirent *se;
		while (sd && (se = readdir(sd))) {
			if (se->d_name[0] == '.' ||
			    strlen(slaves) + strlen(se->d_name) + 2 >
				    sizeof(slaves))
				continue;
			if (slaves[0])
				strcat(slaves, ",");
			strcat(slaves, se->d_name);
		}
		if (sd)
			closedir(sd);
		crypt_options(name, opts, sizeof(opts));
		char num[32] = "";
		snprintf(path, sizeof(path), "/sys/block/%s/dev", de->d_name);
		read_line(path, num, sizeof(num));
		/* Its own line: tests parse the dm line's fields as they are. */
		printf("RESULT dmdev %s name=%s dev=%s\n", de->d_name, name,
		       num);
		printf("RESULT dm %s name=%s on=%s discard=%s options=%s\n",
		       de->d_name, name, slaves,
		       strcmp(discard, "0") == 0 || !discard[0] ? "no" : "yes",
		       opts[0] ? opts : "-");
	}
	if (d)
		closedir(d);
}

/* Each disk's sequence number: the kernel counts up one for every disk
 * it makes, so a mapping made before a disk was plugged in has a lower
 * one than that disk, and one made again would have a higher one. */
static void print_diskseqs(void)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "vd", 2) != 0 &&
		    strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		char path[300], seq[32] = "";
		snprintf(path, sizeof(path), "/sys/block/%s/diskseq",
			 de->d_name);
		read_line(path, seq, sizeof(seq));
		printf("RESULT diskseq %s=%s\n", de->d_name,
		       seq[0] ? seq : "?");
	}
	if (d)
		closedir(d);
}

/* The disks the kernel holds read-only (BLKROSET): /init sets a key
 * stick so for its mount, and must set it back. */
static void print_read_only_disks(void)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	printf("RESULT read_only_disks=");
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "vd", 2) != 0)
			continue;
		char path[300], ro[8] = "";
		snprintf(path, sizeof(path), "/sys/block/%s/ro", de->d_name);
		read_line(path, ro, sizeof(ro));
		if (strcmp(ro, "0") != 0)
			printf(" %s", de->d_name);
	}
	printf("\n");
	if (d)
		closedir(d);
}

/* The TPMs the kernel found: what the TPM2 tests' harness (swtpm) gave
 * the guest, and that the other boots have none. With one, the first
 * bytes of PCRs 0-7 (SHA-256) show what the firmware measured: what a
 * token bound to them would need. */
static void print_tpms(void)
{
	DIR *d = opendir("/sys/class/tpm");
	struct dirent *de;
	printf("RESULT tpm=");
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			printf(" %s", de->d_name);
	printf("\n");
	if (d)
		closedir(d);
	if (access("/sys/class/tpm/tpm0/pcr-sha256/7", R_OK) != 0)
		return;
	printf("RESULT pcrs-sha256=");
	for (int i = 0; i < 8; i++) {
		char path[64], v[80] = "";
		snprintf(path, sizeof(path),
			 "/sys/class/tpm/tpm0/pcr-sha256/%d", i);
		read_line(path, v, sizeof(v));
		printf(" %d:%.16s", i, v);
	}
	printf("\n");
}

/* Children that died but were never reaped: /init's orphans are ours now. */
static void print_zombies(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int zombies = 0;
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char path[300], stat[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		read_line(path, stat, sizeof(stat));
		const char *close_paren = strrchr(stat, ')');
		if (close_paren && close_paren[1] == ' ' &&
		    close_paren[2] == 'Z')
			zombies++;
	}
	if (d)
		closedir(d);
	printf("RESULT zombies=%d\n", zombies);
}

/* From /proc/PID/stat: comm, state, parent and flags (0 if unreadable). */
static int proc_stat(long pid, char *comm, size_t size, char *state, long *ppid,
		     unsigned long *flags)
{
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	read_line(path, stat, sizeof(stat));
	const char *open_paren = strchr(stat, '(');
	const char *close_paren = strrchr(stat, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	snprintf(comm, size, "%.*s", (int)(close_paren - open_paren - 1),
		 open_paren + 1);
	/* After "(comm)": state is field 3, ppid 4, flags 9. */
	if (sscanf(close_paren + 2, "%c %ld %*s %*s %*s %*s %lu", state, ppid,
		   flags) != 3)
		return -1;
	return 0;
}

/* Processes that this init did not start and that are not the kernel's:
 * nothing of the initramfs may run on into the booted system (a rescue
 * shell's "sleep 100000 &", a keylogger). This init has started none yet
 * (inspect_initramfs comes later), so every other one is a stranger.
 * Zombies are counted above. */
static void print_strangers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	char list[1024] = "";
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		long pid = atol(de->d_name), ppid;
		char comm[64], state;
		unsigned long flags;
		if (pid == getpid() ||
		    proc_stat(pid, comm, sizeof(comm), &state, &ppid, &flags) <
			    0 ||
		    (flags & 0x00200000) /* PF_KTHREAD */ || state == 'Z')
			continue;
		n++;
		size_t len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s(%ld)",
			 len ? "," : "", comm, ppid);
	}
	if (d)
		closedir(d);
	printf("RESULT strangers=%d:%s\n", n, list);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* report.absent=HEX on the command line: a secret (hex, so that the
 * command line itself, which is in the log, does not contain it) that
 * must appear nowhere in the kernel log. */
static void print_kmsg_secret_check(void)
{
	char cmdline[4096], secret[256];
	read_line("/proc/cmdline", cmdline, sizeof(cmdline));
	const char *hex = strstr(cmdline, "report.absent=");
	if (!hex)
		return;
	hex += strlen("report.absent=");
	size_t n = 0;
	while (n + 1 < sizeof(secret) && hexval(hex[0]) >= 0 &&
	       hexval(hex[1]) >= 0) {
		secret[n++] = (char)(hexval(hex[0]) * 16 + hexval(hex[1]));
		hex += 2;
	}
	secret[n] = '\0';
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int records = 0, found = 0;
	char rec[8192];
	ssize_t r;
	while (fd >= 0 && n > 0 &&
	       ((r = read(fd, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE)) {
		if (r <= 0)
			continue; /* overwritten records: skip on */
		rec[r] = '\0';
		records++;
		if (strstr(rec, secret))
			found++;
	}
	if (fd >= 0)
		close(fd);
	printf("RESULT kmsg records=%d with_secret=%d\n", records, found);
}

/* The passphrases /init handed on (password-cache=yes): a "user" key
 * "cryptsetup" in root's user keyring, as systemd-cryptsetup leaves it.
 * Its content is shown only as a length and an FNV-1a hash (the host
 * computes the same over the NUL-separated list it expects), with what
 * /proc/keys says of its expiry ("perm": none). */
static void print_password_cache(void)
{
	long id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING,
			  "user", "cryptsetup", 0);
	if (id < 0) {
		printf("RESULT pwcache=absent (%s)\n", strerror(errno));
		return;
	}
	unsigned char buf[8192];
	long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof(buf));
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (long i = 0; i < n && i < (long)sizeof(buf); i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	char expires[32] = "unknown", line[256], want[24];
	snprintf(want, sizeof(want), "%08lx ", id);
	FILE *f = fopen("/proc/keys", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, want, strlen(want)) == 0)
			sscanf(line, "%*s %*s %*s %31s", expires);
	if (f)
		fclose(f);
	printf("RESULT pwcache len=%ld fnv=%016llx expires=%s\n", n, h,
	       expires);
}

/* What /init left in /run/luksinit (a header copied from a stick must
 * not be handed to the booted system). */
static void print_run_luksinit(void)
{
	DIR *d = opendir("/run/luksinit");
	if (!d) {
		printf("RESULT run_luksinit=absent\n");
		return;
	}
	printf("RESULT run_luksinit=");
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			printf(" %s", de->d_name);
	printf("\n");
	closedir(d);
}

/* Lines logged by the fwtrigger test helper: final, as /init sent it a
 * SIGKILL before this init ran, and a killed process writes nothing more
 * (one stuck in the kernel stays so until it dies). */
static void print_fwtest(void)
{
	char buf[8192];
	int fd = open("/run/fwtest.log", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		printf("RESULT %s\n", line);
}

/* What the kernel's test_firmware driver holds now: the firmware it got
 * last (FNV-1a, as fwtrigger hashes it). */
static void print_test_firmware(void)
{
	int fd = open("/dev/test_firmware", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	static unsigned char buf[65536];
	uint64_t h = FWTEST_FNV_START;
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		h = fnv1a(h, buf, (size_t)n);
		total += (size_t)n;
	}
	close(fd);
	printf("RESULT test_firmware bytes=%zu fnv=%016llx\n", total,
	       (unsigned long long)h);
}

/* The test kernel's firmware test driver (luksinit_fwtest), one line per
 * requester: what it had when this init started, and, for the chain
 * requester, what it had when its run ended. */
#define FWDRV "/sys/kernel/luksinit_fwtest/"
static const char *const fwdrv_slots[] = {"sync", "nowait", "usb", "chain"};

static void print_fwdrv(const char *when)
{
	for (size_t i = 0; i < 4; i++) {
		char path[128], key[64];
		snprintf(path, sizeof(path), FWDRV "%s", fwdrv_slots[i]);
		snprintf(key, sizeof(key), "fwdrv.%s.%s", when, fwdrv_slots[i]);
		print_file_line(key, path);
	}
}

static bool cmdline_has(const char *word)
{
	char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, word) != NULL;
}

static void wait_chain_done(void)
{
	char buf[256] = "";
	bool chain = cmdline_has("luksinit_fwtest.chain=");
	for (int i = 0; chain && i < 1200 && !strstr(buf, "done=1"); i++) {
		usleep(100000);
		read_line(FWDRV "chain", buf, sizeof(buf));
	}
	print_fwdrv("end");
}

/* In the booted system: how long a request for a file that exists nowhere
 * keeps its driver waiting (report.fwmissing on the command line). With
 * the sysfs fallback still forced nobody answers it; with the kernel's own
 * loader it fails at once. */
static void booted_missing_request(void)
{
	if (!cmdline_has("report.fwmissing"))
		return;
	int t = open("/sys/class/firmware/timeout", O_WRONLY | O_CLOEXEC);
	if (t >= 0) {
		write(t, "5", 1); /* keep the test short if nobody answers */
		close(t);
	}
	int fd = open("/sys/devices/virtual/misc/test_firmware/trigger_request",
		      O_WRONLY | O_CLOEXEC);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ssize_t w = fd >= 0 ? write(fd, "luksinit-test/nowhere.bin", 25) : -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (fd >= 0)
		close(fd);
	printf("RESULT booted_missing_fw rc=%d ms=%lld\n", w < 0 ? errno : 0,
	       (long long)(b.tv_sec - a.tv_sec) * 1000 +
		       (b.tv_nsec - a.tv_nsec) / 1000000);
}

static int count_pending_firmware(void)
{
	DIR *d = opendir("/sys/class/firmware");
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "timeout") != 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static void print_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char list[256] = "";
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		strncat(list, " ", sizeof(list) - strlen(list) - 1);
		strncat(list, de->d_name, sizeof(list) - strlen(list) - 1);
	}
	if (d)
		closedir(d);
	printf("RESULT fds=%s\n", list);
}

/* Looks underneath the new root at the initramfs (rootfs), which switch_root
 * should have emptied: in a private mount namespace, detach the root mount
 * and re-enter the namespace, whose root then is rootfs itself. */
static void inspect_initramfs(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
			printf("RESULT initramfs=uninspectable (%s)\n",
			       strerror(errno));
			_exit(1);
		}
		int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
		if (ns < 0 || umount2("/", MNT_DETACH) < 0 ||
		    setns(ns, CLONE_NEWNS) < 0 || chdir("/") < 0) {
			printf("RESULT initramfs=uninspectable (%s)\n",
			       strerror(errno));
			_exit(1);
		}
		struct statfs sfs;
		statfs("/", &sfs);
		const char *type = sfs.f_type == RAMFS_MAGIC_	? "ramfs"
				   : sfs.f_type == TMPFS_MAGIC_ ? "tmpfs"
								: "other";
		DIR *d = opendir("/");
		struct dirent *de;
		int n = 0;
		char names[512] = "";
		while (d && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			n++;
			strncat(names, " ", sizeof(names) - strlen(names) - 1);
			strncat(names, de->d_name,
				sizeof(names) - strlen(names) - 1);
		}
		printf("RESULT initramfs fstype=%s entries=%d:%s\n", type, n,
		       names);
		fflush(stdout);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv, char **envp)
{
	/* With the screen as /dev/console, the harness still reads the
	 * serial port. */
	if (cmdline_has("report.serial")) {
		int fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			dup2(fd, 1);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("RESULT init started pid=%d argc=%d\n", getpid(), argc);
	for (int i = 0; i < argc; i++)
		printf("RESULT argv[%d]=%s\n", i, argv[i]);
	/* The file that runs, symlinks resolved (init= may name a link). */
	char exe[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	printf("RESULT exe=%s\n", exe);
	for (int i = 0; envp[i]; i++)
		printf("RESULT env %s\n", envp[i]);
	print_fds();
	print_fwdrv("start");
	print_file_line("uptime", "/proc/uptime");
	print_cpu_time();
	print_peak_rss();
	/* A file a test wrote on the root before this boot (a rescue shell). */
	print_file_line("marker", "/marker");
	print_file_line("cmdline", "/proc/cmdline");
	print_file_line("printk_devkmsg", "/proc/sys/kernel/printk_devkmsg");
	print_file_line("printk", "/proc/sys/kernel/printk");
	print_file_line("console_active", "/sys/class/tty/console/active");
	print_echo("console");
	print_echo("ttyS0");
	print_echo("tty1");
	print_file_line("fw_timeout", "/sys/class/firmware/timeout");
	/* The device the kernel was last told to resume from (MAJ:MIN). */
	print_file_line("power_resume", "/sys/power/resume");
	print_file_line(
		"fw_force_sysfs_fallback",
		"/proc/sys/kernel/firmware_config/force_sysfs_fallback");
	printf("RESULT fw_pending=%d\n", count_pending_firmware());
	print_fwtest();
	print_test_firmware();
	wait_chain_done();
	booted_missing_request();
	print_mounts();
	print_run_luksinit();
	print_btrfs_devices();
	print_dm_devices();
	print_read_only_disks();
	print_tpms();
	print_diskseqs();
	print_zombies();
	print_strangers();
	print_procs_named("dropbear");
	print_procs_named("luksinit-unlock");
	print_tcp_listen();
	print_netifs();
	print_kmsg_secret_check();
	print_password_cache();
	inspect_initramfs();
	printf("RESULT done\n");
	fflush(stdout);
	sync();
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	return 0;
}
