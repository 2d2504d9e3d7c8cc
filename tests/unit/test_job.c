/* The job mechanism (init/loop/job.h): real children, a small stand-in
 * for the loop (poll the pipes, reap, run). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "check.h"
#include "jobserve.h"
#include "loop/job.h"

struct outcome {
	int calls;
	struct job_result res;
	unsigned char data[64];
	size_t len;
	bool data_ok; /* the large pattern arrived whole */
	struct secret secret;
};

static void record(void *ctx, const struct job_result *res)
{
	struct outcome *o = ctx;
	o->calls++;
	o->res = *res;
	o->len = res->len;
	if (res->data && res->len <= sizeof(o->data))
		memcpy(o->data, res->data, res->len);
	if (res->data && res->len > sizeof(o->data)) {
		const unsigned char *p = res->data;
		o->data_ok = true;
		for (size_t i = 0; i < res->len; i++)
			o->data_ok &= p[i] == (unsigned char)(i * 7);
	}
	if (res->secret) { /* taken: the callback owns it now */
		o->secret = *res->secret;
		res->secret->buf = NULL;
		res->secret->len = 0;
	}
}

static void reap_all(struct jobs *js)
{
	pid_t pid;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		jobs_child_exited(js, pid);
}

/* One pass of a loop that only serves jobs. */
static void pass(struct jobs *js)
{
	jobs_serve_once(js, true);
}

/* Runs until no job is pending, or timeout_ms passed. */
static void serve(struct jobs *js, int timeout_ms)
{
	long long end = clock_now_ms() + timeout_ms;
	while (jobs_pending(js) && clock_now_ms() < end)
		pass(js);
}

/* Children may exit a moment after their result is in. */
static void settle(struct jobs *js)
{
	long long end = clock_now_ms() + 3000;
	while (jobs_children(js) && clock_now_ms() < end) {
		reap_all(js);
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int hello(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)arg;
	const char msg[] = "hello";
	if (max < sizeof(msg))
		return -EFBIG;
	memcpy(buf, msg, sizeof(msg));
	*ret_len = sizeof(msg);
	return 7;
}

static struct job_spec spec_of(job_fn fn, void *arg, size_t max, int ms,
			       struct outcome *o)
{
	return (struct job_spec){.what = "test",
				 .fn = fn,
				 .arg = arg,
				 .max = max,
				 .timeout_ms = ms,
				 .done = record,
				 .ctx = o};
}

static void job_result_delivered(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(hello, NULL, 64, 5000, &o);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(o.calls == 1);
	CHECK(o.res.end == JOB_DONE);
	CHECK(o.res.rc == 7);
	CHECK(o.len == 6);
	CHECK_STR((const char *)o.data, "hello");
	settle(&js);
	CHECK(jobs_children(&js) == 0);
}

/* 150 ms on a CPU, then 150 ms asleep. */
static int burner(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)arg, (void)buf, (void)max, (void)ret_len;
	struct timespec ts;
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < 150);
	usleep(150 * 1000);
	return 0;
}

static int sleeper(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)arg, (void)buf, (void)max, (void)ret_len;
	sleep(30);
	return 0;
}

static void job_deadline_kills_sleeper(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(sleeper, NULL, 16, 200, &o);
	long long t0 = clock_now_ms();
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	long long took = clock_now_ms() - t0;
	CHECK(o.calls == 1);
	CHECK(o.res.end == JOB_TIMED_OUT);
	CHECK(o.res.rc == -ETIMEDOUT);
	CHECK(took >= 200 && took < 2000);
	/* Killed: the reaper collects it at once, nothing waited for it. */
	settle(&js);
	CHECK(jobs_children(&js) == 0);
}

/* The child says how much CPU it used: what it ran, not how long it
 * took; a job that ends without a result has no such figure. */
static void job_result_says_its_cpu_time(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(burner, NULL, 16, 5000, &o);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(o.res.end == JOB_DONE);
	/* Its sleep is in its span, not in its CPU time. */
	CHECK(o.res.cpu_ms >= 150);
	CHECK(o.res.cpu_ms + 100 <= o.res.ran_ms);
	settle(&js);
	struct outcome t = {0};
	s = spec_of(sleeper, NULL, 16, 200, &t);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(t.res.end == JOB_TIMED_OUT && t.res.cpu_ms == -1);
	settle(&js);
}

