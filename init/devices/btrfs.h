/* Btrfs multi-device assembly through /dev/btrfs-control. */
#ifndef LUKSINIT_BTRFS_H
#define LUKSINIT_BTRFS_H

/* Registers a device that carries a Btrfs superblock with the kernel, so
 * that a multi-device filesystem can find all its members at mount. */
int btrfs_register(const char *devnode);

/* 1 when every member of the filesystem on devnode is registered, 0 when
 * some are missing, -errno on failure. */
int btrfs_devices_ready(const char *devnode);

struct btrfs_sb;
/* Reads the primary superblock of devnode. Returns 0 or -errno. */
int btrfs_read_sb(const char *devnode, struct btrfs_sb *out);

#endif
