#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

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

void log_tests(void)
{
	RUN(full_console_drops_not_blocks);
	RUN(kmsg_record_format);
	RUN(newlines_cannot_forge_records);
	RUN(control_bytes_escaped);
	RUN(long_messages_truncated_visibly);
	RUN(sinks_and_levels);
}