static int dies(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)arg, (void)buf, (void)max, (void)ret_len;
	_exit(3);
}

static void job_exit_without_result_fails(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(dies, NULL, 16, 5000, &o);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(o.calls == 1);
	CHECK(o.res.end == JOB_NO_RESULT);
	CHECK(o.res.rc < 0);
	settle(&js);
}

/* What the sweep after a rescue shell does to a job (kill(-1, SIGKILL),
 * here aimed at the one child): the job ends at once as JOB_NO_RESULT,
 * long before its deadline, nothing hangs, and the next job runs. */
static void job_killed_from_outside_ends_and_next_runs(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(sleeper, NULL, 16, 20000, &o);
	long long t0 = clock_now_ms();
	CHECK(job_start(&js, &s) > 0);
	CHECK(jobs_children(&js) == 1);
	if (jobs_children(&js) == 1)
		kill(js.child[0], SIGKILL);
	serve(&js, 5000);
	CHECK(o.calls == 1);
	CHECK(o.res.end == JOB_NO_RESULT);
	CHECK(clock_now_ms() - t0 < 5000);
	settle(&js);
	CHECK(jobs_children(&js) == 0);
	struct outcome again = {0};
	s = spec_of(hello, NULL, 64, 5000, &again);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(again.calls == 1 && again.res.end == JOB_DONE);
	settle(&js);
}

#define LARGE ((size_t)512 * 1024) /* eight times a pipe's buffer */

static int large(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)arg;
	unsigned char *p = buf;
	for (size_t i = 0; i < max; i++)
		p[i] = (unsigned char)(i * 7);
	*ret_len = max;
	return 0;
}

static void job_large_result(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(large, NULL, LARGE, 10000, &o);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 10000);
	CHECK(o.calls == 1);
	CHECK(o.res.end == JOB_DONE);
	CHECK(o.len == LARGE);
	CHECK(o.data_ok);
	settle(&js);
}

static int secret_fn(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)arg;
	memset(buf, 'k', max);
	*ret_len = 32;
	return 0;
}

static void job_secret_result_in_locked_memory(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(secret_fn, NULL, SECRET_MAX, 5000, &o);
	s.secret = true;
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(o.calls == 1);
	CHECK(o.res.end == JOB_DONE);
	CHECK(o.res.data == NULL);
	CHECK(o.secret.buf && o.secret.len == 32);
	CHECK(o.secret.buf && o.secret.buf[0] == 'k' &&
	      o.secret.buf[31] == 'k');
	secret_free(&o.secret);
	/* Too large for a secret buffer: refused. */
	s.max = SECRET_MAX + 1;
	CHECK(job_start(&js, &s) == -EINVAL);
	settle(&js);
}

/* In the child: 0 if the parent's secret is mapped here, else -errno. */
static int sees_secret(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)buf, (void)max, (void)ret_len;
	unsigned char vec[1];
	long page = sysconf(_SC_PAGESIZE);
	return mincore(arg, (size_t)page, vec) < 0 ? -errno : 0;
}

static void job_child_never_sees_secrets(void)
{
	struct jobs js;
	jobs_init(&js);
	struct secret sec = {0};
	CHECK(secret_alloc(&sec) == 0);
	if (!sec.buf)
		return;
	memset(sec.buf, 's', 16);
	struct outcome o = {0};
	struct job_spec s = spec_of(sees_secret, sec.buf, 0, 5000, &o);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(o.res.end == JOB_DONE && o.res.rc == -ENOMEM);
	secret_free(&sec);
	settle(&js);
}

/* In the child: the input it was sent (locked memory), reversed. */
static int reverse_input(void *arg, const void *in, size_t in_len, void *buf,
			 size_t max, size_t *ret_len)
{
	(void)arg;
	unsigned char vec[1];
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t at = (uintptr_t)in & ~((uintptr_t)page - 1);
	if (in_len > max || mincore((void *)at, (size_t)page, vec) < 0)
		return -EINVAL;
	for (size_t i = 0; i < in_len; i++)
		((char *)buf)[i] = ((const char *)in)[in_len - 1 - i];
	*ret_len = in_len;
	return (int)in_len;
}

