#include "luks/luks.h"

#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "luks/luksderived.h"
#include "luks/lukshdr.h"
#include "luks/lukskdf.h"
#include "luks/lukskeys.h"
#include "luks/luksload.h"
#include "luks/luksmembers.h"
#include "luks/pwcache.h"

static void crypt_log_cb(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	/* libcryptsetup's messages never contain key material. Its errors
	 * say why a member cannot be opened: the person needs them. */
	if (level == CRYPT_LOG_ERROR)
		log_err("cryptsetup: %s", msg);
	else
		log_debug("cryptsetup: %s", msg);
}

int luks_init(struct luks_set **ret_set, const struct boot_config *cfg)
{
	/* Large: on the heap, for /init's whole life. */
	struct luks_set *set = calloc(1, sizeof(*set));
	*ret_set = set;
	if (!set)
		return -ENOMEM;
	set->cfg = cfg;
	set->n = cfg->nmembers;
	for (int i = 0; i < set->n; i++)
		set->m[i].cfg = &cfg->members[i];
	if (set->n == 0)
		return 0;
	crypt_set_log_callback(NULL, crypt_log_cb, NULL);
	/* rd.debug: libcryptsetup's own account of each step too. */
	if (cfg->debug)
		crypt_set_debug_level(CRYPT_DEBUG_ALL);
	return 0;
}

void luks_attach_jobs(struct luks_set *set, struct jobs *jobs)
{
	if (!set)
		return;
	set->jobs = jobs;
	keydev_attach(&set->keydevs, jobs);
}

static bool mapping_exists(const char *dm_name)
{
	char node[128];
	snprintf(node, sizeof(node), "/dev/mapper/%s", dm_name);
	return access(node, F_OK) == 0;
}

/* A member half-configured for a detached header cannot be found,
 * whatever appears: it fails now, saying what is missing. */
static void fail_half_configured(struct luks_set *set, struct luks_member *m)
{
	const char *why = lukshdr_config_problem(m->cfg);
	if (!why)
		return;
	member_provisional_name(m, m->cfg->spec.value);
	member_fail(set, m, why);
}

void luks_begin_attempt(struct luks_set *set)
{
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		/* Closed by hand in the rescue shell: look for it again. */
		if (m->state == MEMBER_OPEN && mapping_exists(m->dm_name))
			continue;
		const struct luks_member_cfg *cfg = m->cfg;
		memset(m, 0, sizeof(*m));
		m->cfg = cfg;
		m->state = MEMBER_WAITING;
		m->tries_left = luks_member_tries(set->cfg, cfg);
	}
	set->shared_gen = 0;
	set->shared_gen_opened = false;
	set->in_use_kb = 0;
	set->nfailed = 0;
	failure_clear(&set->failure);
	set->ndeferred = 0;
	set->stopping = false;
	set->settle_due = false;
	set->budget_kb = kdf_memory_budget_kb();
	keydev_begin(&set->keydevs, set->cfg);
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_WAITING)
			fail_half_configured(set, &set->m[i]);
}

static bool matches_waiting(const struct luks_set *set,
			    const struct dev_ids *ids)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_WAITING &&
		    devspec_matches(lukshdr_find_spec(set->m[i].cfg), ids))
			return true;
	return false;
}

/* A detached header's data device is named by a spec that may be weak
 * (a /dev/vdX name): the device another member has taken is never a
 * second volume's too. The same disk named twice is a duplicate only
 * when neither has a detached header, or both the same header file. */
static bool claim_conflict(struct luks_set *set, struct luks_member *m,
			   int owner, const struct dev_ids *ids)
{
	const struct luks_member *o = &set->m[owner];
	if (!lukshdr_detached(m->cfg) && !lukshdr_detached(o->cfg))
		return false;
	/* The same header file on the same disk: one volume named twice
	 * (crypt_root= with root_header=, and rd.luks.header=). */
	if (m->cfg->header[0] && strcmp(m->cfg->header, o->cfg->header) == 0)
		return false;
	str_copy(m->devnode, sizeof(m->devnode), ids->devnode);
	member_provisional_name(m, ids->devnode);
	char why[160];
	snprintf(why, sizeof(why), "%s is taken by %s already", ids->devnode,
		 o->dm_name);
	member_fail(set, m, why);
	return true;
}

