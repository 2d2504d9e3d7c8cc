/* Mounting the root filesystem at the new-root mount point. */
#ifndef LUKSINIT_ROOTMOUNT_H
#define LUKSINIT_ROOTMOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/failure.h"
#include "config/cmdline.h"
#include "config/devspec.h"

#define NEWROOT "/newroot"

/* Mounts dev at NEWROOT with rootfstype= (a comma list is tried in order)
 * or the type blkid found, and the flags/data of ro/rw and rootflags=.
 * degraded adds Btrfs "degraded" (the caller decided and warned).
 * Returns 0, or -errno with f filled. */
int mount_root(const struct boot_config *cfg, const struct dev_ids *dev,
	       bool degraded, struct failure *f);

#endif
