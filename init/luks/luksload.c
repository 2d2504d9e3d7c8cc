#include "luks/luksload.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <limits.h>
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
#include "loop/job.h"
#include "luks/hdrdev.h"
#include "luks/luksderived.h"
#include "luks/lukshdr.h"
#include "luks/lukstpm2.h"

/* A header read: what the child needs (its copy of this, made by fork),
 * kept in the member while LOADING. */
struct luks_load {
	char devnode[64];
	char header[CFG_PATH_MAX]; /* "" or its detached header (lukshdr.h) */
	/* A header on another device (hdrdev.h): copied to hdr_copy first. */
	char hdr_devnode[64];
	char hdr_fstype[32];
	char hdr_copy[CFG_PATH_MAX];
	int job; /* its job (loop/job.h) once asked for; 0 while queued */
	long long started_ms;
	bool slow; /* said to be slow: the first prompt waits no longer */
	struct luks_set *set;
};

/* A header on a stick is copied first, within the copy's own bound
 * (hdrdev.h), which ends first and names the step; the read's bound
 * follows it. */
static int load_timeout_ms(const struct luks_load *job)
{
	return LUKS_LOAD_TIMEOUT_MS +
	       (job->hdr_devnode[0] ? HDRDEV_COPY_TIMEOUT_MS : 0);
}

/* What the child read from the header: plain facts, no context. The loop
 * keeps no crypt_device of its own (lukskdf.c's worker loads one). */
struct hdr_info {
	char step[8]; /* a header copy that failed: its step (hdrdev.h) */
	char uuid[DTOKEN_UUID_MAX];
	bool uuid_ok; /* a UUID that fits (a longer one is no LUKS UUID) */
	bool luks1;
	bool cipher_aes;
	bool reencrypt;
	uint32_t mem_kb;
	struct derived_info derived;
	struct tpm2_info tpm2;
	/* libcryptsetup's messages, for the loop to log: "E" (an error) or
	 * "D" (debug) and the text, each ending in a newline; cut short. */
	char log[2048];
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

/* The part that reads the disk: in the child. */
static int read_header(const struct luks_load *job, struct hdr_info *info,
		       struct crypt_device **ret_cd)
{
	const char *devnode = job->devnode;
	if (job->hdr_devnode[0]) {
		const char *step = NULL;
		int rc = hdrdev_copy(job->hdr_devnode, job->hdr_fstype,
				     job->header, job->hdr_copy, &step);
		if (rc < 0) {
			str_copy(info->step, sizeof(info->step),
				 step ? step : "run");
			return rc;
		}
		return lukshdr_load(job->hdr_copy, devnode, ret_cd);
	}
	if (job->header[0])
		return lukshdr_open(job->header, devnode, ret_cd);
	return lukshdr_load(devnode, NULL, ret_cd); /* the header on the disk */
}

/* The child may not log (loop/job.h): its libcryptsetup's messages go
 * back with the result. */
static void child_log_cb(int level, const char *msg, void *usrptr)
{
	struct hdr_info *info = usrptr;
	size_t len = strlen(info->log), n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		n--;
	if (len + n + 3 > sizeof(info->log))
		return;
	info->log[len] = level == CRYPT_LOG_ERROR ? 'E' : 'D';
	memcpy(info->log + len + 1, msg, n);
	info->log[len + 1 + n] = '\n';
	info->log[len + 2 + n] = '\0';
}

static void describe_header(struct crypt_device *cd, struct hdr_info *info)
{
	const char *uuid = crypt_get_uuid(cd);
	info->uuid_ok =
		uuid && str_copy(info->uuid, sizeof(info->uuid), uuid) == 0;
	info->luks1 = strcmp(crypt_get_type(cd), CRYPT_LUKS1) == 0;
	const char *cipher = crypt_get_cipher(cd);
	info->cipher_aes = cipher && strncmp(cipher, "aes", 3) == 0;
	info->mem_kb = peak_kdf_memory_kb(cd);
	info->reencrypt =
		crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE;
	/* A reencryption opens only through libcryptsetup's own activation
	 * by passphrase: no volume key of ours can help there. */
	if (!info->reencrypt && !info->luks1) {
		derived_scan(cd, &info->derived);
		tpm2_scan(cd, &info->tpm2);
	}
}

/* In the child: reads the header, returns what the loop needs of it. */
static int load_in_child(void *arg, void *buf, size_t max, size_t *ret_len)
{
	const struct luks_load *job = arg;
	struct hdr_info *info = buf;
	if (max < sizeof(*info))
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	*ret_len = sizeof(*info);
	crypt_set_log_callback(NULL, child_log_cb, info);
	struct crypt_device *cd = NULL;
	int rc = read_header(job, info, &cd);
	if (rc == 0)
		describe_header(cd, info);
	crypt_free(cd);
	return rc;
}

/* The child's libcryptsetup messages, said by the loop (crypt_log_cb in
 * luks.c says them the same way). */
static void say_child_log(char *log)
{
	for (char *line = log, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			return;
		*nl = '\0';
		if (line[0] == 'E')
			log_err("cryptsetup: %s", line + 1);
		else
			log_debug("cryptsetup: %s", line + 1);
	}
}

/* The rest, from what the child read: on the loop's thread. */
static int header_loaded(struct luks_member *m, const struct hdr_info *info)
{
	/* A UUID longer than any LUKS UUID is no partner for derived keys. */
	if (!info->uuid_ok ||
	    str_copy(m->uuid, sizeof(m->uuid), info->uuid) < 0)
		m->uuid[0] = '\0';
	/* A header file named for one UUID must be that volume's. */
	if (m->cfg->header[0] && m->cfg->spec.kind == DEVSPEC_UUID &&
	    strcasecmp(m->uuid, m->cfg->spec.value) != 0)
		return -EINVAL;
	if (m->cfg->name[0])
		str_copy(m->dm_name, sizeof(m->dm_name), m->cfg->name);
	else if (!m->uuid[0] ||
		 str_copy(m->dm_name, sizeof(m->dm_name), "luks-") < 0 ||
		 str_append(m->dm_name, sizeof(m->dm_name), m->uuid) < 0)
		return -ENAMETOOLONG; /* a LUKS UUID is 36 characters */
	m->mem_kb = info->mem_kb;
	m->reencrypt = info->reencrypt;
	m->luks1 = info->luks1;
	/* A LUKS1 keyslot in a cipher OpenSSL lacks is decrypted through a
	 * temporary dm device whose name is the same for every thread
	 * (without the kernel's AF_ALG interface): such a KDF runs alone. */
	m->exclusive = m->reencrypt || (info->luks1 && !info->cipher_aes);
	derived_load(m, &info->derived);
	tpm2_load(m, &info->tpm2);
	return 0;
}

/* 1 if m's mapping exists on m's own device, 0 if there is none, -EEXIST
 * if the name is taken by a mapping on something else. No disk is read:
 * device-mapper's ioctls only. */
static int existing_mapping(const struct luks_member *m)
{
	crypt_status_info st = crypt_status(NULL, m->dm_name);
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

/* m's header is read: its mapping may exist already. */
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
		 m->luks1 ? "1" : "2", m->devnode,
		 m->cfg->header[0] ? " (header " : "", m->cfg->header,
		 m->cfg->header[0] ? ")" : "", m->mem_kb,
		 m->reencrypt ? "; a reencryption is under way" : "");
}

