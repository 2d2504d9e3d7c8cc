#include "devices/identify.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/strutil.h"
#include "devices/devices.h"

enum ident_state { IDENT_QUEUED, IDENT_RUNNING };

struct identify_job {
	struct identify_job *next;
	struct identify *id;
	char devname[64];
	enum ident_state state;
	int job; /* its job's id, while running */
	unsigned gen;
	bool again;
	/* Started in an earlier phase: its result is not delivered, only
	 * the fresh one from the run that again asks for. */
	bool stale;
	bool slow; /* named as slow: nothing waits for it any more */
	long long started_ms;
	dev_t dev;
};

void identify_init(struct identify *id, struct jobs *jobs)
{
	memset(id, 0, sizeof(*id));
	id->jobs = jobs;
	id->slow_ms = IDENTIFY_SLOW_MS;
	id->give_up_ms = IDENTIFY_GIVE_UP_MS;
	id->gen = 1;
	/* libblkid sets its debug mask from the environment on first use:
	 * once, here, for every child to inherit. */
	blkid_init_debug(0);
}

void identify_begin(struct identify *id, identify_fn fn, void *ctx)
{
	id->gen++;
	id->fn = fn;
	id->ctx = ctx;
}

void identify_end(struct identify *id)
{
	id->fn = NULL;
	id->ctx = NULL;
}

/* In the child: the device's ids are the result, device_identify's
 * return value its code. */
static int identify_in_child(void *arg, void *buf, size_t max, size_t *ret_len)
{
	const struct identify_job *job = arg;
	struct dev_ids ids;
	memset(&ids, 0, sizeof(ids));
	int rc = device_identify(job->devname, &ids);
	if (max < sizeof(ids))
		return -EFBIG;
	memcpy(buf, &ids, sizeof(ids));
	*ret_len = sizeof(ids);
	return rc;
}

static void unlink_job(struct identify *id, struct identify_job *job)
{
	for (struct identify_job **p = &id->list; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			return;
		}
}

static void drop(struct identify *id, struct identify_job *job)
{
	unlink_job(id, job);
	free(job);
}

static void deliver(struct identify *id, const struct identify_job *job, int rc,
		    const struct dev_ids *ids)
{
	struct identify_result res = {
		.devname = job->devname,
		.rc = rc,
		.ids = ids,
		.late = job->slow,
	};
	id->fn(&res, id->ctx);
}

static void start_queued(struct identify *id);

static struct identify_known *known(struct identify *id, dev_t dev)
{
	for (int i = 0; dev && i < id->nknown; i++)
		if (id->known[i].dev == dev)
			return &id->known[i];
	return NULL;
}

static void remember(struct identify *id, dev_t dev, int rc,
		     const struct dev_ids *ids)
{
	struct identify_known *k = known(id, dev);
	if (!k && dev && id->nknown < IDENTIFY_KNOWN_MAX)
		k = &id->known[id->nknown++];
	if (!k)
		return;
	*k = (struct identify_known){.dev = dev, .rc = rc, .ids = *ids};
}

/* A read of the device from before is still stuck: what it was found
 * to be then, if anything, stands in for what cannot be read now. */
static void still_stuck(struct identify *id, const struct identify_job *job,
			bool current)
{
	const struct identify_known *k = known(id, job->dev);
	log_warn(
		"/dev/%s does not answer: a read from before is still stuck; %s",
		job->devname,
		k ? "using what it was found to be then"
		  : "going on without it");
	if (k && current)
		deliver(id, job, k->rc, &k->ids);
}

/* The job's result, or why there is none. */
static void finished(struct identify_job *job, const struct job_result *r)
{
	struct identify *id = job->id;
	id->working--;
	job->job = 0;
	bool current = job->gen == id->gen && id->fn && !job->stale;
	if (r->end == JOB_NOT_RUN && r->rc == -EBUSY)
		still_stuck(id, job, current);
	else if (r->end == JOB_TIMED_OUT)
		log_info(
			"/dev/%s: still no answer after %lld s; its identification is given up",
			job->devname, id->give_up_ms / 1000);
	else if (r->end == JOB_NOT_RUN || r->end == JOB_NO_RESULT)
		log_warn_errno(r->rc, "/dev/%s: cannot identify it",
			       job->devname);
	else if (r->end == JOB_DONE && r->len != sizeof(struct dev_ids))
		log_warn_errno(EPROTO, "/dev/%s: cannot identify it",
			       job->devname);
	else if (r->end == JOB_DONE && current) {
		if (job->slow)
			log_notice(
				"/dev/%s answered after %lld s; looking at it now",
				job->devname, r->ran_ms / 1000);
		struct dev_ids ids;
		memcpy(&ids, r->data, sizeof(ids));
		remember(id, job->dev, r->rc, &ids);
		deliver(id, job, r->rc, &ids);
	}
	if (r->end == JOB_DONE && job->again && job->gen == id->gen && id->fn) {
		/* Asked again meanwhile: once more, from the start. */
		job->again = job->stale = job->slow = false;
		job->state = IDENT_QUEUED;
	} else {
		drop(id, job);
	}
	start_queued(id);
}

