#include "luks/keydev.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"
#include "base/rundir.h"
#include "base/strutil.h"
#include "base/util.h"
#include "common/io.h"
#include "luks/lukshdr.h"
#include "luks/stickmount.h"

static void want(struct keydev_set *k, const struct devspec *spec, bool header)
{
	if (spec->kind == DEVSPEC_NONE || k->n >= KEYDEV_MAX)
		return;
	for (int i = 0; i < k->n; i++)
		if (k->want[i].spec.kind == spec->kind &&
		    strcmp(k->want[i].spec.value, spec->value) == 0)
			return;
	memset(&k->want[k->n], 0, sizeof(k->want[0]));
	k->want[k->n].set = k;
	k->want[k->n].header = header;
	k->want[k->n++].spec = *spec;
}

/* What the device holds, for messages. */
static const char *noun(const struct keydev_want *w)
{
	return w->header ? "header device" : "key device";
}

static void forget_reads(struct keydev_set *k)
{
	for (int i = 0; i < k->nread; i++) {
		struct keydev_read *r = &k->read[i];
		if (r->job > 0)
			job_cancel(k->jobs, r->job);
		secret_free(&r->key);
	}
	k->nread = 0;
}

void keydev_end(struct keydev_set *k)
{
	if (k->jobs)
		forget_reads(k);
}

void keydev_begin(struct keydev_set *k, const struct boot_config *cfg)
{
	struct jobs *jobs = k->jobs;
	if (jobs)
		forget_reads(k);
	/* What Btrfs registered stays registered across attempts. */
	struct keydev_fsids fsids = k->fsids;
	memset(k, 0, sizeof(*k));
	k->jobs = jobs;
	k->fsids = fsids;
	k->cfg = cfg;
	want(k, &cfg->keydev, false);
	for (int i = 0; i < cfg->nmembers; i++) {
		want(k, &cfg->members[i].keydev, false);
		want(k, &cfg->members[i].headerdev, true);
	}
}

/* A Btrfs filesystem UUID seen on a device that is no key device (a
 * member's mapping, a plain disk): registered with Btrfs, or about to be. */
static void remember_fsid(struct keydev_fsids *f, const struct dev_ids *ids)
{
	if (strcmp(ids->type, "btrfs") != 0 || !ids->uuid[0])
		return;
	for (int i = 0; i < f->n; i++)
		if (strcasecmp(f->fsid[i], ids->uuid) == 0)
			return;
	if (f->n < KEYDEV_FSIDS_MAX &&
	    str_copy(f->fsid[f->n], sizeof(f->fsid[0]), ids->uuid) == 0)
		f->n++;
	else
		f->overflow = true; /* every Btrfs stick is refused then */
}

/* A LUKS device, or a disk a listed member's spec names, is never a key
 * device: named by path (root_keydev=/dev/sdc1), a key device's name may
 * be a member's, since disks are named in the order they appear. The
 * member takes it. */
static const char *member_not_key(const struct keydev_set *k,
				  const struct dev_ids *ids)
{
	for (int i = 0; i < k->cfg->nmembers; i++)
		if (devspec_matches(lukshdr_find_spec(&k->cfg->members[i]),
				    ids))
			return "a LUKS member's disk";
	return strcmp(ids->type, "crypto_LUKS") == 0 ? "a LUKS device" : NULL;
}

bool keydev_consider(struct keydev_set *k, const struct dev_ids *ids)
{
	/* Our own mappings (and any other dm device) are the root's, even
	 * if a key device's spec names what they carry. */
	if (str_starts_with(ids->devnode, "/dev/dm-")) {
		remember_fsid(&k->fsids, ids);
		return false;
	}
	const char *member = k->cfg ? member_not_key(k, ids) : NULL;
	bool is_key = false;
	for (int i = 0; i < k->n; i++) {
		struct keydev_want *w = &k->want[i];
		if (!devspec_matches(&w->spec, ids))
			continue;
		if (member) {
			log_info(
				"%s matches %s %s%s, but is %s: not taken as one",
				ids->devnode, noun(w),
				devspec_kind_name(w->spec.kind), w->spec.value,
				member);
			continue;
		}
		is_key = true;
		if (w->found)
			continue;
		w->found = true;
		w->ids = *ids;
		log_info("%s %s%s found: %s (%s)", noun(w),
			 devspec_kind_name(w->spec.kind), w->spec.value,
			 ids->devnode,
			 ids->type[0] ? ids->type : "no filesystem");
	}
	if (!is_key)
		remember_fsid(&k->fsids, ids);
	return is_key;
}

