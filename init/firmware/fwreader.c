#include "firmware/fwreader.h"

#include <errno.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define IN_CHUNK (64 * 1024)
/* xz streams from linux-firmware use small dictionaries; bound anyway. */
#define XZ_MEMLIMIT (64ULL * 1024 * 1024)

struct fw_reader {
	int fd;
	enum fw_format format;
	size_t produced;
	bool in_eof;
	bool done;
	bool frame_end; /* the last zstd frame was complete */
	ZSTD_DStream *zs;
	ZSTD_inBuffer zin;
	lzma_stream xs;
	uint8_t in[IN_CHUNK];
};

struct fw_reader *fw_reader_open(int fd, enum fw_format format)
{
	struct fw_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return NULL;
	}
	r->fd = fd;
	r->format = format;
	r->zin.src = r->in;
	if (format == FW_ZSTD) {
		r->zs = ZSTD_createDStream();
		if (!r->zs || ZSTD_isError(ZSTD_initDStream(r->zs)))
			goto fail;
	} else if (format == FW_XZ) {
		lzma_stream init = LZMA_STREAM_INIT;
		r->xs = init;
		if (lzma_stream_decoder(&r->xs, XZ_MEMLIMIT,
					LZMA_CONCATENATED) != LZMA_OK)
			goto fail;
	}
	return r;
fail:
	fw_reader_close(r);
	return NULL;
}

/* Refills the input buffer once it is used up. */
static int refill(struct fw_reader *r, size_t *avail, const uint8_t **next)
{
	if (*avail > 0 || r->in_eof)
		return 0;
	ssize_t n;
	do
		n = read(r->fd, r->in, sizeof(r->in));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->in_eof = true;
	*avail = (size_t)n;
	*next = r->in;
	return 0;
}

static ssize_t read_zstd(struct fw_reader *r, void *buf, size_t size)
{
	ZSTD_outBuffer out = {buf, size, 0};
	while (out.pos == 0 && !r->done) {
		if (r->zin.pos == r->zin.size) {
			if (r->in_eof) {
				/* Input ended: fine only right after a frame. */
				if (!r->frame_end)
					return -EILSEQ;
				r->done = true;
				break;
			}
			size_t avail = 0;
			const uint8_t *next = r->in;
			int rc = refill(r, &avail, &next);
			if (rc < 0)
				return rc;
			r->zin.src = next;
			r->zin.size = avail;
			r->zin.pos = 0;
			continue;
		}
		size_t ret = ZSTD_decompressStream(r->zs, &out, &r->zin);
		if (ZSTD_isError(ret))
			return -EILSEQ;
		r->frame_end = ret == 0;
	}
	return (ssize_t)out.pos;
}

static ssize_t read_xz(struct fw_reader *r, void *buf, size_t size)
{
	r->xs.next_out = buf;
	r->xs.avail_out = size;
	while (r->xs.avail_out == size && !r->done) {
		int rc = refill(r, &r->xs.avail_in, &r->xs.next_in);
		if (rc < 0)
			return rc;
		lzma_ret ret =
			lzma_code(&r->xs, r->in_eof ? LZMA_FINISH : LZMA_RUN);
		if (ret == LZMA_STREAM_END)
			r->done = true;
		else if (ret != LZMA_OK)
			return -EILSEQ;
	}
	return (ssize_t)(size - r->xs.avail_out);
}

static ssize_t read_plain(struct fw_reader *r, void *buf, size_t size)
{
	ssize_t n;
	do
		n = read(r->fd, buf, size);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t fw_reader_read(struct fw_reader *r, void *buf, size_t size)
{
	ssize_t n;
	if (r->format == FW_ZSTD)
		n = read_zstd(r, buf, size);
	else if (r->format == FW_XZ)
		n = read_xz(r, buf, size);
	else
		n = read_plain(r, buf, size);
	if (n < 0)
		return n;
	r->produced += (size_t)n;
	if (r->produced > FW_SIZE_MAX)
		return -EFBIG;
	return n;
}

void fw_reader_close(struct fw_reader *r)
{
	if (!r)
		return;
	if (r->zs)
		ZSTD_freeDStream(r->zs);
	if (r->format == FW_XZ)
		lzma_end(&r->xs);
	close(r->fd);
	free(r);
}