static void job_input_reaches_the_child(void)
{
	struct jobs js;
	jobs_init(&js);
	struct secret key = {0};
	CHECK(secret_alloc(&key) == 0);
	if (!key.buf)
		return;
	memcpy(key.buf, "passphrase", 10);
	key.len = 10;
	struct outcome o = {0};
	struct job_spec s = spec_of(NULL, NULL, SECRET_MAX, 5000, &o);
	s.input = &key;
	s.fn_in = reverse_input;
	s.secret = true;
	CHECK(job_start(&js, &s) > 0);
	/* The job has its own copy: the owner may wipe its own at once. */
	secret_free(&key);
	serve(&js, 5000);
	CHECK(o.res.end == JOB_DONE && o.res.rc == 10);
	CHECK(o.secret.buf && o.secret.len == 10 &&
	      memcmp(o.secret.buf, "esarhpssap", 10) == 0);
	secret_free(&o.secret);
	/* An input without its function: refused. */
	s.fn_in = NULL;
	s.input = &o.secret;
	CHECK(job_start(&js, &s) == -EINVAL);
	settle(&js);
}

/* In the child of a job whose input comes later: marks, in memory shared
 * with the test, that it ran before that input. */
static void mark_before(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
}

/* "ready" if mark_before ran in this same child, then the input. */
static int after_before(void *arg, const void *in, size_t in_len, void *buf,
			size_t max, size_t *ret_len)
{
	bool ready = atomic_load((atomic_int *)arg) == 1;
	if (in_len + 5 > max)
		return -EFBIG;
	memcpy(buf, ready ? "ready" : "never", 5);
	memcpy((char *)buf + 5, in, in_len);
	*ret_len = 5 + in_len;
	return 0;
}

static struct job_spec later_spec(atomic_int *flag, int ms, struct outcome *o)
{
	struct job_spec s = spec_of(NULL, flag, 64, ms, o);
	s.fn_in = after_before;
	s.before = mark_before;
	s.input_later = true;
	return s;
}

/* The child of job id, while it runs. */
static pid_t pid_of(const struct jobs *js, int id)
{
	for (int i = 0; i < JOBS_MAX; i++)
		if (js->job[i].state == JOB_RUNNING && (int)js->job[i].id == id)
			return js->job[i].pid;
	return -1;
}

static bool key_of(struct secret *key, const char *text)
{
	if (secret_alloc(key) < 0)
		return false;
	key->len = strlen(text);
	memcpy(key->buf, text, key->len);
	return true;
}

