#include "loop/job.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

#define CHILD_MAX (JOBS_RUNNING_MAX + JOBS_STUCK_MAX)

void jobs_init(struct jobs *js)
{
	memset(js, 0, sizeof(*js));
	for (int i = 0; i < JOBS_MAX; i++)
		js->job[i].fd = -1;
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
		if (end != JOB_DONE && rc != -EPIPE)
			kill_child(js, j->pid, end == JOB_TIMED_OUT);
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

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The child's input, read into locked memory of its own (in->buf, whose
 * mapping is SECRET_MAX + 1 bytes). 0 or -errno. */
static int read_input(int fd, struct secret *in)
{
	uint32_t len = 0;
	size_t got = 0;
	in->buf = mmap(NULL, SECRET_MAX + 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (in->buf == MAP_FAILED || mlock(in->buf, SECRET_MAX + 1) < 0) {
		in->buf = NULL;
		return -ENOMEM;
	}
	while (got < sizeof(len) + len) {
		char *dst = got < sizeof(len) ? (char *)&len + got
					      : in->buf + got - sizeof(len);
		size_t want = got < sizeof(len) ? sizeof(len) - got
						: sizeof(len) + len - got;
		ssize_t n = read(fd, dst, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len > SECRET_MAX)
			return -EPIPE;
		got += (size_t)n;
	}
	in->len = len;
	return 0;
}

/* What the child has run on a CPU so far (user and system). */
static uint32_t child_cpu_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* What a job does before its input comes (job_spec.before) only uses a
 * CPU nothing else wants: the input is being made meanwhile (a KDF), and
 * must not wait for it. */
static void work_before_input(const struct job_spec *spec)
{
	struct sched_param none = {0};
	(void)sched_setscheduler(0, SCHED_IDLE, &none);
	if (spec->before)
		spec->before(spec->arg);
}

/* The input is here: the child works as any job does. */
static void back_to_job_priority(void)
{
	struct sched_param none = {0};
	(void)sched_setscheduler(0, SCHED_OTHER, &none);
	(void)setpriority(PRIO_PROCESS, 0, JOB_NICE);
}

/* The child's work: the result in a buffer of its own (locked for a
 * secret), sent, and wiped (with its input) before _exit. */
static void run_child(const struct job_spec *spec, int wfd, int infd)
{
	size_t map = spec->max ? spec->max : 1;
	unsigned char *buf = mmap(NULL, map, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t len = 0;
	int32_t rc = -ENOMEM;
	struct secret in = {0};
	if (spec->input_later)
		work_before_input(spec);
	if (buf == MAP_FAILED || (spec->secret && mlock(buf, map) < 0)) {
		buf = NULL;
	} else if (infd >= 0 && (rc = read_input(infd, &in)) < 0) {
		; /* rc says why */
	} else {
		if (spec->input_later)
			back_to_job_priority();
		rc = infd >= 0 ? spec->fn_in(spec->arg, in.buf, in.len, buf,
					     spec->max, &len)
			       : spec->fn(spec->arg, buf, spec->max, &len);
		if (len > spec->max)
			len = spec->max;
	}
	if (in.buf)
		explicit_bzero(in.buf, SECRET_MAX + 1);
	uint32_t len32 = (uint32_t)len;
	uint32_t cpu_ms = child_cpu_ms();
	unsigned char head[JOB_HEAD_LEN];
	memcpy(head, &rc, 4);
	memcpy(head + 4, &len32, 4);
	memcpy(head + 8, &cpu_ms, 4);
	if (write_all(wfd, head, sizeof(head)) == 0 && len)
		write_all(wfd, buf, len);
	/* A secret may sit anywhere in its buffer, even on failure. */
	if (buf)
		explicit_bzero(buf, spec->secret ? map : len);
	_exit(0);
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
		if (js->job[i].fd >= 0)
			close(js->job[i].fd);
		/* Another child waiting for its input sees the loop let go. */
		if (js->job[i].in_fd >= 0)
			close(js->job[i].in_fd);
	}
	run_child(&j->spec, wfd, infd);
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		/* A child gone must not raise SIGPIPE in whoever sends. */
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
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
	if (in[1] >= 0 && j->input.buf)
		(void)send_input(j, in[1]);
	else if (in[1] >= 0) {
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
	    (spec->input && spec->input_later) || spec->timeout_ms <= 0 ||
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
	int fd = j->in_fd;
	j->in_fd = -1;
	j->waiting = false;
	js->running++;
	j->deadline_ms = clock_now_ms() + j->spec.timeout_ms;
	int rc = send_input(j, fd);
	if (rc < 0)
		end_job(js, j, JOB_NO_RESULT, rc);
	return rc;
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

/* Reads exactly n bytes before deadline_ms: 0, -ETIMEDOUT, -EPIPE (the
 * child ended first) or -errno. */
static int read_by(int fd, void *buf, size_t n, long long deadline_ms)
{
	size_t got = 0;
	while (got < n) {
		long long left = deadline_ms - clock_now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0)
			return -ETIMEDOUT;
		int rc = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

static void kill_by_pidfd(int pidfd, pid_t pid)
{
	if (pidfd < 0 ||
	    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
		kill(pid, SIGKILL); /* no pidfd (before Linux 5.3) */
}

/* The frame: rc, length and CPU time, then the bytes. */
static int read_frame(int fd, void *buf, size_t max, long long deadline_ms,
		      struct job_result *ret)
{
	unsigned char head[JOB_HEAD_LEN];
	int rc = read_by(fd, head, sizeof(head), deadline_ms);
	if (rc < 0)
		return rc;
	int32_t fn_rc;
	uint32_t len, cpu_ms;
	memcpy(&fn_rc, head, 4);
	memcpy(&len, head + 4, 4);
	memcpy(&cpu_ms, head + 8, 4);
	if (len > max)
		return -EPROTO;
	rc = read_by(fd, buf, len, deadline_ms);
	if (rc < 0)
		return rc;
	ret->rc = fn_rc;
	ret->len = len;
	ret->cpu_ms = cpu_ms;
	return 0;
}

void job_run_here(const struct job_spec *spec, void *buf,
		  struct job_result *ret)
{
	*ret = (struct job_result){
		.end = JOB_NOT_RUN, .rc = -EINVAL, .cpu_ms = -1};
	if (!spec->fn || spec->secret || spec->input || spec->timeout_ms <= 0 ||
	    spec->max > JOB_RESULT_MAX)
		return;
	long long t0 = clock_now_ms();
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		ret->rc = -errno;
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* Asked for from a job's child, it dies with that child (killed
		 * at its own deadline): nothing of it outlives the bound. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		run_child(spec, p[1], -1);
	}
	ret->rc = -errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return;
	}
	/* Before the loop's reaper can have collected it: its pid is ours. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int rc = read_frame(p[0], buf, spec->max, t0 + spec->timeout_ms, ret);
	if (rc == -ETIMEDOUT)
		kill_by_pidfd(pidfd, pid);
	if (pidfd >= 0)
		close(pidfd);
	close(p[0]);
	ret->end = rc == 0	      ? JOB_DONE
		   : rc == -ETIMEDOUT ? JOB_TIMED_OUT
				      : JOB_NO_RESULT;
	if (rc < 0)
		ret->rc = rc;
	ret->data = rc == 0 ? buf : NULL;
	ret->ran_ms = clock_now_ms() - t0;
}
