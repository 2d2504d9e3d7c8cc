/* Streams a firmware file, decompressing .zst and .xz on the fly, so a
 * file of tens of MB is never held in memory whole. */
#ifndef LUKSINIT_FWREADER_H
#define LUKSINIT_FWREADER_H

#include <stddef.h>
#include <sys/types.h>

/* A decompressed firmware larger than this is refused (a zip bomb would
 * otherwise fill the kernel's paged buffer). */
#define FW_SIZE_MAX (512UL * 1024 * 1024)

enum fw_format { FW_PLAIN, FW_ZSTD, FW_XZ };

struct fw_reader;

/* Takes ownership of fd. Returns NULL (fd closed) on allocation failure. */
struct fw_reader *fw_reader_open(int fd, enum fw_format format);
/* Fills up to size bytes; 0 at the end; -errno on a read or format error
 * (-EFBIG past FW_SIZE_MAX). */
ssize_t fw_reader_read(struct fw_reader *r, void *buf, size_t size);
void fw_reader_close(struct fw_reader *r);

#endif
