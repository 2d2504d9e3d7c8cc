/* PID 1 inherits every orphan: reap them so no zombie piles up. */
#ifndef LUKSINIT_REAPER_H
#define LUKSINIT_REAPER_H

/* Blocks SIGCHLD and returns a signalfd for it (-errno on failure). */
int reaper_open(void);
/* Unblocks all signals again: the mask survives execve, and the next
 * program (the real init, a shell) must start with a clean one. */
void reaper_reset_sigmask(void);

#endif
