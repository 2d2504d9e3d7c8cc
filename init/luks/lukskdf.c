#include "luks/lukskdf.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "luks/luksderived.h"

#define WORKER_STACK ((size_t)1024 * 1024)

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

/* A worker left stuck by an earlier attempt has returned by now (a slow
 * KDF, a disk that answered at last): reap it and free what it kept, so
 * that its member is tried again instead of failing for good. The worker
 * set worker_done after its last use of m, m->cd and the secrets, and
 * before its write to the (non-blocking) pipe: the join waits at most for
 * that write. Its byte is then in the notify pipe; the caller drains it
 * before the new attempt starts any job. */
bool kdf_reap_stuck(struct luks_member *m)
{
	if (!m->stuck || !__atomic_load_n(&m->worker_done, __ATOMIC_ACQUIRE))
		return false;
	pthread_join(m->thread, NULL);
	log_info("%s: its unlock worker from an earlier attempt has ended",
		 m->dm_name);
	member_release(m);
	m->stuck = false;
	m->state = MEMBER_WAITING; /* reset by the caller, like the others */
	return true;
}

static void *kdf_worker(void *arg)
{
	struct luks_member *m = arg;
	/* Copied now: once worker_done is set the loop may reset m. */
	int notify_fd = m->notify_fd;
	unsigned char index = m->index;
	m->kdf_start = uptime_s();
	m->vk.len = SECRET_MAX;
	if (m->reencrypt)
		m->job_rc = crypt_activate_by_passphrase(
			m->cd, m->dm_name, CRYPT_ANY_SLOT, m->key.buf,
			m->key.len, m->activate_flags);
	else
		m->job_rc = crypt_volume_key_get(m->cd, m->job_slot, m->vk.buf,
						 &m->vk.len, m->key.buf,
						 m->key.len);
	m->kdf_end = uptime_s();
	/* From here on m is the loop's: a stuck member is reaped by
	 * luks_begin_attempt once it sees this. */
	__atomic_store_n(&m->worker_done, true, __ATOMIC_RELEASE);
	/* The loop joins us when it reads this byte. */
	while (write(notify_fd, &index, 1) < 0 && errno == EINTR)
		;
	return NULL;
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

void kdf_start(struct luks_set *set, int i, enum key_source source,
	       struct secret *key, int slot, uint64_t cost_kb)
{
	struct luks_member *m = &set->m[i];
	m->key = *key;
	key->buf = NULL;
	key->len = 0;
	m->source = source;
	m->vk_ready = false;
	m->job_slot = slot;
	m->job_kb = cost_kb;
	m->activate_flags = activate_flags(set->cfg, m->cfg);
	m->notify_fd = set->pipe_wr;
	m->index = (unsigned char)i;
	m->worker_done = false;
	if (source == KEY_SHARED)
		m->shared_gen_tried = set->shared_gen;
	int rc = secret_alloc(&m->vk);
	if (rc < 0) {
		secret_free(&m->key);
		log_err("%s: cannot lock memory for the volume key: %s",
			m->dm_name, strerror(-rc));
		return;
	}

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	m->state = MEMBER_UNLOCKING;
	rc = pthread_create(&m->thread, &attr, kdf_worker, m);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		secret_free(&m->key);
		secret_free(&m->vk);
		m->state = MEMBER_FOUND;
		log_err("%s: cannot start the unlock worker: %s", m->dm_name,
			strerror(rc));
		return;
	}
	set->in_use_kb += m->job_kb;
	say_started(set, m, source, slot);
}

void kdf_collect(struct luks_set *set, struct luks_member *m)
{
	pthread_join(m->thread, NULL);
	secret_free(&m->key);
	set->in_use_kb -= m->job_kb;
	log_info("%s: %s ended; ran from %.3f s to %.3f s (%.3f s), %s",
		 m->dm_name,
		 m->source == KEY_DERIVED ? "derived keyslot" : "KDF",
		 m->kdf_start, m->kdf_end, m->kdf_end - m->kdf_start,
		 m->job_rc >= 0 ? "key found" : "no key");
}

void kdf_drop(struct luks_set *set, struct luks_member *m)
{
	pthread_join(m->thread, NULL); /* it has written its byte: ending */
	secret_free(&m->key);
	secret_free(&m->vk);
	m->vk_ready = false;
	set->in_use_kb -= m->job_kb;
	m->state = MEMBER_FOUND;
}

int kdf_activate(struct luks_set *set, struct luks_member *m)
{
	/* A reencrypting member was activated by the worker already. */
	int rc = m->reencrypt
			 ? 0
			 : crypt_activate_by_volume_key(m->cd, m->dm_name,
							m->vk.buf, m->vk.len,
							m->activate_flags);
	/* Kept, locked, while members may derive their keys from it. */
	struct luks_view v;
	members_view(set, &v);
	if (rc < 0 || !derived_needs_key(&v, (int)(m - set->m))) {
		secret_free(&m->vk);
		m->vk_ready = false;
	}
	if (rc < 0)
		return rc;
	char node[128];
	struct stat st;
	snprintf(node, sizeof(node), "/dev/mapper/%s", m->dm_name);
	if (stat(node, &st) < 0)
		return -errno;
	return (int)minor(st.st_rdev);
}
