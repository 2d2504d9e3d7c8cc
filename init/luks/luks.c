#include "luks/luks.h"

#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "loop/loop.h"
#include "luks/hdrdev.h"
#include "luks/luksderived.h"
#include "luks/lukshdr.h"

#define WORKER_STACK ((size_t)1024 * 1024)
/* Beyond its Argon2 memory a KDF job needs some for itself. */
#define JOB_OVERHEAD_KB 2048
/* What the rest of boot needs besides one KDF: dm-crypt, Btrfs, us. */
#define KDF_MARGIN_KB ((uint64_t)64 * 1024)
#define LOAD_STACK ((size_t)256 * 1024)

/* A header read in a worker (crypt_load reads the disk). The worker reads
 * devnode and notify_fd, writes cd and rc, then hands the job back by
 * writing its address to the load pipe and touches nothing after that.
 * The loop frees a job only once its address has been read back: a worker
 * that never returns leaks its job, never a freed one. */
struct luks_load {
	char devnode[64];
	char header[CFG_PATH_MAX]; /* "" or its detached header (lukshdr.h) */
	/* A header on another device (hdrdev.h): copied to hdr_copy first;
	 * hdr_step names what failed if that did not work. */
	char hdr_devnode[64];
	char hdr_fstype[32];
	char hdr_copy[CFG_PATH_MAX];
	const char *hdr_step;
	int notify_fd;
	struct crypt_device *cd;
	int rc;
	/* The loop's own. */
	long long queued_ms;  /* when its member claimed the device */
	long long started_ms; /* 0: not started */
};

/* What a worker writes to the load pipe (at most PIPE_BUF: atomic). */
struct load_msg {
	struct luks_load *job;
};

static double uptime_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

/* Half of what the kernel says is available: dm-crypt, Btrfs and the
 * rest of boot need the other half. Never run the machine out of memory. */
static uint64_t memory_budget_kb(void)
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

int luks_init(struct luks_set *set, const struct boot_config *cfg)
{
	memset(set, 0, sizeof(*set));
	set->cfg = cfg;
	set->pipe_rd = set->pipe_wr = -1;
	set->load_rd = set->load_wr = -1;
	set->n = cfg->nmembers;
	for (int i = 0; i < set->n; i++)
		set->m[i].cfg = &cfg->members[i];
	if (set->n == 0)
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	set->pipe_rd = p[0];
	set->pipe_wr = p[1];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	set->load_rd = p[0];
	set->load_wr = p[1];
	crypt_set_log_callback(NULL, crypt_log_cb, NULL);
	/* rd.debug: libcryptsetup's own account of each step too. */
	if (cfg->debug)
		crypt_set_debug_level(CRYPT_DEBUG_ALL);
	return 0;
}

static void member_fail(struct luks_set *set, struct luks_member *m,
			const char *why);

static bool mapping_exists(const char *dm_name)
{
	char node[128];
	snprintf(node, sizeof(node), "/dev/mapper/%s", dm_name);
	return access(node, F_OK) == 0;
}

/* A name for messages until the header gives the real one. */
static void provisional_name(struct luks_member *m, const char *fallback)
{
	if (str_copy(m->dm_name, sizeof(m->dm_name), "luks-") < 0 ||
	    str_append(m->dm_name, sizeof(m->dm_name), m->cfg->spec.value) < 0)
		str_copy(m->dm_name, sizeof(m->dm_name), fallback);
}

/* A member half-configured for a detached header cannot be found,
 * whatever appears: it fails now, saying what is missing. */
static void fail_half_configured(struct luks_set *set, struct luks_member *m)
{
	const char *why = lukshdr_config_problem(m->cfg);
	if (!why)
		return;
	provisional_name(m, m->cfg->spec.value);
	member_fail(set, m, why);
}

/* A worker left stuck by an earlier attempt has returned by now (a slow
 * KDF, a disk that answered at last): reap it and free what it kept, so
 * that its member is tried again instead of failing for good. The worker
 * set worker_done after its last use of m, m->cd and the secrets, and
 * before its write to the (non-blocking) pipe: the join waits at most for
 * that write. Its byte is then in the notify pipe; the caller drains it
 * before the new attempt starts any job. */
static void reap_stuck(struct luks_member *m)
{
	if (!m->stuck || !__atomic_load_n(&m->worker_done, __ATOMIC_ACQUIRE))
		return;
	pthread_join(m->thread, NULL);
	log_info("%s: its unlock worker from an earlier attempt has ended",
		 m->dm_name);
	secret_free(&m->key);
	secret_free(&m->own);
	secret_free(&m->vk);
	m->vk_ready = false;
	crypt_free(m->cd);
	m->cd = NULL;
	m->stuck = false;
	m->state = MEMBER_WAITING; /* reset below, like the others */
}

void luks_begin_attempt(struct luks_set *set)
{
	bool reaped = false;
	for (int i = 0; i < set->n; i++) {
		bool was_stuck = set->m[i].stuck;
		reap_stuck(&set->m[i]);
		reaped |= was_stuck && !set->m[i].stuck;
	}
	/* The reaped workers' bytes: not news for this attempt's jobs. No
	 * other worker of ours can write meanwhile (those still stuck are
	 * ignored: their members stay failed and never UNLOCKING). */
	unsigned char junk[LUKS_MEMBERS_MAX];
	while (reaped && set->pipe_rd >= 0 &&
	       read(set->pipe_rd, junk, sizeof(junk)) > 0)
		;
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		/* Closed by hand in the rescue shell: look for it again. */
		if ((m->state == MEMBER_OPEN && mapping_exists(m->dm_name)) ||
		    m->stuck)
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
	set->failure[0] = '\0';
	set->ndeferred = 0;
	set->stopping = false;
	set->budget_kb = memory_budget_kb();
	keydev_begin(&set->keydevs, set->cfg);
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_WAITING)
			fail_half_configured(set, &set->m[i]);
	for (int i = 0; i < set->n; i++)
		if (set->m[i].stuck)
			member_fail(
				set, &set->m[i],
				"its unlock worker from an earlier attempt is still stuck on the disk");
}

