#include "loop/job.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "loop/jobchild.h"

#define CHILD_MAX (JOBS_RUNNING_MAX + JOBS_STUCK_MAX)

void jobs_init(struct jobs *js)
{
	memset(js, 0, sizeof(*js));
	for (int i = 0; i < JOBS_MAX; i++)
		js->job[i].fd = js->job[i].in_fd = -1;
	js->next_id = 1;
}

static int child_slot(const struct jobs *js, pid_t pid)
{
	for (int i = 0; i < js->nchild; i++)
		if (js->child[i] == pid)
			return i;
	return -1;
}

void jobs_child_exited(struct jobs *js, pid_t pid)
{
	int i = child_slot(js, pid);
	if (i < 0)
		return;
	js->nchild--;
	js->child[i] = js->child[js->nchild];
	js->killed[i] = js->killed[js->nchild];
	js->hung[i] = js->hung[js->nchild];
	js->dev[i] = js->dev[js->nchild];
}

/* Only a child not yet reaped is signalled: its pid cannot have been
 * reused. hung: killed for not answering (its deadline, a stall), not
 * because its owner no longer wanted it. */
static void kill_child(struct jobs *js, pid_t pid, bool hung)
{
	int i = child_slot(js, pid);
	if (i < 0)
		return;
	kill(pid, SIGKILL);
	js->killed[i] = true;
	js->hung[i] |= hung;
}

int jobs_children(const struct jobs *js)
{
	return js->nchild;
}

int jobs_pending(const struct jobs *js)
{
	int n = 0;
	for (int i = 0; i < JOBS_MAX; i++)
		n += js->job[i].state != JOB_FREE;
	return n;
}

static int stuck(const struct jobs *js)
{
	int n = 0;
	for (int i = 0; i < js->nchild; i++)
		n += js->killed[i];
	return n;
}

/* A child killed on dev for not answering has not exited: a read still
 * stuck in it. One cancelled (a phase ended) says nothing of the disk. */
static bool dev_stuck(const struct jobs *js, dev_t dev)
{
	for (int i = 0; dev && i < js->nchild; i++)
		if (js->hung[i] && js->dev[i] == dev)
			return true;
	return false;
}

bool jobs_child_hung(const struct jobs *js, pid_t pid)
{
	int i = pid > 0 ? child_slot(js, pid) : -1;
	return i >= 0 && js->hung[i];
}

dev_t job_device(const char *devnode)
{
	struct stat st;
	if (!devnode || stat(devnode, &st) < 0 || !S_ISBLK(st.st_mode))
		return 0;
	return st.st_rdev;
}

static void drop_buffers(struct job *j)
{
	if (j->data) {
		explicit_bzero(j->data, j->len);
		free(j->data);
		j->data = NULL;
	}
	secret_free(&j->secret);
	secret_free(&j->input);
}

/* The job ends (its owner is told in deliver): the pipe is closed, and a
 * child that has not sent its result is killed. */
static void end_job(struct jobs *js, struct job *j, enum job_end end, int rc)
{
	/* A child that closed its pipe (EPIPE) is exiting already. */
	if (j->state == JOB_RUNNING) {
		if (!j->waiting)
			js->running--;
		/* One waiting for its input past its deadline reads no disk:
		 * not hung (one seen stuck in its work before is). */
		bool hung = end == JOB_TIMED_OUT &&
			    (!j->waiting || j->stalled_since_ms);
		if (end != JOB_DONE && rc != -EPIPE)
			kill_child(js, j->pid, hung);
	}
	if (j->fd >= 0)
		close(j->fd);
	if (j->in_fd >= 0)
		close(j->in_fd);
	j->fd = j->in_fd = -1;
	j->waiting = false;
	if (end != JOB_DONE)
		drop_buffers(j);
	long long from = j->started_ms ? j->started_ms : j->asked_ms;
	j->res = (struct job_result){
		.end = end,
		.rc = rc,
		.ran_ms = clock_now_ms() - from,
		.cpu_ms = end == JOB_DONE ? j->cpu_ms : -1,
		.pid = j->pid,
	};
	j->state = JOB_FINISHED;
}

/* Nothing of the parent's jobs but its own pipes. A job is the loop's
 * background work: when both want a CPU, the loop (the prompt, uevents,
 * the next job to start or finish) goes first. */
