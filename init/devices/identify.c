#include "devices/identify.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "devices/devices.h"
#include "loop/loop.h"

/* libblkid's probing needs little stack; the default would be musl's
 * 128 KiB, which is enough, but say so explicitly. */
#define IDENTIFY_STACK ((size_t)256 * 1024)

/* IDENT_DONE: identified on the loop's thread (no thread could be made). */
enum ident_state { IDENT_QUEUED, IDENT_RUNNING, IDENT_GIVEN_UP, IDENT_DONE };

/* Owned by the loop, except while RUNNING or GIVEN_UP: then the worker
 * reads devname and notify_fd and writes rc and ids, and hands the job back
 * by writing its address to the pipe; it touches nothing after that. A
 * job is freed only when its address has been read back, so a worker that
 * never returns leaks its job, never a freed one. */
struct identify_job {
	struct identify_job *next;
	char devname[64];
	int notify_fd;
	int rc;
	struct dev_ids ids;
	/* The loop's own. */
	enum ident_state state;
	unsigned gen;
	bool again;
	/* Started in an earlier attempt: its result is not delivered, only
	 * the fresh one from the run that again asks for. */
	bool stale;
	bool slow; /* named as slow: nothing waits for it any more */
	long long started_ms;
};

/* What a worker writes to the pipe (at most PIPE_BUF: atomic). */
struct job_msg {
	struct identify_job *job;
};

int identify_init(struct identify *id)
{
	memset(id, 0, sizeof(*id));
	id->pipe_rd = id->pipe_wr = -1;
	id->slow_ms = IDENTIFY_SLOW_MS;
	id->give_up_ms = IDENTIFY_GIVE_UP_MS;
	id->gen = 1;
	/* libblkid sets its debug mask from the environment on first use:
	 * once, here, not racing in several workers. */
	blkid_init_debug(0);
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	id->pipe_rd = p[0];
	id->pipe_wr = p[1];
	return 0;
}

void identify_begin(struct identify *id)
{
	id->gen++;
}

int identify_fd(const struct identify *id)
{
	return id->pipe_rd;
}

