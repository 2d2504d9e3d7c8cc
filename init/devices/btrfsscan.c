#include "devices/btrfsscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "devices/btrfs.h"

/* The scan whose child did not answer, until that child is reaped. Kept
 * across phases and attempts: the kernel's lock it may hold is one. */
static struct {
	pid_t pid;
	char node[64];
	int timeout_s;
} stuck_scan;

static bool scan_stuck(const struct btrfs_scans *s)
{
	return stuck_scan.pid > 0 && s->jobs &&
	       jobs_child_hung(s->jobs, stuck_scan.pid);
}

void btrfs_scans_begin(struct btrfs_scans *s, struct jobs *jobs)
{
	memset(s, 0, sizeof(*s));
	s->jobs = jobs;
	s->timeout_ms = BTRFS_SCAN_TIMEOUT_MS;
}

void btrfs_scans_end(struct btrfs_scans *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->scan[i].job > 0)
			job_cancel(s->jobs, s->scan[i].job);
	s->n = 0;
}

/* What the child found: whether Btrfs's control device opens (0 or
 * -errno: no Btrfs in the kernel), btrfs_register's code, then
 * btrfs_devices_ready's (1 all there, 0 not, -errno). */
struct scan_answer {
	int32_t control, registered, ready;
};

static int scan_in_child(void *arg, void *buf, size_t max, size_t *ret_len)
{
	const struct btrfs_scan *sc = arg;
	struct scan_answer a = {0};
	int fd = open("/dev/btrfs-control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		a.control = -errno;
	else
		close(fd);
	a.registered = btrfs_register(sc->node);
	a.ready =
		a.registered < 0 ? a.registered : btrfs_devices_ready(sc->node);
	if (max < sizeof(a))
		return -EFBIG;
	memcpy(buf, &a, sizeof(a));
	*ret_len = sizeof(a);
	return 0;
}

/* A job that gave no answer: the device is left out, and said so (one
 * that timed out fails the attempt: btrfs_scans_failed). */
static void say_lost(const struct btrfs_scan *sc, const struct job_result *r)
{
	if (r->end == JOB_TIMED_OUT)
		log_warn(
			"%s: no answer within %d s while registering it with Btrfs (a failing disk?)",
			sc->node, sc->set->timeout_ms / 1000);
	else if (r->end == JOB_NOT_RUN && r->rc == -EBUSY)
		log_warn(
			"%s does not answer: a read from before is still stuck; not registered with Btrfs",
			sc->node);
	else
		log_warn_errno(r->end == JOB_DONE ? EPROTO : -r->rc,
			       "%s: Btrfs registration failed", sc->node);
}

/* Whether the kernel has no Btrfs (every device would say so). */
static bool no_btrfs(const struct scan_answer *a)
{
	return a->control < 0 || a->registered == -ENOTTY ||
	       a->ready == -ENOTTY;
}

static void say_answer(struct btrfs_scans *s, const struct btrfs_scan *sc,
		       const struct scan_answer *a)
{
	if (a->registered >= 0 && a->ready >= 0)
		return;
	if (no_btrfs(a)) {
		if (s->warned)
			return;
		s->warned = true;
	}
	if (a->registered < 0)
		log_warn_errno(a->registered, "%s: Btrfs registration failed",
			       sc->node);
	else
		log_warn_errno(
			a->ready,
			"%s: cannot ask Btrfs whether all devices are present",
			sc->node);
}

static void start_next(struct btrfs_scans *s);

static void scan_done(void *ctx, const struct job_result *r)
{
	struct btrfs_scan *sc = ctx;
	struct btrfs_scans *s = sc->set;
	sc->job = 0;
	struct scan_answer a;
	if (r->end == JOB_TIMED_OUT) {
		stuck_scan.pid = r->pid;
		stuck_scan.timeout_s = s->timeout_ms / 1000;
		str_copy(stuck_scan.node, sizeof(stuck_scan.node), sc->node);
	}
	if (r->end != JOB_DONE || r->len != sizeof(a)) {
		say_lost(sc, r);
	} else {
		memcpy(&a, r->data, sizeof(a));
		sc->answered = true;
		sc->registered = a.registered >= 0 && a.ready >= 0;
		sc->ready = a.ready == 1;
		say_answer(s, sc, &a);
	}
	start_next(s);
}

static struct btrfs_scan *slot(struct btrfs_scans *s, const char *node)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->scan[i].node, node) == 0)
			return &s->scan[i];
	if (s->n >= BTRFS_SCANS_MAX)
		return NULL;
	struct btrfs_scan *sc = &s->scan[s->n];
	memset(sc, 0, sizeof(*sc));
	if (str_copy(sc->node, sizeof(sc->node), node) < 0)
		return NULL;
	s->n++;
	return sc;
}

