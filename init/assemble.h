/* The device-wait phase of the loop: block devices appear, LUKS members
 * are unlocked (the passphrase typed while events keep flowing), Btrfs
 * members are registered, until the root is complete or a deadline
 * passes. */
#ifndef LUKSINIT_ASSEMBLE_H
#define LUKSINIT_ASSEMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"
#include "devspec.h"
#include "identify.h"
#include "loop.h"
#include "luks.h"

struct assembled_root {
	struct dev_ids dev;
	bool degraded;	       /* mount with -o degraded: members are missing */
	struct dev_ids resume; /* the device resume= names, if found */
	bool resume_found;
};

/* Returns 0 with out filled, or -errno with a sentence for the user in
 * why and a hint. luks carries what is open from one attempt to the next,
 * ident the identification workers (some may be stuck on a disk). */
int assemble_root(const struct boot_config *cfg, struct loop *loop,
		  struct luks_set *luks, struct identify *ident,
		  struct assembled_root *out, char *why, size_t why_size,
		  const char **hint);

#endif
