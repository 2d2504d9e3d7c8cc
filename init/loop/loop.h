/* The one event loop of /init's life, from the first millisecond to the
 * exec of the real init. It always serves what must never wait for a phase:
 * the kernel's firmware requests, PID 1's children and its jobs (job.h:
 * work that can block in a disk, in child processes). A phase (device
 * wait, emergency prompt, rescue shell, hand-over) adds what it waits for:
 * block-device events, a console, a worker's notification fd, a child. */
#ifndef LUKSINIT_LOOP_H
#define LUKSINIT_LOOP_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/log.h"
#include "base/uevent.h"
#include "firmware/firmware.h"
#include "loop/job.h"

/* The consoles a phase asks on (console/consoles.h): carried for the
 * loop's clients, never used by the loop itself. */
struct consoles;

/* A phase's few, every console, and SSH unlock's: its socket, its
 * sessions (remote/session.h) and the network's news. */
#define LOOP_WATCH_MAX (4 + LOG_CONSOLES_MAX + 8)

typedef void (*loop_fd_fn)(void *ctx, short revents);

struct loop_watch {
	int fd;
	short events;
	loop_fd_fn fn;
	void *ctx;
};

struct loop {
	int uevent_fd;
	int signal_fd; /* SIGCHLD */
	struct firmware *fw;
	/* Not the loop's own: it outlives a close and reopen around the
	 * exec, as the children it tracks do. */
	struct jobs *jobs;
	/* Where the person is: every prompt asks on all of them. */
	const struct consoles *consoles;
	/* The device-wait phase's subscription to block devices. */
	void (*on_block)(const struct uevent *ev, void *ctx);
	void (*on_rescan)(void *ctx); /* events were lost: look again */
	void *block_ctx;
	/* A service's children (the SSH server): told when one exits. */
	void (*on_exit)(void *ctx, pid_t pid, int status);
	void *exit_ctx;
	/* A phase's own child (the rescue shell): its exit status. */
	pid_t child;
	bool child_exited;
	int child_status;
	struct loop_watch watch[LOOP_WATCH_MAX];
	unsigned long refused_uevents; /* not from the kernel, or too big */
};

/* Opens the uevent socket (first, so no event is missed) and the SIGCHLD
 * signalfd. Returns 0 or -errno for the uevent socket (the loop still runs
 * on the rest). jobs: jobs_init'ed once, before the first open. */
int loop_open(struct loop *l, struct firmware *fw, struct jobs *jobs);
/* Serves firmware, children and jobs, plus the watches, for up to timeout_ms
 * (-1: until something happens). Returns 0, or -errno if poll failed. */
int loop_wait(struct loop *l, int timeout_ms);
/* loop_wait for up to timeout_ms (>= 0); if poll itself fails, sleeps
 * that long instead, so that a caller's loop never spins. */
void loop_wait_at_most(struct loop *l, int timeout_ms);
/* Keeps serving until deadline_ms (clock_now_ms()) or until done(ctx). */
void loop_run_until(struct loop *l, long long deadline_ms,
		    bool (*done)(void *ctx), void *ctx);

int loop_watch(struct loop *l, int fd, short events, loop_fd_fn fn, void *ctx);
void loop_unwatch(struct loop *l, int fd);
void loop_subscribe_blocks(struct loop *l,
			   void (*on_block)(const struct uevent *, void *),
			   void (*on_rescan)(void *), void *ctx);
/* fn(ctx, pid, status) for every child reaped; NULL: nobody. */
void loop_subscribe_exits(struct loop *l,
			  void (*fn)(void *ctx, pid_t pid, int status),
			  void *ctx);
/* Remembers pid as the phase's child; loop_wait records its exit. */
void loop_adopt_child(struct loop *l, pid_t pid);

/* Closes both fds (right before exec). */
void loop_close(struct loop *l);

#endif