int luks_notify_fd(const struct luks_set *set)
{
	return set->pipe_rd;
}

int luks_load_fd(const struct luks_set *set)
{
	return set->load_rd;
}

int luks_keydev_ms(const struct luks_set *set)
{
	return keydev_next_ms(&set->keydevs);
}

static bool any_member_in(const struct luks_set *set, enum member_state st)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == st)
			return true;
	return false;
}

bool luks_loading(const struct luks_set *set)
{
	return any_member_in(set, MEMBER_LOADING);
}

bool luks_jobs_running(const struct luks_set *set)
{
	return any_member_in(set, MEMBER_UNLOCKING);
}

static enum member_state effective_state(const struct luks_set *set, int i)
{
	enum member_state st = set->m[i].state;
	return st == MEMBER_DUPLICATE ? set->m[set->m[i].dup_of].state : st;
}

/* Swap members are not part of the root: luks_swaps_settled is theirs. */
bool luks_all_open(const struct luks_set *set, bool failed_ok)
{
	for (int i = 0; i < set->n; i++) {
		enum member_state st = effective_state(set, i);
		if (set->m[i].cfg->swap)
			continue;
		if (st != MEMBER_OPEN && !(failed_ok && st == MEMBER_FAILED))
			return false;
	}
	return true;
}

bool luks_swaps_settled(const struct luks_set *set)
{
	for (int i = 0; i < set->n; i++) {
		enum member_state st = effective_state(set, i);
		if (set->m[i].cfg->swap && st != MEMBER_OPEN &&
		    st != MEMBER_FAILED)
			return false;
	}
	return true;
}

/* What an unsettled swap member still waits for, in words. */
static const char *swap_state_words(enum member_state st)
{
	switch (st) {
	case MEMBER_WAITING:
		return "its device has not appeared";
	case MEMBER_LOADING:
		return "reading its header";
	case MEMBER_FOUND:
		return "waiting for its passphrase or a turn for its KDF";
	case MEMBER_UNLOCKING:
		return "its KDF is running";
	default:
		return "not settled";
	}
}

void luks_describe_swaps(const struct luks_set *set, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		enum member_state st = effective_state(set, i);
		if (!m->cfg->swap || st == MEMBER_OPEN || st == MEMBER_FAILED)
			continue;
		const struct devspec *spec = lukshdr_find_spec(m->cfg);
		str_append(buf, size, buf[0] ? ", " : "");
		str_append(buf, size, devspec_kind_name(spec->kind));
		str_append(buf, size, spec->value);
		str_append(buf, size, " (");
		str_append(buf, size, swap_state_words(st));
		str_append(buf, size, ")");
	}
}

bool luks_is_swap_mapping(const struct luks_set *set, const char *mapper_name)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].cfg->swap && set->m[i].state == MEMBER_OPEN &&
		    mapper_name[0] &&
		    strcmp(set->m[i].dm_name, mapper_name) == 0)
			return true;
	return false;
}

bool luks_settled(const struct luks_set *set)
{
	return luks_all_open(set, true);
}

bool luks_owns_mapping(const struct luks_set *set, const char *mapper_name)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_OPEN && mapper_name[0] &&
		    strcmp(set->m[i].dm_name, mapper_name) == 0)
			return true;
	return false;
}

bool luks_awaits_key(const struct luks_set *set)
{
	return any_member_in(set, MEMBER_FOUND);
}

int luks_count(const struct luks_set *set)
{
	return set->n;
}

const char *luks_open_name(const struct luks_set *set, int i)
{
	if (i < 0 || i >= set->n || set->m[i].state != MEMBER_OPEN)
		return "";
	return set->m[i].dm_name;
}

int luks_root_members_open(const struct luks_set *set)
{
	int n = 0;
	for (int i = 0; i < set->n; i++)
		n += set->m[i].state == MEMBER_OPEN && !set->m[i].cfg->swap;
	return n;
}

const char *luks_failure(const struct luks_set *set)
{
	return set->failure;
}

int luks_nfailed(const struct luks_set *set)
{
	return set->nfailed;
}

static uint32_t peak_kdf_memory_kb(struct crypt_device *cd)
{
	uint32_t peak = 0;
	int max = crypt_keyslot_max(crypt_get_type(cd));
	for (int slot = 0; slot < max; slot++) {
		crypt_keyslot_info st = crypt_keyslot_status(cd, slot);
		if (st != CRYPT_SLOT_ACTIVE && st != CRYPT_SLOT_ACTIVE_LAST)
			continue;
		struct crypt_pbkdf_type pbkdf;
		if (crypt_keyslot_get_pbkdf(cd, slot, &pbkdf) == 0 &&
		    pbkdf.max_memory_kb > peak)
			peak = pbkdf.max_memory_kb;
	}
	return peak;
}

