#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "check.h"
#include "console/consoles.h"
#include "console/kmsghold.h"

static void tty0_is_the_vt_in_front(void)
{
	char names[CONSOLES_MAX][CONSOLE_NAME_MAX];
	int n = consoles_parse("tty0 ttyS0\n", "tty3", names, CONSOLES_MAX);
	CHECK(n == 2);
	CHECK_STR(names[0], "tty3");
	CHECK_STR(names[1], "ttyS0");
	n = consoles_parse("tty0", "", names, CONSOLES_MAX);
	CHECK(n == 1);
	CHECK_STR(names[0], "tty0");
}

static void hostile_and_duplicate_names_skipped(void)
{
	char names[CONSOLES_MAX][CONSOLE_NAME_MAX];
	int n = consoles_parse("../sda tty1 tty0 a/b .. hvc0 "
			       "x0123456789012345678901234567890123456789",
			       "tty1", names, CONSOLES_MAX);
	CHECK(n == 2);
	CHECK_STR(names[0], "tty1");
	CHECK_STR(names[1], "hvc0");
	/* A hostile VT name is not taken either. */
	n = consoles_parse("tty0", "../x", names, CONSOLES_MAX);
	CHECK(n == 1);
	CHECK_STR(names[0], "tty0");
}

static void at_most_max_consoles(void)
{
	char names[2][CONSOLE_NAME_MAX];
	CHECK(consoles_parse("a b c d", NULL, names, 2) == 2);
	CHECK(consoles_parse("", NULL, names, 2) == 0);
	CHECK(consoles_parse("   \n", NULL, names, 2) == 0);
}

static void kmsg_records_parsed(void)
{
	const char rec[] = "6,1234,5678901,-;usb 1-1: new device\n"
			   " SUBSYSTEM=usb\n";
	int level;
	unsigned long long us;
	const char *text;
	size_t n;
	CHECK(kmsg_record_parse(rec, sizeof(rec) - 1, &level, &us, &text, &n));
	CHECK(level == 6);
	CHECK(us == 5678901);
	CHECK(n == strlen("usb 1-1: new device"));
	CHECK(strncmp(text, "usb 1-1: new device", n) == 0);
	/* Facility bits above the level are not part of it. */
	const char fac[] = "30,1,2,-;x";
	CHECK(kmsg_record_parse(fac, sizeof(fac) - 1, &level, &us, &text, &n));
	CHECK(level == 6 && n == 1);
	CHECK(!kmsg_record_parse("garbage", 7, &level, &us, &text, &n));
	CHECK(!kmsg_record_parse("a,b,c;x", 7, &level, &us, &text, &n));
}

static size_t drain(int fd, char *buf, size_t size)
{
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

/* Two consoles; a line printed while a question is open goes below it on
 * both, and the question follows again. */
static void open_prompt_shown_again_below_each_line(void)
{
	int a[2], b[2];
	CHECK(pipe(a) == 0 && pipe(b) == 0);
	fcntl(a[0], F_SETFL, O_NONBLOCK);
	fcntl(b[0], F_SETFL, O_NONBLOCK);
	int fds[2] = {a[1], b[1]};
	log_set_consoles(fds, 2);
	log_set_console_level(LOG_LVL_INFO);
	log_set_kernel_console_level(0);
	char buf[512];
	log_set_prompt("Passphrase: ");
	log_info("disk appeared");
	drain(a[0], buf, sizeof(buf));
	CHECK_STR(buf, "\nluksinit: disk appeared\nPassphrase: ");
	drain(b[0], buf, sizeof(buf));
	CHECK_STR(buf, "\nluksinit: disk appeared\nPassphrase: ");
	log_set_prompt(NULL);
	log_info("unlocked");
	drain(b[0], buf, sizeof(buf));
	CHECK_STR(buf, "luksinit: unlocked\n");
	log_set_fds(2, -1);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

void consoles_tests(void)
{
	RUN(tty0_is_the_vt_in_front);
	RUN(hostile_and_duplicate_names_skipped);
	RUN(at_most_max_consoles);
	RUN(kmsg_records_parsed);
	RUN(open_prompt_shown_again_below_each_line);
}
