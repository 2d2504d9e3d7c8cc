/* Registering devices with Btrfs in jobs (loop/job.h). The kernel reads
 * the device's superblock for BTRFS_IOC_SCAN_DEV and DEVICES_READY, and a
 * disk that stops answering after it was identified would hold the
 * loop's thread there: each device's registration, and the kernel's
 * answer whether its filesystem has all its devices, run in a child of
 * their own, within BTRFS_SCAN_TIMEOUT_MS.
 *
 * The kernel holds one lock (uuid_mutex) for every Btrfs device while it
 * reads the disk for these calls, and a Btrfs mount takes it too. So
 * scans run one at a time, and once one does not answer (its child stuck
 * in the read, holding the lock) no further scan starts, nor a mount:
 * btrfs_scans_failed names the device, and the attempt fails. That lasts
 * while the child is not reaped, across attempts (one kernel, one lock).
 *
 * One phase is one device wait (begin to end). Its owner waits for the
 * scans in flight before the mount (btrfs_scans_pending), so a member is
 * registered, or named as failed, before the filesystem is mounted. */
#ifndef LUKSINIT_BTRFSSCAN_H
#define LUKSINIT_BTRFSSCAN_H

#include <stdbool.h>

#include "base/failure.h"
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
	bool wanted;		      /* asked for, not started yet */
	bool answered;
	bool registered; /* and the kernel took it, and answered readiness */
	bool ready;	 /* the kernel said its filesystem has every device */
};

struct btrfs_scans {
	struct jobs *jobs;
	struct btrfs_scan scan[BTRFS_SCANS_MAX];
	int n;
	int timeout_ms; /* BTRFS_SCAN_TIMEOUT_MS */
	/* Said once that the kernel has no Btrfs: every device would say
	 * so. Other errors are said for each device. */
	bool warned;
};

void btrfs_scans_begin(struct btrfs_scans *s, struct jobs *jobs);
/* Scans still in flight are cancelled. */
void btrfs_scans_end(struct btrfs_scans *s);
/* Registers ids' device (Btrfs) in a job; a failure is said when it
 * ends. */
void btrfs_scan(struct btrfs_scans *s, const struct dev_ids *ids);
/* Starts the next scan asked for, if none runs (and none is stuck):
 * once per pass of the loop. */
void btrfs_scans_tick(struct btrfs_scans *s);
/* A scan asked for in this phase has not ended (and can still). */
bool btrfs_scans_pending(const struct btrfs_scans *s);
/* A scan did not answer and its child is still stuck (in this phase or
 * an earlier one): no Btrfs mount may be tried. Fills f (the device, a
 * hint) and returns -ETIMEDOUT; else 0. */
int btrfs_scans_failed(const struct btrfs_scans *s, struct failure *f);
/* Once a scan of a device of root's filesystem (its UUID, or root
 * itself) was told that every device of it is registered. */
bool btrfs_scans_complete(const struct btrfs_scans *s,
			  const struct dev_ids *root);

#endif
