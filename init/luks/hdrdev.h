/* Detached LUKS headers on another device (rd.luks.header=UUID=PATH:DEVICE,
 * header=PATH:DEVICE in rd.luks.options=, genkernel's root_headerdev=).
 * The device is waited for like a key device (keydev.h: it is never part
 * of the root), mounted read-only, nodev, nosuid, noexec, and the header
 * file is copied, streamed, to a private tmpfs file, RUN_DIR/hdr-NAME
 * (mode 0600), before the device is unmounted again. The member is then
 * opened with the copy: /init made it, so it is not checked as a file of
 * the initramfs (lukshdr.h) is. */
#ifndef LUKSINIT_HDRDEV_H
#define LUKSINIT_HDRDEV_H

#include <stddef.h>

#include "config/cmdline.h"

struct crypt_device;

/* As long as a header read may take (luks.h, LUKS_LOAD_TIMEOUT_MS). */
#define HDRDEV_COPY_TIMEOUT_MS 30000

/* The copy's path for m: RUN_DIR/hdr-<its spec's value>, characters
 * other than [A-Za-z0-9-_.] replaced. Returns 0 or -ENAMETOOLONG. */
int hdrdev_copy_path(const struct luks_member_cfg *m, char *buf, size_t size);

/* Copies path on devnode (filesystem fstype) to dst: a regular file of
 * 1 to LUKSHDR_MAX_BYTES bytes, no symlink followed. The mount and copy
 * run in a child process (loop/job.h, job_run_here), so a stick that
 * hangs in mount leaves no thread of PID 1 in uninterruptible sleep;
 * past HDRDEV_COPY_TIMEOUT_MS it is killed (-ETIMEDOUT). Blocking (a
 * worker thread's job); does not log. Returns 0 or -errno, *ret_step
 * naming what failed ("mount", "open", "read", "copy", "run"). */
int hdrdev_copy(const char *devnode, const char *fstype, const char *path,
		const char *dst, const char **ret_step);

/* Removes every copy made, before the real init runs: its /run must not
 * hold the header a detached-header setup keeps off the data disk. */
void hdrdev_remove_copies(const struct boot_config *cfg);

/* Why a copy failed, for the member's failure message. */
void hdrdev_describe(char *buf, size_t size, const char *path,
		     const char *devnode, int rc, const char *step);

#endif