static struct keydev_want *find(struct keydev_set *k,
				const struct devspec *spec)
{
	for (int i = 0; i < k->n; i++)
		if (k->want[i].spec.kind == spec->kind &&
		    strcmp(k->want[i].spec.value, spec->value) == 0)
			return &k->want[i];
	return NULL;
}

static void expire(struct keydev_want *w)
{
	w->expired = true;
	log_warn("%s %s%s did not appear within %d s%s", noun(w),
		 devspec_kind_name(w->spec.kind), w->spec.value,
		 (w->timeout_ms + 999) / 1000,
		 w->header ? "" : "; asking for the passphrase");
}

/* Why w's Btrfs device must not be mounted (stickmount.h): mounted, it
 * would be registered as a device of the root, or of a filesystem whose
 * devices are registered. NULL if it may be. */
static const char *btrfs_clash(const struct keydev_set *k,
			       const struct keydev_want *w)
{
	const struct dev_ids *ids = &w->ids;
	if (strcmp(ids->type, "btrfs") != 0)
		return NULL;
	const struct devspec *root = &k->cfg->root;
	if (root->kind == DEVSPEC_UUID &&
	    strcasecmp(root->value, ids->uuid) == 0)
		return "the root's Btrfs filesystem UUID (root=UUID=)";
	for (int i = 0; i < k->fsids.n; i++)
		if (strcasecmp(k->fsids.fsid[i], ids->uuid) == 0)
			return "the Btrfs filesystem UUID of another disk here";
	if (k->fsids.overflow)
		return "Btrfs, and too many other Btrfs disks are here to compare it with";
	return NULL;
}

enum keydev_wait_rc keydev_wait(struct keydev_set *k,
				const struct devspec *spec, int timeout_ms,
				const char *who, const struct dev_ids **ret_ids)
{
	struct keydev_want *w = find(k, spec);
	if (!w)
		return KEYDEV_GONE; /* more than KEYDEV_MAX: never looked for */
	const char *clash = w->found && !w->refused ? btrfs_clash(k, w) : NULL;
	if (clash) {
		w->refused = true;
		log_warn("%s: %s %s carries %s: refused, never mounted%s", who,
			 noun(w), w->ids.devnode, clash,
			 w->header ? "" : "; asking for the passphrase");
	}
	if (w->refused)
		return KEYDEV_GONE;
	if (w->found) {
		*ret_ids = &w->ids;
		return KEYDEV_READY;
	}
	if (w->expired)
		return KEYDEV_GONE;
	long long now = clock_now_ms();
	if (!w->deadline_ms) {
		w->timeout_ms = timeout_ms;
		w->deadline_ms = now + timeout_ms;
		log_notice("%s: waiting up to %d s for %s %s%s", who,
			   (timeout_ms + 999) / 1000, noun(w),
			   devspec_kind_name(spec->kind), spec->value);
	}
	if (now < w->deadline_ms)
		return KEYDEV_WAITING;
	expire(w);
	return KEYDEV_GONE;
}

/* Key reads: 0 if one ended and was not reported yet, else milliseconds
 * until the next must end, or -1. */
