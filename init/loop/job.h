/* The one job mechanism: work that can block in a disk (identification,
 * superblock reads, mounting a key or header stick) runs in a child
 * process, never on the loop's thread and never in a thread of PID 1. A
 * thread stuck in uninterruptible disk I/O would hold up the execve of the
 * real init (the kernel's de_thread waits for every thread); a child does
 * not.
 *
 * A job is a function run in a fork()ed child. It writes a bounded result
 * (bytes, plus a return code) that comes back over a pipe; the loop reads
 * it as it arrives (a result larger than a pipe's buffer never deadlocks)
 * and hands it to the job's owner, on the loop's thread. A secret result
 * is read straight into locked memory (common/secret.h), and the child
 * wipes its copy before it exits.
 *
 * Each job has a deadline. Past it the child is sent SIGKILL and left to
 * the loop's reaper: one in uninterruptible sleep dies when its I/O
 * returns, and nothing ever waits for it. Its owner hears "timed out" and
 * goes on. No error stops PID 1: a job that cannot start (no fork, no
 * pipe, no memory) is reported to its owner like any failure.
 *
 * At most JOBS_RUNNING_MAX children work at once; more are queued, in
 * order. Children killed but not yet gone count apart, up to
 * JOBS_STUCK_MAX: beyond that no job starts (queued ones fail at their
 * deadline), so disks that never answer cannot fill the process table.
 * A job on a device with such a child ends at once (job_spec.dev): one
 * disk stuck across retries holds one child, not one per attempt. */
#ifndef LUKSINIT_JOB_H
#define LUKSINIT_JOB_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/secret.h"

#define JOBS_MAX 32	   /* running and queued */
#define JOBS_RUNNING_MAX 8 /* children working at once */
#define JOBS_STUCK_MAX 16  /* killed past their deadline, not yet exited */
#define JOB_RESULT_MAX ((size_t)1 << 20)
#define JOB_NICE 5	/* a job's nice value; the loop's is 0 */
#define JOB_HEAD_LEN 12 /* a result's header: rc, length, CPU ms */

enum job_end {
	JOB_DONE,      /* the child sent its result: rc, and the bytes */
	JOB_NO_RESULT, /* it ended without one (it crashed, say) */
	JOB_TIMED_OUT, /* past its deadline: killed, left to the reaper */
	JOB_NOT_RUN,   /* it could not start: no fork, pipe, memory, room */
	JOB_CANCELLED, /* jobs_cancel_all: PID 1 moves on (the hand-over) */
};

struct job_result {
	enum job_end end;
	/* JOB_DONE: what the function returned; otherwise -errno
	 * (-ETIMEDOUT, -EPIPE for no result, fork's error, -ECANCELED). */
	int rc;
	/* JOB_DONE, not a secret job: len bytes, valid during the call. */
	const void *data;
	size_t len;
	/* JOB_DONE, secret job: the result in locked memory (len bytes).
	 * The callback may take it (then it sets secret->buf to NULL);
	 * otherwise it is wiped after the call. */
	struct secret *secret;
	long long ran_ms; /* since the child started (or the job was asked) */
	/* JOB_DONE: the CPU time the child had used when it sent its
	 * result, as the kernel counts it; -1 otherwise. */
	long long cpu_ms;
	pid_t pid; /* its child, or 0: for jobs_child_hung */
};

/* Runs in the child: writes at most max bytes of result to buf and sets
 * *ret_len; returns 0 or -errno (either way the result is sent). It must
 * not log (the parent does, from the result) nor exit. */
typedef int (*job_fn)(void *arg, void *buf, size_t max, size_t *ret_len);
/* The same for a job given an input (job_spec.input): in and in_len are
 * that input, in the child's own locked memory, wiped after the call. */
typedef int (*job_in_fn)(void *arg, const void *in, size_t in_len, void *buf,
			 size_t max, size_t *ret_len);
/* Runs in the child of a job whose input comes later (job_spec.
 * input_later), before it waits for that input: what can be done
 * without it (a header read, say), kept in the child's own memory for
 * fn_in. It must not log nor exit. */
typedef void (*job_before_fn)(void *arg);
/* Runs in PID 1, on the loop's thread, exactly once per job (unless the
 * owner cancels it with job_cancel). It may start and cancel jobs. */
typedef void (*job_done_fn)(void *ctx, const struct job_result *res);

struct job_spec {
	const char *what; /* for debug messages: "identifying /dev/vda" */
	job_fn fn;
	void *arg;  /* the child's copy of the parent's memory */
	size_t max; /* bound on the result: JOB_RESULT_MAX, or SECRET_MAX */
	bool secret;
	/* From its start; a job still queued this long after it was asked
	 * for fails (JOB_NOT_RUN, -EAGAIN). */
	int timeout_ms;
	job_done_fn done;
	void *ctx;
	/* A secret the child needs (a passphrase, a key): secrets are not
	 * inherited (MADV_DONTFORK), so it is copied into locked memory at
	 * job_start, written to the child over a pipe of its own when it
	 * starts, and wiped; fn_in runs instead of fn. NULL: no input. */
	const struct secret *input;
	job_in_fn fn_in;
	/* The input comes later, by job_give_input: the child starts at
	 * once, runs before (if any), then waits for it and runs fn_in. So
	 * the work that needs no input is done while the input is being
	 * made (the KDF that makes a derived key, say). Until its input
	 * comes the child counts apart from JOBS_RUNNING_MAX (it only
	 * waits), from then on with the others, even beyond the bound (it
	 * has started); the deadline counts from its start, and again from
	 * the input. */
	bool input_later;
	job_before_fn before;
	/* A child seen in uninterruptible sleep (a disk that does not
	 * answer) at every look, once a second, for this long ends like one
	 * past its deadline; 0: the deadline only. For work whose length
	 * the CPU decides (a KDF) but whose disk reads must not hang. */
	int stall_ms;
	/* The device it reads (job_device), or 0. While a child of an
	 * earlier job on it was killed and has not exited (a read still
	 * stuck in that disk), a job on it does not start: it ends at once,
	 * JOB_NOT_RUN with -EBUSY, and its owner names the device as still
	 * hung. A retry on a disk that never answers costs no bound and
	 * leaves no further child stuck; other devices' jobs run. */
	dev_t dev;
};

