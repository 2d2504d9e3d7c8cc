#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/strutil.h"

/* The kernel's limit: follow at most 40 symlinks (MAXSYMLINKS). */
#define SYMLINKS_MAX 40

ssize_t read_small_file(int dirfd, const char *path, char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return n;
}

static int open_root_dir(int rootfd)
{
	int fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int same_inode(int fd, const struct stat *st)
{
	struct stat cur;
	return fstat(fd, &cur) == 0 && cur.st_dev == st->st_dev &&
	       cur.st_ino == st->st_ino;
}

/* Replaces rest with target followed by after (a tail of rest). */
static int splice_link(char *rest, size_t size, const char *target,
		       const char *after)
{
	char joined[PATH_MAX];
	if (str_concat(joined, sizeof(joined), target, after) < 0)
		return -ENAMETOOLONG;
	return str_copy(rest, size, joined);
}

struct walk {
	int rootfd;
	bool never; /* LINKS_NEVER */
	struct stat root_st;
	int cur; /* O_PATH fd of the directory reached so far */
	int links;
	char rest[PATH_MAX]; /* what is left to resolve */
	const char *p;	     /* where in rest */
};

/* A symlink met on the way: its target, read as text, continues the walk
 * (from the root if absolute: the root is "/"). */
static int walk_link(struct walk *w, int linkfd)
{
	char target[PATH_MAX];
	if (w->never)
		return -ELOOP;
	if (++w->links > SYMLINKS_MAX)
		return -ELOOP;
	ssize_t n = readlinkat(linkfd, "", target, sizeof(target));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENOENT;
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	target[n] = '\0';
	if (target[0] == '/') {
		int r = open_root_dir(w->rootfd);
		if (r < 0)
			return r;
		close(w->cur);
		w->cur = r;
	}
	int rc = splice_link(w->rest, sizeof(w->rest), target, w->p);
	w->p = w->rest;
	return rc;
}

/* One component: moves into a directory, follows a symlink, or opens the
 * last component with flags into *ret_fd. */
static int walk_step(struct walk *w, const char *name, bool last, int flags,
		     int *ret_fd)
{
	if (strcmp(name, "..") == 0 && same_inode(w->cur, &w->root_st))
		name = "."; /* ".." at the root stays there, as at "/" */
	if (strcmp(name, ".") == 0 && !last)
		return 0;
	int next = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (next < 0)
		return -errno;
	int rc = fstat(next, &st) < 0 ? -errno : 0;
	if (rc == 0 && S_ISLNK(st.st_mode)) {
		rc = walk_link(w, next);
	} else if (rc == 0 && last) {
		*ret_fd = openat(w->cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
		rc = *ret_fd < 0 ? -errno : 0;
	} else if (rc == 0 && !S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
	} else if (rc == 0) {
		close(w->cur);
		w->cur = next;
		return 0;
	}
	close(next);
	return rc;
}

/* The next component of the walk into name; 0, or -errno. Sets *last
 * when nothing follows it (for LINKS_NEVER, nothing but slashes). */
static int next_name(struct walk *w, char *name, size_t size, bool *last)
{
	while (*w->p == '/')
		w->p++;
	size_t len = strcspn(w->p, "/");
	/* len 0: the path ends on a directory, open it */
	if (len > 0 && str_copy_n(name, size, w->p, len) < 0)
		return -ENAMETOOLONG;
	if (len == 0)
		str_copy(name, size, ".");
	w->p += len;
	if (!w->never) {
		*last = *w->p == '\0';
		return 0;
	}
	if (len == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	*last = w->p[strspn(w->p, "/")] == '\0';
	return 0;
}

/* What is lost against openat2(RESOLVE_IN_ROOT): atomicity. A directory
 * renamed out of the root while we walk could let ".." escape; at this
 * point of the boot PID 1 is the only process, so nothing renames. Magic
 * links (/proc/self/...) are read as text and resolved inside the root,
 * never jumped through. */
int open_in_root_walk(int rootfd, const char *path, int flags,
		      enum root_links links)
{
	struct walk w = {.rootfd = rootfd, .never = links == LINKS_NEVER};
	if (!path[0])
		return w.never ? -EINVAL : -ENOENT;
	if (fstat(rootfd, &w.root_st) < 0)
		return -errno;
	if (str_copy(w.rest, sizeof(w.rest), path) < 0)
		return -ENAMETOOLONG;
	w.cur = open_root_dir(rootfd);
	if (w.cur < 0)
		return w.cur;
	w.p = w.rest;
	int fd = -1, rc = 0;
	while (fd < 0 && rc == 0) {
		char name[NAME_MAX + 1];
		bool last = false;
		rc = next_name(&w, name, sizeof(name), &last);
		if (rc == 0)
			rc = walk_step(&w, name, last, flags, &fd);
	}
	close(w.cur);
	return rc < 0 ? rc : fd;
}

int open_in_root(int rootfd, const char *path, int flags, enum root_links links)
{
	if (links == LINKS_NEVER)
		return open_in_root_walk(rootfd, path, flags, links);
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) /* kernels before 5.6 */
		return open_in_root_walk(rootfd, path, flags, links);
	return fd < 0 ? -errno : fd;
}
