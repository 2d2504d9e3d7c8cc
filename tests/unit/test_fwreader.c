/* The firmware reader against real compressed data made here with the
 * host's libzstd and liblzma: whole, in several frames, and damaged. */
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include "check.h"
#include "firmware/fwreader.h"

#define PLAIN_LEN 300000

static unsigned char plain[PLAIN_LEN];

static void make_plain(void)
{
	unsigned x = 12345;
	for (size_t i = 0; i < PLAIN_LEN; i++) {
		x = x * 1103515245 + 12345;
		plain[i] = (unsigned char)("luksinit firmware "[i % 18] ^
					   ((x >> 16) & 3));
	}
}

/* An fd reading back buf (a pipe would block on big inputs). */
static int fd_with(const void *buf, size_t len)
{
	char path[] = "/tmp/luksinit-fwreader-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	if (write(fd, buf, len) != (ssize_t)len)
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Reads everything; returns bytes or -errno; checks content if whole. */
static long read_all(const void *data, size_t len, enum fw_format fmt)
{
	struct fw_reader *r = fw_reader_open(fd_with(data, len), fmt);
	static unsigned char out[PLAIN_LEN + 4096];
	size_t total = 0;
	ssize_t n;
	while ((n = fw_reader_read(r, out + total, 4096)) > 0)
		total += (size_t)n;
	fw_reader_close(r);
	if (n < 0)
		return n;
	if (total == PLAIN_LEN && memcmp(out, plain, PLAIN_LEN) != 0)
		return -1000;
	return (long)total;
}

static void zstd_whole_and_multiframe(void)
{
	make_plain();
	size_t cap = ZSTD_compressBound(PLAIN_LEN) * 2;
	unsigned char *z = malloc(cap);
	size_t a = ZSTD_compress(z, cap, plain, 100000, 3);
	size_t b = ZSTD_compress(z + a, cap - a, plain + 100000,
				 PLAIN_LEN - 100000, 19);
	CHECK(!ZSTD_isError(a) && !ZSTD_isError(b));
	CHECK(read_all(z, a + b, FW_ZSTD) == PLAIN_LEN);
	/* Cut inside the second frame: an error, never a short success. */
	CHECK(read_all(z, a + b / 2, FW_ZSTD) < 0);
	z[a + 20] ^= 0xff;
	CHECK(read_all(z, a + b, FW_ZSTD) < 0);
	CHECK(read_all("garbage!", 8, FW_ZSTD) < 0);
	free(z);
}

static void xz_whole_and_damaged(void)
{
	make_plain();
	size_t cap = lzma_stream_buffer_bound(PLAIN_LEN), pos = 0;
	unsigned char *x = malloc(cap);
	CHECK(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, plain,
				      PLAIN_LEN, x, &pos, cap) == LZMA_OK);
	CHECK(read_all(x, pos, FW_XZ) == PLAIN_LEN);
	CHECK(read_all(x, pos / 2, FW_XZ) < 0);
	x[pos / 2] ^= 0x55;
	CHECK(read_all(x, pos, FW_XZ) < 0);
	free(x);
}

static void plain_passthrough(void)
{
	make_plain();
	CHECK(read_all(plain, PLAIN_LEN, FW_PLAIN) == PLAIN_LEN);
	CHECK(read_all(plain, 0, FW_PLAIN) == 0);
}

void fwreader_tests(void)
{
	RUN(zstd_whole_and_multiframe);
	RUN(xz_whole_and_damaged);
	RUN(plain_passthrough);
}