enum job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_FINISHED };

struct job {
	enum job_state state;
	unsigned id;
	struct job_spec spec;
	char what[96];
	pid_t pid;
	int fd; /* the pipe's read end, while running */
	long long asked_ms, started_ms, deadline_ms;
	/* The frame: a header (rc, length, the child's CPU time in ms),
	 * then the bytes. */
	unsigned char head[JOB_HEAD_LEN];
	size_t head_got;
	size_t len, got;
	long long cpu_ms;    /* from the header */
	unsigned char *data; /* not secret: malloc'd, len bytes */
	struct secret secret;
	struct secret input;	    /* until written to the child */
	int in_fd;		    /* input_later: where it goes, until then */
	bool waiting;		    /* its child waits for its input */
	long long stalled_since_ms; /* 0: not seen in D state */
	long long looked_ms;	    /* the last look at its state */
	struct job_result res;	    /* JOB_FINISHED: what is to be delivered */
};

struct jobs {
	struct job job[JOBS_MAX];
	unsigned next_id;
	int running;
	/* Children not yet reaped: running, finishing, or killed and
	 * stuck. */
	pid_t child[JOBS_RUNNING_MAX + JOBS_STUCK_MAX];
	bool killed[JOBS_RUNNING_MAX + JOBS_STUCK_MAX];
	/* Killed for not answering (JOB_TIMED_OUT), not cancelled: what
	 * job_spec.dev's rule and jobs_child_hung look at. */
	bool hung[JOBS_RUNNING_MAX + JOBS_STUCK_MAX];
	dev_t dev[JOBS_RUNNING_MAX + JOBS_STUCK_MAX]; /* its job's */
	int nchild;
	bool closing; /* in jobs_cancel_all: no job starts */
};

void jobs_init(struct jobs *js);

/* Asks for a job: started now if there is room, else queued. Returns its
 * id (> 0) or -errno (-EINVAL for a bad spec, -EAGAIN when JOBS_MAX are
 * asked already); spec->done is never called from here. */
int job_start(struct jobs *js, const struct job_spec *spec);
/* The input of job id (job_spec.input_later), sent to its child now (or
 * as it starts, if still queued); copied, so the owner may wipe its own.
 * 0, -ENOENT (no such job waiting for an input: it ended, say, and its
 * owner hears why), -EINVAL, or -errno from the send (then the job ends
 * as one without a result). */
int job_give_input(struct jobs *js, int id, const struct secret *in);
/* The owner no longer wants job id: a running child is killed, a queued
 * job dropped, a finished result wiped; done is not called. */
void job_cancel(struct jobs *js, int id);
/* Every job ends now, its owner told JOB_CANCELLED (and refused any new
 * job meanwhile); no child is waited for (the hand-over: the real init's
 * execve must not wait). */
void jobs_cancel_all(struct jobs *js);
/* Jobs asked and not yet ended. */
int jobs_pending(const struct jobs *js);
/* Children of ours not yet reaped, killed ones among them. */
int jobs_children(const struct jobs *js);
/* The child of a job that timed out (job_result.pid) was killed and has
 * not exited: still stuck in what it was doing. */
bool jobs_child_hung(const struct jobs *js, pid_t pid);
/* The device node's number, for job_spec.dev (a stat of the node: no
 * disk is read), or 0. */
dev_t job_device(const char *devnode);

/* For a job's child that has a step of its own to bound (hdrdev.c: the
 * mount and copy of a header on a stick): runs spec->fn in a grandchild
 * and waits, in poll(), for its result (into buf, at most spec->max bytes;
 * not a secret) until spec->timeout_ms; past it the grandchild is killed
 * (through a pidfd). It also dies with the child that asked (killed at
 * its own deadline). done, ctx and dev are not used. Never on the loop's
 * thread: it blocks for up to the timeout. */
void job_run_here(const struct job_spec *spec, void *buf,
		  struct job_result *ret);

/* For the loop. The pipes to watch: fills at most max (POLLIN) and
 * returns how many. */
int jobs_pollfds(const struct jobs *js, struct pollfd *pfd, int max);
/* After poll: reads what arrived on pfd (as filled by jobs_pollfds; may
 * be NULL with n 0), ends jobs past their deadline, starts queued ones,
 * and calls the owners of those that ended. */
void jobs_run(struct jobs *js, const struct pollfd *pfd, int n);
/* Milliseconds until jobs_run has something to do without a pipe
 * becoming readable (a deadline, a result to deliver), or -1. */
int jobs_next_ms(const struct jobs *js);
/* The reaper collected pid: if it was ours, it no longer counts. */
void jobs_child_exited(struct jobs *js, pid_t pid);

#endif