static void job_input_given_later(void)
{
	struct jobs js;
	jobs_init(&js);
	atomic_int *flag = mmap(NULL, sizeof(*flag), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct secret key = {0};
	CHECK(flag != MAP_FAILED && key_of(&key, "key"));
	if (flag == MAP_FAILED || !key.buf)
		return;
	atomic_init(flag, 0);
	struct outcome o = {0};
	struct job_spec s = later_spec(flag, 5000, &o);
	int id = job_start(&js, &s);
	CHECK(id > 0);
	long long end = clock_now_ms() + 3000;
	while (!atomic_load(flag) && clock_now_ms() < end)
		pass(&js);
	/* The work before ran; the job waits for its input, apart from the
	 * bound: as many other jobs as the bound allows start at once. */
	CHECK(atomic_load(flag) == 1 && o.calls == 0);
	/* It did that work on a CPU nothing else wanted. */
	pid_t pid = pid_of(&js, id);
	CHECK(pid > 0 && sched_getscheduler(pid) == SCHED_IDLE);
	struct outcome others[JOBS_RUNNING_MAX];
	memset(others, 0, sizeof(others));
	for (int i = 0; i < JOBS_RUNNING_MAX; i++) {
		struct job_spec h = spec_of(hello, NULL, 16, 5000, &others[i]);
		CHECK(job_start(&js, &h) > 0);
	}
	CHECK(jobs_children(&js) == JOBS_RUNNING_MAX + 1);
	CHECK(job_give_input(&js, id, &key) == 0);
	/* With its input it works as any job. */
	CHECK(sched_getscheduler(pid) == SCHED_OTHER);
	CHECK(job_give_input(&js, id, &key) == -ENOENT); /* once */
	secret_free(&key); /* the job has its copy */
	serve(&js, 5000);
	CHECK(o.calls == 1 && o.res.end == JOB_DONE && o.len == 8 &&
	      memcmp(o.data, "readykey", 8) == 0);
	for (int i = 0; i < JOBS_RUNNING_MAX; i++)
		CHECK(others[i].calls == 1 && others[i].res.end == JOB_DONE);
	/* An input now and an input later: refused; work before an input
	 * that comes now, too. */
	CHECK(key_of(&key, "x"));
	s.input = &key;
	CHECK(job_start(&js, &s) == -EINVAL);
	s.input_later = false;
	CHECK(job_start(&js, &s) == -EINVAL);
	secret_free(&key);
	settle(&js);
	munmap(flag, sizeof(*flag));
}

/* More jobs wait for their input than the bound lets work: a job that
 * works beside them is still read as soon as it is done, not at its
 * deadline (the loop polls every running job's pipe). */
static void job_read_beside_many_waiting(void)
{
	struct jobs js;
	jobs_init(&js);
	atomic_int flag;
	atomic_init(&flag, 0);
	enum { WAITING = JOBS_RUNNING_MAX + 2 };
	struct outcome w[WAITING], o = {0};
	memset(w, 0, sizeof(w));
	for (int i = 0; i < WAITING; i++) {
		struct job_spec s = later_spec(&flag, 60000, &w[i]);
		CHECK(job_start(&js, &s) > 0);
	}
	struct job_spec h = spec_of(hello, NULL, 16, 20000, &o);
	CHECK(job_start(&js, &h) > 0);
	long long end = clock_now_ms() + 5000;
	while (!o.calls && clock_now_ms() < end)
		pass(&js);
	CHECK(o.calls == 1 && o.res.end == JOB_DONE && o.res.ran_ms < 5000);
	jobs_cancel_all(&js);
	for (int i = 0; i < WAITING; i++)
		CHECK(w[i].calls == 1 && w[i].res.end == JOB_CANCELLED);
	settle(&js);
	CHECK(jobs_children(&js) == 0);
}

static void job_waiting_for_input_ends_like_any(void)
{
	struct jobs js;
	jobs_init(&js);
	atomic_int flag;
	atomic_init(&flag, 0);
	struct outcome a = {0}, b = {0}, c = {0};
	/* Cancelled by its owner: not told, its child gone. */
	struct job_spec s = later_spec(&flag, 60000, &a);
	int id = job_start(&js, &s);
	CHECK(id > 0);
	job_cancel(&js, id);
	struct secret key = {0};
	CHECK(key_of(&key, "key"));
	CHECK(job_give_input(&js, id, &key) == -ENOENT);
	/* Never given its input: its deadline ends it. */
	s = later_spec(&flag, 300, &b);
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 3000);
	CHECK(a.calls == 0);
	CHECK(b.calls == 1 && b.res.end == JOB_TIMED_OUT);
	/* The hand-over ends it too. */
	s = later_spec(&flag, 60000, &c);
	CHECK(job_start(&js, &s) > 0);
	jobs_cancel_all(&js);
	CHECK(c.calls == 1 && c.res.end == JOB_CANCELLED);
	secret_free(&key);
	settle(&js);
	CHECK(jobs_children(&js) == 0);
}

/* In the child: sleeps uninterruptibly, as in a disk that does not
 * answer (vfork: the parent waits in D state for the grandchild). */
static int in_d_state(void *arg, void *buf, size_t max, size_t *ret_len)
{
	(void)arg, (void)buf, (void)max, (void)ret_len;
	if (vfork() == 0) {
		/* Not holding the test's output open for its 30 s (a runner
		 * reading it through a pipe would wait for them). */
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
		sleep(30);
		_exit(0);
	}
	return 0;
}

