/* Reading the LUKS headers: a member that claims its device queues the
 * read; a job (loop/job.h) per device, all at once, runs crypt_load (or
 * copies a detached header first, hdrdev.h) in a child, which sends back
 * the plain facts the loop needs (UUID, keyslots' KDF memory, reencryption,
 * derived token); the loop keeps no libcryptsetup context. A read that
 * gets no answer is bounded (LUKS_LOAD_TIMEOUT_MS): its member fails,
 * its child is killed and left to the reaper, the others go on. */
#ifndef LUKSINIT_LUKSLOAD_H
#define LUKSINIT_LUKSLOAD_H

#include "config/devspec.h"
#include "luks/luksmembers.h"

/* Member m takes the device: its header read is queued (load_start
 * starts it). */
void load_claim(struct luks_set *set, struct luks_member *m,
		const struct dev_ids *ids);
/* Starts the queued header reads that may start now. */
void load_start(struct luks_set *set);
/* A header read is queued, or runs and is not slow yet (the first prompt
 * waits for it: a member must not prompt before its primary is read). */
bool load_pending(const struct luks_set *set);
/* Names the reads that became slow (LUKS_LOAD_SLOW_MS without an answer:
 * nothing waits for them any more, they still end at their bound);
 * returns milliseconds until the next may, or -1. */
long long load_tick(struct luks_set *set);
/* The attempt ends: m's header read, queued or running, is given up on
 * (m goes back to WAITING). */
void load_give_up(struct luks_set *set, struct luks_member *m);

#endif
