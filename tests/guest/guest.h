/* Shared by the test helpers that run beside /init in the test VMs. */
#ifndef LUKSINIT_TEST_GUEST_H
#define LUKSINIT_TEST_GUEST_H

#include <fcntl.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One line for the test to find on the console, written twice, so that
 * one copy is whole: the kernel prints a record whole, but a plain write to
 * the console can be cut by a record it prints at that moment (the line
 * /init logs as it drops a forged uevent, say); while /init asks for a
 * passphrase it holds the kernel's records back (and shows them after
 * the prompt), and then the plain write is the one seen at once (the
 * kernel prints nothing then to cut it). Without /dev/kmsg (before /init
 * has mounted /dev, or left behind in the old root) only the plain write
 * is made. The write to /dev/kmsg may print the record itself: some
 * milliseconds. */
__attribute__((format(printf, 1, 2))) static inline void say(const char *fmt,
							     ...)
{
	char line[1024] = "<5>";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + 3, sizeof(line) - 4, fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	line[n++] = '\n';
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		ssize_t w = write(fd, line, n);
		(void)w;
		close(fd);
	}
	ssize_t w = write(2, line + 3, n - 3);
	(void)w;
}

/* Sends fields ("add@/x|ACTION=add|..." with '|' for the NULs) to the
 * kernel's uevent multicast group from userspace, as a forger would: a
 * listener that checks the sender sees they are not from the kernel.
 * fd: a NETLINK_KOBJECT_UEVENT socket. Returns 0 or -1. */
static inline int forge_uevent(int fd, const char *fields)
{
	char msg[1024];
	size_t n = strlen(fields);
	if (n >= sizeof(msg))
		return -1;
	memcpy(msg, fields, n + 1);
	for (size_t i = 0; i < n; i++)
		if (msg[i] == '|')
			msg[i] = '\0';
	struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_groups = 1};
	return sendto(fd, msg, n + 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0
		       ? -1
		       : 0;
}

/* /init sets its firmware hold timeout right after mounting /sys and /run:
 * seeing it set means /init is up and in its event loop. */
static inline int wait_for_init(void)
{
	for (int i = 0; i < 1500; i++) {
		char buf[8] = "";
		int fd = open("/sys/class/firmware/timeout", O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			/* luksinit's hold timeout (init/firmware/firmware.c) */
			if (n > 0 && strncmp(buf, "300", 3) == 0)
				return 0;
		}
		usleep(10000);
	}
	return -1;
}

/* A helper that runs beside /init: child() in a forked process, while
 * this process (PID 1) becomes /init, as the kernel would have started
 * it. Returns only if /init cannot be run. */
static inline int run_beside_init(void (*child)(void))
{
	if (fork() == 0)
		child();
	char *const argv[] = {"/init", NULL};
	char *const envp[] = {"HOME=/", "TERM=linux", NULL};
	execve("/init", argv, envp);
	return 1;
}

#endif
