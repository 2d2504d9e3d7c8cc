/* The shared helpers of init/base (util.h, clock.h, file.h, knob.h, kmsg.h)
 * and common/io.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/kmsg.h"
#include "base/knob.h"
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

/* One read, NUL-terminated, cut at size - 1. */
static void small_file_read_once(void)
{
	char dir[] = "/tmp/luksinit-unit-file-XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	FILE *f = fopen(path, "w");
	CHECK(f && fputs("0 1 2\n", f) >= 0 && fclose(f) == 0);
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char buf[8], tiny[4];
	CHECK(read_small_file(dfd, "f", buf, sizeof(buf)) == 6);
	CHECK_STR(buf, "0 1 2\n");
	CHECK(read_small_file(AT_FDCWD, path, tiny, sizeof(tiny)) == 3);
	CHECK_STR(tiny, "0 1");
	CHECK(read_small_file(dfd, "none", buf, sizeof(buf)) == -ENOENT);
	CHECK(read_small_file(dfd, ".", buf, sizeof(buf)) == -EISDIR);
	close(dfd);
	unlink(path);
	rmdir(dir);
}

/* A key stick's tree: no symlink is ever followed, on the way or at the
 * end, and "." or ".." is no component; a trailing '/' is ignored. */
static void open_in_root_never_follows_links(void)
{
	char dir[] = "/tmp/luksinit-unit-root-XXXXXX", p[96];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/keys", dir);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/keys/k", dir);
	FILE *f = fopen(p, "w");
	CHECK(f && fputs("secret", f) >= 0 && fclose(f) == 0);
	snprintf(p, sizeof(p), "%s/link", dir);
	CHECK(symlink("keys/k", p) == 0);
	snprintf(p, sizeof(p), "%s/dirlink", dir);
	CHECK(symlink("keys", p) == 0);
	snprintf(p, sizeof(p), "%s/keys/fifo", dir);
	CHECK(mkfifo(p, 0600) == 0);
	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const int rd = O_RDONLY | O_NOCTTY | O_NONBLOCK;
	static const struct {
		const char *path;
		int rc; /* 0: opens */
	} cases[] = {
		{"/keys/k", 0},		 {"keys//k", 0},
		{"/keys/k/", 0},	 {"/link", -ELOOP},
		{"/dirlink/k", -ELOOP},	 {"/keys/../keys/k", -EINVAL},
		{"/./keys/k", -EINVAL},	 {"", -EINVAL},
		{"/", -EINVAL},		 {"/keys/none", -ENOENT},
		{"/keys/k/x", -ENOTDIR}, {"/keys/fifo", 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int fd = open_in_root(root, cases[i].path, rd, LINKS_NEVER);
		bool ok = cases[i].rc == 0 ? fd >= 0 : fd == cases[i].rc;
		if (!ok)
			printf("  path \"%s\": got %d\n", cases[i].path, fd);
		CHECK(ok);
		if (fd >= 0)
			close(fd);
	}
	/* In the root, the same links are followed. */
	int fd = open_in_root(root, "/dirlink/k", rd, LINKS_IN_ROOT);
	char buf[8] = "";
	CHECK(fd >= 0 && read_full(fd, buf, 6) == 6 &&
	      !memcmp(buf, "secret", 6));
	if (fd >= 0)
		close(fd);
	close(root);
	const char *rm[] = {"keys/fifo", "keys/k", "link", "dirlink"};
	for (size_t i = 0; i < ARRAY_SIZE(rm); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, rm[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/keys", dir);
	rmdir(p);
	rmdir(dir);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0);
}

/* Set for /init's time, given back once; a knob already as wanted (or,
 * with only_from, holding something else) is left alone. */
static void knob_set_and_given_back(void)
{
	char dir[] = "/tmp/luksinit-unit-knob-XXXXXX", path[64], buf[32];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/knob", dir);
	put_file(path, "ratelimit\n");
	struct knob_saved saved;
	CHECK(knob_read(path, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "ratelimit");
	CHECK(knob_save_set(&saved, path, "on", "ratelimit") == 1);
	CHECK(knob_read(path, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "on"); /* a file keeps the rest; a knob has none */
	CHECK_STR(saved.value, "ratelimit");
	knob_restore(&saved, path);
	CHECK(knob_read(path, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "ratelimit");
	CHECK(saved.value[0] == '\0');
	knob_restore(&saved, path); /* once only */
	put_file(path, "off\n");
	CHECK(knob_save_set(&saved, path, "on", "ratelimit") == 0);
	CHECK(saved.value[0] == '\0');
	CHECK(knob_save_set(&saved, path, "off", NULL) == 0);
	CHECK(knob_save_set(&saved, path, "300", NULL) == 1);
	CHECK_STR(saved.value, "off");
	unlink(path);
	CHECK(knob_save_set(&saved, path, "1", NULL) == -ENOENT);
	CHECK(saved.value[0] == '\0');
	rmdir(dir);
}

static void count_record(const char *rec, size_t len, void *arg)
{
	char *seen = arg;
	strncat(seen, rec, len);
	strcat(seen, "|");
}

/* Every record until none is left (EAGAIN on a non-blocking fd). */
static void kmsg_records_each_handed_over(void)
{
	int p[2];
	char seen[64] = "";
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	CHECK(write(p[1], "6,1,2,-;hello", 13) == 13);
	kmsg_read_records(p[0], count_record, seen);
	CHECK_STR(seen, "6,1,2,-;hello|");
	close(p[1]);
	kmsg_read_records(p[0], count_record, seen); /* at the end: none */
	CHECK_STR(seen, "6,1,2,-;hello|");
	close(p[0]);
}

void base_tests(void)
{
	RUN(knob_set_and_given_back);
	RUN(kmsg_records_each_handed_over);
	RUN(small_file_read_once);
	RUN(open_in_root_never_follows_links);
	RUN(read_full_reads_until_full_or_end);
	RUN(secret_move_hands_the_buffer_over);
	RUN(array_size_counts_elements);
	RUN(clock_counts_milliseconds);
}