static long long reads_next_ms(const struct keydev_set *k, long long now)
{
	long long next = -1;
	for (int i = 0; i < k->nread; i++) {
		const struct keydev_read *r = &k->read[i];
		if (r->job == 0 && !r->told)
			return 0;
		if (r->job == 0)
			continue;
		long long left =
			r->deadline_ms > now ? r->deadline_ms - now : 0;
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

int keydev_next_ms(const struct keydev_set *k)
{
	long long now = clock_now_ms(), next = reads_next_ms(k, now);
	for (int i = 0; i < k->n; i++) {
		const struct keydev_want *w = &k->want[i];
		if (w->found || w->expired || !w->deadline_ms)
			continue;
		long long left =
			w->deadline_ms > now ? w->deadline_ms - now : 0;
		if (next < 0 || left < next)
			next = left;
	}
	return (int)next;
}

int keydev_tick(struct keydev_set *k)
{
	long long now = clock_now_ms(), next = reads_next_ms(k, now);
	bool ended = next == 0;
	for (int i = 0; i < k->nread; i++)
		k->read[i].told |= k->read[i].job == 0;
	for (int i = 0; i < k->n; i++) {
		struct keydev_want *w = &k->want[i];
		if (w->found || w->expired || !w->deadline_ms)
			continue;
		long long left = w->deadline_ms - now;
		if (left <= 0) {
			expire(w);
			ended = true;
		} else if (next < 0 || left < next) {
			next = left;
		}
	}
	return ended ? 0 : (int)next;
}

int keydev_file_size(int fd, unsigned long long max, size_t *ret_size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size <= 0)
		return -ENODATA;
	if ((unsigned long long)st.st_size > max)
		return -EFBIG;
	*ret_size = (size_t)st.st_size;
	return 0;
}

static int read_bounded(int fd, void *buf, size_t max, size_t *ret_len)
{
	size_t size = 0;
	int rc = keydev_file_size(fd, max, &size);
	if (rc < 0)
		return rc;
	ssize_t len = read_full(fd, buf, size);
	if (len < 0)
		return (int)len;
	if ((size_t)len != size)
		return -EIO; /* changed under us */
	*ret_len = size;
	return 0;
}

static int read_mounted(const char *dir, const char *path,
			int (*fn)(int fd, void *arg), void *arg,
			const char **ret_step)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		*ret_step = "open";
		return -errno;
	}
	/* Never through a symlink (an ext4 stick may carry one pointing
	 * anywhere in the initramfs). O_NONBLOCK: a FIFO must not hold PID 1
	 * in open(). */
	int fd = open_in_root(dfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK,
			      LINKS_NEVER);
	close(dfd);
	if (fd < 0) {
		*ret_step = "open";
		return fd;
	}
	*ret_step = "read";
	int rc = fn(fd, arg);
	close(fd);
	return rc;
}

int keydev_with_file(const char *devnode, const char *fstype, const char *path,
		     int (*fn)(int fd, void *arg), void *arg,
		     const char **ret_step)
{
	/* Mounted in a namespace of this child's own: killed past its
	 * deadline (even while the kernel still reads the stick), it takes
	 * the mount with it, and nothing of the stick stays mounted where
	 * the real root could see it. */
	*ret_step = "unshare";
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	*ret_step = "mount";
	/* PID 1 made it, and only PID 1 removes it (base/rundir.h): another
	 * job's mount or copy may be under way beside this one. */
	int rc = rundir_create();
	if (rc < 0)
		return rc;
	char dir[] = RUN_DIR "/keydev.XXXXXX";
	if (!mkdtemp(dir)) /* mode 0700 */
		return -errno;
	/* Read-only down to the device, without recovery: nothing is
	 * written (stickmount.h). */
	struct stick stick;
	int err = stick_mount(&stick, devnode, fstype, dir);
	if (err < 0) {
		rmdir(dir);
		return err;
	}
	rc = read_mounted(dir, path, fn, arg, ret_step);
	/* At once: the stick never stays mounted, and never reaches the
	 * root. */
	stick_unmount(&stick, devnode, dir);
	rmdir(dir);
	return rc;
}

const char *keydev_unwritable_why(int rc)
{
	return rc == -EPERM
		       ? "cannot be made read-only: not mounted"
		       : "cannot be mounted without writing to it (it needs journal recovery, not replayed before a resume): refused";
}

struct read_dest {
	void *buf;
	size_t max;
	size_t *ret_len;
};

static int read_into(int fd, void *arg)
{
	struct read_dest *d = arg;
	return read_bounded(fd, d->buf, d->max, d->ret_len);
}