static void job_stall_ends_a_child_stuck_in_d_state(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome o = {0};
	struct job_spec s = spec_of(in_d_state, NULL, 0, 20000, &o);
	s.stall_ms = 1500;
	long long t0 = clock_now_ms();
	/* Valgrind runs vfork as fork: no D state to see there (the ASan
	 * run of the same test checks it). */
	if (!getenv("LUKSINIT_UNIT_UNDER_VALGRIND")) {
		CHECK(job_start(&js, &s) > 0);
		serve(&js, 20000);
		long long took = clock_now_ms() - t0;
		CHECK(o.res.end == JOB_TIMED_OUT);
		CHECK(took >= 1500 && took < 8000);
	} else {
		printf("  (under valgrind: the D-state part is the ASan run's)\n");
	}
	/* A child that works (sleeps interruptibly) is no stall. */
	o = (struct outcome){0};
	s = spec_of(hello, NULL, 64, 5000, &o);
	s.stall_ms = 1000;
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(o.res.end == JOB_DONE);
}

/* A loop that never reaps: a killed child stays "killed, not yet
 * exited", as one in uninterruptible sleep on a disk does. */
static void serve_unreaped(struct jobs *js, int timeout_ms)
{
	long long end = clock_now_ms() + timeout_ms;
	while (jobs_pending(js) && clock_now_ms() < end)
		jobs_serve_once(js, false);
}

/* A retry on a disk that never answers: while the child killed on it
 * has not exited, a job on that device ends at once (no second bound, no
 * second stuck child), another device's job runs, and once the stuck
 * one is gone the device's jobs start again. */
static void job_same_device_ends_at_once_while_one_is_stuck(void)
{
	struct jobs js;
	jobs_init(&js);
	dev_t hung = makedev(8, 0), other = makedev(8, 16);
	struct outcome o = {0};
	struct job_spec s = spec_of(sleeper, NULL, 16, 200, &o);
	s.dev = hung;
	CHECK(job_start(&js, &s) > 0);
	serve_unreaped(&js, 5000);
	CHECK(o.res.end == JOB_TIMED_OUT);
	CHECK(jobs_children(&js) == 1); /* killed, not reaped */
	for (int i = 0; i < 3; i++) {
		o = (struct outcome){0};
		s = spec_of(sleeper, NULL, 16, 5000, &o);
		s.dev = hung;
		long long t0 = clock_now_ms();
		CHECK(job_start(&js, &s) > 0);
		serve_unreaped(&js, 5000);
		CHECK(o.calls == 1);
		CHECK(o.res.end == JOB_NOT_RUN && o.res.rc == -EBUSY);
		CHECK(clock_now_ms() - t0 < 1000);
	}
	CHECK(jobs_children(&js) == 1); /* no child more for the retries */
	o = (struct outcome){0};
	s = spec_of(hello, NULL, 64, 5000, &o);
	s.dev = other;
	CHECK(job_start(&js, &s) > 0);
	serve_unreaped(&js, 5000);
	CHECK(o.res.end == JOB_DONE && o.res.rc == 7);
	o = (struct outcome){0};
	s.dev = 0; /* no device named: never held */
	CHECK(job_start(&js, &s) > 0);
	serve_unreaped(&js, 5000);
	CHECK(o.res.end == JOB_DONE && o.res.rc == 7);
	settle(&js); /* the stuck one exits: jobs_child_exited */
	CHECK(jobs_children(&js) == 0);
	o = (struct outcome){0};
	s.dev = hung;
	CHECK(job_start(&js, &s) > 0);
	serve(&js, 5000);
	CHECK(o.res.end == JOB_DONE && o.res.rc == 7);
	settle(&js);
}

/* A child killed because its owner no longer wanted it (a phase ended)
 * says nothing of the disk: a new job on that device runs, though the
 * child is not reaped yet; one that timed out is named hung. */
