#include "loop/loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/reaper.h"

int loop_open(struct loop *l, struct firmware *fw, struct jobs *jobs)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < LOOP_WATCH_MAX; i++)
		l->watch[i].fd = -1;
	l->fw = fw;
	l->jobs = jobs;
	l->uevent_fd = uevent_open();
	l->signal_fd = reaper_open();
	if (l->signal_fd < 0)
		log_warn_errno(l->signal_fd,
			       "cannot watch for exited children");
	return l->uevent_fd < 0 ? l->uevent_fd : 0;
}

void loop_close(struct loop *l)
{
	if (l->uevent_fd >= 0)
		close(l->uevent_fd);
	if (l->signal_fd >= 0)
		close(l->signal_fd);
	l->uevent_fd = l->signal_fd = -1;
}

int loop_watch(struct loop *l, int fd, short events, loop_fd_fn fn, void *ctx)
{
	for (int i = 0; i < LOOP_WATCH_MAX; i++) {
		if (l->watch[i].fd >= 0)
			continue;
		l->watch[i] = (struct loop_watch){fd, events, fn, ctx};
		return 0;
	}
	return -ENOSPC;
}

void loop_unwatch(struct loop *l, int fd)
{
	for (int i = 0; i < LOOP_WATCH_MAX; i++)
		if (l->watch[i].fd == fd)
			l->watch[i].fd = -1;
}

void loop_subscribe_blocks(struct loop *l,
			   void (*on_block)(const struct uevent *, void *),
			   void (*on_rescan)(void *), void *ctx)
{
	l->on_block = on_block;
	l->on_rescan = on_rescan;
	l->block_ctx = ctx;
}

void loop_subscribe_exits(struct loop *l,
			  void (*fn)(void *ctx, pid_t pid, int status),
			  void *ctx)
{
	l->on_exit = fn;
	l->exit_ctx = ctx;
}

void loop_adopt_child(struct loop *l, pid_t pid)
{
	l->child = pid;
	l->child_exited = false;
	l->child_status = 0;
}

static void lost_events(struct loop *l)
{
	log_warn(
		"uevent queue overflowed; looking at devices and firmware requests again");
	if (l->on_rescan)
		l->on_rescan(l->block_ctx);
	firmware_rescan(l->fw);
}

/* A forged uevent means someone in the initramfs tries to steer PID 1:
 * worth a warning, but a flood of them must not flood the consoles, so the
 * first few are named and then only every power of two. */
static void refused_uevent(struct loop *l, bool forged)
{
	unsigned long n = ++l->refused_uevents;
	if (n <= 4 || (n & (n - 1)) == 0)
		log_warn("ignored a uevent %s (%lu so far)",
			 forged ? "that did not come from the kernel"
				: "that was too big",
			 n);
}

static void drain_uevents(struct loop *l)
{
	char buf[UEVENT_MSG_MAX + 1];
	for (;;) {
		ssize_t n = uevent_recv(l->uevent_fd, buf, sizeof(buf));
		if (n == -EAGAIN)
			return;
		if (n == -ENOBUFS) {
			lost_events(l);
			continue;
		}
		if (n == -EPERM || n == -EMSGSIZE) {
			refused_uevent(l, n == -EPERM);
			continue;
		}
		if (n < 0) {
			log_warn_errno((int)n, "reading uevents failed");
			return;
		}
		struct uevent ev;
		if (n == 0 || uevent_parse(&ev, buf, (size_t)n) < 0)
			continue;
		firmware_on_uevent(l->fw, &ev);
		/* A new mapping is looked at on its "change" (resumed, with
		 * its table), not on the "add" before it has one. */
		if (l->on_block && uevent_is_block_add(&ev) &&
		    !uevent_is_dm_created(&ev))
			l->on_block(&ev, l->block_ctx);
	}
}

/* PID 1 reaps every child: its own (the shell, re-probe helpers) and every
 * orphan. Signals coalesce, so one read may stand for many. */
static void reap(struct loop *l)
{
	struct signalfd_siginfo si;
	while (l->signal_fd >= 0 &&
	       read(l->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		firmware_on_child_exit(l->fw, pid, status);
		if (l->jobs)
			jobs_child_exited(l->jobs, pid);
		if (l->on_exit)
			l->on_exit(l->exit_ctx, pid, status);
		if (pid == l->child && !l->child_exited) {
			l->child_exited = true;
			l->child_status = status;
		}
	}
}

static int earliest(int a_ms, int b_ms)
{
	return b_ms >= 0 && (a_ms < 0 || b_ms < a_ms) ? b_ms : a_ms;
}

int loop_wait(struct loop *l, int timeout_ms)
{
	enum { JOBS_AT = 2 + LOOP_WATCH_MAX };
	/* Every running job's pipe: jobs waiting for their input run
	 * beside the JOBS_RUNNING_MAX that work (job_spec.input_later). */
	struct pollfd pfd[JOBS_AT + JOBS_MAX];
	pfd[0] = (struct pollfd){.fd = l->uevent_fd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = l->signal_fd, .events = POLLIN};
	for (int i = 0; i < LOOP_WATCH_MAX; i++)
		pfd[2 + i] = (struct pollfd){.fd = l->watch[i].fd,
					     .events = l->watch[i].events};
	int njobs =
		l->jobs ? jobs_pollfds(l->jobs, pfd + JOBS_AT, JOBS_MAX) : 0;
	timeout_ms = earliest(timeout_ms, firmware_next_timeout(l->fw));
	if (l->jobs)
		timeout_ms = earliest(timeout_ms, jobs_next_ms(l->jobs));
	int rc = poll(pfd, JOBS_AT + njobs, timeout_ms);
	if (rc < 0 && errno != EINTR)
		return -errno;
	if (rc > 0 && (pfd[0].revents & POLLIN))
		drain_uevents(l);
	/* Without a signalfd, look for exited children every round. */
	if ((rc > 0 && (pfd[1].revents & POLLIN)) || l->signal_fd < 0)
		reap(l);
	firmware_tick(l->fw);
	/* After the reaper: a child reaped is never signalled. */
	if (l->jobs)
		jobs_run(l->jobs, pfd + JOBS_AT, rc > 0 ? njobs : 0);
	for (int i = 0; rc > 0 && i < LOOP_WATCH_MAX; i++) {
		/* A callback may unwatch itself or others: check again. */
		struct loop_watch w = l->watch[i];
		if (w.fd >= 0 && w.fd == pfd[2 + i].fd && pfd[2 + i].revents)
			w.fn(w.ctx, pfd[2 + i].revents);
	}
	return 0;
}

void loop_wait_at_most(struct loop *l, int timeout_ms)
{
	if (loop_wait(l, timeout_ms) < 0) {
		/* poll itself failed (no memory): do not spin. */
		struct timespec ts = {timeout_ms / 1000,
				      (timeout_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

void loop_run_until(struct loop *l, long long deadline_ms,
		    bool (*done)(void *ctx), void *ctx)
{
	for (;;) {
		if (done && done(ctx))
			return;
		long long left = deadline_ms - clock_now_ms();
		if (left <= 0)
			return;
		loop_wait_at_most(l, left > 100 ? 100 : (int)left);
	}
}