static void start_one(struct btrfs_scans *s, struct btrfs_scan *sc)
{
	char what[96];
	snprintf(what, sizeof(what), "registering %s with Btrfs", sc->node);
	struct job_spec spec = {
		.what = what,
		.fn = scan_in_child,
		.arg = sc,
		.max = sizeof(struct scan_answer),
		.timeout_ms = s->timeout_ms,
		.done = scan_done,
		.ctx = sc,
		.dev = job_device(sc->node),
	};
	sc->wanted = false;
	int rc = s->jobs ? job_start(s->jobs, &spec) : -ENOSYS;
	if (rc < 0) {
		struct job_result r = {.end = JOB_NOT_RUN, .rc = rc};
		say_lost(sc, &r);
		return;
	}
	sc->job = rc;
}

/* One at a time (the kernel's one lock), in the order asked; none while
 * a scan's child is stuck. */
static void start_next(struct btrfs_scans *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->scan[i].job > 0)
			return;
	for (int i = 0; i < s->n && !scan_stuck(s); i++) {
		if (!s->scan[i].wanted)
			continue;
		start_one(s, &s->scan[i]);
		if (s->scan[i].job > 0)
			return;
	}
}

void btrfs_scans_tick(struct btrfs_scans *s)
{
	start_next(s);
}

void btrfs_scan(struct btrfs_scans *s, const struct dev_ids *ids)
{
	struct btrfs_scan *sc = slot(s, ids->devnode);
	if (!sc) {
		log_warn("%s: not registered with Btrfs: too many devices",
			 ids->devnode);
		return;
	}
	if (sc->job > 0)
		return; /* its answer is on its way */
	/* Seen again with the same filesystem (a member's mapping is
	 * identified as the unlock reports it and on its uevent): registered
	 * already, and whether all its devices are there is answered by the
	 * scans of the others, the last one to come in saying yes. A failed
	 * registration is tried again. */
	if (sc->set == s && sc->registered && strcmp(sc->uuid, ids->uuid) == 0)
		return;
	sc->set = s;
	sc->answered = sc->registered = sc->ready = false;
	sc->wanted = true;
	str_copy(sc->uuid, sizeof(sc->uuid), ids->uuid);
	start_next(s);
}

bool btrfs_scans_pending(const struct btrfs_scans *s)
{
	bool stuck = scan_stuck(s);
	for (int i = 0; i < s->n; i++)
		if (s->scan[i].job > 0 || (s->scan[i].wanted && !stuck))
			return true;
	return false;
}

int btrfs_scans_failed(const struct btrfs_scans *s, struct failure *f)
{
	if (!scan_stuck(s))
		return 0;
	failure_say(
		f, -ETIMEDOUT,
		"Btrfs registration of %s did not answer within %d s; a mount would hang: the kernel holds Btrfs's device lock while that read is stuck",
		stuck_scan.node, stuck_scan.timeout_s);
	f->hint =
		"a failing disk or cable? detach it and retry (r), or reboot; the read still in that disk blocks every Btrfs mount until it returns";
	return -ETIMEDOUT;
}

bool btrfs_scans_complete(const struct btrfs_scans *s,
			  const struct dev_ids *root)
{
	for (int i = 0; i < s->n; i++) {
		const struct btrfs_scan *sc = &s->scan[i];
		bool same = root->uuid[0]
				    ? strcmp(sc->uuid, root->uuid) == 0
				    : strcmp(sc->node, root->devnode) == 0;
		if (same && sc->answered && sc->ready)
			return true;
	}
	return false;
}
