/* The shared helpers of init/base (util.h, clock.h, file.h, knob.h, kmsg.h)
 * and common/io.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/util.h"
#include "check.h"
#include "common/io.h"
#include "common/secret.h"

static void array_size_counts_elements(void)
{
	static const struct {
		char c;
		long l;
	} three[3];
	char name[17];
	CHECK(ARRAY_SIZE(three) == 3);
	CHECK(ARRAY_SIZE(name) == 17);
}

/* Milliseconds, never backwards, on the monotonic clock. */
static void clock_counts_milliseconds(void)
{
	long long a = clock_now_ms();
	struct timespec pause = {0, 20 * 1000 * 1000};
	nanosleep(&pause, NULL);
	long long b = clock_now_ms();
	CHECK(a > 0);
	CHECK(b - a >= 20 && b - a < 5000);
}

/* A temporary file holding text; its fd, open for reading. */
static int temp_with(const char *text)
{
	char path[] = "/tmp/luksinit-unit-io-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	ssize_t n = write(fd, text, strlen(text));
	if (n != (ssize_t)strlen(text) || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Until full, or until the end of the file; pread leaves the offset. */
static void read_full_reads_until_full_or_end(void)
{
	char buf[32];
	int fd = temp_with("0123456789");
	CHECK(fd >= 0);
	CHECK(read_full(fd, buf, 4) == 4 && memcmp(buf, "0123", 4) == 0);
	CHECK(read_full(fd, buf, sizeof(buf)) == 6);
	CHECK(memcmp(buf, "456789", 6) == 0);
	CHECK(read_full(fd, buf, sizeof(buf)) == 0);
	CHECK(pread_full(fd, buf, 3, 2) == 3 && memcmp(buf, "234", 3) == 0);
	CHECK(pread_full(fd, buf, sizeof(buf), 8) == 2);
	CHECK(pread_full(fd, buf, sizeof(buf), 20) == 0);
	CHECK(pread_full(fd, buf, 1, -1) == -EINVAL);
	close(fd);
	CHECK(read_full(fd, buf, 1) == -EBADF);
	/* A pipe hands the bytes over in pieces: all are collected. */
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "ab", 2) == 2 && write(p[1], "cd", 2) == 2);
	close(p[1]);
	CHECK(read_full(p[0], buf, sizeof(buf)) == 4);
	CHECK(memcmp(buf, "abcd", 4) == 0);
	close(p[0]);
}

/* The buffer changes owner; what dst held is wiped and freed first. */
static void secret_move_hands_the_buffer_over(void)
{
	struct secret a = {0}, b = {0};
	CHECK(secret_alloc(&a) == 0 && secret_alloc(&b) == 0);
	memcpy(a.buf, "key", 3);
	a.len = 3;
	char *held = a.buf;
	secret_move(&b, &a);
	CHECK(b.buf == held && b.len == 3 && memcmp(b.buf, "key", 3) == 0);
	CHECK(a.buf == NULL && a.len == 0);
	secret_move(&b, &b); /* onto itself: nothing lost */
	CHECK(b.buf == held && b.len == 3);
	secret_move(&a, &b);
	CHECK(a.buf == held && !b.buf);
	secret_move(&a, &b); /* an unset src unsets dst */
	CHECK(!a.buf && a.len == 0);
	secret_free(&a);
	secret_free(&b);
}

void base_tests(void)
{
	RUN(read_full_reads_until_full_or_end);
	RUN(secret_move_hands_the_buffer_over);
	RUN(array_size_counts_elements);
	RUN(clock_counts_milliseconds);
}
