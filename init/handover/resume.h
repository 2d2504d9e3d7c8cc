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

/* For /init's whole life: retries must not resume after a mount. */
struct resume_state {
	bool tried;	   /* the kernel has looked at the device */
	bool root_mounted; /* a filesystem was mounted (once, for good) */
	bool shell_ran;	   /* the rescue shell ran (once, for good) */
};

/* resume= is given and noresume is not. */
bool resume_wanted(const struct boot_config *cfg);

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

/* "MAJ:MIN" into buf, as /sys/power/resume takes it: 0, or -ENAMETOOLONG. */
int resume_format_dev(char *buf, size_t size, unsigned maj, unsigned min);

/* Hands dev (the device resume= named, found) to the kernel, unless
 * resuming is not wanted, was tried, or is no longer safe (st). Returns
 * only if no image was restored, after saying why. */
void resume_attempt(const struct boot_config *cfg, const struct dev_ids *dev,
		    bool found, struct resume_state *st);

#endif
