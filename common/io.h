/* Reading a file descriptor until a buffer is full, written once for
 * /init and luksinit-enroll. */
#ifndef LUKSINIT_IO_H
#define LUKSINIT_IO_H

#include <sys/types.h>

/* Reads until size bytes are in buf or the file ends, retrying a read
 * interrupted by a signal. Returns how many bytes were read (fewer than
 * size only at end of file), or -errno if a read failed (what was read
 * before is then in buf, but not counted). */
ssize_t read_full(int fd, void *buf, size_t size);
/* The same from offset off (pread: the file offset does not move). */
ssize_t pread_full(int fd, void *buf, size_t size, off_t off);

#endif