static void member_fail(struct luks_set *set, struct luks_member *m,
			const char *why)
{
	m->state = MEMBER_FAILED;
	if (m->cfg->swap) {
		/* Swap is not needed to boot: the root boots without it (and
		 * without resuming from it). */
		log_warn("%s: %s; booting without this swap device",
			 m->dm_name[0] ? m->dm_name : m->cfg->spec.value, why);
		return;
	}
	set->nfailed++;
	const struct devspec *spec = lukshdr_find_spec(m->cfg);
	if (!set->failure[0])
		snprintf(set->failure, sizeof(set->failure),
			 "cannot unlock %s (%s%s on %s): %s", m->dm_name,
			 devspec_kind_name(spec->kind), spec->value,
			 m->devnode[0] ? m->devnode : "no device", why);
	log_err("%s: %s", m->dm_name, why);
}

/* The part that reads the disk: in a worker. */
static int read_header(struct luks_load *job, struct crypt_device **ret_cd)
{
	const char *devnode = job->devnode;
	if (job->hdr_devnode[0]) {
		int rc =
			hdrdev_copy(job->hdr_devnode, job->hdr_fstype,
				    job->header, job->hdr_copy, &job->hdr_step);
		if (rc < 0)
			return rc;
		job->hdr_step = NULL;
		return lukshdr_load(job->hdr_copy, devnode, ret_cd);
	}
	if (job->header[0])
		return lukshdr_open(job->header, devnode, ret_cd);
	struct crypt_device *cd = NULL;
	int rc = crypt_init(&cd, devnode);
	if (rc < 0)
		return rc;
	rc = crypt_load(cd, CRYPT_LUKS, NULL);
	if (rc < 0) {
		crypt_free(cd);
		return rc;
	}
	*ret_cd = cd;
	return 0;
}

/* The rest, from the header in memory: on the loop's thread. */
static int header_loaded(struct luks_member *m)
{
	/* A UUID longer than any LUKS UUID is no partner for derived keys. */
	const char *uuid = crypt_get_uuid(m->cd);
	if (!uuid || str_copy(m->uuid, sizeof(m->uuid), uuid) < 0)
		m->uuid[0] = '\0';
	/* A header file named for one UUID must be that volume's. */
	if (m->cfg->header[0] && m->cfg->spec.kind == DEVSPEC_UUID &&
	    strcasecmp(m->uuid, m->cfg->spec.value) != 0)
		return -EINVAL;
	if (m->cfg->name[0])
		str_copy(m->dm_name, sizeof(m->dm_name), m->cfg->name);
	else if (str_copy(m->dm_name, sizeof(m->dm_name), "luks-") < 0 ||
		 str_append(m->dm_name, sizeof(m->dm_name),
			    crypt_get_uuid(m->cd)) < 0)
		return -ENAMETOOLONG; /* a LUKS UUID is 36 characters */
	m->mem_kb = peak_kdf_memory_kb(m->cd);
	m->reencrypt =
		crypt_reencrypt_status(m->cd, NULL) != CRYPT_REENCRYPT_NONE;
	/* A LUKS1 keyslot in a cipher OpenSSL lacks is decrypted through a
	 * temporary dm device whose name is the same for every thread
	 * (without the kernel's AF_ALG interface): such a KDF runs alone. */
	bool luks1 = strcmp(crypt_get_type(m->cd), CRYPT_LUKS1) == 0;
	const char *cipher = crypt_get_cipher(m->cd);
	m->exclusive = m->reencrypt ||
		       (luks1 && (!cipher || strncmp(cipher, "aes", 3) != 0));
	derived_load(m);
	return 0;
}

/* 1 if m's mapping exists on m's own device, 0 if there is none, -EEXIST
 * if the name is taken by a mapping on something else. */
static int existing_mapping(const struct luks_member *m)
{
	crypt_status_info st = crypt_status(m->cd, m->dm_name);
	if (st != CRYPT_ACTIVE && st != CRYPT_BUSY)
		return 0;
	char node[128], slave[PATH_MAX];
	struct stat dm;
	snprintf(node, sizeof(node), "/dev/mapper/%s", m->dm_name);
	const char *base = strrchr(m->devnode, '/');
	if (stat(node, &dm) < 0 || !base)
		return -EEXIST;
	snprintf(slave, sizeof(slave), "/sys/block/dm-%u/slaves/%s",
		 minor(dm.st_rdev), base + 1);
	return access(slave, F_OK) == 0 ? 1 : -EEXIST;
}

/* m's header is in memory (m->cd): its mapping may exist already. */
static void claimed(struct luks_set *set, struct luks_member *m)
{
	int rc = existing_mapping(m);
	if (rc == 1) {
		m->state = MEMBER_OPEN;
		log_notice("%s: already open as /dev/mapper/%s; using it",
			   m->dm_name, m->dm_name);
		return;
	}
	if (rc < 0) {
		member_fail(
			set, m,
			"a device-mapper device of that name already exists on another disk");
		return;
	}
	m->state = MEMBER_FOUND;
	log_info("%s: LUKS%s on %s%s%s%s (KDF memory %u KiB)%s", m->dm_name,
		 strcmp(crypt_get_type(m->cd), CRYPT_LUKS1) == 0 ? "1" : "2",
		 m->devnode, m->cfg->header[0] ? " (header " : "",
		 m->cfg->header, m->cfg->header[0] ? ")" : "", m->mem_kb,
		 m->reencrypt ? "; a reencryption is under way" : "");
}

static void announce_dups(struct luks_set *set, const struct luks_member *m);