static void job_cancelled_child_does_not_hold_its_device(void)
{
	struct jobs js;
	jobs_init(&js);
	dev_t dev = makedev(8, 32);
	struct outcome o = {0};
	struct job_spec s = spec_of(sleeper, NULL, 16, 5000, &o);
	s.dev = dev;
	int id = job_start(&js, &s);
	CHECK(id > 0);
	job_cancel(&js, id);
	CHECK(jobs_children(&js) == 1); /* killed, not reaped */
	s = spec_of(hello, NULL, 64, 5000, &o);
	s.dev = dev;
	CHECK(job_start(&js, &s) > 0);
	serve_unreaped(&js, 5000);
	CHECK(o.res.end == JOB_DONE && o.res.rc == 7);
	CHECK(!jobs_child_hung(&js, o.res.pid));
	o = (struct outcome){0};
	s = spec_of(sleeper, NULL, 16, 200, &o);
	CHECK(job_start(&js, &s) > 0);
	serve_unreaped(&js, 5000);
	CHECK(o.res.end == JOB_TIMED_OUT && o.res.pid > 0);
	CHECK(jobs_child_hung(&js, o.res.pid));
	settle(&js);
	CHECK(!jobs_child_hung(&js, o.res.pid)); /* reaped */
}

/* A job already queued (no room) when its device's child got stuck
 * ends at once too, not at its deadline. */
static void job_queued_on_a_stuck_device_ends_when_its_turn_comes(void)
{
	struct jobs js;
	jobs_init(&js);
	dev_t hung = makedev(8, 0);
	struct outcome first = {0}, busy[JOBS_RUNNING_MAX], late = {0};
	memset(busy, 0, sizeof(busy));
	struct job_spec s = spec_of(sleeper, NULL, 16, 200, &first);
	s.dev = hung;
	CHECK(job_start(&js, &s) > 0);
	for (int i = 1; i < JOBS_RUNNING_MAX; i++) {
		s = spec_of(sleeper, NULL, 16, 300, &busy[i]);
		CHECK(job_start(&js, &s) > 0);
	}
	s = spec_of(hello, NULL, 64, 20000, &late);
	s.dev = hung;
	long long t0 = clock_now_ms();
	CHECK(job_start(&js, &s) > 0); /* queued: all run */
	serve_unreaped(&js, 5000);
	CHECK(first.res.end == JOB_TIMED_OUT);
	CHECK(late.calls == 1);
	CHECK(late.res.end == JOB_NOT_RUN && late.res.rc == -EBUSY);
	CHECK(clock_now_ms() - t0 < 2000);
	settle(&js);
	CHECK(jobs_children(&js) == 0);
}

/* The number job_spec.dev takes: a block device's, else 0. */
static void job_device_of_a_node(void)
{
	CHECK(job_device("/nonexistent/luksinit-test") == 0);
	CHECK(job_device("/dev/null") == 0); /* not a block device */
	CHECK(job_device(NULL) == 0);
}

/* Shared with the children: how many run at once, and the most seen. */
struct gauge {
	atomic_int now, most;
};

static int busy(void *arg, void *buf, size_t max, size_t *ret_len)
{
	struct gauge *g = arg;
	int n = atomic_fetch_add(&g->now, 1) + 1;
	int most = atomic_load(&g->most);
	while (n > most && !atomic_compare_exchange_weak(&g->most, &most, n))
		;
	struct timespec ts = {0, 150 * 1000000L};
	nanosleep(&ts, NULL);
	atomic_fetch_sub(&g->now, 1);
	(void)buf, (void)max;
	*ret_len = 0;
	return 0;
}

static void job_concurrency_bound(void)
{
	struct jobs js;
	jobs_init(&js);
	struct gauge *g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(g != MAP_FAILED);
	if (g == MAP_FAILED)
		return;
	atomic_init(&g->now, 0);
	atomic_init(&g->most, 0);
	enum { N = JOBS_RUNNING_MAX * 2 + 3 };
	struct outcome o[N];
	memset(o, 0, sizeof(o));
	for (int i = 0; i < N; i++) {
		struct job_spec s = spec_of(busy, g, 0, 10000, &o[i]);
		CHECK(job_start(&js, &s) > 0);
	}
	CHECK(jobs_pending(&js) == N);
	serve(&js, 15000);
	int done = 0;
	for (int i = 0; i < N; i++)
		done += o[i].calls == 1 && o[i].res.end == JOB_DONE;
	CHECK(done == N);
	CHECK(atomic_load(&g->most) <= JOBS_RUNNING_MAX);
	CHECK(atomic_load(&g->most) >= 2); /* they did run side by side */
	settle(&js);
	munmap(g, sizeof(*g));
}

