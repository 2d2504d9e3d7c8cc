/* The KDF jobs: one worker thread per member that has a key to try. It
 * runs the KDF (or, for a member under reencryption, libcryptsetup's own
 * activation by passphrase) on the key it was given, keeps the volume key
 * it finds in locked memory, and reports by one byte on the notify pipe.
 * The loop collects it, and activates the member from that volume key.
 * Everything here is what a job mechanism must do; which member runs
 * next, with which key, is lukskeys.h's and luks.c's. */
#ifndef LUKSINIT_LUKSKDF_H
#define LUKSINIT_LUKSKDF_H

#include <stdbool.h>
#include <stdint.h>

#include "common/secret.h"
#include "luks/luksmembers.h"

/* Half of what the kernel says is available: dm-crypt, Btrfs and the
 * rest of boot need the other half. */
uint64_t kdf_memory_budget_kb(void);
/* Starts the KDF for member i with key (ownership moves to the job) on
 * keyslot slot (CRYPT_ANY_SLOT: every keyslot), charging cost_kb to the
 * budget. If no worker can start, says why and leaves i FOUND. */
void kdf_start(struct luks_set *set, int i, enum key_source source,
	       struct secret *key, int slot, uint64_t cost_kb);
/* m's worker has written its byte: joins it, wipes the key it tried,
 * gives its memory back and says how long it ran. m->job_rc is its
 * outcome (the keyslot, or -errno), m->vk the volume key it found. */
void kdf_collect(struct luks_set *set, struct luks_member *m);
/* The attempt ends: the job's result is not used (m goes back to FOUND). */
void kdf_drop(struct luks_set *set, struct luks_member *m);
/* The KDF found a key: creates the dm-crypt device. Returns its dm minor
 * or -errno. */
int kdf_activate(struct luks_set *set, struct luks_member *m);
/* A worker left stuck by an earlier attempt that has ended since: joined,
 * its secrets wiped and its context freed; returns true if m was such. */
bool kdf_reap_stuck(struct luks_member *m);

#endif
