#define _XOPEN_SOURCE 700
#include "fakesys.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

int (*fake_btrfs_ioctl)(unsigned long req, const char *devnode);
#include "base/sysroot.h"

static char base[PATH_MAX];

bool fake_setup(void)
{
	char tmpl[] = "/tmp/luksinit-unit-sys-XXXXXX";
	if (!mkdtemp(tmpl) || !realpath(tmpl, base) || sysroot_set(base) < 0) {
		/* Never go on against the real /sys. */
		fprintf(stderr, "fakesys: no temporary tree\n");
		abort();
	}
	log_set_fds(-1, -1);
	return true;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void fake_teardown(void)
{
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	sysroot_set("");
	log_set_fds(2, -1);
	base[0] = '\0';
}

void fake_path(char *dst, size_t size, const char *rel)
{
	if (snprintf(dst, size, "%s/%s", base, rel) >= (int)size)
		abort();
}

void fake_mkdir(const char *rel)
{
	char p[PATH_MAX];
	fake_path(p, sizeof(p), rel);
	for (char *s = p + strlen(base) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void parent_of(const char *rel)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		fake_mkdir(dir);
	}
}

void fake_put(const char *rel, const void *data, size_t len)
{
	char p[PATH_MAX];
	parent_of(rel);
	fake_path(p, sizeof(p), rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

void fake_link(const char *target, const char *rel)
{
	char p[PATH_MAX];
	parent_of(rel);
	fake_path(p, sizeof(p), rel);
	if (symlink(target, p) < 0)
		abort();
}

void fake_remove(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	fake_path(p, sizeof(p), rel);
	if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
		nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else
		unlink(p);
}

ssize_t fake_get(const char *rel, char *buf, size_t size)
{
	char p[PATH_MAX];
	fake_path(p, sizeof(p), rel);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return n;
}
