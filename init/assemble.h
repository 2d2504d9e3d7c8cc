/* The device-wait phase of the loop: block devices appear, LUKS members
 * are unlocked (the passphrase typed while events keep flowing), Btrfs
 * members are registered, until the root is complete or a deadline
 * passes. */
#ifndef LUKSINIT_ASSEMBLE_H
#define LUKSINIT_ASSEMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/failure.h"
#include "config/cmdline.h"
#include "config/devspec.h"
#include "console/keymap.h"
#include "devices/identify.h"
#include "handover/resume.h"
#include "loop/loop.h"
#include "luks/luks.h"

struct assembled_root {
	struct dev_ids dev;
	bool degraded; /* mount with -o degraded: members are missing */
};

/* Returns 0 with out filled, or -errno with f filled (what failed, its
 * hint). keymap says which layout the prompt is typed in; luks
 * carries what is open from one attempt to the next, ident the
 * identification workers (some may be stuck on a disk); resume is told
 * the devices seen, and the swap's wait is its own (resume.h). */
int assemble_root(const struct boot_config *cfg,
		  const struct keymap_status *keymap, struct loop *loop,
		  struct luks_set *luks, struct identify *ident,
		  struct resume *resume, struct assembled_root *out,
		  struct failure *f);

#endif
