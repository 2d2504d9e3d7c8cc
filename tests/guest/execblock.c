/*
 * Test helper, booted as rdinit=/execblock: it makes the exec of the real
 * init fail after /init has switched to the new root. It forks; the parent
 * becomes /init, the child waits for the real root to be mounted (rw) and
 * holds its /sbin/init open for writing, so execve() fails with ETXTBSY.
 *
 * /init kills every process before it runs the real init, so the hold
 * must outlive a SIGKILL for a while: the child then reads from a disk
 * QEMU throttles (the test's third disk, /dev/vdc), O_DIRECT, which is an
 * uninterruptible wait of some seconds. The SIGKILL takes effect when the
 * read returns; the file is let go with the process, and a retry from the
 * emergency prompt must then run the init.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define TARGET "/newroot/sbin/init"
#define SLOW_DISK "/dev/vdc"
/* One read, split into several requests: at the test's 256 KiB/s, the
 * first passes at once and the rest take some seconds, all of it inside
 * the one system call (a SIGKILL is taken only when it returns). */
#define SLOW_READ (2 * 1024 * 1024)

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads the slow disk: the SIGKILL that comes meanwhile is taken only
 * when the read returns. */
static void hold_in_the_kernel(int dev, void *buf)
{
	/* Away from what blkid read: none of it is cached. */
	long long start = monotonic_ms();
	ssize_t n = pread(dev, buf, SLOW_READ, 1 << 20);
	/* Printed only if no SIGKILL came while it lasted. */
	say("EXECBLOCK read %zd bytes in %lld ms", n, monotonic_ms() - start);
}

/* Said by a process of its own: a line to the console can take the
 * holder some milliseconds, and /init may kill it before its read. */
static void say_holding(int fd)
{
	if (fork() != 0)
		return;
	close(fd);
	say("EXECBLOCK holding %s", TARGET);
	_exit(0);
}

static void child(void)
{
	int dev = -1;
	void *buf = aligned_alloc(4096, SLOW_READ);
	/* 120 s at 5 ms: the passphrase comes first. The slow disk is opened
	 * as soon as /init has /dev, so that nothing but a fork stands
	 * between holding the init and reading it. */
	for (int i = 0; i < 24000; i++) {
		if (dev < 0)
			dev = open(SLOW_DISK, O_RDONLY | O_DIRECT | O_CLOEXEC);
		int fd = open(TARGET, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && (dev < 0 || !buf)) {
			say("EXECBLOCK cannot read %s", SLOW_DISK);
			sleep(4);
			_exit(1);
		}
		if (fd >= 0) {
			say_holding(fd);
			hold_in_the_kernel(dev, buf);
			close(fd);
			say("EXECBLOCK released");
			_exit(0);
		}
		usleep(5000);
	}
	say("EXECBLOCK never saw %s", TARGET);
	_exit(1);
}

int main(void)
{
	return run_beside_init(child);
}