static void on_job_done(void *ctx, const struct job_result *res)
{
	finished(ctx, res);
}

static void start(struct identify *id, struct identify_job *job)
{
	char what[96], node[80];
	snprintf(what, sizeof(what), "identifying /dev/%s", job->devname);
	snprintf(node, sizeof(node), "/dev/%s", job->devname);
	job->dev = job_device(node);
	struct job_spec spec = {
		.what = what,
		.fn = identify_in_child,
		.arg = job,
		.max = sizeof(struct dev_ids),
		.timeout_ms = (int)id->give_up_ms,
		.done = on_job_done,
		.ctx = job,
		.dev = job->dev,
	};
	int rc = job_start(id->jobs, &spec);
	if (rc == -EAGAIN)
		return; /* no room: stays queued, the next tick tries again */
	if (rc < 0) {
		log_warn_errno(rc, "/dev/%s: cannot identify it", job->devname);
		drop(id, job);
		return;
	}
	job->job = rc;
	job->state = IDENT_RUNNING;
	job->started_ms = clock_now_ms();
	id->working++;
}

/* Only in a phase: between phases nothing would take the result. */
static void start_queued(struct identify *id)
{
	if (!id->fn)
		return;
	struct identify_job *job = id->list;
	while (job && id->working < IDENTIFY_WORKERS) {
		struct identify_job *next = job->next; /* start may drop it */
		if (job->state == IDENT_QUEUED)
			start(id, job);
		job = next;
	}
}

void identify_submit(struct identify *id, const char *devname)
{
	for (struct identify_job *job = id->list; job; job = job->next) {
		if (strcmp(job->devname, devname) != 0)
			continue;
		/* Running, whether for this phase or an earlier one (before
		 * a rescue shell, say): what it finds may be out of date, so it
		 * is identified once more when it ends (see finished). */
		if (job->state == IDENT_RUNNING) {
			job->stale |= job->gen != id->gen;
			job->again = true;
		}
		job->gen = id->gen;
		return;
	}
	struct identify_job *job = calloc(1, sizeof(*job));
	if (!job) {
		log_warn_errno(ENOMEM, "/dev/%s: cannot identify it", devname);
		return;
	}
	if (str_copy(job->devname, sizeof(job->devname), devname) < 0) {
		free(job); /* uevent_devname_ok would refuse it anyway */
		log_debug("/dev/%s: name too long to identify", devname);
		return;
	}
	job->id = id;
	job->state = IDENT_QUEUED;
	job->gen = id->gen;
	struct identify_job **tail = &id->list;
	while (*tail)
		tail = &(*tail)->next;
	*tail = job;
	start_queued(id);
}

void identify_ensure(struct identify *id, const char *devname)
{
	for (const struct identify_job *job = id->list; job; job = job->next)
		if (strcmp(job->devname, devname) == 0 && job->gen == id->gen &&
		    !job->stale)
			return;
	identify_submit(id, devname);
}

int identify_tick(struct identify *id)
{
	start_queued(id); /* the jobs' table may have room again */
	long long now = clock_now_ms(), next = -1;
	for (struct identify_job *job = id->list; job; job = job->next) {
		if (job->state != IDENT_RUNNING || job->slow)
			continue;
		long long left = job->started_ms + id->slow_ms - now;
		if (left > 0) {
			next = next < 0 || left < next ? left : next;
			continue;
		}
		job->slow = true;
		log_warn(
			"/dev/%s: no answer after %lld s while identifying it (a failing or slow disk?); going on without it",
			job->devname, id->slow_ms / 1000);
	}
	return (int)next;
}

bool identify_pending(const struct identify *id)
{
	for (const struct identify_job *job = id->list; job; job = job->next)
		if (job->gen == id->gen &&
		    (job->state == IDENT_QUEUED || !job->slow))
			return true;
	return false;
}
