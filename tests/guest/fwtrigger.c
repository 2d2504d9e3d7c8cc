/*
 * Test helper, booted as rdinit=/fwtrigger in a test initramfs: it plays a
 * driver that asks for firmware while the initramfs runs. It forks; the
 * parent becomes /init (PID 1), the child waits until /init is up, then
 * makes each request listed in /fwtest.list through the kernel's
 * test_firmware driver, one after another ("sleep:MS" pauses between
 * them, to ask while /init is busy with something), and logs what the
 * "driver" got:
 * to the console and to /run/fwtest.log (which moves into the new root,
 * where the test root's /sbin/init prints it).
 *
 * A first line "at-sys:NAME" asks for NAME asynchronously the moment /init
 * mounts /sys, long before /init is up: a grandchild, real-time, polls for
 * the trigger every 100 us from before /init runs, so the request falls
 * into /init's start-up (an early driver's request).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fnv.h"
#include "guest.h"

#define TRIGGER "/sys/devices/virtual/misc/test_firmware/trigger_request"
/* request_firmware_nowait(): a request that does not keep a probe waiting
 * (ASYNC=1), which luksinit may hold until the root is mounted. */
#define TRIGGER_ASYNC \
	"/sys/devices/virtual/misc/test_firmware/trigger_async_request"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a request came to: the write's errno (0: the driver got it) and
 * how long the "driver" waited. */
struct outcome {
	int err;
	long long waited;
};

static struct outcome ask(int trig, const char *name)
{
	long long t0 = now_ms();
	ssize_t w = write(trig, name, strlen(name));
	struct outcome o = {w < 0 ? errno : 0, 0};
	o.waited = now_ms() - t0;
	return o;
}

/* Real-time while a request is out (FIFO, below the at-sys grandchild):
 * its outcome is logged the moment it returns, whatever /init is doing;
 * /init kills every process just before the real init runs, which may be
 * a moment after it answers a request held for the root. The hashing
 * after runs at the normal priority, not taking a CPU from /init. */
static void realtime(bool on)
{
	struct sched_param sp = {.sched_priority = on ? 40 : 0};
	/* musl's sched_setscheduler() is a stub (ENOSYS): the system call. */
	if (syscall(SYS_sched_setscheduler, 0, on ? SCHED_FIFO : SCHED_OTHER,
		    &sp) < 0)
		say("FWTEST error=sched (%s)", strerror(errno));
}

/* line: len bytes, ending in a newline. */
static void log_line(int log, const char *line, int len)
{
	if (len > 0) {
		write(log, line, (size_t)len);
		say("%.*s", len - 1, line);
	}
}

/* A request's outcome, the moment it is known (its caller real-time). */
static void say_outcome(int log, const char *name, struct outcome o)
{
	char line[512];
	log_line(log, line,
		 snprintf(line, sizeof(line),
			  "FWTEST name=%s rc=%d waited_ms=%lld\n", name, o.err,
			  o.waited));
}

/* What the "driver" got, hashed. Should /init kill the helper first, the
 * booted system's report hashes the firmware the driver holds last
 * (report.c). */
static void say_data(int dev, int log, const char *name, struct outcome o)
{
	static unsigned char buf[65536];
	uint64_t h = FWTEST_FNV_START;
	size_t total = 0;
	ssize_t n;
	while (o.err == 0 &&
	       (n = pread(dev, buf, sizeof(buf), (off_t)total)) > 0) {
		h = fnv1a(h, buf, (size_t)n);
		total += (size_t)n;
	}
	char line[512];
	log_line(log, line,
		 snprintf(line, sizeof(line),
			  "FWTEST data name=%s bytes=%zu fnv=%016llx\n", name,
			  total, (unsigned long long)h));
}

static void request(int trig, int dev, int log, const char *name)
{
	realtime(true);
	struct outcome o = ask(trig, name);
	say_outcome(log, name, o);
	realtime(false);
	say_data(dev, log, name, o);
}

/* The grandchild of "at-sys:": real-time, so it runs the moment its
 * sleep ends, whatever /init is doing; asks once the trigger exists (/init
 * mounted /sys) and sends the outcome up the pipe. */