bool luks_consider(struct luks_set *set, const struct dev_ids *ids)
{
	/* It may hold a header awaited: the pass starts its read. */
	if (keydev_consider(&set->keydevs, ids))
		return true;
	if (members_exclusive_running(set) && matches_waiting(set, ids)) {
		for (int i = 0; i < set->ndeferred; i++)
			if (strcmp(set->deferred[i].devnode, ids->devnode) == 0)
				return true;
		if (set->ndeferred < LUKS_MEMBERS_MAX)
			set->deferred[set->ndeferred++] = *ids;
		return true;
	}
	int owner = -1;
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state != MEMBER_WAITING &&
		    set->m[i].state != MEMBER_DUPLICATE &&
		    strcmp(set->m[i].devnode, ids->devnode) == 0)
			owner = i;
	/* A member found by its LUKS UUID first: the disk says it is that
	 * one, while a detached header's data device is only named. */
	bool matched = false;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < set->n; i++) {
			struct luks_member *m = &set->m[i];
			if (m->state != MEMBER_WAITING ||
			    lukshdr_detached(m->cfg) != (pass == 1) ||
			    !devspec_matches(lukshdr_find_spec(m->cfg), ids))
				continue;
			matched = true;
			if (owner >= 0 && claim_conflict(set, m, owner, ids))
				continue;
			if (owner >= 0) {
				members_follow(set, m, owner);
				continue;
			}
			load_claim(set, m, ids);
			owner = i;
		}
	return matched;
}

/* m's key file from its key device: 0, -EAGAIN while the device may yet
 * come or its read (a job) runs, else -errno (said why: the passphrase is
 * asked). */
static int read_keydev_key(struct luks_set *set, struct luks_member *m,
			   const struct devspec *dev, const char *path,
			   struct secret *key)
{
	const struct dev_ids *ids;
	int timeout = luks_member_keyfile_timeout_ms(set->cfg, m->cfg);
	m->keyfile_reading = false;
	switch (keydev_wait(&set->keydevs, dev, timeout, m->dm_name, &ids)) {
	case KEYDEV_WAITING:
		return -EAGAIN;
	case KEYDEV_GONE:
		return -ENODEV;
	case KEYDEV_READY:
		break;
	}
	int rc = keydev_read_key(ids, set->cfg->keydev_fstype, path, m->dm_name,
				 key);
	m->keyfile_reading = rc == -EAGAIN;
	return rc;
}

/* m's key file: 0 with the key in *key, -EAGAIN while its key device
 * may yet come, else -errno (said why: the passphrase is next). It counts
 * as tried unless it is still awaited. */
static int read_key_file(struct luks_set *set, struct luks_member *m,
			 struct secret *key)
{
	const struct devspec *kdev;
	const char *kf = member_keyfile(set, m, &kdev);
	if (kdev->kind != DEVSPEC_NONE) {
		int rc = read_keydev_key(set, m, kdev, kf, key);
		if (rc != -EAGAIN)
			m->keyfile_tried = true;
		return rc;
	}
	m->keyfile_tried = true;
	int rc = secret_read_file(key, kf);
	if (rc < 0)
		log_warn_errno(
			rc,
			"%s: asking for the passphrase: key file %s unusable",
			m->dm_name, kf);
	return rc;
}

void luks_hold(struct luks_set *set, bool hold)
{
	set->holding = hold;
}

/* m opens through its derived keyslot now, if its primary's key is here.
 * Returns true if the job was tried (kdf_start says why one could not
 * start; the next pass tries again). */
static bool start_derived(struct luks_set *set, int i)
{
	struct secret key = {0};
	int slot = derived_key(set, i, &key);
	if (slot < 0)
		return false;
	kdf_start(set, i, KEY_DERIVED, &key, slot, JOB_OVERHEAD_KB);
	return true;
}

