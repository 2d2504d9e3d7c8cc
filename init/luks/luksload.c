#include "luks/luksload.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/strutil.h"
#include "luks/hdrdev.h"
#include "luks/luksderived.h"
#include "luks/lukshdr.h"

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
	return lukshdr_load(devnode, NULL, ret_cd); /* the header on the disk */
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
	members_announce_dups(set, m);
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
	members_announce_dups(set, m);
	return false;
}

/* One header is read at a time: the first crypt_load initialises
 * libcryptsetup's crypto backend, which must not happen in two threads
 * at once; and a job that runs alone (exclusive) waits for reads too.
 * A read given up on still counts while its worker has not returned
 * (set->orphan): it may be inside crypt_init or crypt_load yet. So a disk
 * that never answers holds up every later header read, of this attempt
 * and the next ones, and no second worker is ever started on it. The
 * members queued behind it are not left waiting for ever: load_tick fails
 * them, saying why, LUKS_LOAD_TIMEOUT_MS after they were queued. */
void load_start(struct luks_set *set)
{
	if (set->stopping || members_exclusive_running(set) || set->orphan)
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
		job->started_ms = clock_now_ms();
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
void load_claim(struct luks_set *set, struct luks_member *m,
		const struct dev_ids *ids)
{
	str_copy(m->devnode, sizeof(m->devnode), ids->devnode);
	member_provisional_name(m, ids->devnode);
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
	job->queued_ms = clock_now_ms();
	m->load = job;
	m->state = MEMBER_LOADING; /* started by load_start, in the pass */
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

void load_collect(struct luks_set *set)
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
}

/* A read that started and got no answer in time, or a queued read
 * behind one given up on (see load_start): its member fails. */
long long load_tick(struct luks_set *set)
{
	long long now = clock_now_ms();
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
		members_announce_dups(set, m);
	}
	/* Queued behind a read given up on (see load_start): bounded too. */
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
		members_announce_dups(set, m);
	}
	return next;
}

void load_give_up(struct luks_set *set, struct luks_member *m)
{
	if (m->state != MEMBER_LOADING)
		return;
	if (m->load->started_ms)
		abandon_load(set, m); /* freed when back */
	else
		free(m->load);
	m->load = NULL;
	m->state = MEMBER_WAITING;
}

void load_drain(struct luks_set *set)
{
	/* Header reads back by now were all given up on. */
	struct load_msg back[LUKS_MEMBERS_MAX];
	ssize_t n;
	while (set->load_rd >= 0 &&
	       (n = read(set->load_rd, back, sizeof(back))) > 0)
		for (size_t k = 0; k < (size_t)n / sizeof(back[0]); k++)
			discard_load(set, back[k].job);
}
