/* For the unit tests that run real jobs (init/loop/job.h): one pass of a
 * loop that only serves them, as loop_wait does for /init. */
#ifndef LUKSINIT_TEST_JOBSERVE_H
#define LUKSINIT_TEST_JOBSERVE_H

#include <poll.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "loop/job.h"

/* Polls every running job's pipe (up to 50 ms, or until the next
 * deadline), reaps the children that exited unless reap is false (a
 * killed child then stays "killed, not yet exited", as one in
 * uninterruptible sleep on a disk does), and runs the jobs. */
static inline void jobs_serve_once(struct jobs *js, bool reap)
{
	struct pollfd pfd[JOBS_MAX];
	int n = jobs_pollfds(js, pfd, JOBS_MAX);
	int ms = jobs_next_ms(js);
	int rc = poll(pfd, (nfds_t)n, ms < 0 || ms > 50 ? 50 : ms);
	pid_t pid;
	while (reap && (pid = waitpid(-1, NULL, WNOHANG)) > 0)
		jobs_child_exited(js, pid);
	jobs_run(js, pfd, rc > 0 ? n : 0);
}

#endif