int keydev_read_file(const char *devnode, const char *fstype, const char *path,
		     void *buf, size_t max, size_t *ret_len,
		     const char **ret_step)
{
	*ret_len = 0;
	struct read_dest d = {buf, max, ret_len};
	return keydev_with_file(devnode, fstype, path, read_into, &d, ret_step);
}

void keydev_attach(struct keydev_set *k, struct jobs *jobs)
{
	k->jobs = jobs;
}

/* Members that take their key from path on w's device. */
static int takers(const struct keydev_set *k, const struct keydev_want *w,
		  const char *path)
{
	const struct boot_config *cfg = k->cfg;
	int n = 0;
	for (int i = 0; i < cfg->nmembers; i++) {
		const struct luks_member_cfg *c = &cfg->members[i];
		const char *kf = c->keyfile[0] ? c->keyfile : cfg->keyfile;
		const struct devspec *d =
			c->keyfile[0] ? &c->keydev : &cfg->keydev;
		n += d->kind == w->spec.kind &&
		     strcmp(d->value, w->spec.value) == 0 &&
		     strcmp(kf, path) == 0;
	}
	return n > 0 ? n : 1;
}

/* In the child: the key, or on failure the step that failed (no secret
 * there), as the result. */
static int read_in_child(void *arg, void *buf, size_t max, size_t *ret_len)
{
	const struct keydev_read *r = arg;
	const char *step = "mount";
	int rc = keydev_read_file(r->want->ids.devnode, r->fstype, r->path, buf,
				  max, ret_len, &step);
	if (rc < 0) {
		explicit_bzero(buf, max);
		*ret_len = strlen(step) < max ? strlen(step) : 0;
		memcpy(buf, step, *ret_len);
	}
	return rc;
}

static void read_done(void *ctx, const struct job_result *res)
{
	struct keydev_read *r = ctx;
	r->job = 0;
	r->rc = res->rc;
	if (res->end == JOB_DONE && res->rc == 0) {
		secret_move(&r->key, res->secret);
		return;
	}
	if (res->end == JOB_DONE && res->len < sizeof(r->step))
		memcpy(r->step, res->secret->buf, res->len);
	else
		str_copy(r->step, sizeof(r->step), "read");
	if (res->end == JOB_TIMED_OUT)
		r->want->hung = true;
	if (res->end == JOB_NOT_RUN || res->end == JOB_NO_RESULT)
		str_copy(r->step, sizeof(r->step), "run");
}

static struct keydev_read *
find_read(struct keydev_set *k, const struct keydev_want *w, const char *path)
{
	for (int i = 0; i < k->nread; i++)
		if (k->read[i].want == w && strcmp(k->read[i].path, path) == 0)
			return &k->read[i];
	return NULL;
}

/* Starts reading path from w's device (r: an earlier read to redo). */
static struct keydev_read *start_read(struct keydev_set *k,
				      struct keydev_want *w, const char *path,
				      const char *fstype, struct keydev_read *r)
{
	if (!r && k->nread >= KEYDEV_READS_MAX)
		return NULL;
	if (!r)
		r = &k->read[k->nread++];
	memset(r, 0, sizeof(*r));
	r->want = w;
	r->takers = takers(k, w, path);
	if (str_copy(r->path, sizeof(r->path), path) < 0 ||
	    str_copy(r->fstype, sizeof(r->fstype), fstype) < 0)
		r->rc = -ENAMETOOLONG;
	else if (w->hung)
		r->rc = -ETIMEDOUT; /* not again: it would hang again */
	else if (!k->jobs)
		r->rc = -ENOSYS;
	r->told = true; /* unless a job starts: its end is reported */
	if (r->rc < 0)
		return r;
	r->told = false;
	char what[96];
	snprintf(what, sizeof(what), "reading a key from %s", w->ids.devnode);
	struct job_spec spec = {
		.what = what,
		.fn = read_in_child,
		.arg = r,
		.max = SECRET_MAX,
		.secret = true,
		.timeout_ms = KEYDEV_READ_TIMEOUT_MS,
		.done = read_done,
		.ctx = r,
		.dev = job_device(w->ids.devnode),
	};
	r->deadline_ms = clock_now_ms() + KEYDEV_READ_TIMEOUT_MS;
	r->job = job_start(k->jobs, &spec);
	if (r->job < 0) {
		r->rc = r->job;
		r->job = 0;
		str_copy(r->step, sizeof(r->step), "run");
	}
	return r;
}

