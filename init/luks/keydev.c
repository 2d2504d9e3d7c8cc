#include "luks/keydev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "loop/loop.h"

static void want(struct keydev_set *k, const struct devspec *spec, bool header)
{
	if (spec->kind == DEVSPEC_NONE || k->n >= KEYDEV_MAX)
		return;
	for (int i = 0; i < k->n; i++)
		if (k->want[i].spec.kind == spec->kind &&
		    strcmp(k->want[i].spec.value, spec->value) == 0)
			return;
	memset(&k->want[k->n], 0, sizeof(k->want[0]));
	k->want[k->n].header = header;
	k->want[k->n++].spec = *spec;
}

/* What the device holds, for messages. */
static const char *noun(const struct keydev_want *w)
{
	return w->header ? "header device" : "key device";
}

void keydev_begin(struct keydev_set *k, const struct boot_config *cfg)
{
	memset(k, 0, sizeof(*k));
	k->cfg = cfg;
	want(k, &cfg->keydev, false);
	for (int i = 0; i < cfg->nmembers; i++) {
		want(k, &cfg->members[i].keydev, false);
		want(k, &cfg->members[i].headerdev, true);
	}
}

bool keydev_consider(struct keydev_set *k, const struct dev_ids *ids)
{
	/* Our own mappings (and any other dm device) are the root's, even
	 * if a key device's spec names what they carry. */
	if (str_starts_with(ids->devnode, "/dev/dm-"))
		return false;
	bool is_key = false;
	for (int i = 0; i < k->n; i++) {
		struct keydev_want *w = &k->want[i];
		if (!devspec_matches(&w->spec, ids))
			continue;
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

enum keydev_wait_rc keydev_wait(struct keydev_set *k,
				const struct devspec *spec, int timeout_ms,
				const char *who, const struct dev_ids **ret_ids)
{
	struct keydev_want *w = find(k, spec);
	if (!w)
		return KEYDEV_GONE; /* more than KEYDEV_MAX: never looked for */
	if (w->found) {
		*ret_ids = &w->ids;
		return KEYDEV_READY;
	}
	if (w->expired)
		return KEYDEV_GONE;
	long long now = loop_now_ms();
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

int keydev_next_ms(const struct keydev_set *k)
{
	long long now = loop_now_ms(), next = -1;
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
	long long now = loop_now_ms(), next = -1;
	bool ended = false;
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

/* Opens path under dirfd one component at a time, never following a
 * symlink (an ext4 stick may carry one pointing anywhere in the
 * initramfs). O_NONBLOCK: a FIFO must not hold PID 1 in open(). */
static int open_beneath(int dirfd, const char *path)
{
	char comp[CFG_PATH_MAX];
	int fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	for (const char *p = path; fd >= 0;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		const char *next = p + n;
		while (*next == '/')
			next++;
		bool last = *next == '\0';
		if (n == 0 || str_copy_n(comp, sizeof(comp), p, n) < 0 ||
		    strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			close(fd);
			return -EINVAL;
		}
		int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
			    (last ? O_NONBLOCK : O_DIRECTORY);
		int nfd = openat(fd, comp, flags);
		int err = errno;
		close(fd);
		if (nfd < 0)
			return -err;
		if (last)
			return nfd;
		fd = nfd;
		p = next;
	}
	return -EINVAL;
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
	size_t len = 0;
	while (len < size) {
		ssize_t r = read(fd, (char *)buf + len, size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len != size)
		return -EIO; /* changed under us */
	*ret_len = len;
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
	int fd = open_beneath(dfd, path);
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
	*ret_step = "mount";
	if (mkdir(KEYDEV_MOUNT_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	char dir[] = KEYDEV_MOUNT_DIR "/keydev.XXXXXX";
	if (!mkdtemp(dir)) /* mode 0700 */
		return -errno;
	/* The device's owner chose its contents: nothing on it may run,
	 * open a device node or gain privileges, and nothing is written. */
	if (mount(devnode, dir, fstype,
		  MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC | MS_SILENT,
		  NULL) < 0) {
		int err = -errno;
		rmdir(dir);
		return err;
	}
	int rc = read_mounted(dir, path, fn, arg, ret_step);
	/* At once: the stick never stays mounted, and never reaches the
	 * root. Busy (it cannot be: nothing else knows the directory), it
	 * is detached all the same. */
	if (umount2(dir, 0) < 0)
		umount2(dir, MNT_DETACH);
	rmdir(dir);
	rmdir(KEYDEV_MOUNT_DIR); /* if empty: nothing is left for the root */
	return rc;
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

enum { READ_RUNNING, READ_DONE, READ_LEFT };

/* One key read in a worker thread: a stick that stops answering holds
 * the worker in D state inside mount() or read(), never PID 1's loop for
 * longer than KEYDEV_READ_TIMEOUT_MS. Whoever sees the other side gone
 * (the worker finishing after the loop left it, or the loop) frees it. */
struct read_job {
	char devnode[sizeof(((struct dev_ids *)0)->devnode)];
	char fstype[sizeof(((struct dev_ids *)0)->type)];
	char path[CFG_PATH_MAX];
	struct secret key;
	const char *step;
	int rc;
	int pipe[2];
	int state;
};

static void job_free(struct read_job *j)
{
	secret_free(&j->key);
	if (j->pipe[0] >= 0)
		close(j->pipe[0]);
	if (j->pipe[1] >= 0)
		close(j->pipe[1]);
	free(j);
}

static void run_job(struct read_job *j)
{
	j->rc = keydev_read_file(j->devnode, j->fstype, j->path, j->key.buf,
				 SECRET_MAX, &j->key.len, &j->step);
}

static void *read_worker(void *arg)
{
	struct read_job *j = arg;
	run_job(j);
	if (__atomic_exchange_n(&j->state, READ_DONE, __ATOMIC_ACQ_REL) ==
	    READ_LEFT) {
		job_free(j);
		return NULL;
	}
	ssize_t n = write(j->pipe[1], "", 1);
	(void)n; /* an empty pipe has room; the loop reads state anyway */
	return NULL;
}

static bool start_worker(struct read_job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	if (pthread_attr_init(&attr) != 0)
		return false;
	pthread_attr_setstacksize(&attr, KEYDEV_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, read_worker, j);
	pthread_attr_destroy(&attr);
	return rc == 0;
}

static void wait_worker(struct read_job *j)
{
	long long end = loop_now_ms() + KEYDEV_READ_TIMEOUT_MS;
	struct pollfd p = {.fd = j->pipe[0], .events = POLLIN};
	for (long long left; (left = end - loop_now_ms()) > 0;)
		if (poll(&p, 1, (int)left) > 0)
			return;
}

static struct read_job *new_job(const struct dev_ids *ids, const char *fstype,
				const char *path)
{
	struct read_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->pipe[0] = j->pipe[1] = -1;
	if (secret_alloc(&j->key) < 0 ||
	    pipe2(j->pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    str_copy(j->devnode, sizeof(j->devnode), ids->devnode) < 0 ||
	    str_copy(j->fstype, sizeof(j->fstype), fstype) < 0 ||
	    str_copy(j->path, sizeof(j->path), path) < 0) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* Reads the key through a worker: 0 and the key in ret, or -errno with
 * *ret_step; -ETIMEDOUT if the device did not answer in time. */
static int read_bounded_key(const struct dev_ids *ids, const char *fstype,
			    const char *path, struct secret *ret,
			    const char **ret_step)
{
	*ret_step = "mount";
	struct read_job *j = new_job(ids, fstype, path);
	if (!j)
		return -ENOMEM;
	if (!start_worker(j)) {
		run_job(j); /* no thread: blocking, but never lost */
		j->state = READ_DONE;
	} else {
		wait_worker(j);
		if (__atomic_exchange_n(&j->state, READ_LEFT,
					__ATOMIC_ACQ_REL) == READ_RUNNING)
			return -ETIMEDOUT; /* the worker frees j */
	}
	int rc = j->rc;
	*ret_step = j->step;
	if (rc == 0) {
		*ret = j->key;
		j->key.buf = NULL;
		j->key.len = 0;
	}
	job_free(j);
	return rc;
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
	const char *step;
	int rc = read_bounded_key(ids, fstype, path, ret, &step);
	if (rc == 0) {
		log_info("%s: key file %s read from %s (%s), unmounted", who,
			 path, ids->devnode, fstype);
		return 0;
	}
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
	else
		log_warn(
			"%s: key file %s on %s (%s): %s failed: %s; asking for the passphrase",
			who, path, ids->devnode, fstype, step, strerror(-rc));
	return rc;
}
