/* /init's own directory on the /run tmpfs, RUN_DIR (base/util.h): key and
 * header devices are mounted below it, detached headers copied into it,
 * each by a job (a child process). Those jobs may run at once, so the
 * directory is never removed while one may: PID 1 makes it before an
 * attempt's first job, and removes it only at the hand-over, before the
 * switch (the real init gets no trace of it). A job only makes sure it is
 * there (a directory made twice is still one). */
#ifndef LUKSINIT_RUNDIR_H
#define LUKSINIT_RUNDIR_H

#include "base/util.h"

/* Makes RUN_DIR (mode 0700) unless it is there. 0 or -errno. */
int rundir_create(void);
/* Removes RUN_DIR, empty by then; says so if it cannot (a stick's mount
 * stuck in a killed job keeps it). */
void rundir_remove(void);

#endif
