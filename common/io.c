#include "common/io.h"

#include <errno.h>
#include <unistd.h>

/* off < 0: read() at the file offset; else pread() from off on. */
static ssize_t fill(int fd, void *buf, size_t size, off_t off)
{
	size_t done = 0;
	while (done < size) {
		ssize_t n = off < 0 ? read(fd, (char *)buf + done, size - done)
				    : pread(fd, (char *)buf + done, size - done,
					    off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t read_full(int fd, void *buf, size_t size)
{
	return fill(fd, buf, size, -1);
}

ssize_t pread_full(int fd, void *buf, size_t size, off_t off)
{
	if (off < 0)
		return -EINVAL;
	return fill(fd, buf, size, off);
}
