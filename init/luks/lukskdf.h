/* The KDF jobs (loop/job.h): one child per member that has a key to try.
 * The key goes to the child over a pipe, into its locked memory; the
 * child loads the header again (the loop keeps no libcryptsetup context),
 * runs the KDF on the key (or, for a member under reencryption,
 * libcryptsetup's own activation by passphrase), activates the dm-crypt
 * device from the volume key it found, and sends back the keyslot and
 * that volume key, as a secret (kept while members derive their keys from
 * it). A disk that stops answering ends the job after LUKS_KDF_STALL_MS;
 * the child is killed and left to the reaper, and nothing of PID 1 waits
 * for it. Which member runs next, with which key, is lukskeys.h's and
 * luks.c's. */
#ifndef LUKSINIT_LUKSKDF_H
#define LUKSINIT_LUKSKDF_H

#include <stdbool.h>
#include <stdint.h>

#include "common/secret.h"
#include "luks/luksmembers.h"

/* Half of what the kernel says is available: dm-crypt, Btrfs and the
 * rest of boot need the other half. */
uint64_t kdf_memory_budget_kb(void);
/* Starts the KDF job for member i with key (wiped here: the job has its
 * copy) on keyslot slot (CRYPT_ANY_SLOT: every keyslot), charging cost_kb
 * to the budget. If no job can start, says why and leaves i FOUND. When
 * it ends, m->job_ended is set (m->job_rc, m->job_end, m->vk if a member
 * may derive its key from it (derived_may_need_key),
 * m->activation_failed say how) for the pass to go on; if the attempt is
 * ending (set->stopping), m becomes OPEN (the child activated it) or
 * FOUND at once. */
void kdf_start(struct luks_set *set, int i, enum key_source source,
	       struct secret *key, int slot, uint64_t cost_kb);
/* Member i defers to a primary whose KDF runs: its derived job starts now
 * (once per job of that primary's), loads the header and waits for its
 * key, which kdf_start gives it; so the fork and the header read use a
 * CPU the KDF leaves idle, not the moment after it. Nothing if i is not
 * FOUND or has such a job already.
 * Such a job is not charged to the memory budget until it has its key
 * (a header, no KDF memory); luks.c ends it when the key will not come. */
void kdf_prime(struct luks_set *set, int i);
/* m's waiting job (kdf_prime), if any, is not wanted any more: killed. */
void kdf_unprime(struct luks_set *set, struct luks_member *m);
/* The attempt ends and m's job is still running: it is killed (left to the
 * reaper); m goes back to FOUND. */
void kdf_cancel(struct luks_set *set, struct luks_member *m);
/* m's job activated it: keeps its volume key only while members derive
 * their keys from it. Returns its dm minor or -errno. */
int kdf_activated(struct luks_set *set, struct luks_member *m);

#endif