static void finish_load(struct luks_set *set, struct luks_member *m,
			struct luks_load *job)
{
	m->load = NULL;
	m->cd = job->cd;
	int rc = job->rc;
	char why_dev[CFG_PATH_MAX + 160];
	if (rc < 0 && job->hdr_step)
		hdrdev_describe(why_dev, sizeof(why_dev), job->header,
				job->hdr_devnode, rc, job->hdr_step);
	bool copy_failed = rc < 0 && job->hdr_step;
	free(job);
	if (rc >= 0)
		rc = header_loaded(m);
	if (copy_failed) {
		member_fail(set, m, why_dev);
	} else if (rc < 0 && m->cfg->header[0]) {
		char why[CFG_PATH_MAX + 96];
		snprintf(why, sizeof(why), "header file %s: %s", m->cfg->header,
			 rc == -EINVAL && m->cd
				 ? "another volume's (its LUKS UUID differs)"
				 : "not a readable LUKS header");
		member_fail(set, m, why);
	} else if (rc < 0)
		member_fail(set, m, "LUKS header unreadable or corrupt");
	else
		claimed(set, m);
	announce_dups(set, m);
}

static void *load_worker(void *arg)
{
	struct luks_load *job = arg;
	job->rc = read_header(job, &job->cd);
	/* The pipe holds far more than LUKS_MEMBERS_MAX addresses. */
	struct load_msg msg = {job};
	while (write(job->notify_fd, &msg, sizeof(msg)) < 0 && errno == EINTR)
		;
	return NULL;
}

static bool exclusive_job_running(const struct luks_set *set);

/* One header is read at a time: the first crypt_load initialises
 * libcryptsetup's crypto backend, which must not happen in two threads
 * at once; and a job that runs alone (exclusive) waits for reads too.
 * A read given up on still counts while its worker has not returned
 * (set->orphan): it may be inside crypt_init or crypt_load yet. So a disk
 * that never answers holds up every later header read, of this attempt
 * and the next ones, and no second worker is ever started on it. The
 * members queued behind it are not left waiting for ever: luks_tick fails
 * them, saying why, LUKS_LOAD_TIMEOUT_MS after they were queued. */
/* A header on another device: that device first (waited for as a key
 * device is). False while it is awaited, or if m failed without it. */
static bool header_device_ready(struct luks_set *set, struct luks_member *m)
{
	const struct devspec *hdev = &m->cfg->headerdev;
	struct luks_load *job = m->load;
	if (hdev->kind == DEVSPEC_NONE || job->hdr_devnode[0])
		return true;
	const struct dev_ids *ids = NULL;
	int timeout = luks_member_keyfile_timeout_ms(set->cfg, m->cfg);
	enum keydev_wait_rc rc =
		keydev_wait(&set->keydevs, hdev, timeout, m->dm_name, &ids);
	if (rc == KEYDEV_WAITING)
		return false;
	char why[CFG_PATH_MAX + DEVSPEC_VALUE_MAX + 128];
	if (rc == KEYDEV_READY && !ids->type[0])
		snprintf(why, sizeof(why),
			 "header device %s has no filesystem blkid knows",
			 ids->devnode);
	else if (rc == KEYDEV_READY &&
		 str_copy(job->hdr_devnode, sizeof(job->hdr_devnode),
			  ids->devnode) == 0 &&
		 str_copy(job->hdr_fstype, sizeof(job->hdr_fstype),
			  ids->type) == 0 &&
		 hdrdev_copy_path(m->cfg, job->hdr_copy,
				  sizeof(job->hdr_copy)) == 0)
		return true;
	else if (rc == KEYDEV_READY)
		snprintf(why, sizeof(why), "cannot name a copy of its header");
	else
		snprintf(
			why, sizeof(why),
			"its header file %s is on header device %s%s, which did not appear: it cannot be opened without it",
			m->cfg->header, devspec_kind_name(hdev->kind),
			hdev->value);
	free(job); /* never started: no worker has it */
	m->load = NULL;
	member_fail(set, m, why);
	announce_dups(set, m);
	return false;
}

static void start_loads(struct luks_set *set)
{
	if (set->stopping || exclusive_job_running(set) || set->orphan)
		return;
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state == MEMBER_LOADING && m->load->started_ms)
			return;
	}
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_LOADING)
			continue;
		struct luks_load *job = m->load;
		if (!header_device_ready(set, m))
			continue;
		job->notify_fd = set->load_wr;
		job->started_ms = loop_now_ms();
		pthread_attr_t attr;
		pthread_t t;
		int rc = pthread_attr_init(&attr);
		if (rc == 0) {
			pthread_attr_setstacksize(&attr, LOAD_STACK);
			pthread_attr_setdetachstate(&attr,
						    PTHREAD_CREATE_DETACHED);
			rc = pthread_create(&t, &attr, load_worker, job);
			pthread_attr_destroy(&attr);
		}
		if (rc == 0)
			return;
		/* No thread: read it here, as a last resort. */
		log_debug("%s: reading its header on the main thread: %s",
			  m->dm_name, strerror(rc));
		job->rc = read_header(job, &job->cd);
		finish_load(set, m, job);
	}
}

/* Member m takes the device: its header is read by a worker. */
static void claim(struct luks_set *set, struct luks_member *m,
		  const struct dev_ids *ids)
{
	str_copy(m->devnode, sizeof(m->devnode), ids->devnode);
	provisional_name(m, ids->devnode);
	if (!m->cfg->header[0] && strcmp(ids->type, "crypto_LUKS") != 0) {
		member_fail(set, m, "not a LUKS device");
		return;
	}
	char refused[200];
	if (m->cfg->header[0] &&
	    lukshdr_data_refused(m->cfg, ids, refused, sizeof(refused))) {
		member_fail(set, m, refused);
		return;
	}
	const char *why = m->cfg->headerdev.kind == DEVSPEC_NONE
				  ? lukshdr_file_problem(m->cfg->header)
				  : NULL;
	if (why) {
		member_fail(set, m, why);
		return;
	}
	struct luks_load *job = calloc(1, sizeof(*job));
	if (!job || set->load_wr < 0 ||
	    str_copy(job->devnode, sizeof(job->devnode), m->devnode) < 0 ||
	    str_copy(job->header, sizeof(job->header), m->cfg->header) < 0) {
		free(job);
		member_fail(set, m, "cannot start reading its LUKS header");
		return;
	}
	job->queued_ms = loop_now_ms();
	m->load = job;
	m->state = MEMBER_LOADING;
	start_loads(set);
}

