/* Key files on a stick (keydev.c, stickmount.c), in a child process with
 * a private mount namespace and tmpfs on /run and /dev: mount(),
 * umount2() and ioctl() are watched (the linker's --wrap, see the
 * Makefile), the "stick" is a directory bind-mounted where keydev.c mounts
 * the device, /dev/sdz1 a file whose read-only flag the ioctl watcher
 * keeps, and /dev/btrfs-control a file. The key is read as in
 * /init, by a job (loop/job.h): the mount and the unmount happen in the
 * job's child, so what the watchers see is kept in shared memory, and the
 * test serves the jobs as the loop would. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rundir.h"
#include "base/util.h"
#include "check.h"
#include "config/cmdline.h"
#include "fakesys.h"
#include "jobserve.h"
#include "loop/job.h"
#include "luks/keydev.h"

int __real_mount(const char *src, const char *target, const char *type,
		 unsigned long flags, const void *data);
int __wrap_mount(const char *src, const char *target, const char *type,
		 unsigned long flags, const void *data);
int __real_umount2(const char *target, int flags);
int __wrap_umount2(const char *target, int flags);
int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

#define STICK "/run/unit-stick"
/* Only in the child of stick_mounted_read_only_private_and_bounded (and
 * the jobs it starts); everyone else's mount() is the real one. */
static bool stick_armed;
/* Mounts and unmounts that do nothing: a read then fails at "open", and
 * only the directory handling around them is what runs. */
static bool mount_noop;
struct seen {
	char src[64], target[128], type[32], data[64];
	unsigned long flags;
	mode_t mode;
	int mounts, umounts;
	char umounted[128];
	/* The device's read-only flag, as BLKROGET tells it; at the mount;
	 * BLKROSET refused; the mount fails; the device Btrfs forgot. */
	int ro, ro_at_mount;
	bool ro_refused, mount_fails;
	char forgot[64];
};
/* Shared with the jobs' children, where the stick is mounted. */
static struct seen *seen;

int __wrap_mount(const char *src, const char *target, const char *type,
		 unsigned long flags, const void *data)
{
	/* The job's own namespace made private (keydev_with_file): not the
	 * stick. */
	if (!stick_armed || flags == (MS_REC | MS_PRIVATE))
		return __real_mount(src, target, type, flags, data);
	if (mount_noop)
		return 0;
	struct stat st;
	seen->mounts++;
	snprintf(seen->src, sizeof(seen->src), "%s", src ? src : "");
	snprintf(seen->target, sizeof(seen->target), "%s", target);
	snprintf(seen->type, sizeof(seen->type), "%s", type ? type : "");
	snprintf(seen->data, sizeof(seen->data), "%s",
		 data ? (const char *)data : "");
	seen->flags = flags;
	seen->mode = stat(target, &st) == 0 ? st.st_mode : 0;
	seen->ro_at_mount = seen->ro;
	if (seen->mount_fails) {
		errno = EINVAL;
		return -1;
	}
	return __real_mount(STICK, target, "none", MS_BIND, NULL);
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (fake_btrfs_ioctl &&
	    (req == BTRFS_IOC_SCAN_DEV || req == BTRFS_IOC_DEVICES_READY))
		return fake_btrfs_ioctl(
			req, ((const struct btrfs_ioctl_vol_args *)arg)->name);
	if (!stick_armed)
		return __real_ioctl(fd, req, arg);
	if (req == BLKROGET) {
		*(int *)arg = seen->ro;
		return 0;
	}
	if (req == BLKROSET && seen->ro_refused) {
		errno = EACCES;
		return -1;
	}
	if (req == BLKROSET) {
		seen->ro = *(const int *)arg;
		return 0;
	}
	if (req == BTRFS_IOC_FORGET_DEV) {
		const struct btrfs_ioctl_vol_args *v = arg;
		snprintf(seen->forgot, sizeof(seen->forgot), "%.63s", v->name);
		return 0;
	}
	return __real_ioctl(fd, req, arg);
}