/* What keydev_read_key was given is keydev_wait's answer: the ids of one
 * of the set's wanted devices. */
static struct keydev_want *want_of(const struct dev_ids *ids)
{
	return (struct keydev_want *)((const char *)ids -
				      offsetof(struct keydev_want, ids));
}

static int take(struct keydev_read *r, struct secret *ret)
{
	int rc = secret_dup(ret, &r->key);
	if (rc == 0 && --r->takers <= 0)
		secret_free(&r->key); /* every member has its copy */
	return rc;
}

/* Why r gave no key, said once (the member asks for the passphrase). */
static void say_read_failed(const struct keydev_read *r,
			    const struct dev_ids *ids, const char *fstype,
			    const char *who, int rc)
{
	const char *path = r->path;
	const char *step = r->step[0] ? r->step : "read";
	if (rc == -EFBIG)
		log_warn(
			"%s: key file %s on %s is larger than %d bytes; asking for the passphrase",
			who, path, ids->devnode, SECRET_MAX);
	else if (rc == -ELOOP)
		log_warn(
			"%s: key file %s on %s is a symbolic link, or lies under one: not followed; asking for the passphrase",
			who, path, ids->devnode);
	else if (rc == -ETIMEDOUT)
		log_warn(
			"%s: key device %s did not answer within %d s; asking for the passphrase",
			who, ids->devnode, KEYDEV_READ_TIMEOUT_MS / 1000);
	else if (rc == -EBUSY && !strcmp(step, "run"))
		log_warn(
			"%s: key device %s does not answer: a read from before is still stuck; asking for the passphrase",
			who, ids->devnode);
	else if (rc == -EROFS || rc == -EPERM)
		log_warn("%s: key device %s (%s) %s; asking for the passphrase",
			 who, ids->devnode, fstype, keydev_unwritable_why(rc));
	else
		log_warn_errno(
			rc,
			"%s: asking for the passphrase: key file %s on %s (%s): %s failed",
			who, path, ids->devnode, fstype, step);
}

int keydev_read_key(const struct dev_ids *ids, const char *fstype_override,
		    const char *path, const char *who, struct secret *ret)
{
	const char *fstype = fstype_override[0] ? fstype_override : ids->type;
	if (!fstype[0]) {
		log_warn(
			"%s: key device %s has no filesystem blkid knows (root_keydev_fstype= names one); asking for the passphrase",
			who, ids->devnode);
		return -EMEDIUMTYPE;
	}
	if (!stick_mount_data(fstype)) {
		log_warn(
			"%s: key device %s carries %s, which is not mounted to read a key (only " STICK_FSTYPES
			" are); asking for the passphrase",
			who, ids->devnode, fstype);
		return -EMEDIUMTYPE;
	}
	struct keydev_want *w = want_of(ids);
	struct keydev_set *k = w->set;
	struct keydev_read *r = find_read(k, w, path);
	/* Read, and its key handed out already: read once more. */
	if (!r || (r->job == 0 && r->rc == 0 && !r->key.buf))
		r = start_read(k, w, path, fstype, r);
	if (!r) {
		log_warn(
			"%s: key file %s on %s: too many key files; asking for the passphrase",
			who, path, ids->devnode);
		return -ENOSPC;
	}
	if (r->job > 0)
		return -EAGAIN;
	int rc = r->rc;
	if (rc == 0 && (rc = take(r, ret)) == 0) {
		log_info("%s: key file %s read from %s (%s), unmounted", who,
			 path, ids->devnode, fstype);
		return 0;
	}
	say_read_failed(r, ids, fstype, who, rc);
	return rc;
}
