#include "loop/sweep.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

/* kill(-1) again each round: a process forking while the first signal
 * went out has its child killed too. Done once PID 1 has no child left
 * (WNOWAIT: the loop's reaper collects, and tells firmware and jobs). */
static bool swept(void *arg)
{
	(void)arg;
	kill(-1, SIGKILL);
	siginfo_t si = {0};
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	return false;
}

int loop_sweep(struct loop *l, const char *why)
{
	/* kill(-1) from anything but PID 1 (the static binary run by hand
	 * on a host) would end every process of the machine. */
	if (getpid() != 1)
		return 0;
	/* kill(-1) succeeds on the kernel's threads too (they ignore it):
	 * only a child of ours shows there was something to kill. */
	if (swept(NULL))
		return 0;
	log_info("killing every process left (%s)", why);
	long long start = clock_now_ms();
	loop_run_until(l, start + SWEEP_BOUND_MS, swept, NULL);
	if (swept(NULL))
		return 0;
	log_warn(
		"processes killed %s are still there after %d ms (stuck in the kernel); not waiting for them",
		why, SWEEP_BOUND_MS);
	return 1;
}