int __wrap_umount2(const char *target, int flags)
{
	if (!stick_armed)
		return __real_umount2(target, flags);
	if (mount_noop)
		return 0;
	seen->umounts++;
	snprintf(seen->umounted, sizeof(seen->umounted), "%s", target);
	return __real_umount2(target, flags);
}

static void put(const char *path, size_t len)
{
	static char bytes[8193];
	memset(bytes, 'k', sizeof(bytes));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
	close(fd);
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 &&
		  write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A mount namespace of our own: as root, or in a user namespace. */
static bool private_run(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWNS) < 0) {
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return false;
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_file("/proc/self/gid_map", map);
	}
	if (__real_mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    __real_mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
	    __real_mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") < 0)
		return false;
	put("/dev/sdz1", 0);
	put("/dev/btrfs-control", 0);
	return true;
}

/* One pass of a loop that only serves jobs (reaping them too). */
static void serve_jobs(struct jobs *js)
{
	jobs_serve_once(js, true);
}

/* For the next read_key: the device's read-only flag before it, and
 * what fails. */
static struct {
	int ro;
	bool ro_refused, mount_fails;
} next;

/* The key at path on the stick (/dev/sdz1, blkid's type vfat), as a
 * member asks for it: -EAGAIN while its job runs, the loop serving. */
static int read_key(const char *fstype, const char *path, size_t *len)
{
	static struct boot_config cfg;
	static struct keydev_set k;
	static struct jobs js;
	char line[] = "root_keydev=UUID=cafe root_key=/key";
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	jobs_init(&js);
	keydev_attach(&k, &js);
	keydev_begin(&k, &cfg);
	struct dev_ids ids = {0};
	strcpy(ids.devnode, "/dev/sdz1");
	strcpy(ids.type, "vfat");
	strcpy(ids.uuid, "cafe");
	const struct dev_ids *found = NULL;
	CHECK(keydev_consider(&k, &ids));
	CHECK(keydev_wait(&k, &cfg.keydev, 1000, "luks-unit", &found) ==
	      KEYDEV_READY);
	struct secret key = {0};
	memset(seen, 0, sizeof(*seen));
	seen->ro = next.ro;
	seen->ro_refused = next.ro_refused;
	seen->mount_fails = next.mount_fails;
	memset(&next, 0, sizeof(next));
	/* The first answer never waits for the stick (nor is there one
	 * for a type never mounted). */
	int rc = found ? keydev_read_key(found, fstype, path, "luks-unit", &key)
		       : -ENODEV;
	if (rc == -EMEDIUMTYPE)
		return rc;
	CHECK(rc == -EAGAIN);
	long long end = clock_now_ms() + 10000;
	while (rc == -EAGAIN && clock_now_ms() < end) {
		serve_jobs(&js);
		keydev_tick(&k);
		rc = keydev_read_key(found, fstype, path, "luks-unit", &key);
	}
	*len = key.len;
	CHECK(rc == 0 ? key.buf != NULL : key.buf == NULL);
	secret_free(&key);
	keydev_begin(&k, &cfg); /* forgets the read */
	while (jobs_children(&js) && clock_now_ms() < end)
		serve_jobs(&js);
	return rc;
}

/* RUN_DIR is there and holds nothing. */
static bool rundir_empty(void)
{
	DIR *d = opendir(RUN_DIR);
	if (!d)
		return false;
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 &&
		     strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n == 0;
}

