#include "luks/lukskdf.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "base/log.h"
#include "base/strutil.h"
#include "loop/job.h"
#include "luks/derivedpolicy.h"
#include "luks/luksderived.h"
#include "luks/lukshdr.h"

/* The first byte of a KDF job's result: where it stopped. */
enum kdf_stage { KDF_AT_KEY, KDF_AT_ACTIVATION };

static double uptime_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Never run the machine out of memory. */
uint64_t kdf_memory_budget_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;
	char line[128];
	while (f && fgets(line, sizeof(line), f)) {
		if (!str_starts_with(line, "MemAvailable:"))
			continue;
		char *end = NULL;
		kb = strtoull(line + 13, &end, 10);
		if (end == line + 13)
			kb = 0;
		break;
	}
	if (f)
		fclose(f);
	return kb / 2;
}

static void quiet_cb(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)msg;
	(void)usrptr;
}

/* The child's own context: the loop keeps none (luksload.c). */
static int load_header(const struct luks_member *m,
		       struct crypt_device **ret_cd)
{
	if (m->hdr_copy[0])
		return lukshdr_load(m->hdr_copy, m->devnode, ret_cd);
	if (m->cfg->header[0])
		return lukshdr_open(m->cfg->header, m->devnode, ret_cd);
	return lukshdr_load(m->devnode, NULL, ret_cd);
}

/* In the child of a job started before its key (kdf_prime): the header,
 * loaded while the key was being made; NULL if that failed (loaded again,
 * to say why). */
static struct crypt_device *primed_cd;

static void load_before_key(void *arg)
{
	const struct luks_member *m = arg;
	crypt_set_log_callback(NULL, quiet_cb, NULL);
	if (load_header(m, &primed_cd) < 0)
		primed_cd = NULL;
}

/* The KDF and the activation in one call: the key's digest is checked
 * once. Whether a failure was the key's or device-mapper's is asked again
 * only then, without activating; a wrong key, a KDF out of memory or an
 * unreadable keyslot are the key's. Returns the keyslot, or -errno. */
static int open_by_keyslot(struct crypt_device *cd, const struct luks_member *m,
			   int slot, const void *key, size_t key_len,
			   unsigned char *stage)
{
	int rc = crypt_activate_by_passphrase(cd, m->dm_name, slot, key,
					      key_len, m->activate_flags);
	if (rc >= 0 || rc == -EPERM || rc == -ENOMEM || rc == -EIO)
		return rc;
	if (crypt_activate_by_passphrase(cd, NULL, slot, key, key_len, 0) >= 0)
		*stage = KDF_AT_ACTIVATION;
	return rc;
}

/* The KDF, then the activation by the volume key it found, which comes
 * back to the loop (kept while members derive their keys from it). */
static int open_keeping_key(struct crypt_device *cd,
			    const struct luks_member *m, const void *key,
			    size_t key_len, unsigned char *out, size_t max,
			    size_t *ret_len)
{
	size_t vk_len = max - 1;
	int rc = crypt_volume_key_get(cd, m->job_slot, (char *)out + 1, &vk_len,
				      key, key_len);
	if (rc < 0)
		return rc;
	int act = crypt_activate_by_volume_key(cd, m->dm_name, (char *)out + 1,
					       vk_len, m->activate_flags);
	if (act < 0) {
		out[0] = KDF_AT_ACTIVATION;
		return act;
	}
	*ret_len = 1 + vk_len;
	return rc;
}

/* In the child (its copy of m, made by fork): the header again, the KDF
 * on the key it was sent, the activation. The result, a secret: the
 * stage, then the volume key if m->keep_vk. Returns the keyslot, or
 * -errno (-EPERM: a wrong key). */