static void fail_too_big(struct luks_set *set, struct luks_member *m)
{
	char why[160];
	snprintf(
		why, sizeof(why),
		"its KDF needs %u MiB, more than the %llu MiB of memory available",
		m->mem_kb / 1024,
		(unsigned long long)(2 * set->budget_kb / 1024));
	member_fail(set, m, why);
}

static void wait_for_memory(struct luks_set *set, struct luks_member *m)
{
	if (!m->waited_for_memory)
		log_info(
			"%s: KDF waits for memory: %llu MiB in use by running KDFs, %llu MiB more would exceed the budget of %llu MiB (half of what is available)",
			m->dm_name, (unsigned long long)(set->in_use_kb / 1024),
			(unsigned long long)(member_cost_kb(m) / 1024),
			(unsigned long long)(set->budget_kb / 1024));
	m->waited_for_memory = true;
}

static void start_kdf(struct luks_set *set, int i, enum key_source source,
		      struct secret *key)
{
	kdf_start(set, i, source, key, CRYPT_ANY_SLOT,
		  member_cost_kb(&set->m[i]));
}

/* Does what the key policy decided for member i (lukskeys.h). Returns
 * false when the pass ends here. */
static bool apply_step(struct luks_set *set, int i, enum key_step step)
{
	struct luks_member *m = &set->m[i];
	struct secret key = {0};
	struct luks_view v;
	switch (step) {
	case KEYS_SKIP:
	case KEYS_NONE:
		return true;
	case KEYS_STOP:
		return false;
	case KEYS_DERIVED:
		if (start_derived(set, i))
			return true;
		members_view(set, &v); /* the key could not be made */
		return apply_step(set, i, keys_step_underived(&v, i));
	case KEYS_TOO_BIG:
		fail_too_big(set, m);
		return true;
	case KEYS_WAIT_MEMORY:
		wait_for_memory(set, m);
		return false;
	case KEYS_OWN: /* typed at its own prompt */
		key = m->own;
		m->own.buf = NULL;
		m->own.len = 0;
		start_kdf(set, i, KEY_OWN, &key);
		return true;
	case KEYS_FILE: {
		int rc = read_key_file(set, m, &key);
		if (rc == 0)
			start_kdf(set, i, KEY_FILE, &key);
		if (rc == 0 || rc == -EAGAIN)
			return true;
		members_view(set, &v); /* tried: the passphrase is next */
		return apply_step(set, i, keys_step_underived(&v, i));
	}
	case KEYS_SHARED:
		if (secret_dup(&key, &set->shared) == 0)
			start_kdf(set, i, KEY_SHARED, &key);
		return true;
	}
	return true;
}

/* A waiting derived job (kdf_prime) is kept while its member will take
 * its primary's key and that key is being made or at hand. */
static bool primed_wanted(struct luks_set *set, const struct luks_view *v,
			  int i)
{
	int p = derived_primary(v, i);
	return set->m[i].state == MEMBER_FOUND && derived_defers(v, i) &&
	       !members_exclusive_running(set) && p >= 0 &&
	       (set->m[p].state == MEMBER_UNLOCKING || derived_ready(v, i));
}

/* Waiting derived jobs: ended when no longer wanted (the member failed
 * or opened otherwise, or its primary's job ended without the key: a
 * wrong passphrase, whose next one's KDF starts them again, so none waits
 * while a person types, and none is left to its deadline); started for a
 * member whose header was read after its primary's KDF started. */
static void tend_primed(struct luks_set *set)
{
	struct luks_view v;
	members_view(set, &v);
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		bool wanted = primed_wanted(set, &v, i);
		if (m->primed_job && !wanted)
			kdf_unprime(set, m);
		else if (!m->primed_job && wanted && !derived_ready(&v, i))
			kdf_prime(set, i);
	}
}

/* KDF jobs for the members whose keys are at hand, as the key policy
 * orders them (lukskeys.h) and memory allows. */
