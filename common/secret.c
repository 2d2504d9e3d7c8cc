#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"

#define SECRET_MAP (SECRET_MAX + 1)

int secret_alloc(struct secret *s)
{
	s->len = 0;
	s->buf = mmap(NULL, SECRET_MAP, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->buf == MAP_FAILED) {
		s->buf = NULL;
		return -errno;
	}
	/* Never swapped out, never in a core dump. */
	if (mlock(s->buf, SECRET_MAP) < 0) {
		int err = -errno;
		munmap(s->buf, SECRET_MAP);
		s->buf = NULL;
		return err;
	}
	madvise(s->buf, SECRET_MAP, MADV_DONTDUMP);
	/* Nor in a child: a job's child (init/loop/job.h) stuck on a disk
	 * would otherwise keep a copy after PID 1 wiped its own. */
	madvise(s->buf, SECRET_MAP, MADV_DONTFORK);
	return 0;
}

void secret_free(struct secret *s)
{
	if (!s || !s->buf)
		return;
	explicit_bzero(s->buf, SECRET_MAP);
	munlock(s->buf, SECRET_MAP);
	munmap(s->buf, SECRET_MAP);
	s->buf = NULL;
	s->len = 0;
}

int secret_dup(struct secret *dst, const struct secret *src)
{
	if (!src->buf)
		return -EINVAL;
	int rc = secret_alloc(dst);
	if (rc < 0 || !dst->buf)
		return rc < 0 ? rc : -ENOMEM;
	memcpy(dst->buf, src->buf, src->len);
	dst->len = src->len;
	return 0;
}

int secret_read_file(struct secret *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > SECRET_MAX) {
		close(fd);
		return -EINVAL;
	}
	int rc = secret_alloc(s);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	ssize_t n = read_full(fd, s->buf, (size_t)st.st_size);
	close(fd);
	if (n < 0 || (size_t)n != (size_t)st.st_size) {
		secret_free(s);
		return -EIO;
	}
	s->len = (size_t)n;
	return 0;
}

void secret_move(struct secret *dst, struct secret *src)
{
	if (dst == src)
		return;
	secret_free(dst);
	*dst = *src;
	src->buf = NULL;
	src->len = 0;
}
