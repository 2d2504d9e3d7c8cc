/* Who waits for whose key (issue 14): the pure decisions behind derived
 * keyslots, functions of the members' view only (unit-tested). Members
 * are named by their index in the view. */
#ifndef LUKSINIT_DERIVEDPOLICY_H
#define LUKSINIT_DERIVEDPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "luks/luksview.h"

/* The most PBKDF2 iterations a derived keyslot may have. luksinit-enroll
 * makes 1000, the least libcryptsetup accepts: the key has 256 bits of
 * entropy, a costly KDF on it would only slow the boot. */
#define DERIVED_ITERATIONS_MAX 10000

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
/* Whether p's unlock job must bring its volume key back, decided as the
 * job starts: a member seen may derive its key from it, or a member's
 * header is not read yet (it may, by the time p's key is found). If not,
 * the job opens p by its keyslot alone: the key's digest is checked once,
 * not a second time for an activation by volume key (a LUKS2 digest is
 * benchmarked to about 1/16 of a default KDF: 125 ms natively). */
bool derived_may_need_key(const struct luks_view *v, int p);
/* Why the keyslot a token names is not one luksinit-enroll makes (its
 * KDF as libcryptsetup reports it), or NULL if it is. A derived key is
 * tried outside the KDF memory budget and as soon as the primary's key is
 * known, beside other jobs: only PBKDF2 at a low cost may run that way. A
 * token naming anything else (an edited header) is ignored. */
const char *derived_slot_problem(const char *kdf_type, uint32_t iterations);

/* How a derived key that failed is reported. */
enum derived_told {
	/* Said now: the keyslot is stale (the primary was re-keyed), and the
	 * primary's old volume key still opens it. */
	DERIVED_TELL_STALE,
	DERIVED_TELL_AGAIN, /* stale, said already in this boot: one line */
	DERIVED_TELL_ERROR, /* it could not be tried (not a wrong key) */
};
/* For member m whose derived key's job ended with job_rc (-errno); said
 * holds the members told stale in this boot (updated). */
enum derived_told derived_failure(int job_rc, unsigned *said, int m);

#endif
