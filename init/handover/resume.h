/* Resuming from hibernation (resume=, resume_offset=, noresume): after the
 * swap member is open and before any filesystem is mounted, the resume
 * device is handed to the kernel, which restores the image if there is
 * one (this process then never continues) or returns. */
#ifndef LUKSINIT_RESUME_H
#define LUKSINIT_RESUME_H

#include <stdbool.h>
#include <stddef.h>

#include "config/cmdline.h"
#include "config/devspec.h"

/* How long the root, once ready, still waits for swap members and the
 * resume device (not counting a person or a KDF), and at most in all. */
#define RESUME_WAIT_MS 10000
#define RESUME_WAIT_CAP_MS 60000

/* Resuming's own state: what may still be done, for /init's whole life,
 * and the device and the wait of one boot attempt. */
struct resume {
	const struct boot_config *cfg;
	/* For /init's whole life: retries must not resume after a mount. */
	bool tried;	   /* the kernel has looked at the device */
	bool root_mounted; /* a filesystem was mounted (once, for good) */
	bool shell_ran;	   /* the rescue shell ran (once, for good) */
	/* This attempt: the device resume= names, once identified. */
	struct dev_ids dev;
	bool found;
	/* This attempt: the swap's wait once the root is ready, since when,
	 * last looked at, and how long of it counted. */
	long long wait_since, wait_last, waited_ms;
};

/* Once, with the configuration it keeps pointing to. */
void resume_init(struct resume *r, const struct boot_config *cfg);
/* Each boot attempt: the device is looked for again, the wait restarts. */
void resume_begin_attempt(struct resume *r);

/* resume= is given and noresume is not. */
bool resume_wanted(const struct boot_config *cfg);

/* The kernel itself resumes from resume=PARTUUID=, PARTLABEL=, a disk's
 * /dev/ path or MAJ:MIN before /init runs (software_resume, a late
 * initcall), from whichever disk carries it, and /init cannot stop it.
 * True when that form is given (and noresume is not) while LUKS members
 * are listed: an image on a stranger's disk would bypass them. */
bool resume_kernel_unchecked(const struct boot_config *cfg);
/* Says so, once, at start-up, if it is. */
void resume_warn_unchecked(const struct boot_config *cfg);

/* Whether ids (identified, ours: a mapping luksinit opened) may be the
 * device resume= names. Restoring an image hands the machine to whatever
 * the image holds, and resume=UUID= is public (it is on the command line):
 * a stranger's stick with a swap signature of that UUID must not be
 * resumed from, or its crafted image bypasses the encryption. So once any
 * LUKS member is listed, UUID=, LABEL=, PARTUUID= and PARTLABEL= count
 * only for a mapping luksinit opened; a plain swap next to encrypted
 * members is named by its device path (resume=/dev/vda2). */
enum resume_match {
	RESUME_NO,	/* not what resume= names */
	RESUME_YES,	/* the resume device */
	RESUME_REFUSED, /* named by resume= but not trusted: skip it */
};
enum resume_match resume_match(const struct boot_config *cfg,
			       const struct dev_ids *ids, bool ours);

/* A device was identified (ours: a mapping luksinit opened): kept if it
 * is the resume device; one that is named but not trusted is warned
 * about and skipped (resume_match). */
void resume_on_device(struct resume *r, const struct dev_ids *ids, bool ours);
/* resume= is wanted and its device has not been found yet. */
bool resume_device_missing(const struct resume *r);

/* The root is ready, but swap members or the resume device are not: they
 * get a bounded wait of their own, RESUME_WAIT_MS (paused: a person or a
 * KDF is waited for, which does not count) and RESUME_WAIT_CAP_MS in all,
 * from the first call of this attempt. Returns how long the loop may
 * sleep before asking again, or -1 once the wait is over. */
long long resume_wait_ms(struct resume *r, long long now, bool paused);
/* The wait is over without them: says so, naming the swap members still
 * missing (swaps, from the LUKS side) and the resume device if it is. */
void resume_wait_ended(const struct resume *r, const char *swaps);

/* Why resuming is no longer safe, for the rest of /init's life. */
enum resume_forbid {
	RESUME_ROOT_MOUNTED, /* a mount, even a failed one, may have written */
	RESUME_SHELL_RAN,    /* the rescue shell may have mounted something */
};
void resume_forbid(struct resume *r, enum resume_forbid why);

/* "MAJ:MIN" into buf, as /sys/power/resume takes it: 0, or -ENAMETOOLONG. */
int resume_format_dev(char *buf, size_t size, unsigned maj, unsigned min);

/* Hands the device resume= names, found in this attempt, to the kernel,
 * unless resuming is not wanted, was tried, or is no longer safe. Returns
 * only if no image was restored, after saying why. */
void resume_attempt(struct resume *r);

#endif
