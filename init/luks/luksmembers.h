/* The LUKS members: their table and the queries on it, shared by the
 * files of this folder (luks.c, luksload.c, lukskdf.c, luksderived.c).
 * Nothing outside init/luks/ includes this header: the rest of /init asks
 * luks.h. */
#ifndef LUKSINIT_LUKSMEMBERS_H
#define LUKSINIT_LUKSMEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dtoken.h"
#include "common/secret.h"
#include "config/cmdline.h"
#include "config/devspec.h"
#include "loop/job.h"
#include "luks/keydev.h"
#include "luks/luks.h"
#include "luks/luksview.h"

struct crypt_device;
struct luks_load; /* a header read (luksload.c) */
struct luks_set;

/* Beyond its Argon2 memory a KDF job needs some for itself. */
#define JOB_OVERHEAD_KB 2048

struct luks_member {
	const struct luks_member_cfg *cfg;
	enum member_state state;
	int dup_of;
	char devnode[64];
	char dm_name[LUKS_NAME_MAX];
	char uuid[DTOKEN_UUID_MAX]; /* its LUKS UUID, once the header is read */
	struct luks_set *set;	    /* for its jobs' handlers */
	/* A header on a header device: the copy it is read from (hdrdev.h),
	 * else "". */
	char hdr_copy[CFG_PATH_MAX];
	bool luks1;
	uint32_t mem_kb; /* peak KDF memory over its keyslots */
	/* A LUKS2 reencryption is under way: only libcryptsetup's own
	 * activation by passphrase can open it (its job does that, alone:
	 * see luks_consider). */
	bool reencrypt;
	bool exclusive; /* its job runs alone, the loop out of libcryptsetup */
	struct luks_load *load; /* its header being read, while LOADING */
	uint32_t activate_flags;
	int tries_left;
	bool keyfile_tried;
	bool keyfile_reading; /* its key device's read (a job) runs */
	unsigned shared_gen_tried;
	/* The shared passphrase of that generation failed here; it costs a
	 * try only if it opened no member at all (then it was simply wrong,
	 * not meant for another disk). */
	unsigned shared_gen_failed;
	bool waited_for_memory; /* said once why its KDF waits */
	/* A derived keyslot (luksderived.h): opened with a key made from
	 * the volume key of the member with LUKS UUID primary_uuid. */
	bool derived;
	bool derived_failed; /* that key did not open it: the passphrase will */
	int derived_slot;
	char primary_uuid[DTOKEN_UUID_MAX];

	/* Its KDF job (lukskdf.h), while UNLOCKING; its child has a copy of
	 * this member, made when it started. */
	int kdf_job;
	/* While FOUND: its derived job, started as its primary's KDF did,
	 * its header loaded, waiting for its key (kdf_prime); 0 if none.
	 * primed_keep_vk: keep_vk in that child's copy. */
	int primed_job;
	bool primed_keep_vk;
	int primed_for; /* the primary's job it was last primed for */
	enum key_source source;
	int job_slot;	   /* the keyslot tried, or CRYPT_ANY_SLOT */
	uint64_t job_kb;   /* memory charged to the budget for this job */
	struct secret own; /* typed at its own prompt, for the scheduler */
	/* The passphrase its job tries, kept while password-cache=yes: it
	 * joins the set's handon once it opened m (member_opened_by). */
	struct secret pass;
	/* The volume key the KDF found; locked memory. Wiped once the member
	 * is active, unless members derive their keys from it: then once
	 * none of them needs it any more (derived_wipe_unneeded). */
	struct secret vk;
	bool vk_ready; /* vk holds the volume key its job found */
	/* Its job brings the volume key back (derived_may_need_key, as the
	 * job started); if not, the job opens it by its keyslot alone. */
	bool keep_vk;
	/* Its job has ended with the key: still UNLOCKING, activated by the
	 * next pass (luks_schedule). */
	bool key_found;
	/* Its job has ended (its handler noted how, for the pass). */
	bool job_ended;
	enum job_end job_end;
	int job_rc; /* the keyslot, or -errno (-EPERM: a wrong key) */
	bool activation_failed; /* the key was right, device-mapper said no */
	long long job_ran_ms;
	double kdf_start;
};

struct luks_set {
	const struct boot_config *cfg;
	struct luks_member m[LUKS_MEMBERS_MAX];
	int n;
	struct jobs *jobs; /* where header reads and KDFs run (loop/job.h) */
	bool stopping;	 /* the attempt ends: finished KDFs activate nothing */
	bool settle_due; /* jobs ended: the pass settles the shared round */
	struct secret shared;
	/* The passphrases that opened members with password-cache=yes, for
	 * the booted system (pwcache.h): kept across attempts, handed on
	 * once, just before the real init runs (luks_hand_on). */
	struct secret handon;
	unsigned shared_gen;	/* bumped for each passphrase typed */
	bool shared_gen_opened; /* it opened at least one member */
	uint64_t budget_kb, in_use_kb;
	int nfailed;
	bool holding; /* no job starts: devices are still being enumerated */
	/* The first member that cannot be opened: "cannot unlock <name>
	 * (<spec> on <device>): <why>", why at failure_why_at; said once
	 * (failure_told), as the attempt's failure or in the log. */
	struct failure failure;
	size_t failure_why_at;
	int failure_member;
	bool failure_told;
	/* Devices that appeared while a reencrypting member's worker was in
	 * libcryptsetup: claimed once it is done. */
	struct dev_ids deferred[LUKS_MEMBERS_MAX];
	int ndeferred;
	struct keydev_set keydevs; /* devices holding key files */
	/* Members told their derived keyslot is stale: once a boot, not once
	 * an attempt (derived_failure). */
	unsigned stale_said;
};

/* m cannot be opened, for the reason why: said once. The first such
 * member (not swap) is the set's failure (luks_take_failure). */
void member_fail(struct luks_set *set, struct luks_member *m, const char *why);
/* Wipes and frees m's secrets. */
void member_release(struct luks_member *m);
/* m's job opened it: the passphrase it tried (m->pass) joins set's
 * handon; it is wiped from m either way. */
void member_opened_by(struct luks_set *set, struct luks_member *m);
/* A name for messages until the header gives the real one. */
void member_provisional_name(struct luks_member *m, const char *fallback);
/* The memory m's KDF job is charged: the largest of its keyslots' (any
 * may be the one), plus the job's own. */
uint64_t member_cost_kb(const struct luks_member *m);
/* m's key file, and in *ret_dev the device it is on (kind NONE: the
 * initramfs); NULL if it has none. */
const char *member_keyfile(const struct luks_set *set,
			   const struct luks_member *m,
			   const struct devspec **ret_dev);

bool members_any_in(const struct luks_set *set, enum member_state st);
/* A job that must run alone runs (see header_loaded in luksload.c): the
 * header reads wait for it. */
bool members_exclusive_running(const struct luks_set *set);
/* dup names the disk of member owner again: it follows owner. */
void members_follow(struct luks_set *set, struct luks_member *dup, int owner);
/* m's header was read (or not): the entries that name its disk again. */
void members_announce_dups(struct luks_set *set, const struct luks_member *m);
/* The facts the policies decide on (luksview.h), as they are now. */
void members_view(const struct luks_set *set, struct luks_view *v);
/* The names of the members still to be opened, ", "-separated; returns
 * their count. */
int members_list(const struct luks_set *set, char *text, size_t size);

#endif
