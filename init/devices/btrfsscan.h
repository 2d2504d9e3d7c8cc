/* Registering devices with Btrfs in jobs (loop/job.h). The kernel reads
 * the device's superblock for BTRFS_IOC_SCAN_DEV and DEVICES_READY, and a
 * disk that stops answering after it was identified would hold the
 * loop's thread there: each device's registration, and the kernel's
 * answer whether its filesystem has all its devices, run in a child of
 * their own, within BTRFS_SCAN_TIMEOUT_MS. Past it the device is named
 * and left out (not registered, as if it had not appeared).
 *
 * One phase is one device wait (begin to end). Its owner waits for the
 * scans in flight before the mount (btrfs_scans_pending), so a member is
 * registered, or named as failed, before the filesystem is mounted. */
#ifndef LUKSINIT_BTRFSSCAN_H
#define LUKSINIT_BTRFSSCAN_H

#include <stdbool.h>

#include "config/devspec.h"
#include "loop/job.h"

#define BTRFS_SCANS_MAX 32
#define BTRFS_SCAN_TIMEOUT_MS 10000

struct btrfs_scans;

struct btrfs_scan {
	struct btrfs_scans *set;
	char node[64];
	char uuid[DEVSPEC_VALUE_MAX]; /* its filesystem's, as blkid saw it */
	int job;		      /* while it runs */
	bool answered;
	bool ready; /* the kernel said its filesystem has every device */
};

struct btrfs_scans {
	struct jobs *jobs;
	struct btrfs_scan scan[BTRFS_SCANS_MAX];
	int n;
	/* Said once that Btrfs cannot be asked: without Btrfs in the
	 * kernel, every device would say so. */
	bool warned;
};

void btrfs_scans_begin(struct btrfs_scans *s, struct jobs *jobs);
/* Scans still in flight are cancelled. */
void btrfs_scans_end(struct btrfs_scans *s);
/* Registers ids' device (Btrfs) in a job; a failure is said when it
 * ends. */
void btrfs_scan(struct btrfs_scans *s, const struct dev_ids *ids);
/* A scan asked for in this phase has not ended. */
bool btrfs_scans_pending(const struct btrfs_scans *s);
/* Once a scan of a device of root's filesystem (its UUID, or root
 * itself) was told that every device of it is registered. */
bool btrfs_scans_complete(const struct btrfs_scans *s,
			  const struct dev_ids *root);

#endif