static void start_jobs(struct luks_set *set)
{
	if (set->holding || set->stopping)
		return;
	tend_primed(set);
	struct luks_view v;
	for (int i = 0; i < set->n; i++) {
		members_view(set, &v); /* each job started changes it */
		if (!apply_step(set, i, keys_step(&v, i)))
			return;
	}
	/* Everyone who can be opened is open or failed: drop the passphrase. */
	members_view(set, &v);
	if (keys_shared_done(&v))
		secret_free(&set->shared);
	derived_wipe_unneeded(set);
}

enum luks_need luks_needs(struct luks_set *set, int *member, char *text,
			  size_t size)
{
	struct luks_view v;
	members_view(set, &v);
	int i = -1;
	enum luks_need need = keys_prompt(&v, &i);
	if (need == NEED_OWN) {
		struct luks_member *m = &set->m[i];
		*member = i;
		snprintf(text, size, "Passphrase for %s (%s): ", m->dm_name,
			 m->devnode);
		return NEED_OWN;
	}
	if (need == NEED_NOTHING)
		return NEED_NOTHING;
	char names[LUKS_MEMBERS_MAX * (LUKS_NAME_MAX + 2)];
	int count = members_list(set, names, sizeof(names));
	*member = -1;
	if (count == 1)
		snprintf(text, size, "Passphrase for %s: ", names);
	else
		snprintf(text, size,
			 "Passphrase for %d encrypted disks (%s): ", count,
			 names);
	return NEED_SHARED;
}

void luks_offer(struct luks_set *set, struct secret *pass, int member)
{
	if (member < 0) {
		secret_free(&set->shared);
		set->shared = *pass;
		pass->buf = NULL;
		pass->len = 0;
		set->shared_gen++;
		set->shared_gen_opened = false;
	} else if (member < set->n && set->m[member].state == MEMBER_FOUND) {
		/* Started by the scheduler, within the memory budget. */
		secret_free(&set->m[member].own);
		set->m[member].own = *pass;
		pass->buf = NULL;
		pass->len = 0;
	}
	/* Whatever was not handed on is wiped here. */
	secret_free(pass);
}

/* A passphrase the person typed for m was wrong: one try less. */
static void charge_try(struct luks_set *set, struct luks_member *m)
{
	if (keys_charge(&m->tries_left)) {
		member_fail(
			set, m,
			"no key available with the passphrases given (tries exhausted)");
		return;
	}
	log_err("%s: no key available with this passphrase (%d %s left)",
		m->dm_name, m->tries_left,
		m->tries_left == 1 ? "try" : "tries");
}

static void job_failed(struct luks_set *set, struct luks_member *m)
{
	switch (keys_job_failed(m->source, m->job_rc)) {
	case KEYS_FAILED_DERIVED:
		derived_failed(set, m);
		m->derived_failed = true;
		m->state = MEMBER_FOUND;
		return;
	case KEYS_FAILED_KEYFILE:
		log_warn(
			"%s: the key file does not unlock it; asking for the passphrase",
			m->dm_name);
		m->state = MEMBER_FOUND;
		return;
	case KEYS_FAILED_MEMBER:
		member_fail(set, m, strerror(-m->job_rc));
		return;
	case KEYS_FAILED_ROUND:
		/* Charged, or not, once the round is over: see settle. */
		m->state = MEMBER_FOUND;
		m->shared_gen_failed = m->shared_gen_tried;
		return;
	case KEYS_FAILED_CHARGE:
		m->state = MEMBER_FOUND;
		charge_try(set, m);
		return;
	}
}

/* The shared passphrase has been tried on every member it can be: if it
 * opened none, it was wrong and costs each a try; if it opened some, it
 * was meant for those, and the others get a prompt of their own for free. */
static void settle_shared_round(struct luks_set *set)
{
	struct luks_view v;
	members_view(set, &v);
	if (!keys_round_over(&v))
		return;
	for (int i = 0; i < set->n; i++) {
		enum key_settle settle = keys_settle(&v, i);
		if (settle == KEYS_KEEP)
			continue;
		set->m[i].shared_gen_failed = 0;
		if (settle == KEYS_CHARGE)
			charge_try(set, &set->m[i]);
	}
}

