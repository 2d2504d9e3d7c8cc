/* Which devices may form the root when LUKS members are configured. A
 * filesystem UUID is public (it is on the command line), so any stick can
 * carry it: a plain Btrfs device is held back until every member is
 * unlocked, then admitted only if it is another filesystem, or a member
 * the unlocked array really lacks (said loudly); anything else claiming
 * the array's UUID is named and ignored. */
#ifndef LUKSINIT_ROOTGUARD_H
#define LUKSINIT_ROOTGUARD_H

#include <stdbool.h>

#include "devspec.h"
#include "luks.h"

#define ROOTGUARD_HELD_MAX 16

struct root_guard {
	struct dev_ids held[ROOTGUARD_HELD_MAX];
	bool decided[ROOTGUARD_HELD_MAX];
	bool admitted[ROOTGUARD_HELD_MAX];
	int nheld;
};

/* A device carrying Btrfs that is not one of our unlocked members: true if
 * it is held (the caller must neither register nor match it now). */
bool rootguard_hold(struct root_guard *g, const struct luks_set *luks,
		    const struct dev_ids *ids);

/* Once the members are settled: decides every held device; those admitted
 * are copied to ret (at most max), to be registered and matched. complete:
 * the unlocked members already form a whole filesystem. */
int rootguard_release(struct root_guard *g, const struct luks_set *luks,
		      bool complete, struct dev_ids *ret, int max);

#endif
