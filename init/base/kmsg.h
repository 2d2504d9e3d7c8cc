/* Reading /dev/kmsg: one record per read(), each handed to a callback. */
#ifndef LUKSINIT_KMSG_H
#define LUKSINIT_KMSG_H

#include <stddef.h>

/* The largest record read whole; a longer one fails its read (EINVAL),
 * which ends the reading as any error does. */
#define KMSG_RECORD_MAX 8192

typedef void (*kmsg_record_fn)(const char *rec, size_t len, void *arg);

/* Hands fn every record fd (/dev/kmsg, opened O_NONBLOCK) holds from its
 * position on, until none is left. Records overwritten by the kernel's
 * ring while we read (EPIPE) are skipped, not an end. Not reentrant: the
 * record sits in one static buffer (large for PID 1's stack). */
void kmsg_read_records(int fd, kmsg_record_fn fn, void *arg);

#endif