/* Why a read that ended without a header failed m. */
static void load_failed(struct luks_set *set, struct luks_member *m,
			const struct luks_load *job, const struct job_result *r,
			const struct hdr_info *info)
{
	char why[CFG_PATH_MAX + 160];
	if (r->end == JOB_TIMED_OUT)
		snprintf(
			why, sizeof(why),
			"no answer from the disk within %d s while reading its LUKS header; the read is left to itself",
			load_timeout_ms(job) / 1000);
	else if (r->end == JOB_NOT_RUN && r->rc == -EBUSY)
		snprintf(
			why, sizeof(why),
			"%s does not answer: a read from before is still stuck",
			job->devnode);
	else if (r->end != JOB_DONE)
		snprintf(why, sizeof(why), "its LUKS header read %s: %s",
			 r->end == JOB_NOT_RUN ? "did not run"
					       : "ended without an answer",
			 strerror(r->rc < 0 ? -r->rc : EIO));
	else if (info && info->step[0])
		hdrdev_describe(why, sizeof(why), job->header, job->hdr_devnode,
				r->rc, info->step);
	else if (m->cfg->header[0])
		snprintf(why, sizeof(why), "header file %s: %s", m->cfg->header,
			 r->rc == -EINVAL && info && info->uuid_ok
				 ? "another volume's (its LUKS UUID differs)"
				 : "not a readable LUKS header");
	else
		snprintf(why, sizeof(why), "LUKS header unreadable or corrupt");
	member_fail(set, m, why);
}

