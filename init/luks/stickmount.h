/* How a key or header device (keydev.h) is mounted: never written, and
 * never left joined to anything.
 *
 * "Read-only" is not enough: a read-only mount of ext3/ext4, XFS or Btrfs
 * replays the journal or log (and ext4 cleans up orphans) when the block
 * device is writable, and a /boot partition or stick that was mounted
 * when the system hibernated always needs that. Written now, it no longer
 * matches what the hibernated kernel holds, and the resume corrupts it.
 * So the block device is set read-only (BLKROSET) before the mount, and
 * the filesystem is mounted read-only without recovery (noload,
 * norecovery, rescue=nologreplay). Each of the filesystems below checks
 * the device's flag before any write of its own at mount: such a mount
 * writes nothing, and so it does not forbid a resume (handover/resume.h).
 * A filesystem that cannot be mounted that way is refused (-EROFS).
 *
 * The device's flag is the kernel's, and it stays until changed: it is
 * set back after the unmount (a /boot the real system mounts read-write
 * must not stay read-only), unless it was read-only before. Two jobs
 * mounting the same device (a key and a header on one stick) take turns
 * (flock on the device node), so neither sees the other's flag as the
 * device's own. A job killed at its timeout (the device stopped
 * answering in the mount) leaves the flag set: that device stays
 * read-only for this boot.
 *
 * Only a short list of types is mounted at all (STICK_FSTYPES): each is
 * parsed by the kernel as a stranger's input, and each is known to write
 * nothing this way. A Btrfs device, once mounted (even by a mount that
 * fails), stays registered with Btrfs under its filesystem UUID, where
 * the root's assembly would find it (a stick made with the root's UUID
 * would join the root): it is forgotten again (BTRFS_IOC_FORGET_DEV)
 * before the device is let go. keydev.c never mounts one that carries the
 * root's UUID or that of a Btrfs device seen in the boot. */
#ifndef LUKSINIT_STICKMOUNT_H
#define LUKSINIT_STICKMOUNT_H

#include <stdbool.h>

/* For messages: the types a key or header device may carry. */
#define STICK_FSTYPES "vfat, exfat, iso9660, ext2, ext3, ext4, xfs, btrfs"

/* The mount's data for a device of type fstype: its no-recovery option,
 * "" if it needs none, or NULL if such a device is not mounted. */
const char *stick_mount_data(const char *fstype);

/* A device mounted by stick_mount, until stick_unmount. */
struct stick {
	int fd;		 /* the device node, locked */
	bool restore_rw; /* stick_mount set it read-only */
	bool btrfs;	 /* registered with Btrfs by the mount */
};

/* In a job's child (it blocks, on the device and on another job's turn):
 * locks devnode, sets it read-only, and mounts it on dir read-only,
 * nodev, nosuid, noexec, without recovery. 0, or -errno with nothing left
 * to undo: -EMEDIUMTYPE, a type not in the list; -EROFS, it cannot be
 * mounted without writing to it (a journal to replay, say); -EPERM, the
 * device cannot be made read-only; else open's or mount's error. */
int stick_mount(struct stick *s, const char *devnode, const char *fstype,
		const char *dir);

/* Unmounts dir (detached if busy), forgets a Btrfs registration, sets
 * the device back to read-write if stick_mount made it read-only, and
 * lets it go. */
void stick_unmount(struct stick *s, const char *devnode, const char *dir);

#endif
