/* Which devices may form the root when LUKS members that form it are
 * configured (swap members alone hold nothing back). A
 * filesystem UUID or label is public (it is on the command line), so any
 * stick can carry it: an unencrypted device that carries Btrfs or matches
 * root= is held back until the members are settled, then admitted only if
 * it is another filesystem (and the root is not the unlocked array), or a
 * member the unlocked array really lacks while every LUKS member is open
 * (said loudly); anything else is named and ignored. With no member open,
 * no unencrypted device may stand in for them.
 *
 * The superblocks that decision reads (the members' and the held
 * devices') are read in jobs (loop/job.h), never on the loop's thread: a
 * held device is a stranger's, and may be a disk that never answers. A
 * read not done within ROOTGUARD_READ_MS refuses its device; a member's
 * that is not done refuses every held Btrfs device (nothing to compare
 * them with). The state is per boot attempt (rootguard_begin to
 * rootguard_end). */
#ifndef LUKSINIT_ROOTGUARD_H
#define LUKSINIT_ROOTGUARD_H

#include <stdbool.h>

#include "config/devspec.h"
#include "devices/btrfssb.h"
#include "loop/job.h"
#include "luks/luks.h"

#define ROOTGUARD_HELD_MAX 16
#define ROOTGUARD_READ_MS 10000
#define ROOTGUARD_READS_MAX (LUKS_MEMBERS_MAX + ROOTGUARD_HELD_MAX)

/* One device's superblock, read by a job. */
struct rootguard_read {
	char node[128];
	int job;       /* while it runs */
	bool answered; /* the job ended with a result: rc says which */
	int rc;	       /* btrfs_read_sb's, or why there is no answer */
	struct btrfs_sb sb;
};

struct root_guard {
	struct jobs *jobs;
	struct dev_ids held[ROOTGUARD_HELD_MAX];
	bool decided[ROOTGUARD_HELD_MAX];
	bool admitted[ROOTGUARD_HELD_MAX];
	int nheld;
	struct rootguard_read reads[ROOTGUARD_READS_MAX];
	int nreads;
};

/* A boot attempt begins (g was zeroed) or ends (its reads are given
 * up: nothing is delivered into g afterwards). */
void rootguard_begin(struct root_guard *g, struct jobs *jobs);
void rootguard_end(struct root_guard *g);
/* A superblock read runs, or the members are settled and a held device
 * is not decided yet: what may form the root is not known yet. */
bool rootguard_busy(const struct root_guard *g, const struct luks_set *luks);

/* A device that is not one of our unlocked members: true if it is held
 * (the caller must neither register nor match it now). */
bool rootguard_hold(struct root_guard *g, const struct luks_set *luks,
		    const struct devspec *root, const struct dev_ids *ids);

/* Once the members are settled: decides every held device; those admitted
 * are copied to ret (at most max), to be registered and matched. Until
 * the superblocks it needs are read, starts their reads and returns 0
 * (rootguard_busy; the loop wakes when they are in). complete:
 * the unlocked members already form a whole filesystem; root_is_ours: an
 * unlocked member matched root=. */
int rootguard_release(struct root_guard *g, const struct luks_set *luks,
		      bool complete, bool root_is_ours, struct dev_ids *ret,
		      int max);

#endif
