/* Derived keyslots at boot (issue 14): a member whose header carries a
 * luksinit-derived token waits for its primary; once the primary's KDF has
 * produced its volume key, the member opens through its derived keyslot
 * (PBKDF2 at the minimum cost) instead of a costly KDF of its own. If the
 * primary is absent, fails, or its key is not at hand, the member takes
 * the passphrase through its normal keyslots, as if it had no token.
 *
 * The primary's volume key stays in its locked buffer (struct secret) only
 * while a member that is present may still need it, then it is wiped. A
 * member that appears after that takes the passphrase. */
#ifndef LUKSINIT_LUKSDERIVED_H
#define LUKSINIT_LUKSDERIVED_H

#include <stdbool.h>
#include <stdint.h>

#include "luks/derivedpolicy.h"
#include "luks/luksmembers.h"

#define DERIVED_TOKENS_MAX 32 /* LUKS2 */

/* A header's derived token, as the header-read child finds it (plain
 * data: it comes back over a pipe). */
struct derived_info {
	bool found; /* a usable token: token */
	struct dtoken token;
	int token_id;
	/* The KDF of the keyslot the token names (unset: not in use). */
	bool slot_in_use;
	char slot_kdf[16];
	uint32_t slot_iterations, slot_memory_kb;
	/* Tokens of the type that cannot be used: their id and why. */
	int nbad;
	struct {
		int id, rc;
	} bad[DERIVED_TOKENS_MAX];
};

/* In the header-read child (luksload.c), on a LUKS2 header that is not
 * under reencryption: looks for the token. Does not log. */
void derived_scan(struct crypt_device *cd, struct derived_info *out);
/* On the loop's thread: m's token, if it has one, from what the child
 * found; says what it found. */
void derived_load(struct luks_member *m, const struct derived_info *d);
/* If member i can open through its derived keyslot now, makes its key
 * into key (locked) and returns the keyslot; else returns -1. */
int derived_key(const struct luks_set *set, int i, struct secret *key);
/* m's derived key did not open its keyslot (m->job_rc): says why, and
 * that a stale keyslot still opens with the primary's old volume key. */
void derived_failed(struct luks_set *set, struct luks_member *m);
/* Wipes every kept volume key no member needs any more. */
void derived_wipe_unneeded(struct luks_set *set);

#endif