static int kdf_in_child(void *arg, const void *key, size_t key_len, void *buf,
			size_t max, size_t *ret_len)
{
	const struct luks_member *m = arg;
	unsigned char *out = buf;
	struct crypt_device *cd = NULL;
	/* Its messages cannot come back with a secret result; the loop
	 * says what failed. */
	crypt_set_log_callback(NULL, quiet_cb, NULL);
	out[0] = KDF_AT_KEY;
	*ret_len = 1;
	int rc = 0;
	if (primed_cd) {
		cd = primed_cd;
		primed_cd = NULL;
	} else {
		rc = load_header(m, &cd);
	}
	if (rc >= 0 && m->reencrypt)
		rc = open_by_keyslot(cd, m, CRYPT_ANY_SLOT, key, key_len, out);
	else if (rc >= 0 && !m->keep_vk)
		rc = open_by_keyslot(cd, m, m->job_slot, key, key_len, out);
	else if (rc >= 0)
		rc = open_keeping_key(cd, m, key, key_len, out, max, ret_len);
	crypt_free(cd);
	return rc;
}

/* Which job started, and how many run, against what budget. */
static void say_started(const struct luks_set *set, const struct luks_member *m,
			enum key_source source, int slot)
{
	int running = 0;
	for (int k = 0; k < set->n; k++)
		running += set->m[k].state == MEMBER_UNLOCKING;
	if (source == KEY_DERIVED) {
		log_info(
			"%s: derived key from LUKS UUID %s: opening keyslot %d at %.3f s (PBKDF2 at the minimum cost; no costly KDF)",
			m->dm_name, m->primary_uuid, slot, uptime_s());
		return;
	}
	log_info(
		"%s: KDF started at %.3f s (%s; %d running, %llu of %llu MiB budget)",
		m->dm_name, uptime_s(),
		source == KEY_FILE ? "key file" : "passphrase", running,
		(unsigned long long)(set->in_use_kb / 1024),
		(unsigned long long)(set->budget_kb / 1024));
}

/* rd.luks.options= and friends, in libcryptsetup's terms. */
static uint32_t activate_flags(const struct boot_config *cfg,
			       const struct luks_member_cfg *mc)
{
	static const struct {
		unsigned opt;
		uint32_t flag;
	} map[] = {
		{LUKS_OPT_DISCARD, CRYPT_ACTIVATE_ALLOW_DISCARDS},
		{LUKS_OPT_SAME_CPU_CRYPT, CRYPT_ACTIVATE_SAME_CPU_CRYPT},
		{LUKS_OPT_SUBMIT_FROM_CRYPT_CPUS,
		 CRYPT_ACTIVATE_SUBMIT_FROM_CRYPT_CPUS},
		{LUKS_OPT_NO_READ_WORKQUEUE, CRYPT_ACTIVATE_NO_READ_WORKQUEUE},
		{LUKS_OPT_NO_WRITE_WORKQUEUE,
		 CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE},
	};
	unsigned opts = luks_member_flags(cfg, mc);
	uint32_t flags = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (opts & map[i].opt)
			flags |= map[i].flag;
	return flags;
}

/* What the job's result says, into m (job_rc, vk, the stage). */
static void take_result(struct luks_member *m, const struct job_result *r)
{
	const struct secret *res = r->secret;
	secret_free(&m->vk);
	m->job_rc = r->rc;
	m->job_end = r->end;
	m->job_ran_ms = r->ran_ms;
	m->activation_failed = r->end == JOB_DONE && res && res->len >= 1 &&
			       res->buf[0] == KDF_AT_ACTIVATION;
	if (r->end == JOB_DONE && r->rc >= 0 && res && res->len > 1 &&
	    secret_alloc(&m->vk) == 0) {
		memcpy(m->vk.buf, res->buf + 1, res->len - 1);
		m->vk.len = res->len - 1;
	}
	if (r->end == JOB_DONE && r->rc >= 0 && !m->vk.buf && m->keep_vk)
		m->job_rc = -ENOMEM; /* no locked memory for the key */
}

