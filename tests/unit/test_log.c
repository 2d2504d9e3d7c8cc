#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/failure.h"
#include "base/log.h"
#include "check.h"

static size_t fmt(char *buf, size_t size, enum log_level lvl, const char *f,
		  ...)
{
	va_list ap;
	va_start(ap, f);
	size_t n = log_format_kmsg(buf, size, lvl, f, ap);
	va_end(ap);
	return n;
}

static void kmsg_record_format(void)
{
	char buf[128];
	size_t n = fmt(buf, sizeof(buf), LOG_LVL_ERR, "disk %s gone", "vda");
	CHECK_STR(buf, "<3>luksinit: disk vda gone\n");
	CHECK(n == strlen(buf));
}

static void newlines_cannot_forge_records(void)
{
	char buf[128];
	fmt(buf, sizeof(buf), LOG_LVL_INFO, "a%sb", "\n<0>fake");
	CHECK_STR(buf, "<6>luksinit: a <0>fakeb\n");
}

/* REVIEW L12: a LUKS header or a device name could carry a terminal escape
 * sequence; it reaches the console and kmsg as \xNN. */
static void control_bytes_escaped(void)
{
	char buf[128];
	fmt(buf, sizeof(buf), LOG_LVL_INFO, "dm %s.",
	    "\x1b[2J\x01\x7f\xc3\xa4");
	CHECK_STR(buf, "<6>luksinit: dm \\x1b[2J\\x01\\x7f\xc3\xa4.\n");
	/* An escape that does not fit is cut whole, visibly. */
	char small[24];
	size_t n = fmt(small, sizeof(small), LOG_LVL_INFO, "%s", "ab\x1b\x1b");
	CHECK(n == sizeof(small) - 1 || n == strlen(small));
	CHECK(strstr(small, "...\n") != NULL);
	CHECK(strchr(small, '\x1b') == NULL);
}

static void long_messages_truncated_visibly(void)
{
	char buf[32];
	size_t n = fmt(buf, sizeof(buf), LOG_LVL_INFO, "%s",
		       "0123456789012345678901234567890123456789");
	CHECK(n == sizeof(buf) - 1);
	CHECK(buf[n - 1] == '\n');
	CHECK(memcmp(buf + n - 4, "...", 3) == 0);
}

/* The real sinks: kmsg gets a record, the console gets plain text only
 * for what the kernel would not echo itself. */
