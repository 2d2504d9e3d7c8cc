/* Opening the LUKS members: key files, one shared passphrase, per-member
 * passphrases for those that refuse it, KDFs and header reads in child
 * processes (loop/job.h). The event loop owns this state; the children
 * only read a header or run a KDF and activate, and report by a pipe.
 *
 * The set lives for /init's whole life, not one boot attempt: a member
 * opened in an attempt that failed later (a disk missing, init missing)
 * stays open and is reused by the retry, with no new prompt and no second
 * KDF. */
#ifndef LUKSINIT_LUKS_H
#define LUKSINIT_LUKS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/failure.h"
#include "common/secret.h"
#include "config/cmdline.h"
#include "config/devspec.h"
#include "luks/luksview.h"

/* The members and what is known of them (luksmembers.h): only the files
 * of this folder see inside. */
struct luks_set;
struct jobs; /* loop/job.h */

/* A header read (crypt_load) may wait minutes on a failing disk; a KDF
 * job may be stuck in D state reading a keyslot. Neither may hold PID 1:
 * both run in children (loop/job.h). A header not read after
 * LUKS_LOAD_TIMEOUT_MS fails its member (its child is killed and left to
 * the reaper); KDF jobs still running when an attempt ends are waited for
 * at most LUKS_JOIN_WAIT_MS, then killed. */
#define LUKS_LOAD_TIMEOUT_MS 30000
/* A header read without an answer this long is named slow, and the first
 * prompt and the KDFs wait no longer for it (as for identification). */
#define LUKS_LOAD_SLOW_MS 5000
#define LUKS_JOIN_WAIT_MS 30000
/* A KDF job (lukskdf.h) runs as long as its KDF needs (the CPU and the
 * header's parameters decide: minutes on a slow machine are possible), up
 * to LUKS_KDF_TIMEOUT_MS; but its child seen in uninterruptible sleep (a
 * disk that does not answer while its header or keyslot is read) for
 * LUKS_KDF_STALL_MS is killed at once, and its member fails. */
#define LUKS_KDF_TIMEOUT_MS 600000 /* 10 min */
#define LUKS_KDF_STALL_MS 30000

/* Once, at start: *ret_set lives for /init's whole life. Returns 0 or
 * -errno (then *ret_set, if not NULL, must not be used to unlock). */
int luks_init(struct luks_set **ret_set, const struct boot_config *cfg);
/* Once, after luks_init: where header reads, KDFs and key-stick reads run
 * (loop/job.h). */
void luks_attach_jobs(struct luks_set *set, struct jobs *jobs);
/* Before each boot attempt: open members stay open; members that failed
 * or were never opened are looked for again, with fresh tries. */
void luks_begin_attempt(struct luks_set *set);
/* After an attempt, first: no job starts any more; a KDF job that ends
 * leaves its member open (its child activated it) or FOUND. The caller
 * keeps the loop running, for at most LUKS_JOIN_WAIT_MS, until
 * luks_jobs_running() is false. */
void luks_stop(struct luks_set *set);
/* Then: wipes every secret; a KDF job still running is killed, with a
 * warning, and left to the reaper. Open members stay open. */
void luks_end_attempt(struct luks_set *set);

/* The event handlers below only note what happened; luks_schedule acts on
 * it, once per pass of the loop (after the handlers of that pass).
 *
 * A block device appeared: if it is a listed member, its header read is
 * queued; if it holds a key file (keydev.h), it is remembered. Returns
 * true if it was either (it is then no part of the root). A member whose
 * mapping already exists on this device (opened by an earlier attempt, or
 * by hand in the rescue shell) counts as open. */
bool luks_consider(struct luks_set *set, const struct dev_ids *ids);
/* While held, no job starts: during the enumeration of the devices that
 * are there at boot, so that a member does not start a costly KDF before
 * its primary (whose key would spare it) has been seen. */
void luks_hold(struct luks_set *set, bool hold);
/* The pass: activates the members whose KDFs found their keys, starts the
 * header reads and the KDF jobs that can run now (keys at hand, memory
 * allows), and settles a shared passphrase's round. Fills opened[] with
 * the "dm-N" names of the devices it created; returns their count. */
int luks_schedule(struct luks_set *set, char opened[][32], int max);
/* What input is needed from the person, with the prompt text. */
enum luks_need luks_needs(struct luks_set *set, int *member, char *text,
			  size_t size);
/* Hands over a typed passphrase (member -1: for all). Takes ownership. */
void luks_offer(struct luks_set *set, struct secret *pass, int member);
/* Key-device waits that end and header reads that become slow:
 * milliseconds until the next is due, or -1 (the reads' own deadlines are
 * their jobs', loop/job.h). */
int luks_tick(struct luks_set *set);
/* A member's header is being read, for less than LUKS_LOAD_SLOW_MS (the
 * first prompt waits for it). */
bool luks_loading(const struct luks_set *set);
/* Milliseconds until a key device's wait ends, or -1: a wait may begin
 * in any luks_schedule(), after luks_tick() was asked. */
int luks_keydev_ms(const struct luks_set *set);
/* Every member is open (failed ones count as settled when
 * failed_ok: a degraded mount may do without them). */
bool luks_all_open(const struct luks_set *set, bool failed_ok);
/* The same for swap members (luks_member_cfg.swap), which luks_all_open
 * leaves out: each is open or failed. */
bool luks_swaps_settled(const struct luks_set *set);
/* The swap members not yet open nor failed, each with what it waits for
 * ("UUID=... (its KDF is running)"), or "" when none. */
void luks_describe_swaps(const struct luks_set *set, char *buf, size_t size);
/* The device-mapper device named mapper_name is an open swap member. */
bool luks_is_swap_mapping(const struct luks_set *set, const char *mapper_name);
bool luks_jobs_running(const struct luks_set *set);
/* Every member is open or failed: nothing more will be unlocked. */
bool luks_settled(const struct luks_set *set);
/* The device-mapper device named mapper_name is a member we opened. */
bool luks_owns_mapping(const struct luks_set *set, const char *mapper_name);
/* A present member waits for a key from the person. */
bool luks_awaits_key(const struct luks_set *set);
/* How many members are listed: 0 when nothing is encrypted. */
int luks_count(const struct luks_set *set);
/* Member i's device-mapper name if it is open, else "" (swap members
 * included; an entry naming another's disk again is not open itself). */
const char *luks_open_name(const struct luks_set *set, int i);
/* How many members are listed that form the root (not swap): 0 when
 * only swap is encrypted. */
int luks_root_count(const struct luks_set *set);
/* How many members that form the root (not swap) are open. */
int luks_root_members_open(const struct luks_set *set);
/* The first member that could not be opened in this attempt, once: NULL
 * while none, and once taken. The taker says it (the attempt's failure);
 * luks_tell_failure logs it instead ("<name>: <why>"), if nobody took it.
 * How many have failed in this attempt (swap members never count). */
const struct failure *luks_take_failure(struct luks_set *set);
void luks_tell_failure(struct luks_set *set);
int luks_nfailed(const struct luks_set *set);
/* Just before the real init runs, once: the passphrases that opened
 * members with password-cache=yes go to the kernel keyring for the booted
 * system (pwcache.h), and are wiped here. A failure is a warning. */
void luks_hand_on(struct luks_set *set);
/* Lists members that never appeared, e.g. "UUID=ab.., /dev/vdc", then
 * those that failed, e.g. "luks-ab.. on /dev/vdb (failed)". */
void luks_describe_missing(const struct luks_set *set, char *buf, size_t size);

#endif