static void on_kdf_done(void *ctx, const struct job_result *r)
{
	struct luks_member *m = ctx;
	if (m->primed_job) {
		/* It ended before its key came (its disk, say): the member
		 * opens by a job of its own, which says what failed. */
		m->primed_job = 0;
		log_debug("%s: its derived job ended before its key came (%s)",
			  m->dm_name, strerror(-r->rc));
		return;
	}
	if (m->state != MEMBER_UNLOCKING || r->end == JOB_CANCELLED)
		return;
	struct luks_set *set = m->set;
	m->kdf_job = 0;
	set->in_use_kb -= m->job_kb;
	take_result(m, r);
	double end = uptime_s();
	/* Its CPU time beside its span: what it shared the CPUs with. */
	char cpu[32] = "";
	if (r->cpu_ms >= 0)
		snprintf(cpu, sizeof(cpu), "; CPU %.3f s",
			 (double)r->cpu_ms / 1000);
	log_info("%s: %s ended; ran from %.3f s to %.3f s (%.3f s%s), %s",
		 m->dm_name,
		 m->source == KEY_DERIVED ? "derived keyslot" : "KDF",
		 m->kdf_start, end, end - m->kdf_start, cpu,
		 m->job_rc >= 0		? "key found"
		 : m->activation_failed ? "key found, mapping refused"
					: "no key");
	if (!set->stopping) {
		m->job_ended = true; /* the pass goes on from here */
		set->settle_due = true;
		return;
	}
	/* The attempt ends: what the child activated stays open. */
	bool opened = r->end == JOB_DONE && m->job_rc >= 0;
	if (opened)
		member_opened_by(set, m);
	secret_free(&m->pass);
	secret_free(&m->vk);
	m->vk_ready = false;
	m->state = opened ? MEMBER_OPEN : MEMBER_FOUND;
	if (opened)
		log_notice(
			"%s: unlocked as /dev/mapper/%s as the attempt ended",
			m->dm_name, m->dm_name);
}

/* m's job as it starts (the child's copy of m is made then): what it
 * tries and how it activates. */
static struct job_spec kdf_spec(struct luks_set *set, int i, int slot,
				char *what, size_t size)
{
	struct luks_member *m = &set->m[i];
	m->vk_ready = false;
	m->job_slot = slot;
	m->activate_flags = activate_flags(set->cfg, m->cfg);
	m->set = set;
	struct luks_view v;
	members_view(set, &v);
	m->keep_vk = derived_may_need_key(&v, i);
	snprintf(what, size, "unlocking %s", m->dm_name);
	return (struct job_spec){
		.what = what,
		.fn_in = kdf_in_child,
		.arg = m,
		.max = SECRET_MAX,
		.secret = true,
		.timeout_ms = LUKS_KDF_TIMEOUT_MS,
		.stall_ms = LUKS_KDF_STALL_MS,
		.done = on_kdf_done,
		.ctx = m,
		.dev = job_device(m->devnode),
	};
}

void kdf_prime(struct luks_set *set, int i)
{
	struct luks_member *m = &set->m[i];
	struct luks_view v;
	members_view(set, &v);
	int p = derived_primary(&v, i);
	if (!set->jobs || m->primed_job || m->state != MEMBER_FOUND ||
	    !m->derived || m->derived_failed || m->reencrypt || p < 0 ||
	    !set->m[p].kdf_job)
		return;
	/* Once per primary's job: one that could not start, or ended before
	 * its key (a disk still stuck, say), is not started again and again,
	 * pass after pass; the member's own job, with its key, says why. */
	if (m->primed_for == set->m[p].kdf_job)
		return;
	m->primed_for = set->m[p].kdf_job;
	char what[96];
	struct job_spec spec =
		kdf_spec(set, i, m->derived_slot, what, sizeof(what));
	spec.input_later = true;
	spec.before = load_before_key;
	int rc = job_start(set->jobs, &spec);
	if (rc < 0)
		return; /* it starts when its key is here, as before */
	m->primed_job = rc;
	m->primed_keep_vk = m->keep_vk;
	log_debug(
		"%s: its derived job starts and reads its header while the key it needs is made",
		m->dm_name);
}

