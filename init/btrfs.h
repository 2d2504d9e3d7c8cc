/* Btrfs multi-device assembly through /dev/btrfs-control. */
#ifndef LUKSINIT_BTRFS_H
#define LUKSINIT_BTRFS_H

/* Registers a device that carries a Btrfs superblock with the kernel, so
 * that a multi-device filesystem can find all its members at mount. */
int btrfs_register(const char *devnode);

/* 1 when every member of the filesystem on devnode is registered, 0 when
 * some are missing, -errno on failure. */
int btrfs_devices_ready(const char *devnode);

#endif