static void start_dependents(struct luks_set *set)
{
	if (set->holding || set->stopping || members_exclusive_running(set))
		return;
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_FOUND)
			start_derived(set, i);
}

/* m's job ended without a result: why, in words. */
static void job_lost(struct luks_set *set, struct luks_member *m)
{
	char why[200];
	if (m->job_end == JOB_TIMED_OUT && m->job_ran_ms < LUKS_KDF_TIMEOUT_MS)
		snprintf(
			why, sizeof(why),
			"no answer from the disk for %d s while its unlock job read its header or keyslot; the job is killed",
			LUKS_KDF_STALL_MS / 1000);
	else if (m->job_end == JOB_TIMED_OUT)
		snprintf(why, sizeof(why),
			 "its KDF did not end within %d s; its job is killed",
			 LUKS_KDF_TIMEOUT_MS / 1000);
	else if (m->job_end == JOB_NOT_RUN && m->job_rc == -EBUSY)
		snprintf(
			why, sizeof(why),
			"%s does not answer: a read from before is still stuck",
			m->devnode);
	else
		snprintf(why, sizeof(why),
			 "its unlock job ended without a result (%s)",
			 strerror(-m->job_rc));
	member_fail(set, m, why);
}

/* What to check when device-mapper refused a mapping, by its error. */
static const char *refusal_hint(int rc)
{
	switch (rc) {
	case -EEXIST:
	case -EBUSY:
		return "a device-mapper device of that name exists already";
	case -ENOTSUP:
		return "does this kernel's dm-crypt have the options asked for (rd.luks.options=)?";
	default:
		return "does the kernel have its cipher (cryptsetup luksDump names it) and dm-crypt?";
	}
}

/* The key was right (its keyslot opened); the kernel would not make the
 * mapping. Not the person's fault: no try is spent, nothing is asked, and
 * a shared passphrase that opened it was meant for it (the others it did
 * not open get their own prompt, free). */
static void activation_refused(struct luks_set *set, struct luks_member *m)
{
	char why[224];
	snprintf(
		why, sizeof(why),
		"its key is right, but device-mapper refused the mapping (%s): %s",
		strerror(-m->job_rc), refusal_hint(m->job_rc));
	if (m->source == KEY_SHARED && m->shared_gen_tried == set->shared_gen)
		set->shared_gen_opened = true;
	member_fail(set, m, why);
}

/* m's job has ended: what it found is noted; a member whose job found
 * its key (and activated it) is finished by activate_found. */
static void collect_job(struct luks_set *set, struct luks_member *m)
{
	m->job_ended = false;
	if (m->job_end != JOB_DONE || m->job_rc < 0)
		secret_free(&m->pass); /* it opened nothing */
	if (m->job_end != JOB_DONE) {
		job_lost(set, m);
		return;
	}
	if (m->job_rc < 0) {
		secret_free(&m->vk);
		if (m->activation_failed)
			activation_refused(set, m);
		else
			job_failed(set, m);
		return;
	}
	m->vk_ready = m->vk.buf != NULL; /* only if its job brought it */
	m->key_found = true;
}

/* A job found m's key: the dm-crypt device. Returns its dm minor, or -1
 * (m failed). */
static int activate_member(struct luks_set *set, struct luks_member *m)
{
	int dm_minor = kdf_activated(set, m);
	if (dm_minor < 0) {
		member_fail(set, m, "device-mapper activation failed");
		return -1;
	}
	m->state = MEMBER_OPEN;
	member_opened_by(set, m);
	if (m->source == KEY_SHARED && m->shared_gen_tried == set->shared_gen)
		set->shared_gen_opened = true;
	log_notice("%s: unlocked (keyslot %d%s) as /dev/mapper/%s", m->dm_name,
		   m->job_rc,
		   m->source == KEY_DERIVED ? ", derived key, no costly KDF"
					    : "",
		   m->dm_name);
	return dm_minor;
}