void kdf_unprime(struct luks_set *set, struct luks_member *m)
{
	if (!m->primed_job)
		return;
	job_cancel(set->jobs, m->primed_job);
	m->primed_job = 0;
}

/* The members that will take their keys from i's volume key, once its
 * job has found it: their jobs start now and wait for the key. */
static void prime_dependents(struct luks_set *set, int i)
{
	if (members_exclusive_running(set))
		return;
	struct luks_view v;
	members_view(set, &v);
	for (int k = 0; k < set->n; k++)
		if (k != i && derived_defers(&v, k) &&
		    derived_primary(&v, k) == i)
			kdf_prime(set, k);
}

/* The job for m with key: its waiting job gets the key if it waits for
 * this very one, else a job starts. Its id, or -errno. */
static int start_job(struct luks_set *set, struct luks_member *m,
		     enum key_source source, struct job_spec *spec)
{
	int id = m->primed_job;
	bool same = source == KEY_DERIVED && m->job_slot == m->derived_slot &&
		    m->keep_vk == m->primed_keep_vk;
	m->primed_job = 0;
	if (id && same && job_give_input(set->jobs, id, spec->input) == 0) {
		log_debug("%s: its key goes to its waiting job", m->dm_name);
		return id;
	}
	/* Not that key, or the job ended meanwhile (its disk, say). */
	if (id)
		job_cancel(set->jobs, id);
	return job_start(set->jobs, spec);
}

void kdf_start(struct luks_set *set, int i, enum key_source source,
	       struct secret *key, int slot, uint64_t cost_kb)
{
	struct luks_member *m = &set->m[i];
	m->source = source;
	m->job_kb = cost_kb;
	char what[96];
	struct job_spec spec = kdf_spec(set, i, slot, what, sizeof(what));
	spec.input = key;
	int rc = set->jobs ? start_job(set, m, source, &spec) : -ENOSYS;
	/* A passphrase (not a key file, not a derived key) may be handed on,
	 * once it opened m. */
	secret_free(&m->pass);
	if (rc >= 0 && (source == KEY_OWN || source == KEY_SHARED) &&
	    luks_member_password_cache(set->cfg, m->cfg) &&
	    secret_dup(&m->pass, key) < 0)
		log_warn(
			"%s: no locked memory to keep its passphrase for the booted system",
			m->dm_name);
	secret_free(key); /* the job has its copy */
	if (rc < 0) {
		log_err_errno(rc, "%s: cannot start its unlock job",
			      m->dm_name);
		return;
	}
	/* Only now: a job that could not start (no room, say) leaves the
	 * shared passphrase untried, for the next pass. */
	if (source == KEY_SHARED)
		m->shared_gen_tried = set->shared_gen;
	m->kdf_job = rc;
	m->kdf_start = uptime_s();
	m->state = MEMBER_UNLOCKING;
	set->in_use_kb += m->job_kb;
	say_started(set, m, source, slot);
	if (m->keep_vk && source != KEY_DERIVED)
		prime_dependents(set, i);
}

void kdf_cancel(struct luks_set *set, struct luks_member *m)
{
	if (m->state != MEMBER_UNLOCKING || !m->kdf_job)
		return;
	job_cancel(set->jobs, m->kdf_job);
	m->kdf_job = 0;
	set->in_use_kb -= m->job_kb;
	m->state = MEMBER_FOUND;
}

int kdf_activated(struct luks_set *set, struct luks_member *m)
{
	/* Kept, locked, while members may derive their keys from it. */
	struct luks_view v;
	members_view(set, &v);
	if (!derived_needs_key(&v, (int)(m - set->m))) {
		secret_free(&m->vk);
		m->vk_ready = false;
	}
	char node[128];
	struct stat st;
	snprintf(node, sizeof(node), "/dev/mapper/%s", m->dm_name);
	if (stat(node, &st) < 0)
		return -errno;
	return (int)minor(st.st_rdev);
}
