/* The kernel messages held back while a prompt is open, shown when it
 * ends: at most 100, the rest counted. /dev/kmsg and the console log
 * level knob are stand-ins here (the linker's --wrap, see the Makefile):
 * the real ones are the host's. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/log.h"
#include "check.h"
#include "console/kmsghold.h"
#include "fakesys.h"

/* Every open() of the unit binary's own code passes through here; only
 * /dev/kmsg, while a test has a fake one, is not the real file. */
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
off_t __real_lseek(int fd, off_t off, int whence);
off_t __wrap_lseek(int fd, off_t off, int whence);
int __real_knob_console_level(void);
int __wrap_knob_console_level(void);
int __real_knob_write(const char *path, const char *value);
int __wrap_knob_write(const char *path, const char *value);
void __real_kmsg_hold_start(struct kmsg_hold *h);
void __real_kmsg_hold_end(struct kmsg_hold *h);

static int fake_kmsg = -1;   /* the reading end, handed out once */
static int printk_level = 7; /* the fake knob */
#define PRINTK "/proc/sys/kernel/printk"

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (fake_btrfs_ioctl && strcmp(path, "/dev/btrfs-control") == 0)
		return __real_open("/dev/null", O_RDWR | O_CLOEXEC, 0);
	if (fake_kmsg >= 0 && strcmp(path, "/dev/kmsg") == 0) {
		int fd = fake_kmsg;
		fake_kmsg = -1;
		return fd;
	}
	return __real_open(path, flags, mode);
}

static int kmsg_fd_given = -1;
off_t __wrap_lseek(int fd, off_t off, int whence)
{
	if (fd >= 0 && fd == kmsg_fd_given)
		return 0; /* a character device: SEEK_END is "from now on" */
	return __real_lseek(fd, off, whence);
}

int __wrap_knob_console_level(void)
{
	if (kmsg_fd_given >= 0)
		return printk_level;
	return __real_knob_console_level();
}

int __wrap_knob_write(const char *path, const char *value)
{
	if (kmsg_fd_given >= 0 && strcmp(path, PRINTK) == 0) {
		printk_level = atoi(value);
		return 0;
	}
	return __real_knob_write(path, value);
}

static void held_kernel_lines_at_most_100(void)
{
	int sp[2], con[2];
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	CHECK(pipe(con) == 0);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	fcntl(con[0], F_SETFL, O_NONBLOCK);
	fcntl(con[1], F_SETFL, O_NONBLOCK);
	fcntl(con[1], F_SETPIPE_SZ, 1 << 20);
	log_set_fds(con[1], -1);
	log_set_console_level(LOG_LVL_INFO);
	fake_kmsg = kmsg_fd_given = sp[0];
	printk_level = 7;
	struct kmsg_hold h = {.fd = -1};
	__real_kmsg_hold_start(&h);
	CHECK(h.holding && printk_level == 1); /* emergencies only */
	/* 150 warnings and one of luksinit's own (shown already). */
	char rec[128];
	for (int i = 0; i < 150; i++) {
		int n = snprintf(rec, sizeof(rec), "4,%d,%d,-;held line %d\n",
				 i, 1000 + i, i);
		CHECK(write(sp[1], rec, (size_t)n) == n);
	}
	CHECK(write(sp[1], "6,150,2000,-;luksinit: ours\n", 28) == 28);
	__real_kmsg_hold_end(&h);
	CHECK(printk_level == 7); /* restored */
	static char out[65536];
	ssize_t n = read(con[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	int shown = 0;
	for (char *p = out; (p = strstr(p, "] held line ")); p++)
		shown++;
	CHECK(shown == 100);
	CHECK(strstr(out, "[    0.001000] held line 0\n") != NULL);
	CHECK(strstr(out, "] held line 99\n") != NULL);
	CHECK(strstr(out, "] held line 100\n") == NULL);
	CHECK(strstr(out, "luksinit: ours") == NULL);
	CHECK(strstr(out, "50 more kernel messages came while the prompt was "
			  "open; see dmesg") != NULL);
	if (shown != 100)
		printf("  shown %d; the console got:\n%.2000s\n", shown, out);
	kmsg_fd_given = -1;
	log_set_fds(2, -1);
	close(sp[1]);
	close(con[0]);
	close(con[1]);
}

void kmsghold_tests(void)
{
	RUN(held_kernel_lines_at_most_100);
}