static void ask_at_sys(const char *name, int out)
{
	struct sched_param sp = {.sched_priority = 50};
	struct outcome o = {ETIMEDOUT, 0};
	/* musl's sched_setscheduler() is a stub (ENOSYS): the system call. */
	if (syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp) < 0)
		say("FWTEST error=at-sys-sched (%s)", strerror(errno));
	long long end = now_ms() + 30000;
	while (access(TRIGGER_ASYNC, W_OK) < 0 && now_ms() < end)
		nanosleep(&(struct timespec){0, 100000}, NULL);
	int trig = open(TRIGGER_ASYNC, O_WRONLY);
	if (trig >= 0)
		o = ask(trig, name);
	write(out, &o, sizeof(o));
	_exit(0);
}

/* Whether /dev/kmsg (read from its start) gets a record holding text
 * within ms. */
static int kmsg_says(const char *text, int ms)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	/* The most a record read from /dev/kmsg can be (CONSOLE_EXT_LOG_MAX):
	 * a smaller buffer fails the read of a long one. */
	char rec[8192];
	long long end = now_ms() + ms;
	int found = 0;
	while (fd >= 0 && !found && now_ms() < end) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EAGAIN) {
			nanosleep(&(struct timespec){0, 5000000}, NULL);
			continue;
		}
		if (n < 0 && errno != EPIPE && errno != EINVAL)
			break; /* EPIPE: records overwritten; EINVAL: too long */
		rec[n > 0 ? n : 0] = '\0';
		found = strstr(rec, text) != NULL;
	}
	if (fd >= 0)
		close(fd);
	return found;
}

/* The device path of the pending request for name (/sys/class/firmware/
 * X, whose uevent says FIRMWARE=name), into devpath; 0 or -1. */
static int pending_devpath(const char *name, char *devpath, size_t size)
{
	DIR *d = opendir("/sys/class/firmware");
	struct dirent *e;
	char want[320], path[PATH_MAX], text[1024], real[PATH_MAX];
	snprintf(want, sizeof(want), "FIRMWARE=%s\n", name);
	int rc = -1;
	while (d && rc < 0 && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/class/firmware/%s/uevent",
			 e->d_name);
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		text[n] = '\0';
		snprintf(path, sizeof(path), "/sys/class/firmware/%s",
			 e->d_name);
		if (strstr(text, want) && realpath(path, real) &&
		    strncmp(real, "/sys/", 5) == 0)
			rc = snprintf(devpath, size, "%s", real + 4) < (int)size
				     ? 0
				     : -1;
	}
	if (d)
		closedir(d);
	return rc;
}

/* "forge:NAME=OTHER", in a process of its own beside the requests: once
 * /init has held the request for NAME (its line in the kernel log), the
 * kernel's words for that very request are forged, "remove" and then
 * "add" naming OTHER. An /init that believed them would answer the real
 * request with OTHER's bytes, which the driver would then report. */
static void start_forger(const char *spec)
{
	if (fork() != 0)
		return;
	char name[300], held[400], devpath[PATH_MAX], msg[PATH_MAX * 2 + 400];
	snprintf(name, sizeof(name), "%s", spec);
	char *other = strchr(name, '=');
	if (!other)
		_exit(1);
	*other++ = '\0';
	snprintf(held, sizeof(held), "firmware %s: not in the initramfs; held",
		 name);
	if (!kmsg_says(held, 30000) ||
	    pending_devpath(name, devpath, sizeof(devpath)) < 0) {
		say("FWTEST forged error=no-held-request");
		_exit(1);
	}
	int fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl me = {.nl_family = AF_NETLINK};
	bind(fd, (struct sockaddr *)&me, sizeof(me));
	int sent = 0;
	snprintf(msg, sizeof(msg),
		 "remove@%s|ACTION=remove|DEVPATH=%s|SUBSYSTEM=firmware|"
		 "FIRMWARE=%s|SEQNUM=9100",
		 devpath, devpath, name);
	sent += forge_uevent(fd, msg) == 0;
	snprintf(msg, sizeof(msg),
		 "add@%s|ACTION=add|DEVPATH=%s|SUBSYSTEM=firmware|"
		 "FIRMWARE=%s|ASYNC=1|SEQNUM=9101",
		 devpath, devpath, other);
	sent += forge_uevent(fd, msg) == 0;
	say("FWTEST forged devpath=%s sent=%d", devpath, sent);
	_exit(0);
}

