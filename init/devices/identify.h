/* Identifying block devices off the loop's thread. libblkid reads the
 * disk, and a disk may take minutes to answer (a dying disk going through
 * SCSI timeouts and resets, an optical drive spinning up, a throttled
 * network block device): the loop must keep serving the prompt, firmware
 * requests and children meanwhile. Each identification is a job (loop/job.h:
 * a child process); its result is handled on the loop's thread, in the
 * order the jobs finish.
 *
 * A device not identified after IDENTIFY_SLOW_MS is named once, in a
 * warning, and nothing waits for it any more (the disks present at boot
 * are otherwise all seen before the first prompt and KDF); should it
 * answer later, its result is used like a disk that appeared late.
 *
 * At most IDENTIFY_WORKERS run at once. One still running after
 * IDENTIFY_GIVE_UP_MS is given up: its child is killed (left to the
 * reaper if it sits in D state) and the device is not looked at again in
 * this phase, unless a uevent asks for it again.
 *
 * While a child killed on a device has not exited (a read still stuck in
 * it, loop/job.h), the device is not read again: what it was found to be
 * before is used (a later reader, a header load say, then names it as
 * still hung), or, never identified, it is named and left out.
 *
 * The state lives for /init's whole life; a phase (identify_begin to
 * identify_end) is one device wait, and only its own results reach it. */
#ifndef LUKSINIT_IDENTIFY_H
#define LUKSINIT_IDENTIFY_H

#include <stdbool.h>

#include "config/devspec.h"
#include "loop/job.h"

#define IDENTIFY_WORKERS 4
#define IDENTIFY_SLOW_MS 5000
#define IDENTIFY_GIVE_UP_MS 30000
#define IDENTIFY_KNOWN_MAX 16

struct identify_job;

struct identify_result {
	const char *devname;
	int rc; /* device_identify()'s */
	const struct dev_ids *ids;
	bool late; /* finished after it was named as slow */
};

typedef void (*identify_fn)(const struct identify_result *res, void *ctx);

/* What a device was last found to be. */
struct identify_known {
	dev_t dev;
	int rc;
	struct dev_ids ids;
};

struct identify {
	struct jobs *jobs;
	/* Queued and running, oldest first. */
	struct identify_job *list;
	int working;
	unsigned gen;
	long long slow_ms, give_up_ms;
	identify_fn fn; /* the phase's receiver; NULL between phases */
	void *ctx;
	struct identify_known known[IDENTIFY_KNOWN_MAX];
	int nknown;
};

/* Once, at start. */
void identify_init(struct identify *id, struct jobs *jobs);
/* A new device-wait phase: results go to fn. Results of what was asked
 * before are not delivered any more, unless it is asked for again. */
void identify_begin(struct identify *id, identify_fn fn, void *ctx);
/* The phase ends: nothing is delivered until the next begins. */
void identify_end(struct identify *id);
/* Identifies /dev/<devname>; the result comes to the phase's fn, from
 * the loop (loop_wait). Asked again while it runs: identified once more
 * after that. */
void identify_submit(struct identify *id, const char *devname);
/* The same, unless this phase has asked for it already (queued or
 * running): for a device whose content was final before anything could
 * ask (a mapping /init made and resumed; its "change" uevent, which may
 * have come first, is what started that run). It relies on every
 * activation's "change" reaching identify_submit in the phase (a lost
 * uevent is followed by a rescan of every device, which does): a run
 * that began before the mapping was resumed is then run again. */
void identify_ensure(struct identify *id, const char *devname);
/* Names devices whose identification is slow (a warning), starts queued
 * jobs. Returns milliseconds until the next is due, or -1. */
int identify_tick(struct identify *id);
/* Something asked in this phase is queued, or running and not slow. */
bool identify_pending(const struct identify *id);

#endif