/* Only for a job whose address was read back from the load pipe: its
 * worker has returned, so its context is the loop's to free. */
static void discard_load(struct luks_set *set, struct luks_load *job)
{
	if (!job)
		return;
	if (job == set->orphan) {
		log_info("%s: the header read given up on has ended",
			 job->devnode);
		set->orphan = NULL;
	}
	crypt_free(job->cd);
	free(job);
}

/* m's started header read is given up on; its worker may be in
 * libcryptsetup yet: the job is kept, as the orphan, until it is back. */
static void abandon_load(struct luks_set *set, struct luks_member *m)
{
	set->orphan = m->load;
	m->load = NULL;
}

void luks_on_loaded(struct luks_set *set)
{
	struct load_msg done[LUKS_MEMBERS_MAX];
	ssize_t n;
	while (set->load_rd >= 0 &&
	       (n = read(set->load_rd, done, sizeof(done))) > 0)
		for (size_t k = 0; k < (size_t)n / sizeof(done[0]); k++) {
			struct luks_load *job = done[k].job;
			int owner = -1;
			for (int i = 0; i < set->n; i++)
				if (set->m[i].state == MEMBER_LOADING &&
				    set->m[i].load == job)
					owner = i;
			if (owner < 0) {
				discard_load(set, job); /* given up on */
				continue;
			}
			finish_load(set, &set->m[owner], job);
		}
	start_loads(set);
	luks_schedule(set);
}

int luks_tick(struct luks_set *set)
{
	long long now = loop_now_ms();
	long long next = -1;
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_LOADING || !m->load->started_ms)
			continue;
		long long left =
			m->load->started_ms + LUKS_LOAD_TIMEOUT_MS - now;
		if (left > 0) {
			next = next < 0 || left < next ? left : next;
			continue;
		}
		abandon_load(set, m);
		member_fail(
			set, m,
			"no answer from the disk while reading its LUKS header; its worker is left to itself");
		announce_dups(set, m);
	}
	/* Queued behind a read given up on (see start_loads): bounded too. */
	for (int i = 0; set->orphan && i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_LOADING || m->load->started_ms)
			continue;
		long long left =
			m->load->queued_ms + LUKS_LOAD_TIMEOUT_MS - now;
		if (left > 0) {
			next = next < 0 || left < next ? left : next;
			continue;
		}
		free(m->load); /* never started: no worker has it */
		m->load = NULL;
		char why[200];
		snprintf(
			why, sizeof(why),
			"its LUKS header is not read: an earlier header read, on %s, still has no answer (one is read at a time)",
			set->orphan->devnode);
		member_fail(set, m, why);
		announce_dups(set, m);
	}
	/* A key device's wait ended: its members go on to the passphrase. */
	int key_ms = keydev_tick(&set->keydevs);
	if (key_ms == 0) {
		start_loads(set); /* a header device's wait ended too */
		luks_schedule(set);
	} else if (key_ms > 0 && (next < 0 || key_ms < next))
		next = key_ms;
	if (next < 0 && luks_loading(set)) {
		start_loads(set);
		if (luks_loading(set))
			next = LUKS_LOAD_TIMEOUT_MS;
	}
	return (int)next;
}

/* The same disk listed twice (say by path and by UUID): opened once, the
 * second entry follows the first. */
static void announce_dup(struct luks_set *set, struct luks_member *dup)
{
	const struct luks_member *m = &set->m[dup->dup_of];
	str_copy(dup->dm_name, sizeof(dup->dm_name), m->dm_name);
	log_notice("%s%s names %s again; it is opened once, as %s",
		   devspec_kind_name(dup->cfg->spec.kind), dup->cfg->spec.value,
		   m->devnode, m->dm_name);
}

static void follow(struct luks_set *set, struct luks_member *dup, int owner)
{
	const struct luks_member *m = &set->m[owner];
	str_copy(dup->devnode, sizeof(dup->devnode), m->devnode);
	dup->dup_of = owner;
	dup->state = MEMBER_DUPLICATE;
	/* Its name comes with its header: said once that is read. */
	if (m->state != MEMBER_LOADING)
		announce_dup(set, dup);
}

/* m's header was read (or not): the entries that name its disk again. */
static void announce_dups(struct luks_set *set, const struct luks_member *m)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_DUPLICATE &&
		    &set->m[set->m[i].dup_of] == m)
			announce_dup(set, &set->m[i]);
}

/* A worker runs a job that must run alone (see header_loaded): the loop's
 * thread and the header reads stay out of libcryptsetup until it is done
 * too. */
static bool exclusive_job_running(const struct luks_set *set)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_UNLOCKING && set->m[i].exclusive)
			return true;
	return false;
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
	provisional_name(m, ids->devnode);
	char why[160];
	snprintf(why, sizeof(why), "%s is taken by %s already", ids->devnode,
		 o->dm_name);
	member_fail(set, m, why);
	return true;
}

