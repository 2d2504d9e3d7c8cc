#include "handover/switchroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "handover/initcheck.h"

#define DELETE_DEPTH_MAX 64

static const char *const moved_mounts[] = {"/dev", "/proc", "/sys", "/run"};
#define N_MOVED ARRAY_SIZE(moved_mounts)

int switchroot_check_init(const char *newroot, const char *init,
			  struct failure *f)
{
	if (init[0] != '/')
		return failure_say(f, -EINVAL,
				   "init= must be an absolute path");
	int rootfd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return failure_errno(f, -errno, "cannot open %s", newroot);
	/* Not a mount point: /dev /proc /sys /run would be moved into a
	 * directory of the initramfs, then the move of the root itself
	 * fails, and every retry runs without them. */
	int rc = initcheck_is_mount_point(rootfd);
	struct statvfs sv;
	if (rc < 0)
		failure_errno(f, rc, "%s is not a mount point", newroot);
	else if (rc == 0)
		rc = failure_say(f, -EINVAL, "%s is not a mount point",
				 newroot);
	else if (fstatvfs(rootfd, &sv) == 0 && (sv.f_flag & ST_NOEXEC))
		rc = failure_say(
			f, -EACCES,
			"the root is mounted noexec (rootflags=noexec?)");
	else
		rc = initcheck_program(rootfd, init, f);
	close(rootfd);
	return rc;
}

/* Which of moved_mounts went under the new root: those move back if the
 * root itself cannot move, so a retry finds /proc, /sys and /dev. */
static bool moved[N_MOVED];

static void move_mounts_into(const char *newroot)
{
	for (size_t i = 0; i < N_MOVED; i++) {
		char target[PATH_MAX];
		snprintf(target, sizeof(target), "%s%s", newroot,
			 moved_mounts[i]);
		struct stat st;
		moved[i] = stat(target, &st) == 0 && S_ISDIR(st.st_mode) &&
			   mount(moved_mounts[i], target, NULL, MS_MOVE,
				 NULL) == 0;
		if (moved[i])
			continue;
		/* The new root has no place for it: let it go rather than
		 * leave it pinned in the freed initramfs. */
		log_warn_errno(errno,
			       "cannot move %s into the new root; detaching it",
			       moved_mounts[i]);
		umount2(moved_mounts[i], MNT_DETACH);
	}
}

static void move_mounts_back(const char *newroot)
{
	for (size_t i = 0; i < N_MOVED; i++) {
		char from[PATH_MAX];
		snprintf(from, sizeof(from), "%s%s", newroot, moved_mounts[i]);
		if (moved[i] &&
		    mount(from, moved_mounts[i], NULL, MS_MOVE, NULL) < 0)
			log_err_errno(errno,
				      "cannot move %s back from the new root",
				      moved_mounts[i]);
		moved[i] = false;
	}
}

/* Deletes everything below dirfd that lives on device dev. Never follows
 * symlinks and never crosses into another filesystem. */
static void delete_below(int dirfd, dev_t dev, int depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth >= DELETE_DEPTH_MAX)
				continue;
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);
			if (sub >= 0)
				delete_below(sub, dev, depth + 1);
			unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, de->d_name, 0);
		}
	}
	closedir(d);
}

/* Returns an fd on the old root if it is safe to empty, else -1. */
static int open_old_root_if_disposable(const char *newroot, dev_t *dev)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct statfs sfs;
	struct stat root_st, new_st;
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &root_st) < 0 ||
	    stat(newroot, &new_st) < 0)
		goto keep;
	if (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC) {
		log_warn(
			"old root is not an initramfs (fs type 0x%lx): not deleting it",
			(unsigned long)sfs.f_type);
		goto keep;
	}
	if (root_st.st_dev == new_st.st_dev) {
		log_warn(
			"new root is on the initramfs itself: not deleting it");
		goto keep;
	}
	*dev = root_st.st_dev;
	return fd;
keep:
	close(fd);
	return -1;
}

int switch_root_enter(const char *newroot, const char *init, struct failure *f)
{
	int rc = switchroot_check_init(newroot, init, f);
	if (rc < 0) {
		failure_context(f, "%s on the new root is not usable", init);
		return rc;
	}
	if (chdir(newroot) < 0)
		return failure_errno(f, -errno, "cannot enter %s", newroot);

	move_mounts_into(newroot);
	dev_t old_dev = 0;
	int oldroot = open_old_root_if_disposable(newroot, &old_dev);

	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) {
		rc = failure_errno(f, -errno, "cannot make %s the root",
				   newroot);
		if (oldroot >= 0)
			close(oldroot);
		move_mounts_back(newroot);
		if (chdir("/") < 0)
			log_err_errno(errno,
				      "cannot go back to the initramfs root");
		return rc;
	}
	/* The root has moved: from here on there is no way back, and a
	 * chroot into a directory we are in cannot fail short of a broken
	 * kernel, so its error is only logged. */
	if (chroot(".") < 0 || chdir("/") < 0)
		log_err_errno(errno,
			      "cannot enter the new root after moving it");
	if (oldroot >= 0) {
		/* Frees the initramfs RAM; the new init was checked above. */
		delete_below(oldroot, old_dev, 0);
		log_debug("initramfs contents deleted");
	}
	return 0;
}

int switch_root_exec(const char *init, char *const argv[], char *const envp[],
		     struct failure *f)
{
	execve(init, argv, envp);
	return failure_errno(f, -errno, "running %s failed", init);
}