static void stick_checks(void)
{
	CHECK(mkdir(STICK, 0755) == 0 && mkdir(STICK "/dir", 0755) == 0);
	put(STICK "/key", 8192);
	put(STICK "/big", 8193);
	CHECK(symlink("key", STICK "/link") == 0);
	size_t len;
	/* Read-only, nodev, nosuid, noexec, on a fresh mode-0700 directory
	 * under /run/luksinit, with blkid's type; unmounted at once, and
	 * nothing left under /run/luksinit (which stays, for PID 1 to remove
	 * at the hand-over: base/rundir.h). */
	CHECK(read_key("", "/key", &len) == 0 && len == 8192);
	CHECK_STR(seen->src, "/dev/sdz1");
	CHECK_STR(seen->type, "vfat");
	unsigned long want = MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC;
	CHECK((seen->flags & want) == want);
	CHECK(strncmp(seen->target, RUN_DIR "/", 14) == 0);
	CHECK(S_ISDIR(seen->mode) && (seen->mode & 07777) == 0700);
	CHECK(seen->umounts >= 1);
	CHECK_STR(seen->umounted, seen->target);
	CHECK(rundir_empty());
	/* The device itself read-only while mounted, and read-write again
	 * after; FAT needs no option; nothing for Btrfs to forget. */
	CHECK(seen->ro_at_mount == 1 && seen->ro == 0);
	CHECK_STR(seen->data, "");
	CHECK_STR(seen->forgot, "");
	/* root_keydev_fstype= wins over blkid's answer; the journal is
	 * never replayed. */
	CHECK(read_key("ext4", "/key", &len) == 0);
	CHECK_STR(seen->type, "ext4");
	CHECK_STR(seen->data, "noload");
	CHECK(read_key("xfs", "/key", &len) == 0);
	CHECK_STR(seen->data, "norecovery");
	/* Btrfs: its log not replayed, and the device forgotten again. */
	CHECK(read_key("btrfs", "/key", &len) == 0);
	CHECK_STR(seen->data, "rescue=nologreplay");
	CHECK_STR(seen->forgot, "/dev/sdz1");
	CHECK(seen->ro_at_mount == 1 && seen->ro == 0);
	/* Even when the mount fails (Btrfs registered it all the same). */
	next.mount_fails = true;
	CHECK(read_key("btrfs", "/key", &len) == -EINVAL);
	CHECK_STR(seen->forgot, "/dev/sdz1");
	CHECK(seen->ro == 0);
	/* Read-only before: so it stays. */
	next.ro = 1;
	CHECK(read_key("", "/key", &len) == 0);
	CHECK(seen->ro_at_mount == 1 && seen->ro == 1);
	/* A device that cannot be made read-only is not mounted. */
	next.ro_refused = true;
	CHECK(read_key("", "/key", &len) == -EPERM && seen->mounts == 0);
	/* Nor is a type that is not on the list. */
	CHECK(read_key("f2fs", "/key", &len) == -EMEDIUMTYPE &&
	      seen->mounts == 0);
	/* At most 8 KiB, a regular file, no symlink followed: each refused
	 * (the passphrase is asked), and the stick unmounted all the same. */
	CHECK(read_key("", "/big", &len) == -EFBIG && seen->umounts >= 1);
	CHECK(read_key("", "/link", &len) == -ELOOP && seen->umounts >= 1);
	CHECK(read_key("", "/dir", &len) < 0 && seen->umounts >= 1);
	CHECK(read_key("", "/dir/../key", &len) < 0);
	CHECK(rundir_empty());
	rundir_remove();
	struct stat st;
	CHECK(stat(RUN_DIR, &st) < 0 && errno == ENOENT);
}

static int read_nothing(int fd, void *arg)
{
	(void)fd;
	(void)arg;
	return 0;
}

/* One of the two processes below: n reads whose mount does nothing (so
 * they end at "open", the key not being there), and how many of them
 * failed before: at "mount", for want of a directory (at most 100: an
 * exit status). */
static int read_loop(int n)
{
	int failed = 0;
	for (int i = 0; i < n && failed < 100; i++) {
		const char *step = "";
		int rc = keydev_with_file("/dev/sdz1", "vfat", "/key",
					  read_nothing, NULL, &step);
		if (rc < 0 && strcmp(step, "mount") == 0 && failed++ == 0)
			printf("  mount failed: %s\n", strerror(-rc));
	}
	return failed;
}