static void job_cancel_and_cancel_all(void)
{
	struct jobs js;
	jobs_init(&js);
	struct outcome a = {0}, b = {0};
	struct job_spec s = spec_of(sleeper, NULL, 16, 60000, &a);
	int id = job_start(&js, &s);
	CHECK(id > 0);
	s.ctx = &b;
	CHECK(job_start(&js, &s) > 0);
	job_cancel(&js, id);
	CHECK(jobs_pending(&js) == 1);
	jobs_cancel_all(&js);
	CHECK(a.calls == 0); /* cancelled by its owner: not told */
	CHECK(b.calls == 1 && b.res.end == JOB_CANCELLED);
	CHECK(jobs_pending(&js) == 0);
	settle(&js); /* both were killed */
	CHECK(jobs_children(&js) == 0);
}

static struct jobs *restart_jobs;
static int restart_rc;

static void restart(void *ctx, const struct job_result *res)
{
	(void)res;
	struct job_spec s = spec_of(sleeper, NULL, 16, 60000, ctx);
	restart_rc = job_start(restart_jobs, &s);
}

static void job_no_new_job_while_all_are_cancelled(void)
{
	struct jobs js;
	jobs_init(&js);
	restart_jobs = &js;
	struct outcome o = {0};
	struct job_spec s = spec_of(sleeper, NULL, 16, 60000, &o);
	s.done = restart;
	CHECK(job_start(&js, &s) > 0);
	jobs_cancel_all(&js);
	CHECK(restart_rc == -ECANCELED);
	CHECK(jobs_pending(&js) == 0);
	settle(&js);
	CHECK(jobs_children(&js) == 0);
}

/* The blocking form, for a worker thread: a result, and a deadline. */
static void job_run_here_result_and_deadline(void)
{
	char buf[16] = "";
	struct job_result r;
	struct job_spec s = spec_of(hello, NULL, sizeof(buf), 5000, NULL);
	job_run_here(&s, buf, &r);
	CHECK(r.end == JOB_DONE && r.rc == 7 && r.len == 6);
	CHECK_STR(buf, "hello");
	s = spec_of(sleeper, NULL, sizeof(buf), 200, NULL);
	long long t0 = clock_now_ms();
	job_run_here(&s, buf, &r);
	CHECK(r.end == JOB_TIMED_OUT && r.rc == -ETIMEDOUT);
	CHECK(clock_now_ms() - t0 < 2000);
	s = spec_of(dies, NULL, sizeof(buf), 5000, NULL);
	job_run_here(&s, buf, &r);
	CHECK(r.end == JOB_NO_RESULT);
	/* All three were reaped: the sleeper was killed. */
	long long end = clock_now_ms() + 3000;
	int reaped = 0;
	while (reaped < 3 && clock_now_ms() < end) {
		reaped += waitpid(-1, NULL, WNOHANG) > 0;
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
	CHECK(reaped == 3);
}

void job_tests(void)
{
	RUN(job_result_delivered);
	RUN(job_deadline_kills_sleeper);
	RUN(job_result_says_its_cpu_time);
	RUN(job_exit_without_result_fails);
	RUN(job_killed_from_outside_ends_and_next_runs);
	RUN(job_large_result);
	RUN(job_secret_result_in_locked_memory);
	RUN(job_child_never_sees_secrets);
	RUN(job_input_reaches_the_child);
	RUN(job_input_given_later);
	RUN(job_waiting_for_input_ends_like_any);
	RUN(job_read_beside_many_waiting);
	RUN(job_stall_ends_a_child_stuck_in_d_state);
	RUN(job_concurrency_bound);
	RUN(job_cancel_and_cancel_all);
	RUN(job_no_new_job_while_all_are_cancelled);
	RUN(job_run_here_result_and_deadline);
	RUN(job_same_device_ends_at_once_while_one_is_stuck);
	RUN(job_queued_on_a_stuck_device_ends_when_its_turn_comes);
	RUN(job_cancelled_child_does_not_hold_its_device);
	RUN(job_device_of_a_node);
}