bool luks_consider(struct luks_set *set, const struct dev_ids *ids)
{
	if (keydev_consider(&set->keydevs, ids)) {
		start_loads(set); /* it may hold a header awaited */
		return true;
	}
	if (exclusive_job_running(set) && matches_waiting(set, ids)) {
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
				follow(set, m, owner);
				continue;
			}
			claim(set, m, ids);
			owner = i;
		}
	return matched;
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

/* A costly KDF: the largest of m's keyslots' (any may be the one). */
static uint64_t job_cost_kb(const struct luks_member *m)
{
	return (uint64_t)m->mem_kb + JOB_OVERHEAD_KB;
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

/* Starts the KDF for m with key (ownership moves to the job) on keyslot
 * slot (CRYPT_ANY_SLOT: every keyslot), charging cost_kb to the budget. */
static void start_job(struct luks_set *set, int i, enum key_source source,
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

/* m's key file, and in *ret_dev the device it is on (kind NONE: the
 * initramfs). */
static const char *keyfile_for(const struct luks_set *set,
			       const struct luks_member *m,
			       const struct devspec **ret_dev)
{
	const struct luks_member_cfg *c = m->cfg;
	const char *kf = c->keyfile[0]		? c->keyfile
			 : set->cfg->keyfile[0] ? set->cfg->keyfile
						: NULL;
	if (ret_dev)
		*ret_dev = c->keyfile[0] ? &c->keydev : &set->cfg->keydev;
	return kf;
}

/* m's key file from its key device: 0, -EAGAIN while the device may yet
 * come, else -errno (said why: the passphrase is asked). */
static int read_keydev_key(struct luks_set *set, struct luks_member *m,
			   const struct devspec *dev, const char *path,
			   struct secret *key)
{
	const struct dev_ids *ids;
	int timeout = luks_member_keyfile_timeout_ms(set->cfg, m->cfg);
	switch (keydev_wait(&set->keydevs, dev, timeout, m->dm_name, &ids)) {
	case KEYDEV_WAITING:
		return -EAGAIN;
	case KEYDEV_GONE:
		return -ENODEV;
	case KEYDEV_READY:
		break;
	}
	return keydev_read_key(ids, set->cfg->keydev_fstype, path, m->dm_name,
			       key);
}

/* A key that is ready for m right now, or false. */
static bool take_key(struct luks_set *set, struct luks_member *m,
		     struct secret *key, enum key_source *source)
{
	if (m->own.buf) { /* typed at its own prompt */
		*key = m->own;
		m->own.buf = NULL;
		m->own.len = 0;
		*source = KEY_OWN;
		return true;
	}
	const struct devspec *kdev;
	const char *kf = keyfile_for(set, m, &kdev);
	if (kf && !m->keyfile_tried && kdev->kind != DEVSPEC_NONE) {
		int rc = read_keydev_key(set, m, kdev, kf, key);
		if (rc == -EAGAIN)
			return false;
		m->keyfile_tried = true;
		if (rc == 0) {
			*source = KEY_FILE;
			return true;
		}
	} else if (kf && !m->keyfile_tried) {
		m->keyfile_tried = true;
		int rc = secret_read_file(key, kf);
		if (rc == 0) {
			*source = KEY_FILE;
			return true;
		}
		log_warn(
			"%s: key file %s unusable (%s); asking for the passphrase",
			m->dm_name, kf, strerror(-rc));
	}
	if (set->shared.buf && m->shared_gen_tried != set->shared_gen) {
		if (secret_dup(key, &set->shared) < 0)
			return false;
		*source = KEY_SHARED;
		return true;
	}
	return false;
}

void luks_hold(struct luks_set *set, bool hold)
{
	set->holding = hold;
}

/* m opens through its derived keyslot now, if its primary's key is here.
 * Returns true if the job was tried (start_job says why one could not
 * start; the next pass tries again). */
static bool start_derived(struct luks_set *set, int i)
{
	struct secret key = {0};
	int slot = derived_key(set, &set->m[i], &key);
	if (slot < 0)
		return false;
	start_job(set, i, KEY_DERIVED, &key, slot, JOB_OVERHEAD_KB);
	return true;
}

void luks_schedule(struct luks_set *set)
{
	if (set->holding || set->stopping)
		return;
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_FOUND)
			continue;
		/* A reencrypting member's worker runs alone (see
		 * exclusive_job_running). */
		if (exclusive_job_running(set) ||
		    (m->exclusive &&
		     (luks_jobs_running(set) || luks_loading(set))))
			return;
		/* No costly KDF: costs no budget to speak of either. */
		if (start_derived(set, i) || derived_defers(set, m))
			continue;
		/* PID 1 cannot be OOM-killed: a KDF larger than the memory
		 * there is would panic the kernel. Say so instead. */
		if (set->budget_kb &&
		    job_cost_kb(m) + KDF_MARGIN_KB > 2 * set->budget_kb) {
			char why[160];
			snprintf(
				why, sizeof(why),
				"its KDF needs %u MiB, more than the %llu MiB of memory available",
				m->mem_kb / 1024,
				(unsigned long long)(2 * set->budget_kb /
						     1024));
			member_fail(set, m, why);
			continue;
		}
		/* One job always runs, even over budget; more only while the
		 * KDFs' memory fits. */
		if (luks_jobs_running(set) &&
		    set->in_use_kb + job_cost_kb(m) > set->budget_kb) {
			if (!m->waited_for_memory)
				log_info(
					"%s: KDF waits for memory: %llu MiB in use by running KDFs, %llu MiB more would exceed the budget of %llu MiB (half of what is available)",
					m->dm_name,
					(unsigned long long)(set->in_use_kb /
							     1024),
					(unsigned long long)(job_cost_kb(m) /
							     1024),
					(unsigned long long)(set->budget_kb /
							     1024));
			m->waited_for_memory = true;
			return;
		}
		struct secret key = {0};
		enum key_source source;
		if (take_key(set, m, &key, &source))
			start_job(set, i, source, &key, CRYPT_ANY_SLOT,
				  job_cost_kb(m));
	}
	/* Everyone who can be opened is open or failed: drop the passphrase. */
	bool pending = false;
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_WAITING ||
		    set->m[i].state == MEMBER_LOADING ||
		    set->m[i].state == MEMBER_FOUND ||
		    set->m[i].state == MEMBER_UNLOCKING)
			pending = true;
	if (!pending)
		secret_free(&set->shared);
	derived_wipe_unneeded(set);
}

