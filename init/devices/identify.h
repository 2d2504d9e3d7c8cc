/* Identifying block devices off the loop's thread. libblkid reads the
 * disk, and a disk may take minutes to answer (a dying disk going through
 * SCSI timeouts and resets, an optical drive spinning up, a throttled
 * network block device): the loop must keep serving the prompt, firmware
 * requests and children meanwhile. Each identification runs in a worker
 * thread; its result comes back through a pipe the loop watches and is
 * handled on the loop's thread, in the order the workers finish.
 *
 * A device not identified after IDENTIFY_SLOW_MS is named once, in a
 * warning, and nothing waits for it any more (the disks present at boot
 * are otherwise all seen before the first prompt and KDF); should it
 * answer later, its result is used like a disk that appeared late.
 *
 * At most IDENTIFY_WORKERS work at once. One still working after
 * IDENTIFY_GIVE_UP_MS is given up: its thread is left to itself (never
 * joined: it may sit in D state for good) and no longer counts against the
 * bound. A device has at most one thread, so the threads are at most
 * IDENTIFY_WORKERS plus the devices given up on, and never more than
 * IDENTIFY_THREADS_MAX (beyond that, the rest is identified on the loop's
 * thread, as a last resort).
 *
 * The state lives for /init's whole life: a retry must not start a second
 * thread on a disk whose first is still stuck. */
#ifndef LUKSINIT_IDENTIFY_H
#define LUKSINIT_IDENTIFY_H

#include <stdbool.h>

#include "config/devspec.h"

#define IDENTIFY_WORKERS 4
#define IDENTIFY_THREADS_MAX 32
#define IDENTIFY_SLOW_MS 5000
#define IDENTIFY_GIVE_UP_MS 30000

struct identify_job;

struct identify {
	int pipe_rd, pipe_wr;
	/* Queued, running and given-up jobs, oldest first. */
	struct identify_job *jobs;
	int working; /* running and not given up */
	int threads; /* alive, given up or not */
	unsigned gen;
	long long slow_ms, give_up_ms;
};

struct identify_result {
	const char *devname;
	int rc; /* device_identify()'s */
	const struct dev_ids *ids;
	bool late; /* finished after it was named as slow */
};

typedef void (*identify_fn)(const struct identify_result *res, void *ctx);

/* Once, at start. Returns 0 or -errno (no pipe: identification then runs
 * on the caller's thread, as a last resort). */
int identify_init(struct identify *id);
/* A new device-wait phase: results of what was asked before are not
 * delivered any more, unless it is asked for again. */
void identify_begin(struct identify *id);
/* Identifies /dev/<devname>; the result comes to identify_collect's fn.
 * Asked again while it runs: identified once more after that. */
void identify_submit(struct identify *id, const char *devname, identify_fn fn,
		     void *ctx);
int identify_fd(const struct identify *id);
/* The pipe is readable: hands finished results to fn, starts queued
 * jobs. */
void identify_collect(struct identify *id, identify_fn fn, void *ctx);
/* Names devices whose identification is slow (a warning), gives up on
 * workers past their bound. Returns milliseconds until the next is due,
 * or -1 if none runs. */
int identify_tick(struct identify *id, identify_fn fn, void *ctx);
/* Something asked in this phase is queued, or running and not slow. */
bool identify_pending(const struct identify *id);

#endif