static void *identify_worker(void *arg)
{
	struct identify_job *job = arg;
	job->rc = device_identify(job->devname, &job->ids);
	/* The pipe holds 64 KiB, far more than IDENTIFY_THREADS_MAX
	 * addresses: the write does not fail for want of room. */
	struct job_msg msg = {job};
	while (write(job->notify_fd, &msg, sizeof(msg)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void deliver(const struct identify_job *job, identify_fn fn, void *ctx)
{
	struct identify_result res = {
		.devname = job->devname,
		.rc = job->rc,
		.ids = &job->ids,
		.late = job->slow,
	};
	fn(&res, ctx);
}

/* Starts a thread for job. At IDENTIFY_THREADS_MAX (threads left stuck
 * on disks that never answered) it stays queued until one ends. Should no
 * thread be made (no memory, no pipe), it is identified on this thread,
 * as before there were workers: blocking, but never lost. */
static void start(struct identify *id, struct identify_job *job, identify_fn fn,
		  void *ctx)
{
	if (id->threads >= IDENTIFY_THREADS_MAX)
		return;
	job->notify_fd = id->pipe_wr;
	job->started_ms = loop_now_ms();
	job->state = IDENT_RUNNING;
	pthread_attr_t attr;
	pthread_t t;
	int rc = EPIPE;
	if (id->pipe_wr >= 0 && (rc = pthread_attr_init(&attr)) == 0) {
		pthread_attr_setstacksize(&attr, IDENTIFY_STACK);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &attr, identify_worker, job);
		pthread_attr_destroy(&attr);
	}
	if (rc == 0) {
		id->working++;
		id->threads++;
		return;
	}
	log_debug("/dev/%s: identifying it on the main thread: %s",
		  job->devname, strerror(rc));
	job->rc = device_identify(job->devname, &job->ids);
	deliver(job, fn, ctx);
	job->state = IDENT_DONE;
}

static void unlink_job(struct identify *id, struct identify_job *job)
{
	for (struct identify_job **p = &id->jobs; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			return;
		}
}

static void start_queued(struct identify *id, identify_fn fn, void *ctx)
{
	for (struct identify_job *job = id->jobs;
	     job && id->working < IDENTIFY_WORKERS; job = job->next)
		if (job->state == IDENT_QUEUED)
			start(id, job, fn, ctx);
	struct identify_job **p = &id->jobs;
	while (*p) {
		struct identify_job *job = *p;
		if (job->state != IDENT_DONE) {
			p = &job->next;
			continue;
		}
		*p = job->next;
		free(job);
	}
}

void identify_submit(struct identify *id, const char *devname, identify_fn fn,
		     void *ctx)
{
	for (struct identify_job *job = id->jobs; job; job = job->next) {
		if (strcmp(job->devname, devname) != 0)
			continue;
		if (job->state == IDENT_GIVEN_UP) {
			/* One thread per device: it may answer yet. */
			log_debug("/dev/%s: still no answer from it", devname);
			job->gen = id->gen;
			return;
		}
		/* Running, whether for this attempt or an earlier one (before
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
		log_warn("/dev/%s: cannot identify it: %s", devname,
			 strerror(ENOMEM));
		return;
	}
	if (str_copy(job->devname, sizeof(job->devname), devname) < 0) {
		free(job); /* uevent_devname_ok would refuse it anyway */
		log_debug("/dev/%s: name too long to identify", devname);
		return;
	}
	job->state = IDENT_QUEUED;
	job->gen = id->gen;
	job->notify_fd = -1;
	struct identify_job **tail = &id->jobs;
	while (*tail)
		tail = &(*tail)->next;
	*tail = job;
	start_queued(id, fn, ctx);
}

static void finished(struct identify *id, struct identify_job *job,
		     identify_fn fn, void *ctx)
{
	id->threads--;
	if (job->state == IDENT_RUNNING)
		id->working--;
	bool current = job->gen == id->gen;
	if (job->slow && current && !job->stale)
		log_notice("/dev/%s answered after %lld s; looking at it now",
			   job->devname,
			   (loop_now_ms() - job->started_ms) / 1000);
	if (current && !job->stale)
		deliver(job, fn, ctx);
	if (current && job->again && job->state == IDENT_RUNNING) {
		/* Asked again meanwhile: once more, from the start. */
		job->again = false;
		job->stale = false;
		job->slow = false;
		job->state = IDENT_QUEUED;
		memset(&job->ids, 0, sizeof(job->ids));
		return;
	}
	unlink_job(id, job);
	free(job);
}

void identify_collect(struct identify *id, identify_fn fn, void *ctx)
{
	struct job_msg done[16];
	ssize_t n;
	while (id->pipe_rd >= 0 &&
	       (n = read(id->pipe_rd, done, sizeof(done))) > 0)
		for (size_t k = 0; k < (size_t)n / sizeof(done[0]); k++)
			finished(id, done[k].job, fn, ctx);
	start_queued(id, fn, ctx);
}

static long long next_due(const struct identify_job *job,
			  const struct identify *id)
{
	return job->started_ms + (job->slow ? id->give_up_ms : id->slow_ms);
}

int identify_tick(struct identify *id, identify_fn fn, void *ctx)
{
	long long now = loop_now_ms();
	for (struct identify_job *job = id->jobs; job; job = job->next) {
		if (job->state != IDENT_RUNNING || now < next_due(job, id))
			continue;
		if (!job->slow) {
			job->slow = true;
			log_warn(
				"/dev/%s: no answer after %lld s while identifying it (a failing or slow disk?); going on without it",
				job->devname, id->slow_ms / 1000);
		}
		if (now < job->started_ms + id->give_up_ms)
			continue;
		job->state = IDENT_GIVEN_UP;
		job->again = false;
		job->stale = false;
		id->working--;
		log_info(
			"/dev/%s: still no answer after %lld s; its worker thread is left to itself",
			job->devname, id->give_up_ms / 1000);
	}
	start_queued(id, fn, ctx); /* slots freed: the queue moves on */
	long long next = -1;
	for (struct identify_job *job = id->jobs; job; job = job->next) {
		if (job->state != IDENT_RUNNING)
			continue;
		long long left = next_due(job, id) - now;
		if (left < 0)
			left = 0;
		if (next < 0 || left < next)
			next = left;
	}
	return (int)next;
}

bool identify_pending(const struct identify *id)
{
	for (const struct identify_job *job = id->jobs; job; job = job->next)
		if (job->gen == id->gen &&
		    ((job->state == IDENT_QUEUED &&
		      id->threads < IDENTIFY_THREADS_MAX) ||
		     (job->state == IDENT_RUNNING && !job->slow)))
			return true;
	return false;
}
