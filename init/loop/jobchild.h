/* The child's side of a job (job.c forks it, job.h says what a job is):
 * its input read into locked memory, its function run, its result framed
 * and sent, and its scheduling; job_run_here, which a job's child asks
 * for, is here too. Nothing here runs on the loop's thread but
 * job_child_priority. */
#ifndef LUKSINIT_JOBCHILD_H
#define LUKSINIT_JOBCHILD_H

#include <sys/types.h>

#include "loop/job.h"

/* In a job's child: runs spec's work (its input read from infd, or -1),
 * sends the result on wfd, wipes what it held, and exits. */
_Noreturn void job_child_run(const struct job_spec *spec, int wfd, int infd);
/* A job given its input works as any job does: back from SCHED_IDLE
 * (the work before its input) to JOB_NICE. pid 0: the caller. Said by the
 * loop as it sends the input (the work before may not be done), and by
 * the child once it has read it. */
void job_child_priority(pid_t pid);

#endif
