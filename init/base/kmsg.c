#include "base/kmsg.h"

#include <errno.h>
#include <unistd.h>

void kmsg_read_records(int fd, kmsg_record_fn fn, void *arg)
{
	static char rec[KMSG_RECORD_MAX];
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec));
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten meanwhile: go on */
		if (n <= 0)
			break;
		fn(rec, (size_t)n, arg);
	}
}
