/* The key and prompt policy: which key a member takes next, when the
 * person is asked and for what, what a failed try costs, and when the
 * shared passphrase is dropped. Pure functions of the members' view
 * (luksview.h), unit-tested; luks.c applies their answers.
 *
 * The order of keys for a member: a derived key (from its primary's
 * volume key, no costly KDF), or wait for it while the primary is on its
 * way; then a passphrase typed at its own prompt; then its key file; then
 * the shared passphrase. Only a member with none of those needs a
 * person. */
#ifndef LUKSINIT_LUKSKEYS_H
#define LUKSINIT_LUKSKEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "luks/luksview.h"

/* What the rest of boot needs besides one KDF: dm-crypt, Btrfs, us. */
#define KDF_MARGIN_KB ((uint64_t)64 * 1024)

/* What the scheduler does with a member, in this pass. */
enum key_step {
	KEYS_SKIP,    /* nothing now (not waiting for a key, or deferring) */
	KEYS_NONE,    /* no key at hand: it waits for the person */
	KEYS_STOP,    /* the pass ends here: a job must run alone */
	KEYS_DERIVED, /* open it through its derived keyslot */
	KEYS_TOO_BIG, /* its KDF needs more memory than there is: it fails */
	KEYS_WAIT_MEMORY, /* the pass ends here: its KDF waits for memory */
	KEYS_OWN,	  /* start its KDF on the passphrase typed for it */
	KEYS_FILE,	  /* read its key file and start its KDF on it */
	KEYS_SHARED,	  /* start its KDF on the shared passphrase */
};

/* Member i's step. The scheduler asks the members in order; KEYS_STOP and
 * KEYS_WAIT_MEMORY end the pass (later members wait their turn). */
enum key_step keys_step(const struct luks_view *v, int i);
/* The same, when its derived key could not be made: the rest of the
 * order. */
enum key_step keys_step_underived(const struct luks_view *v, int i);

/* Whether to ask the person, and for what: NEED_SHARED (*member -1) when
 * a member that is here has no key at hand and can get none without a
 * person; NEED_OWN (*member: that member) instead once the shared
 * passphrase opened some members but not this one. Never while a KDF
 * runs: its outcome tells whether the last passphrase was wrong for
 * everyone or only for some. Nor while a key file is read from a stick
 * (bounded): the member it opens is not asked for. */
enum luks_need keys_prompt(const struct luks_view *v, int *member);

/* What a job that found no key means. */
enum key_failed {
	KEYS_FAILED_DERIVED, /* a stale token: the passphrase will open it */
	KEYS_FAILED_KEYFILE, /* the key file is wrong: ask the passphrase */
	KEYS_FAILED_MEMBER,  /* not a wrong key: the member fails */
	KEYS_FAILED_ROUND,   /* the shared passphrase: see keys_settle */
	KEYS_FAILED_CHARGE,  /* its own passphrase was wrong: one try less */
};
enum key_failed keys_job_failed(enum key_source source, int job_rc);
/* A passphrase typed for a member was wrong: *tries_left goes down by
 * one. Returns true when none are left (the member fails). */
bool keys_charge(int *tries_left);

/* The shared passphrase has been tried on every member it can be (none
 * runs it, none present still waits to). */
bool keys_round_over(const struct luks_view *v);
enum key_settle {
	KEYS_KEEP,    /* nothing to settle for member i */
	KEYS_FORGIVE, /* it opened others: meant for them, no try charged */
	KEYS_CHARGE,  /* it opened none: wrong, a try charged to member i */
};
/* Once the round is over: what member i's failure with it costs. */
enum key_settle keys_settle(const struct luks_view *v, int i);

/* Every member that can be opened is open or failed: the shared
 * passphrase is dropped. */
bool keys_shared_done(const struct luks_view *v);

#endif
