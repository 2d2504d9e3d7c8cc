#include "devices/btrfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/strutil.h"
#include "devices/btrfssb.h"

static int control_ioctl(unsigned long req, const char *devnode)
{
	struct btrfs_ioctl_vol_args args;
	memset(&args, 0, sizeof(args));
	if (str_copy(args.name, sizeof(args.name), devnode) < 0)
		return -ENAMETOOLONG;
	int fd = open("/dev/btrfs-control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = ioctl(fd, req, &args);
	int err = errno;
	close(fd);
	return rc < 0 ? -err : rc;
}

int btrfs_register(const char *devnode)
{
	int rc = control_ioctl(BTRFS_IOC_SCAN_DEV, devnode);
	return rc < 0 ? rc : 0;
}

int btrfs_devices_ready(const char *devnode)
{
	/* The ioctl returns 0 when complete and 1 when devices are missing. */
	int rc = control_ioctl(BTRFS_IOC_DEVICES_READY, devnode);
	if (rc < 0)
		return rc;
	return rc == 0 ? 1 : 0;
}

int btrfs_read_sb(const char *devnode, struct btrfs_sb *out)
{
	unsigned char buf[BTRFS_SB_READ];
	int fd = open(devnode, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, buf, sizeof(buf), BTRFS_SB_OFFSET);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return btrfs_sb_parse(buf, (size_t)n, out);
}
