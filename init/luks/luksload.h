/* Reading the LUKS headers: a member that claims its device queues the
 * read; one worker at a time runs crypt_load (or copies a detached
 * header first, hdrdev.h), and the loop finishes the member from the
 * header in memory. A read that gets no answer is bounded
 * (LUKS_LOAD_TIMEOUT_MS): its member fails, the worker is left. */
#ifndef LUKSINIT_LUKSLOAD_H
#define LUKSINIT_LUKSLOAD_H

#include "config/devspec.h"
#include "luks/luksmembers.h"

/* Member m takes the device: its header read is queued (load_start
 * starts it). */
void load_claim(struct luks_set *set, struct luks_member *m,
		const struct dev_ids *ids);
/* Starts the next queued header read, if one may start now. */
void load_start(struct luks_set *set);
/* The load pipe is readable: finishes the members whose header was read
 * and frees the reads given up on that came back. */
void load_collect(struct luks_set *set);
/* Fails the members whose header read is overdue; returns milliseconds
 * until the next read is due, or -1. */
long long load_tick(struct luks_set *set);
/* The attempt ends: m's header read, queued or running, is given up on
 * (m goes back to WAITING). */
void load_give_up(struct luks_set *set, struct luks_member *m);
/* Frees the reads given up on whose workers have returned. */
void load_drain(struct luks_set *set);

#endif