/* A key read and a header copy may run at once, each in a child of its
 * own (review L20): neither may find RUN_DIR removed under it by the
 * other (a spurious "mount failed: No such file or directory", and the
 * passphrase asked). Two processes, 10^4 reads each, the mounts left out
 * so that the directory handling runs at full speed. */
static void concurrent_reads_keep_the_directory(void)
{
	pid_t pid[2];
	mount_noop = true;
	fflush(stdout);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			int failed = read_loop(10000);
			fflush(stdout);
			_exit(failed);
		}
	}
	mount_noop = false;
	int failed = 0;
	for (int i = 0; i < 2; i++) {
		int status = 0;
		CHECK(pid[i] > 0 && waitpid(pid[i], &status, 0) == pid[i]);
		CHECK(WIFEXITED(status));
		failed += WIFEXITED(status) ? WEXITSTATUS(status) : 100;
	}
	if (failed)
		printf("  %d concurrent reads failed at mount\n", failed);
	CHECK(failed == 0);
	/* Left, empty, for PID 1 to remove before the switch. */
	CHECK(rundir_empty());
	rundir_remove();
	struct stat st;
	CHECK(stat(RUN_DIR, &st) < 0 && errno == ENOENT);
}

/* checks, in a child with a private mount namespace and a tmpfs on /run,
 * the stick armed. The child's verdict comes through a pipe, not its exit
 * status. */