/* Starts an "at-sys:" request; returns the pipe its outcome comes on. */
static int start_at_sys(const char *name, pid_t *ret_pid)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	*ret_pid = fork();
	if (*ret_pid == 0) {
		close(p[0]);
		ask_at_sys(name, p[1]);
	}
	close(p[1]);
	return p[0];
}

static void child(void)
{
	FILE *list = fopen("/fwtest.list", "r");
	char name[300], at_sys[300] = "";
	int at_sys_fd = -1;
	pid_t at_sys_pid = -1;
	/* Before anything else: /init mounts /sys within milliseconds. */
	if (list && fgets(name, sizeof(name), list) &&
	    strncmp(name, "at-sys:", 7) == 0) {
		name[strcspn(name, "\n")] = '\0';
		snprintf(at_sys, sizeof(at_sys), "%s", name + 7);
		at_sys_fd = start_at_sys(at_sys, &at_sys_pid);
	} else if (list) {
		rewind(list);
	}
	if (wait_for_init() < 0) {
		say("FWTEST error=init-never-lifted-timeout");
		_exit(1);
	}
	/* Open everything now: after switch_root these paths are gone. */
	int log = open("/run/fwtest.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
	int trig = open(TRIGGER, O_WRONLY);
	int trig_async = open(TRIGGER_ASYNC, O_WRONLY);
	int dev = open("/dev/test_firmware", O_RDONLY);
	if (log < 0 || trig < 0 || trig_async < 0 || dev < 0 || !list) {
		say("FWTEST error=setup (%s)", strerror(errno));
		_exit(1);
	}
	if (at_sys[0]) {
		struct outcome o = {EPIPE, 0};
		realtime(true);
		if (at_sys_fd < 0 ||
		    read(at_sys_fd, &o, sizeof(o)) != sizeof(o))
			o.err = EPIPE;
		say_outcome(log, at_sys, o);
		realtime(false);
		if (at_sys_pid > 0)
			waitpid(at_sys_pid, NULL, 0);
		say_data(dev, log, at_sys, o);
	}
	while (fgets(name, sizeof(name), list)) {
		name[strcspn(name, "\n")] = '\0';
		if (strncmp(name, "sleep:", 6) == 0) {
			long ms = strtol(name + 6, NULL, 10);
			struct timespec ts = {ms / 1000,
					      (ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		} else if (strncmp(name, "forge:", 6) == 0) {
			start_forger(name + 6);
		} else if (strncmp(name, "async:", 6) == 0)
			request(trig_async, dev, log, name + 6);
		else if (name[0])
			request(trig, dev, log, name);
	}
	write(log, "FWTEST end\n", 11);
	_exit(0);
}

/* fwtest_timeout=N on the command line (the kernel passes it in the
 * environment): the kernel's firmware timeout before /init starts, so a
 * test can show a request held past it without waiting out the 60 s
 * default. sysfs is mounted aside for the write: /init mounts its own. */
static void set_kernel_timeout(void)
{
	const char *t = getenv("fwtest_timeout");
	if (!t)
		return;
	if (mkdir("/fwsys", 0700) < 0 ||
	    mount("sysfs", "/fwsys", "sysfs", 0, NULL) < 0) {
		say("FWTEST error=timeout-mount (%s)", strerror(errno));
		return;
	}
	int fd = open("/fwsys/class/firmware/timeout", O_WRONLY);
	if (fd < 0 || write(fd, t, strlen(t)) < 0)
		say("FWTEST error=timeout-write (%s)", strerror(errno));
	if (fd >= 0)
		close(fd);
	umount("/fwsys");
	rmdir("/fwsys");
}

int main(void)
{
	set_kernel_timeout();
	pid_t pid = fork();
	if (pid == 0)
		child();
	char *const argv[] = {"/init", NULL};
	char *const envp[] = {"HOME=/", "TERM=linux", NULL};
	execve("/init", argv, envp);
	return 1;
}