static int list_members(const struct luks_set *set, bool own, char *text,
			size_t size)
{
	int count = 0;
	text[0] = '\0';
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state == MEMBER_OPEN || m->state == MEMBER_FAILED ||
		    m->state == MEMBER_DUPLICATE)
			continue;
		if (own && m->state != MEMBER_FOUND)
			continue;
		str_append(text, size, count ? ", " : "");
		str_append(text, size,
			   m->dm_name[0] ? m->dm_name : m->cfg->spec.value);
		count++;
	}
	return count;
}

enum luks_need luks_needs(struct luks_set *set, int *member, char *text,
			  size_t size)
{
	/* Decide only when no KDF runs: its outcome tells whether the last
	 * passphrase was wrong for everyone or only for some. */
	if (luks_jobs_running(set))
		return NEED_NOTHING;
	int waiting_for_input = -1;
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state == MEMBER_FOUND && !m->own.buf &&
		    !derived_defers(set, m) &&
		    !(keyfile_for(set, m, NULL) && !m->keyfile_tried) &&
		    !(set->shared.buf &&
		      m->shared_gen_tried != set->shared_gen)) {
			waiting_for_input = i;
			break;
		}
	}
	if (waiting_for_input < 0)
		return NEED_NOTHING;
	if (set->shared_gen_opened) {
		struct luks_member *m = &set->m[waiting_for_input];
		*member = waiting_for_input;
		snprintf(text, size, "Passphrase for %s (%s): ", m->dm_name,
			 m->devnode);
		return NEED_OWN;
	}
	char names[LUKS_MEMBERS_MAX * (LUKS_NAME_MAX + 2)];
	int count = list_members(set, false, names, sizeof(names));
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
	luks_schedule(set);
}

/* The KDF found a key: create the dm-crypt device. Returns its dm minor
 * or -errno. */
static int activate(struct luks_set *set, struct luks_member *m)
{
	/* A reencrypting member was activated by the worker already. */
	int rc = m->reencrypt
			 ? 0
			 : crypt_activate_by_volume_key(m->cd, m->dm_name,
							m->vk.buf, m->vk.len,
							m->activate_flags);
	/* Kept, locked, while members may derive their keys from it. */
	if (rc < 0 || !derived_needs_key(set, m)) {
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

static void charge_try(struct luks_set *set, struct luks_member *m);

static void job_failed(struct luks_set *set, struct luks_member *m)
{
	if (m->source == KEY_DERIVED) {
		/* Re-keyed primary, stale token: not the person's mistake. */
		log_warn(
			"%s: the derived key does not open keyslot %d (%s); the passphrase will",
			m->dm_name, m->job_slot, strerror(-m->job_rc));
		m->derived_failed = true;
		m->state = MEMBER_FOUND;
		return;
	}
	if (m->source == KEY_FILE) {
		log_warn(
			"%s: the key file does not unlock it; asking for the passphrase",
			m->dm_name);
		m->state = MEMBER_FOUND;
		return;
	}
	if (m->job_rc != -EPERM) {
		member_fail(set, m, strerror(-m->job_rc));
		return;
	}
	m->state = MEMBER_FOUND;
	if (m->source == KEY_SHARED) {
		/* Charged, or not, once the round is over: see settle. */
		m->shared_gen_failed = m->shared_gen_tried;
		return;
	}
	charge_try(set, m);
}

/* A passphrase the person typed for m was wrong: one try less. */
static void charge_try(struct luks_set *set, struct luks_member *m)
{
	m->tries_left--;
	if (m->tries_left <= 0) {
		member_fail(
			set, m,
			"no key available with the passphrases given (tries exhausted)");
		return;
	}
	log_err("%s: no key available with this passphrase (%d %s left)",
		m->dm_name, m->tries_left,
		m->tries_left == 1 ? "try" : "tries");
}

/* The shared passphrase has been tried on every member it can be: if it
 * opened none, it was wrong and costs each a try; if it opened some, it
 * was meant for those, and the others get a prompt of their own for free. */
static void settle_shared_round(struct luks_set *set)
{
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state == MEMBER_UNLOCKING && m->source == KEY_SHARED)
			return;
		if (m->state == MEMBER_FOUND && set->shared.buf &&
		    m->shared_gen_tried != set->shared_gen &&
		    !derived_defers(set, m))
			return;
	}
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_FOUND || !m->shared_gen_failed ||
		    m->shared_gen_failed != set->shared_gen)
			continue;
		m->shared_gen_failed = 0;
		if (!set->shared_gen_opened)
			charge_try(set, m);
	}
}

static void start_dependents(struct luks_set *set)
{
	if (set->holding || set->stopping || exclusive_job_running(set))
		return;
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_FOUND)
			start_derived(set, i);
}

