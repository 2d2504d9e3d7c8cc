#include "luks/stickmount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/strutil.h"
#include "base/util.h"

static const struct {
	const char *type, *data;
} allowed[] = {
	{"vfat", ""},
	{"exfat", ""},
	{"iso9660", ""},
	/* ext2 has no journal; the ext2 driver would refuse noload. */
	{"ext2", ""},
	{"ext3", "noload"},
	{"ext4", "noload"},
	{"xfs", "norecovery"},
	/* Btrfs's own word since Linux 5.9 ("nologreplay" before). */
	{"btrfs", "rescue=nologreplay"},
};

const char *stick_mount_data(const char *fstype)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (strcmp(allowed[i].type, fstype) == 0)
			return allowed[i].data;
	return NULL;
}

/* What the mount registered with Btrfs leaves again: the device's path
 * alone (an empty name would forget every unmounted device). */
static void btrfs_forget(const char *devnode)
{
	struct btrfs_ioctl_vol_args args;
	memset(&args, 0, sizeof(args));
	if (str_copy(args.name, sizeof(args.name), devnode) < 0)
		return;
	int fd = open("/dev/btrfs-control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	ioctl(fd, BTRFS_IOC_FORGET_DEV, &args);
	close(fd);
}

static int set_ro(int fd, int ro)
{
	return ioctl(fd, BLKROSET, &ro) < 0 ? -errno : 0;
}

/* The device read-only, as the kernel sees it: 0, or -EPERM if it cannot
 * be made so. */
static int make_read_only(struct stick *s)
{
	int ro = 0;
	if (ioctl(s->fd, BLKROGET, &ro) < 0)
		return -EPERM;
	if (ro)
		return 0; /* so it was: so it stays */
	if (set_ro(s->fd, 1) < 0)
		return -EPERM;
	s->restore_rw = true;
	if (ioctl(s->fd, BLKROGET, &ro) < 0 || !ro)
		return -EPERM;
	return 0;
}

/* Undoes what stick_mount did to the device, the mount aside. */
static void let_go(struct stick *s, const char *devnode)
{
	if (s->btrfs)
		btrfs_forget(devnode);
	if (s->restore_rw)
		set_ro(s->fd, 0);
	close(s->fd); /* and the lock with it */
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int stick_mount(struct stick *s, const char *devnode, const char *fstype,
		const char *dir)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	const char *data = stick_mount_data(fstype);
	if (!data)
		return -EMEDIUMTYPE;
	s->fd = open(devnode, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	/* Bounded by the job's own timeout, like the mount. */
	int rc = flock(s->fd, LOCK_EX) < 0 ? -errno : make_read_only(s);
	s->btrfs = strcmp(fstype, "btrfs") == 0;
	/* The device's owner chose its contents: nothing on it may run,
	 * open a device node or gain privileges. */
	if (rc == 0 &&
	    mount(devnode, dir, fstype,
		  MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC | MS_SILENT,
		  data[0] ? data : NULL) < 0)
		rc = -errno;
	if (rc < 0)
		let_go(s, devnode);
	return rc;
}

void stick_unmount(struct stick *s, const char *devnode, const char *dir)
{
	/* Busy (it cannot be: nothing else knows the directory), it is
	 * detached all the same. */
	if (umount2(dir, 0) < 0)
		umount2(dir, MNT_DETACH);
	let_go(s, devnode);
}