/* The members whose jobs found their keys are activated. Members whose
 * keys derive from one start first: its activation (device-mapper
 * ioctls) need not hold them up. Fills opened[] with "dm-N" names. */
static int activate_found(struct luks_set *set, char opened[][32], int max)
{
	int count = 0;
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_UNLOCKING || !m->key_found)
			continue;
		m->key_found = false;
		start_dependents(set);
		int dm_minor = activate_member(set, m);
		if (dm_minor >= 0 && count < max)
			snprintf(opened[count++], 32, "dm-%d", dm_minor);
	}
	return count;
}

/* Devices that appeared while a job that runs alone was in
 * libcryptsetup: claimed once it is done. */
static void consider_deferred(struct luks_set *set)
{
	if (set->ndeferred == 0 || members_exclusive_running(set))
		return;
	int n_deferred = set->ndeferred;
	set->ndeferred = 0;
	for (int i = 0; i < n_deferred; i++)
		luks_consider(set, &set->deferred[i]);
}

/* The jobs that ended since the last pass (their handler only noted it). */
static void collect_ended(struct luks_set *set)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_UNLOCKING && set->m[i].job_ended)
			collect_job(set, &set->m[i]);
}

int luks_schedule(struct luks_set *set, char opened[][32], int max)
{
	if (set->stopping)
		return 0;
	collect_ended(set);
	int count = activate_found(set, opened, max);
	/* The reads queued before deferred devices are claimed go first. */
	load_start(set);
	consider_deferred(set);
	load_start(set);
	start_jobs(set);
	if (set->settle_due) {
		set->settle_due = false;
		settle_shared_round(set);
	}
	return count;
}

int luks_tick(struct luks_set *set)
{
	long long next = load_tick(set);
	/* A key device's wait ended: its members go on to the passphrase (or
	 * a header device's: its read may start), in the next pass. */
	int key_ms = keydev_tick(&set->keydevs);
	if (key_ms > 0 && (next < 0 || key_ms < next))
		next = key_ms;
	return (int)next;
}

void luks_stop(struct luks_set *set)
{
	/* Jobs collected but not finished yet: their children activated
	 * the members already. */
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_UNLOCKING ||
		    (!m->key_found && !m->job_ended))
			continue;
		bool opened = m->key_found ||
			      (m->job_end == JOB_DONE && m->job_rc >= 0);
		m->key_found = m->job_ended = false;
		if (opened)
			member_opened_by(set, m);
		secret_free(&m->pass);
		secret_free(&m->vk);
		m->vk_ready = false;
		m->state = opened ? MEMBER_OPEN : MEMBER_FOUND;
	}
	for (int i = 0; i < set->n; i++)
		kdf_unprime(set, &set->m[i]);
	set->stopping = true;
}

void luks_end_attempt(struct luks_set *set)
{
	/* The caller waited for the jobs (luks_stop); one still running is
	 * stuck on its disk: killed, and nothing waits for it. */
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state == MEMBER_UNLOCKING) {
			log_warn(
				"%s: its unlock job has not ended after %d s (the disk %s does not answer?); killed",
				m->dm_name, LUKS_JOIN_WAIT_MS / 1000,
				m->devnode);
			kdf_cancel(set, m);
		}
		load_give_up(set, m);
	}
	for (int i = 0; i < set->n; i++)
		member_release(&set->m[i]);
	secret_free(&set->shared);
	keydev_end(&set->keydevs);
	/* A member that failed after the root was decided (degraded). */
	luks_tell_failure(set);
	set->stopping = false;
}

void luks_hand_on(struct luks_set *set)
{
	if (!set)
		return;
	int n = pwcache_hand_on(&set->handon);
	if (n < 0)
		log_warn_errno(
			n,
			"password-cache=yes: the passphrase is not handed on to the booted system (kernel keyring)");
	else if (n > 0)
		log_info(
			"password-cache=yes: %d passphrase%s handed on to the booted system (key \"%s\" in root's user keyring, for %d s)",
			n, n == 1 ? "" : "s", PWCACHE_KEY, PWCACHE_TIMEOUT_S);
}