static void finish_load(struct luks_set *set, struct luks_member *m,
			const struct job_result *r)
{
	struct luks_load *job = m->load;
	m->load = NULL;
	struct hdr_info info;
	bool got = r->end == JOB_DONE && r->len == sizeof(info);
	if (got) {
		memcpy(&info, r->data, sizeof(info));
		info.log[sizeof(info.log) - 1] = '\0';
		info.uuid[sizeof(info.uuid) - 1] = '\0';
		info.step[sizeof(info.step) - 1] = '\0';
		say_child_log(info.log);
	}
	struct job_result res = *r;
	if (got && res.rc >= 0)
		res.rc = header_loaded(m, &info);
	if (str_copy(m->hdr_copy, sizeof(m->hdr_copy), job->hdr_copy) < 0)
		m->hdr_copy[0] = '\0';
	if (res.end == JOB_DONE && !got)
		res.rc = -EPROTO;
	if (res.end == JOB_DONE && res.rc >= 0)
		claimed(set, m);
	else
		load_failed(set, m, job, &res, got ? &info : NULL);
	free(job);
	members_announce_dups(set, m);
}

static void on_load_done(void *ctx, const struct job_result *r)
{
	struct luks_member *m = ctx;
	/* A read given up on is cancelled (load_give_up): never here. */
	if (m->state != MEMBER_LOADING || !m->load || r->end == JOB_CANCELLED)
		return;
	finish_load(m->load->set, m, r);
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
	free(job); /* never started */
	m->load = NULL;
	member_fail(set, m, why);
	members_announce_dups(set, m);
	return false;
}

static void start_load(struct luks_set *set, struct luks_member *m)
{
	struct luks_load *job = m->load;
	char what[96];
	snprintf(what, sizeof(what), "reading the LUKS header of %s",
		 job->devnode);
	struct job_spec spec = {
		.what = what,
		.fn = load_in_child,
		.arg = job,
		.max = sizeof(struct hdr_info),
		.timeout_ms = load_timeout_ms(job),
		.done = on_load_done,
		.ctx = m,
		.dev = job_device(job->devnode),
	};
	int rc = set->jobs ? job_start(set->jobs, &spec) : -ENOSYS;
	if (rc == -EAGAIN)
		return; /* no room now: the next pass asks again */
	if (rc < 0) {
		struct job_result r = {.end = JOB_NOT_RUN, .rc = rc};
		finish_load(set, m, &r);
		return;
	}
	job->job = rc;
	job->started_ms = clock_now_ms();
}

/* Each device's header is read in a child of its own, all at once: a
 * disk that never answers holds up no other (the children share no
 * libcryptsetup state). Only a job that must run alone (exclusive) keeps
 * them waiting. */
void load_start(struct luks_set *set)
{
	if (set->stopping || members_exclusive_running(set))
		return;
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_LOADING || m->load->job ||
		    !header_device_ready(set, m))
			continue;
		start_load(set, m);
	}
}

bool load_pending(const struct luks_set *set)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_LOADING && !set->m[i].load->slow)
			return true;
	return false;
}

long long load_tick(struct luks_set *set)
{
	long long now = clock_now_ms(), next = -1;
	for (int i = 0; i < set->n; i++) {
		struct luks_member *m = &set->m[i];
		struct luks_load *job = m->load;
		if (m->state != MEMBER_LOADING || !job->job || job->slow)
			continue;
		long long left = job->started_ms + LUKS_LOAD_SLOW_MS - now;
		if (left > 0) {
			next = next < 0 || left < next ? left : next;
			continue;
		}
		job->slow = true;
		log_warn(
			"%s: no answer yet from %s while its LUKS header is read; the others go on without it (it fails after %d s)",
			m->dm_name, job->devnode, load_timeout_ms(job) / 1000);
	}
	return next;
}

/* Member m takes the device: its header is read by a job. */
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
	if (!job ||
	    str_copy(job->devnode, sizeof(job->devnode), m->devnode) < 0 ||
	    str_copy(job->header, sizeof(job->header), m->cfg->header) < 0) {
		free(job);
		member_fail(set, m, "cannot start reading its LUKS header");
		return;
	}
	job->set = set;
	m->load = job;
	m->state = MEMBER_LOADING; /* started by load_start, in the pass */
}

void load_give_up(struct luks_set *set, struct luks_member *m)
{
	if (m->state != MEMBER_LOADING)
		return;
	if (m->load->job && set->jobs)
		job_cancel(set->jobs, m->load->job);
	free(m->load);
	m->load = NULL;
	m->state = MEMBER_WAITING;
}