static void finish_job(struct luks_set *set, struct luks_member *m,
		       char opened[][32], int max, int *count)
{
	pthread_join(m->thread, NULL);
	secret_free(&m->key);
	set->in_use_kb -= m->job_kb;
	log_info("%s: %s ended; ran from %.3f s to %.3f s (%.3f s), %s",
		 m->dm_name,
		 m->source == KEY_DERIVED ? "derived keyslot" : "KDF",
		 m->kdf_start, m->kdf_end, m->kdf_end - m->kdf_start,
		 m->job_rc >= 0 ? "key found" : "no key");
	if (m->job_rc < 0) {
		secret_free(&m->vk);
		job_failed(set, m);
		return;
	}
	/* Members whose keys derive from this one start now: m's own
	 * activation (device-mapper ioctls) need not hold them up. */
	m->vk_ready = !m->reencrypt;
	start_dependents(set);
	int dm_minor = activate(set, m);
	if (dm_minor < 0) {
		member_fail(set, m, "device-mapper activation failed");
		return;
	}
	m->state = MEMBER_OPEN;
	if (m->source == KEY_SHARED && m->shared_gen_tried == set->shared_gen)
		set->shared_gen_opened = true;
	log_notice("%s: unlocked (keyslot %d%s) as /dev/mapper/%s", m->dm_name,
		   m->job_rc,
		   m->source == KEY_DERIVED ? ", derived key, no costly KDF"
					    : "",
		   m->dm_name);
	if (*count < max)
		snprintf(opened[(*count)++], 32, "dm-%d", dm_minor);
}

/* The attempt ends: the job's result is not used. */
static void drop_job(struct luks_set *set, struct luks_member *m)
{
	pthread_join(m->thread, NULL); /* it has written its byte: ending */
	secret_free(&m->key);
	secret_free(&m->vk);
	m->vk_ready = false;
	set->in_use_kb -= m->job_kb;
	m->state = MEMBER_FOUND;
}

int luks_on_notify(struct luks_set *set, char opened[][32], int max)
{
	int count = 0;
	unsigned char idx[LUKS_MEMBERS_MAX];
	ssize_t n;
	while ((n = read(set->pipe_rd, idx, sizeof(idx))) > 0)
		for (ssize_t k = 0; k < n; k++) {
			if (idx[k] >= set->n ||
			    set->m[idx[k]].state != MEMBER_UNLOCKING)
				continue;
			if (set->stopping)
				drop_job(set, &set->m[idx[k]]);
			else
				finish_job(set, &set->m[idx[k]], opened, max,
					   &count);
		}
	if (set->stopping)
		return 0;
	start_loads(set);
	if (!exclusive_job_running(set)) {
		int n_deferred = set->ndeferred;
		set->ndeferred = 0;
		for (int i = 0; i < n_deferred; i++)
			luks_consider(set, &set->deferred[i]);
	}
	luks_schedule(set);
	settle_shared_round(set);
	return count;
}

void luks_describe_missing(const struct luks_set *set, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_WAITING)
			continue;
		const struct devspec *spec = lukshdr_find_spec(m->cfg);
		str_append(buf, size, buf[0] ? ", " : "");
		if (m->cfg->header[0])
			str_append(buf, size, "data device ");
		str_append(buf, size, devspec_kind_name(spec->kind));
		str_append(buf, size, spec->value);
		if (m->cfg->header[0]) {
			str_append(buf, size, " (header ");
			str_append(buf, size, m->cfg->header);
			str_append(buf, size, ")");
		}
	}
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_FAILED)
			continue;
		str_append(buf, size, buf[0] ? ", " : "");
		str_append(buf, size, m->dm_name);
		str_append(buf, size, m->devnode[0] ? " on " : " on no device");
		str_append(buf, size, m->devnode);
		str_append(buf, size, " (failed)");
	}
}

void luks_stop(struct luks_set *set)
{
	set->stopping = true;
}

void luks_end_attempt(struct luks_set *set)
{
	/* Every worker first: none may be inside libcryptsetup while the
	 * contexts are freed. The caller waited for them (luks_stop); one
	 * still running is stuck on its disk and keeps its member's context
	 * and secrets for good: joining it could hang PID 1. */
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state == MEMBER_UNLOCKING && !m->stuck) {
			/* Not detached: reaped by luks_begin_attempt once
			 * it has ended (see reap_stuck). */
			m->stuck = true;
			log_warn(
				"%s: its unlock worker has not ended after %d s (the disk %s does not answer?); leaving it",
				m->dm_name, LUKS_JOIN_WAIT_MS / 1000,
				m->devnode);
		}
		if (m->state == MEMBER_LOADING) {
			if (m->load->started_ms)
				abandon_load(set, m); /* freed when back */
			else
				free(m->load);
			m->load = NULL;
			m->state = MEMBER_WAITING;
		}
	}
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->stuck)
			continue;
		secret_free(&m->key);
		secret_free(&m->own);
		secret_free(&m->vk);
		m->vk_ready = false;
		crypt_free(m->cd);
		m->cd = NULL;
	}
	secret_free(&set->shared);
	set->stopping = false;
	/* Bytes of workers joined above must not be read as news later. */
	unsigned char junk[LUKS_MEMBERS_MAX];
	while (set->pipe_rd >= 0 && read(set->pipe_rd, junk, sizeof(junk)) > 0)
		;
	/* Header reads back by now were all given up on. */
	struct load_msg back[LUKS_MEMBERS_MAX];
	ssize_t n;
	while (set->load_rd >= 0 &&
	       (n = read(set->load_rd, back, sizeof(back))) > 0)
		for (size_t k = 0; k < (size_t)n / sizeof(back[0]); k++)
			discard_load(set, back[k].job);
}