static void sinks_and_levels(void)
{
	int con[2], kmsg[2];
	CHECK(pipe(con) == 0 && pipe(kmsg) == 0);
	fcntl(con[0], F_SETFL, O_NONBLOCK);
	fcntl(kmsg[0], F_SETFL, O_NONBLOCK);
	log_set_fds(con[1], kmsg[1]);
	log_set_console_level(LOG_LVL_INFO);
	log_set_kernel_console_level(4);
	log_set_debug(0);

	errno = 42;
	log_err("E"); /* kernel echoes level 3 itself */
	CHECK(errno == 42);
	log_warn("W");	/* level 4: the kernel would not show it */
	log_debug("D"); /* debug off: nowhere */
	char buf[256];
	ssize_t n = read(kmsg[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "<3>luksinit: E\n<4>luksinit: W\n");
	n = read(con[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "luksinit: W\n");

	log_set_fds(2, -1);
	close(con[0]);
	close(con[1]);
	close(kmsg[0]);
	close(kmsg[1]);
}

/* A console that takes nothing (flow control, a full pipe) costs lines,
 * never a blocked PID 1; the next line that gets through says so. */
static void full_console_drops_not_blocks(void)
{
	int con[2], kmsg[2];
	CHECK(pipe(con) == 0 && pipe(kmsg) == 0);
	fcntl(con[0], F_SETFL, O_NONBLOCK);
	fcntl(con[1], F_SETFL, O_NONBLOCK);
	fcntl(kmsg[0], F_SETFL, O_NONBLOCK);
	static char fill[65536 * 2];
	memset(fill, 'x', sizeof(fill));
	while (write(con[1], fill, sizeof(fill)) > 0)
		;
	log_set_fds(con[1], kmsg[1]);
	log_set_console_level(LOG_LVL_INFO);
	log_set_kernel_console_level(0);
	log_warn("one");
	log_warn("two");
	CHECK(log_console_dropped() == 2);
	char buf[65536];
	while (read(kmsg[0], buf, sizeof(buf)) > 0) /* kmsg got both */
		;
	while (read(con[0], buf, sizeof(buf)) > 0)
		;
	log_warn("three");
	CHECK(log_console_dropped() == 0);
	ssize_t n = read(con[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "(2 lines not shown") != NULL);
	CHECK(strstr(buf, "luksinit: three\n") != NULL);
	log_set_fds(2, -1);
	close(con[0]);
	close(con[1]);
	close(kmsg[0]);
	close(kmsg[1]);
}

/* log_*_errno: the text, then the error's name; -|err| back, errno kept. */
static void errno_variant_names_the_error(void)
{
	int con[2], kmsg[2];
	CHECK(pipe(con) == 0 && pipe(kmsg) == 0);
	fcntl(kmsg[0], F_SETFL, O_NONBLOCK);
	log_set_fds(-1, kmsg[1]);
	errno = 42;
	CHECK(log_err_errno(-ENOENT, "cannot open %s", "/x") == -ENOENT);
	CHECK(log_warn_errno(EIO, "disk") == -EIO);
	CHECK(errno == 42);
	char buf[256];
	ssize_t n = read(kmsg[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	char want[256];
	snprintf(want, sizeof(want),
		 "<3>luksinit: cannot open /x: %s\n<4>luksinit: disk: %s\n",
		 strerror(ENOENT), strerror(EIO));
	CHECK_STR(buf, want);
	log_set_fds(2, -1);
	for (int i = 0; i < 2; i++) {
		close(con[i]);
		close(kmsg[i]);
	}
}

/* One failure: what, the errno shown or not, context in front, the
 * hint apart; the rc a caller passes up. */
static void failure_says_it_once(void)
{
	struct failure f;
	char line[256];
	failure_clear(&f);
	CHECK(failure_text(&f, line, sizeof(line)) == 0 && !line[0]);
	CHECK(failure_errno(&f, -EACCES, "cannot read %s", "k") == -EACCES);
	failure_text(&f, line, sizeof(line));
	char want[128];
	snprintf(want, sizeof(want), "cannot read k: %s", strerror(EACCES));
	CHECK_STR(line, want);
	CHECK(failure_say(&f, -ENOEXEC, "is a truncated ELF file") == -ENOEXEC);
	f.hint = "check init=";
	failure_context(&f, "%s ", "its interpreter");
	failure_context(&f, "running %s failed", "/sbin/init");
	failure_text(&f, line, sizeof(line));
	CHECK_STR(line, "running /sbin/init failed: its interpreter is a "
			"truncated ELF file");
	CHECK(f.err == ENOEXEC && failure_rc(&f) == -ENOEXEC);
	CHECK_STR(f.hint, "check init=");
	/* A sentence too long is cut, still terminated. */
	char big[FAILURE_WHAT_MAX + 50];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	failure_say(&f, 0, "%s", big);
	failure_context(&f, "ctx");
	CHECK(strlen(f.what) == FAILURE_WHAT_MAX - 1);
	CHECK(failure_rc(&f) == -EIO && !f.hint);
}

void log_tests(void)
{
	RUN(errno_variant_names_the_error);
	RUN(failure_says_it_once);
	RUN(full_console_drops_not_blocks);
	RUN(kmsg_record_format);
	RUN(newlines_cannot_forge_records);
	RUN(control_bytes_escaped);
	RUN(long_messages_truncated_visibly);
	RUN(sinks_and_levels);
}
