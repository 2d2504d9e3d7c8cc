/* Who waits for whose key (issue 14): the pure decisions behind derived
 * keyslots, functions of the members' view only (unit-tested). Members
 * are named by their index in the view. */
#ifndef LUKSINIT_DERIVEDPOLICY_H
#define LUKSINIT_DERIVEDPOLICY_H

#include <stdbool.h>

#include "luks/luksview.h"

/* The index of the member whose header carries m's primary's UUID, or -1
 * if it has not been seen (or is not listed at all). */
int derived_primary(const struct luks_view *v, int m);
/* m waits for its primary's key rather than running a KDF now: it has a
 * usable token, and its primary is present and on its way to a key (or
 * open with the key at hand). A primary that waits for a primary of its
 * own is never waited for: two members naming each other would wait
 * forever. */
bool derived_defers(const struct luks_view *v, int m);
/* m's primary's job found its volume key (open, or about to be
 * activated), and the key is at hand: m can open now. */
bool derived_ready(const struct luks_view *v, int m);
/* Whether members still to be opened may need p's volume key. Members not
 * seen yet do not count: the key is not kept on the chance that they
 * come (they take the passphrase). */
bool derived_needs_key(const struct luks_view *v, int p);

#endif
