/* Files: reading a small one, and opening a path inside a root directory
 * (a new root, the firmware tree, a mounted key stick) without leaving
 * it. Each takes its directory as an fd, so tests point it at a
 * temporary tree. */
#ifndef LUKSINIT_FILE_H
#define LUKSINIT_FILE_H

#include <sys/types.h>

/* What one read() gives of path (relative to dirfd, or AT_FDCWD), into
 * buf, NUL-terminated: at most size - 1 bytes. For /proc and /sys files,
 * which hand over their whole text in one read, and other small files.
 * Returns the length, or -errno. */
ssize_t read_small_file(int dirfd, const char *path, char *buf, size_t size);

/* How open_in_root() treats symbolic links on the path. */
enum root_links {
	/* Followed as if rootfd were "/": absolute ones from rootfd, ".."
	 * never above it, magic links (/proc/self/...) never jumped
	 * through; what a chroot to rootfd would see. */
	LINKS_IN_ROOT,
	/* Never followed: a symlink anywhere on the path is -ELOOP; an empty
	 * path, "." and ".." are -EINVAL (a trailing '/' is ignored). For a
	 * tree whose owner is not trusted, such as a key stick. */
	LINKS_NEVER,
};

/* Opens path (absolute or relative, both from rootfd) with flags (O_PATH,
 * or O_RDONLY and its modifiers; O_CLOEXEC is added). LINKS_IN_ROOT uses
 * openat2(RESOLVE_IN_ROOT), or open_in_root_walk() on kernels without it
 * (before 5.6); LINKS_NEVER always walks. Returns the fd or -errno. */
int open_in_root(int rootfd, const char *path, int flags,
		 enum root_links links);
/* One component at a time with O_NOFOLLOW, each symlink read as text and
 * resolved by the walk itself (LINKS_IN_ROOT) or refused (LINKS_NEVER). */
int open_in_root_walk(int rootfd, const char *path, int flags,
		      enum root_links links);

#endif
