/* Nothing outlives a rescue shell or the initramfs: kill(-1, SIGKILL) ends
 * every process but PID 1 (and its threads) and the kernel's threads, and
 * the loop reaps them. A shell's background process (a keylogger an evil
 * maid left) would otherwise wait for the next passphrase, or run on as
 * root in the booted system. */
#ifndef LUKSINIT_SWEEP_H
#define LUKSINIT_SWEEP_H

#include "loop/loop.h"

/* How long the killed are given to die and be reaped. One stuck in
 * uninterruptible disk I/O dies only when its I/O returns: never waited
 * for beyond this; the reaper (ours or the real init's) collects it. */
#define SWEEP_BOUND_MS 1000

/* Kills everything but PID 1 and reaps, serving the loop meanwhile (a job
 * killed is seen as ended: JOB_NO_RESULT, or its deadline if it is stuck;
 * its owner hears so from jobs_run). why is for the log. Returns 0 once
 * PID 1 has no child left, 1 if some were still there at the bound (said
 * in a warning). */
int loop_sweep(struct loop *l, const char *why);

#endif
