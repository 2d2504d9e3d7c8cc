/* Which devices may form the root when LUKS members are configured. A
 * filesystem UUID or label is public (it is on the command line), so any
 * stick can carry it: an unencrypted device that carries Btrfs or matches
 * root= is held back until the members are settled, then admitted only if
 * it is another filesystem (and the root is not the unlocked array), or a
 * member the unlocked array really lacks while every LUKS member is open
 * (said loudly); anything else is named and ignored. With no member open,
 * no unencrypted device may stand in for them. */
#ifndef LUKSINIT_ROOTGUARD_H
#define LUKSINIT_ROOTGUARD_H

#include <stdbool.h>

#include "config/devspec.h"
#include "luks/luks.h"

#define ROOTGUARD_HELD_MAX 16

struct root_guard {
	struct dev_ids held[ROOTGUARD_HELD_MAX];
	bool decided[ROOTGUARD_HELD_MAX];
	bool admitted[ROOTGUARD_HELD_MAX];
	int nheld;
};

/* A device that is not one of our unlocked members: true if it is held
 * (the caller must neither register nor match it now). */
bool rootguard_hold(struct root_guard *g, const struct luks_set *luks,
		    const struct devspec *root, const struct dev_ids *ids);

/* Once the members are settled: decides every held device; those admitted
 * are copied to ret (at most max), to be registered and matched. complete:
 * the unlocked members already form a whole filesystem; root_is_ours: an
 * unlocked member matched root=. */
int rootguard_release(struct root_guard *g, const struct luks_set *luks,
		      bool complete, bool root_is_ours, struct dev_ids *ret,
		      int max);

#endif
