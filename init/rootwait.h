/* Waiting, event-driven and with a deadline, for the root device. */
#ifndef LUKSINIT_ROOTWAIT_H
#define LUKSINIT_ROOTWAIT_H

#include <stddef.h>

#include "cmdline.h"
#include "devspec.h"

/* Coldplugs the block devices already present, then follows uevents on
 * uevent_fd until cfg->root is present (for Btrfs: with all its members
 * registered) or the deadline passes. Every Btrfs device seen is
 * registered on the way. On success fills root and returns 0; on failure
 * writes a sentence for the user into why and returns -ETIMEDOUT. */
int wait_for_root(const struct boot_config *cfg, int uevent_fd,
		  struct dev_ids *root, char *why, size_t why_size);

#endif