static void child_main(struct jobs *js, struct job *j, int rfd, int wfd,
		       int infd)
{
	/* Best effort: at the loop's priority, a job only waits longer.
	 * (Its best-effort I/O priority follows its nice value, one level
	 * lower, under the schedulers that use it.) */
	(void)setpriority(PRIO_PROCESS, 0, JOB_NICE);
	close(rfd);
	for (int i = 0; i < JOBS_MAX; i++) {
		if (js->job[i].state == JOB_FREE)
			continue;
		if (js->job[i].fd >= 0)
			close(js->job[i].fd);
		/* Another child waiting for its input sees the loop let go. */
		if (js->job[i].in_fd >= 0)
			close(js->job[i].in_fd);
	}
	job_child_run(&j->spec, wfd, infd);
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		/* A child gone must not raise SIGPIPE in whoever sends. */
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The input, to its child (at most SECRET_MAX bytes: the socket takes it
 * whole, nothing blocks), then wiped here. 0 or -errno. */
static int send_input(struct job *j, int fd)
{
	uint32_t len = (uint32_t)j->input.len;
	int rc = send_all(fd, &len, sizeof(len));
	if (rc == 0)
		rc = send_all(fd, j->input.buf, j->input.len);
	close(fd);
	secret_free(&j->input);
	return rc;
}

static int start_child(struct jobs *js, struct job *j)
{
	int p[2], in[2] = {-1, -1};
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* The loop never blocks on it; the child writes in full. */
	bool wants_input = j->input.buf || j->spec.input_later;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 ||
	    (wants_input &&
	     socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)) {
		int err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (in[1] >= 0)
			close(in[1]);
		child_main(js, j, p[0], p[1], in[0]);
	}
	int err = -errno;
	close(p[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (pid < 0) {
		close(p[0]);
		if (in[1] >= 0)
			close(in[1]);
		return err;
	}
	/* A send that fails leaves the child without its input: it ends
	 * without a result, and its owner hears that. */
	if (in[1] >= 0 && j->input.buf) {
		(void)send_input(j, in[1]);
		if (j->spec.input_later) /* given while it was queued */
			job_child_priority(pid);
	} else if (in[1] >= 0) {
		j->in_fd = in[1];
		j->waiting = true;
	}
	js->child[js->nchild] = pid;
	js->dev[js->nchild] = j->spec.dev;
	js->hung[js->nchild] = false;
	js->killed[js->nchild++] = false;
	j->pid = pid;
	j->fd = p[0];
	return 0;
}

static void start(struct jobs *js, struct job *j)
{
	long long now = clock_now_ms();
	if (dev_stuck(js, j->spec.dev)) {
		end_job(js, j, JOB_NOT_RUN, -EBUSY);
		return;
	}
	int rc = start_child(js, j);
	if (rc < 0) {
		log_debug_errno(rc, "%s: cannot start a job", j->what);
		end_job(js, j, JOB_NOT_RUN, rc);
		return;
	}
	j->state = JOB_RUNNING;
	j->started_ms = now;
	j->deadline_ms = now + j->spec.timeout_ms;
	if (!j->waiting)
		js->running++;
}

static bool room(const struct jobs *js)
{
	return js->running < JOBS_RUNNING_MAX && js->nchild < CHILD_MAX &&
	       stuck(js) < JOBS_STUCK_MAX;
}

/* The oldest queued job first. */
static void start_queued(struct jobs *js)
{
	while (room(js)) {
		struct job *first = NULL;
		for (int i = 0; i < JOBS_MAX; i++) {
			struct job *j = &js->job[i];
			if (j->state == JOB_QUEUED &&
			    (!first || j->id < first->id))
				first = j;
		}
		if (!first)
			return;
		start(js, first);
	}
}

int job_start(struct jobs *js, const struct job_spec *spec)
{
	if (js->closing)
		return -ECANCELED;
	bool with_input = spec->input || spec->input_later;
	if ((with_input ? !spec->fn_in : !spec->fn) || !spec->done ||
	    (spec->input && spec->input_later) ||
	    (spec->before && !spec->input_later) || spec->timeout_ms <= 0 ||
	    spec->stall_ms < 0 || spec->max > JOB_RESULT_MAX ||
	    (spec->secret && spec->max > SECRET_MAX) ||
	    (spec->input && spec->input->len > SECRET_MAX))
		return -EINVAL;
	struct job *j = NULL;
	for (int i = 0; i < JOBS_MAX && !j; i++)
		if (js->job[i].state == JOB_FREE)
			j = &js->job[i];
	if (!j)
		return -EAGAIN;
	memset(j, 0, sizeof(*j));
	j->fd = j->in_fd = -1;
	if (spec->input && secret_dup(&j->input, spec->input) < 0)
		return -ENOMEM;
	j->spec = *spec;
	j->spec.input = NULL; /* the owner's: j->input is the job's copy */
	snprintf(j->what, sizeof(j->what), "%s", spec->what ? spec->what : "");
	j->spec.what = j->what;
	j->id = js->next_id++;
	if (js->next_id > INT32_MAX)
		js->next_id = 1;
	j->asked_ms = clock_now_ms();
	j->deadline_ms = j->asked_ms + spec->timeout_ms;
	j->state = JOB_QUEUED;
	/* Not queued behind others (or a full table of stuck children):
	 * its owner hears at once. */
	if (dev_stuck(js, spec->dev))
		end_job(js, j, JOB_NOT_RUN, -EBUSY);
	start_queued(js);
	return (int)j->id;
}

static struct job *find(struct jobs *js, int id)
{
	for (int i = 0; i < JOBS_MAX; i++)
		if (js->job[i].state != JOB_FREE && (int)js->job[i].id == id)
			return &js->job[i];
	return NULL;
}

int job_give_input(struct jobs *js, int id, const struct secret *in)
{
	struct job *j = id > 0 ? find(js, id) : NULL;
	bool open = j && j->spec.input_later &&
		    ((j->state == JOB_QUEUED && !j->input.buf) ||
		     (j->state == JOB_RUNNING && j->waiting));
	if (!open)
		return -ENOENT;
	if (!in || !in->buf || in->len > SECRET_MAX)
		return -EINVAL;
	if (secret_dup(&j->input, in) < 0)
		return -ENOMEM;
	if (j->state == JOB_QUEUED)
		return 0; /* sent as it starts */
	/* Reaped already (it died after the loop last read its pipe): its
	 * pid may be another's now. It ends as one without a result. */
	if (child_slot(js, j->pid) < 0) {
		secret_free(&j->input);
		end_job(js, j, JOB_NO_RESULT, -EPIPE);
		return -ENOENT;
	}
	int fd = j->in_fd;
	j->in_fd = -1;
	j->waiting = false;
	js->running++;
	j->deadline_ms = clock_now_ms() + j->spec.timeout_ms;
	int rc = send_input(j, fd);
	if (rc < 0) {
		end_job(js, j, JOB_NO_RESULT, rc);
		return rc;
	}
	job_child_priority(j->pid);
	return 0;
}

void job_cancel(struct jobs *js, int id)
{
	struct job *j = id > 0 ? find(js, id) : NULL;
	if (!j)
		return;
	if (j->state != JOB_FINISHED)
		end_job(js, j, JOB_CANCELLED, -ECANCELED);
	drop_buffers(j);
	j->state = JOB_FREE;
	start_queued(js);
}

/* The header is complete: where the bytes go. */
static int take_head(struct job *j)
{
	int32_t rc;
	uint32_t len;
	uint32_t cpu_ms;
	memcpy(&rc, j->head, 4);
	memcpy(&len, j->head + 4, 4);
	memcpy(&cpu_ms, j->head + 8, 4);
	if (len > j->spec.max)
		return -EPROTO;
	j->res.rc = rc;
	j->cpu_ms = cpu_ms;
	j->len = len;
	if (j->spec.secret)
		return secret_alloc(&j->secret);
	j->data = malloc(len ? len : 1);
	return j->data ? 0 : -ENOMEM;
}

/* Reads what the pipe holds: 1 once the result is whole, 0 for more to
 * come, -errno if there will be none. */
static int read_some(struct job *j)
{
	for (;;) {
		unsigned char *dst;
		size_t want;
		if (j->head_got < sizeof(j->head)) {
			dst = j->head + j->head_got;
			want = sizeof(j->head) - j->head_got;
		} else if (j->got < j->len) {
			dst = (j->spec.secret ? (unsigned char *)j->secret.buf
					      : j->data) +
			      j->got;
			want = j->len - j->got;
		} else {
			return 1;
		}
		ssize_t n = read(j->fd, dst, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return -EPIPE; /* it ended without its result */
		if (j->head_got < sizeof(j->head)) {
			j->head_got += (size_t)n;
			int rc = j->head_got == sizeof(j->head) ? take_head(j)
								: 0;
			if (rc < 0)
				return rc;
		} else {
			j->got += (size_t)n;
		}
	}
}

static void on_readable(struct jobs *js, struct job *j)
{
	int rc = read_some(j);
	if (rc == 0)
		return;
	if (rc < 0) {
		end_job(js, j, JOB_NO_RESULT, rc);
		return;
	}
	int fn_rc = j->res.rc;
	end_job(js, j, JOB_DONE, fn_rc);
	j->res.len = j->len;
	if (j->spec.secret) {
		j->secret.len = j->len;
		j->res.secret = &j->secret;
	} else {
		j->res.data = j->data;
	}
}

#define STALL_LOOK_MS 1000

/* The child's state letter in /proc/PID/stat ('D': uninterruptible
 * sleep), or 0. */
static char child_state(pid_t pid)
{
	char path[32], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "PID (COMM) S ...": COMM may hold anything, the last ')' ends it. */
	char *end = strrchr(buf, ')');
	if (!end || end[1] != ' ')
		return 0;
	return end[2];
}

/* A job with a stall bound, looked at once a second: true when its child
 * has been seen in D state at every look for stall_ms. */
static bool stalled(struct job *j, long long now)
{
	if (!j->spec.stall_ms || now - j->looked_ms < STALL_LOOK_MS)
		return false;
	j->looked_ms = now;
	if (child_state(j->pid) != 'D') {
		j->stalled_since_ms = 0;
		return false;
	}
	if (!j->stalled_since_ms)
		j->stalled_since_ms = now;
	return now - j->stalled_since_ms >= j->spec.stall_ms;
}

static void end_overdue(struct jobs *js)
{
	long long now = clock_now_ms();
	for (int i = 0; i < JOBS_MAX; i++) {
		struct job *j = &js->job[i];
		if (j->state == JOB_RUNNING &&
		    (now >= j->deadline_ms || stalled(j, now)))
			end_job(js, j, JOB_TIMED_OUT, -ETIMEDOUT);
		else if (j->state == JOB_QUEUED && now >= j->deadline_ms)
			/* Never started: too many children stuck on disks. */
			end_job(js, j, JOB_NOT_RUN, -EAGAIN);
	}
}

/* Hands each ended job to its owner. The slot is free before the call
 * (the owner may ask for another job); the result lives until it
 * returns. */
static void deliver(struct jobs *js)
{
	for (int i = 0; i < JOBS_MAX; i++) {
		struct job *j = &js->job[i];
		if (j->state != JOB_FINISHED)
			continue;
		struct job_result res = j->res;
		struct secret secret = j->secret;
		unsigned char *data = j->data;
		size_t len = j->len;
		job_done_fn done = j->spec.done;
		void *ctx = j->spec.ctx;
		j->secret = (struct secret){0};
		j->data = NULL;
		j->state = JOB_FREE;
		if (res.secret)
			res.secret = &secret;
		done(ctx, &res);
		secret_free(&secret);
		if (data) {
			explicit_bzero(data, len);
			free(data);
		}
	}
}

void jobs_run(struct jobs *js, const struct pollfd *pfd, int n)
{
	for (int k = 0; k < n; k++) {
		if (!pfd[k].revents || pfd[k].fd < 0)
			continue;
		for (int i = 0; i < JOBS_MAX; i++)
			if (js->job[i].state == JOB_RUNNING &&
			    js->job[i].fd == pfd[k].fd)
				on_readable(js, &js->job[i]);
	}
	end_overdue(js);
	start_queued(js);
	deliver(js);
}

void jobs_cancel_all(struct jobs *js)
{
	for (int i = 0; i < JOBS_MAX; i++) {
		struct job *j = &js->job[i];
		if (j->state == JOB_QUEUED || j->state == JOB_RUNNING)
			end_job(js, j, JOB_CANCELLED, -ECANCELED);
	}
	/* An owner told may not start another in its place. */
	js->closing = true;
	deliver(js);
	js->closing = false;
}

int jobs_pollfds(const struct jobs *js, struct pollfd *pfd, int max)
{
	int n = 0;
	for (int i = 0; i < JOBS_MAX && n < max; i++)
		if (js->job[i].state == JOB_RUNNING)
			pfd[n++] = (struct pollfd){.fd = js->job[i].fd,
						   .events = POLLIN};
	return n;
}

int jobs_next_ms(const struct jobs *js)
{
	long long now = clock_now_ms(), next = -1;
	for (int i = 0; i < JOBS_MAX; i++) {
		const struct job *j = &js->job[i];
		if (j->state == JOB_FINISHED)
			return 0;
		if (j->state != JOB_RUNNING && j->state != JOB_QUEUED)
			continue;
		long long left =
			j->deadline_ms > now ? j->deadline_ms - now : 0;
		if (j->state == JOB_RUNNING && j->spec.stall_ms) {
			long long look = j->looked_ms + STALL_LOOK_MS - now;
			left = look < 0 ? 0 : look < left ? look : left;
		}
		if (next < 0 || left < next)
			next = left;
	}
	return (int)next;
}
