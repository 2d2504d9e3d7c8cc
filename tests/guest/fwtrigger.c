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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void request(int trig, int dev, int log, const char *name)
{
	long long t0 = now_ms();
	ssize_t w = write(trig, name, strlen(name));
	int err = w < 0 ? errno : 0;
	long long waited = now_ms() - t0;
	static unsigned char buf[65536];
	uint64_t h = 1469598103934665603ULL;
	size_t total = 0;
	ssize_t n;
	while (err == 0 &&
	       (n = pread(dev, buf, sizeof(buf), (off_t)total)) > 0) {
		h = fnv1a(h, buf, (size_t)n);
		total += (size_t)n;
	}
	char line[512];
	int len = snprintf(
		line, sizeof(line),
		"FWTEST name=%s rc=%d bytes=%zu fnv=%016llx waited_ms=%lld\n",
		name, err, total, (unsigned long long)h, waited);
	if (len > 0) {
		write(1, line, (size_t)len);
		write(log, line, (size_t)len);
	}
}

static void child(void)
{
	if (wait_for_init() < 0) {
		dprintf(1, "FWTEST error=init-never-lifted-timeout\n");
		_exit(1);
	}
	/* Open everything now: after switch_root these paths are gone. */
	int log = open("/run/fwtest.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
	int trig = open(TRIGGER, O_WRONLY);
	int trig_async = open(TRIGGER_ASYNC, O_WRONLY);
	int dev = open("/dev/test_firmware", O_RDONLY);
	FILE *list = fopen("/fwtest.list", "r");
	if (log < 0 || trig < 0 || trig_async < 0 || dev < 0 || !list) {
		dprintf(1, "FWTEST error=setup (%s)\n", strerror(errno));
		_exit(1);
	}
	char name[300];
	while (fgets(name, sizeof(name), list)) {
		name[strcspn(name, "\n")] = '\0';
		if (strncmp(name, "sleep:", 6) == 0) {
			long ms = strtol(name + 6, NULL, 10);
			struct timespec ts = {ms / 1000,
					      (ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
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
		dprintf(1, "FWTEST error=timeout-mount (%s)\n",
			strerror(errno));
		return;
	}
	int fd = open("/fwsys/class/firmware/timeout", O_WRONLY);
	if (fd < 0 || write(fd, t, strlen(t)) < 0)
		dprintf(1, "FWTEST error=timeout-write (%s)\n",
			strerror(errno));
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
