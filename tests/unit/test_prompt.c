/* The prompt on consoles that are pipes here (no tty: echo is left
 * alone), and locked secrets. The kernel-message hold is replaced (the
 * linker's --wrap, see the Makefile): the real one sets the host's
 * console log level. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "check.h"
#include "common/secret.h"
#include "console/prompt.h"

void __wrap_kmsg_hold_start(struct kmsg_hold *h);
void __wrap_kmsg_hold_end(struct kmsg_hold *h);
void __wrap_kmsg_hold_start(struct kmsg_hold *h)
{
	h->holding = false;
}
void __wrap_kmsg_hold_end(struct kmsg_hold *h)
{
	(void)h;
}

/* Two consoles: one whose other end is closed (every read is end of
 * file, a hung-up line) and one a person types on. */
static void eof_console_left_out_after_five(void)
{
	int dead[2], live[2];
	CHECK(pipe(dead) == 0 && pipe(live) == 0);
	close(dead[1]);
	fcntl(live[0], F_SETFL, O_NONBLOCK);
	struct consoles cons = {.n = 2, .fd = {dead[0], live[0]}};
	strcpy(cons.name[0], "ttyS1");
	strcpy(cons.name[1], "tty1");
	log_set_fds(-1, -1);
	static struct prompt p;
	CHECK(prompt_start(&p, &cons, "Passphrase: ", true) == 0);
	struct secret line = {0};
	for (int i = 1; i <= 4; i++) {
		CHECK(prompt_read(&p, &line) == PROMPT_MORE);
		CHECK(!p.tty[0].gone);
	}
	CHECK(prompt_read(&p, &line) == PROMPT_MORE);
	CHECK(p.tty[0].gone); /* the fifth: no longer asked */
	CHECK(!p.tty[1].gone);
	/* The other console still answers. */
	CHECK(write(live[1], "pass\n", 5) == 5);
	CHECK(prompt_read(&p, &line) == PROMPT_DONE);
	CHECK(line.buf && line.len == 4 && memcmp(line.buf, "pass", 4) == 0);
	secret_free(&line);
	/* Only hung-up consoles: the prompt says so instead of spinning. */
	int dead2[2];
	CHECK(pipe(dead2) == 0);
	close(dead2[1]);
	struct consoles one = {.n = 1, .fd = {dead2[0]}};
	strcpy(one.name[0], "ttyS1");
	CHECK(prompt_start(&p, &one, "Passphrase: ", true) == 0);
	enum prompt_status st = PROMPT_MORE;
	int reads = 0;
	while (st == PROMPT_MORE && reads < 100) {
		st = prompt_read(&p, &line);
		reads++;
	}
	CHECK(st == PROMPT_EOF && reads == 5);
	prompt_stop(&p);
	log_set_fds(2, -1);
	close(dead[0]);
	close(dead2[0]);
	close(live[0]);
	close(live[1]);
}

static long locked_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char l[256];
	long kb = -1;
	while (f && fgets(l, sizeof(l), f))
		if (sscanf(l, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* mlock() as secret.c calls it (the linker's --wrap): ASan makes mlock a
 * no-op, so VmLck can only be checked without it (make check's valgrind
 * build). */
int __real_mlock(const void *addr, size_t len);
int __wrap_mlock(const void *addr, size_t len);
static const void *mlocked_addr;
static size_t mlocked_len;
int __wrap_mlock(const void *addr, size_t len)
{
	mlocked_addr = addr;
	mlocked_len = len;
	return __real_mlock(addr, len);
}

/* munmap() as secret.c calls it: whether a secret's buffer was all zero
 * when it was given back (wiped first). */
int __real_munmap(void *addr, size_t len);
int __wrap_munmap(void *addr, size_t len);
static const void *unmapped_addr;
static bool unmapped_zero;
int __wrap_munmap(void *addr, size_t len)
{
	if (len == SECRET_MAX + 1) {
		const unsigned char *p = addr;
		unmapped_addr = addr;
		unmapped_zero = true;
		for (size_t i = 0; i < len; i++)
			unmapped_zero &= p[i] == 0;
	}
	return __real_munmap(addr, len);
}

#if defined(__SANITIZE_ADDRESS__)
#define VMLCK_COUNTS 0
#else
#define VMLCK_COUNTS 1
#endif

/* Passphrases and key files live in locked memory (the whole buffer is
 * mlocked; the kernel counts it in VmLck while the secret lives, and no
 * longer once it is freed), wiped before it is given back. */
static void secrets_are_locked_in_memory(void)
{
	long before = locked_kb();
	struct secret s = {0};
	mlocked_addr = NULL;
	CHECK(secret_alloc(&s) == 0);
	CHECK(s.buf && mlocked_addr == s.buf && mlocked_len > SECRET_MAX);
	if (VMLCK_COUNTS)
		CHECK(locked_kb() >= before + (SECRET_MAX + 1) / 1024);
	memcpy(s.buf, "test-pass", 9);
	s.len = 9;
	struct secret copy = {0};
	mlocked_addr = NULL;
	CHECK(secret_dup(&copy, &s) == 0 && mlocked_addr == copy.buf);
	const void *copy_buf = copy.buf, *buf = s.buf;
	secret_free(&copy);
	CHECK(unmapped_addr == copy_buf && unmapped_zero);
	secret_free(&s);
	CHECK(unmapped_addr == buf && unmapped_zero);
	CHECK(s.buf == NULL && s.len == 0);
	if (VMLCK_COUNTS)
		CHECK(locked_kb() == before);
}

/* A key file is a regular file of at most 8 KiB. */
static void key_file_at_most_8_kib(void)
{
	CHECK(SECRET_MAX == 8192);
	char dir[] = "/tmp/luksinit-unit-key-XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/key", dir);
	static char bytes[8193];
	memset(bytes, 'k', sizeof(bytes));
	struct secret s = {0};
	for (size_t len = 8192; len <= 8193; len++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);
		CHECK(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
		close(fd);
		int rc = secret_read_file(&s, path);
		CHECK(len == 8192 ? rc == 0 && s.len == 8192
				  : rc < 0 && !s.buf);
		secret_free(&s);
	}
	unlink(path);
	/* Not a regular file: a directory, a symlink to a good one. */
	CHECK(secret_read_file(&s, dir) < 0 && !s.buf);
	char good[80];
	snprintf(good, sizeof(good), "%s/good", dir);
	int fd = open(good, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "key", 3) == 3);
	close(fd);
	CHECK(symlink("good", path) == 0);
	CHECK(secret_read_file(&s, good) == 0 && s.len == 3);
	secret_free(&s);
	CHECK(secret_read_file(&s, path) < 0 && !s.buf);
	unlink(path);
	unlink(good);
	rmdir(dir);
}

void prompt_tests(void)
{
	RUN(eof_console_left_out_after_five);
	RUN(secrets_are_locked_in_memory);
	RUN(key_file_at_most_8_kib);
}