static void with_stick(void (*checks)(void))
{
	int verdict[2];
	CHECK(pipe(verdict) == 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char v = '2';
		close(verdict[0]);
		log_set_fds(-1, -1);
		if (!private_run()) {
			printf("  no private mount namespace: %s\n",
			       strerror(errno));
		} else {
			seen = mmap(NULL, sizeof(*seen), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			CHECK(seen != MAP_FAILED);
			stick_armed = true;
			checks();
			v = check_failures_in_test ? '1' : '0';
		}
		fflush(stdout);
		if (write(verdict[1], &v, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(verdict[1]);
	char v = 0;
	CHECK(pid > 0 && read(verdict[0], &v, 1) == 1);
	CHECK(v == '0');
	close(verdict[0]);
	int status;
	waitpid(pid, &status, 0);
}

static void stick_mounted_read_only_private_and_bounded(void)
{
	with_stick(stick_checks);
}

static void concurrent_reads_keep_run_luksinit(void)
{
	with_stick(concurrent_reads_keep_the_directory);
}

/* A device matching a key device's spec is a key device (never the
 * root's); a device-mapper device never is, whatever it carries. */
static void dm_devices_are_never_key_devices(void)
{
	static struct boot_config cfg;
	char line[] = "crypt_roots=UUID=aaaa root_key=/k root_keydev=UUID=cafe "
		      "rd.luks.uuid=bbbb rd.luks.key=bbbb=/k2:LABEL=STICK";
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	CHECK(cfg.nproblems == 0);
	static struct keydev_set k; /* zero: no jobs attached */
	log_set_fds(-1, -1);
	keydev_begin(&k, &cfg);
	struct dev_ids ids = {0};
	strcpy(ids.devnode, "/dev/sdb1");
	strcpy(ids.uuid, "cafe");
	CHECK(keydev_consider(&k, &ids));
	strcpy(ids.devnode, "/dev/dm-0");
	CHECK(!keydev_consider(&k, &ids));
	memset(&ids, 0, sizeof(ids));
	strcpy(ids.devnode, "/dev/sdc");
	strcpy(ids.label, "STICK");
	CHECK(keydev_consider(&k, &ids));
	strcpy(ids.devnode, "/dev/dm-3");
	CHECK(!keydev_consider(&k, &ids));
	strcpy(ids.devnode, "/dev/sdd");
	strcpy(ids.label, "OTHER");
	CHECK(!keydev_consider(&k, &ids));
	log_set_fds(2, -1);
}

/* Review 2026-12-07, M16: a key device named by path (genkernel's
 * root_keydev=/dev/sdc) never takes a member's disk, nor any LUKS
 * device; the member does. */
static void members_and_luks_devices_are_never_key_devices(void)
{
	static struct boot_config cfg;
	char line[] = "crypt_roots=UUID=aaaa crypt_roots=UUID=bbbb root_key=/k "
		      "root_keydev=/dev/sdc";
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	CHECK(cfg.nproblems == 0);
	static struct keydev_set k;
	log_set_fds(-1, -1);
	keydev_begin(&k, &cfg);
	struct dev_ids ids = {0};
	strcpy(ids.devnode, "/dev/sdc");
	strcpy(ids.type, "crypto_LUKS");
	strcpy(ids.uuid, "BBBB"); /* member b's, as blkid may print it */
	CHECK(!keydev_consider(&k, &ids));
	strcpy(ids.uuid, "cccc"); /* a LUKS disk no member names */
	CHECK(!keydev_consider(&k, &ids));
	const struct dev_ids *found = NULL;
	CHECK(keydev_wait(&k, &cfg.keydev, 1000, "unit", &found) ==
	      KEYDEV_WAITING);
	strcpy(ids.type, "vfat");
	CHECK(keydev_consider(&k, &ids));
	CHECK(keydev_wait(&k, &cfg.keydev, 1000, "unit", &found) ==
	      KEYDEV_READY);
	log_set_fds(2, -1);
}

/* Review 2026-12-07, M14: a Btrfs stick with the root's filesystem UUID,
 * or that of a Btrfs device seen in the boot (even in an earlier
 * attempt), is kept from the root but never mounted. */
static void btrfs_stick_with_a_known_fsid_is_refused(void)
{
	static struct boot_config cfg;
	char line[] = "root=UUID=R00T crypt_roots=UUID=aaaa root_key=/k "
		      "root_keydev=LABEL=KEYS";
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	static struct keydev_set k;
	log_set_fds(-1, -1);
	keydev_begin(&k, &cfg);
	struct dev_ids stick = {0}, other = {0};
	strcpy(stick.devnode, "/dev/sdk");
	strcpy(stick.type, "btrfs");
	strcpy(stick.label, "KEYS");
	strcpy(stick.uuid, "r00t");
	const struct dev_ids *found = NULL;
	CHECK(keydev_consider(&k, &stick));
	CHECK(keydev_wait(&k, &cfg.keydev, 1000, "unit", &found) ==
	      KEYDEV_GONE);
	/* A member's mapping carries Btrfs 5eed; the next attempt's stick
	 * too. */
	strcpy(other.devnode, "/dev/dm-0");
	strcpy(other.type, "btrfs");
	strcpy(other.uuid, "5eed");
	CHECK(!keydev_consider(&k, &other));
	keydev_begin(&k, &cfg);
	strcpy(stick.uuid, "5EED");
	CHECK(keydev_consider(&k, &stick));
	CHECK(keydev_wait(&k, &cfg.keydev, 1000, "unit", &found) ==
	      KEYDEV_GONE);
	/* Its own UUID: mounted (then forgotten: stickmount.c). */
	keydev_begin(&k, &cfg);
	strcpy(stick.uuid, "0wn");
	CHECK(keydev_consider(&k, &stick));
	CHECK(keydev_wait(&k, &cfg.keydev, 1000, "unit", &found) ==
	      KEYDEV_READY);
	log_set_fds(2, -1);
}

void keydev_tests(void)
{
	RUN(stick_mounted_read_only_private_and_bounded);
	RUN(concurrent_reads_keep_run_luksinit);
	RUN(dm_devices_are_never_key_devices);
	RUN(members_and_luks_devices_are_never_key_devices);
	RUN(btrfs_stick_with_a_known_fsid_is_refused);
}
