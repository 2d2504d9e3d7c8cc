#include "rootguard.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/strutil.h"
#include "devices/btrfs.h"
#include "devices/btrfssb.h"

bool rootguard_hold(struct root_guard *g, const struct luks_set *luks,
		    const struct devspec *root, const struct dev_ids *ids)
{
	/* Swap members never form the root: a plain root next to an
	 * encrypted swap alone (genkernel's crypt_swap= without crypt_root=)
	 * has nothing to be held for. */
	if (luks_root_count(luks) == 0 ||
	    luks_owns_mapping(luks, ids->mapper_name))
		return false;
	if (strcmp(ids->type, "btrfs") != 0 && !devspec_matches(root, ids))
		return false;
	for (int i = 0; i < g->nheld; i++)
		if (strcmp(g->held[i].devnode, ids->devnode) == 0)
			return !g->admitted[i];
	if (g->nheld >= ROOTGUARD_HELD_MAX) {
		log_warn("%s: ignoring a device: too many unencrypted ones",
			 ids->devnode);
		return true;
	}
	g->held[g->nheld] = *ids;
	g->decided[g->nheld] = false;
	g->admitted[g->nheld] = false;
	g->nheld++;
	log_debug("%s: unencrypted device held until the LUKS members are open",
		  ids->devnode);
	return true;
}

void rootguard_begin(struct root_guard *g, struct jobs *jobs)
{
	g->jobs = jobs;
}

void rootguard_end(struct root_guard *g)
{
	for (int i = 0; i < g->nreads; i++)
		if (g->reads[i].job > 0)
			job_cancel(g->jobs, g->reads[i].job);
	g->nreads = 0;
}

bool rootguard_busy(const struct root_guard *g, const struct luks_set *luks)
{
	for (int i = 0; i < g->nreads; i++)
		if (g->reads[i].job > 0)
			return true;
	/* Settled members: what is held is decided next (its reads start
	 * in rootguard_release), never left out unnamed. */
	for (int i = 0; i < g->nheld && luks_settled(luks); i++)
		if (!g->decided[i])
			return true;
	return false;
}

static int read_in_child(void *arg, void *buf, size_t max, size_t *ret_len)
{
	const struct rootguard_read *r = arg;
	struct btrfs_sb sb;
	memset(&sb, 0, sizeof(sb));
	int rc = btrfs_read_sb(r->node, &sb);
	if (max < sizeof(sb))
		return -EFBIG;
	memcpy(buf, &sb, sizeof(sb));
	*ret_len = sizeof(sb);
	return rc;
}

static void read_done(void *ctx, const struct job_result *res)
{
	struct rootguard_read *r = ctx;
	r->job = 0;
	r->answered = res->end == JOB_DONE && res->len == sizeof(r->sb);
	r->rc = res->end == JOB_DONE && !r->answered ? -EPROTO : res->rc;
	if (r->answered)
		memcpy(&r->sb, res->data, sizeof(r->sb));
	if (!r->answered)
		log_debug_errno(r->rc, "%s: superblock not read", r->node);
}

/* node's read: NULL while it runs (started here the first time). */
static const struct rootguard_read *sb_read(struct root_guard *g,
					    const char *node)
{
	for (int i = 0; i < g->nreads; i++)
		if (strcmp(g->reads[i].node, node) == 0)
			return g->reads[i].job > 0 ? NULL : &g->reads[i];
	static const struct rootguard_read no_room = {.rc = -ENOSPC};
	if (g->nreads >= ROOTGUARD_READS_MAX)
		return &no_room;
	struct rootguard_read *r = &g->reads[g->nreads];
	memset(r, 0, sizeof(*r));
	if (str_copy(r->node, sizeof(r->node), node) < 0)
		return &no_room;
	g->nreads++;
	char what[160];
	snprintf(what, sizeof(what), "reading the superblock of %s", node);
	struct job_spec spec = {
		.what = what,
		.fn = read_in_child,
		.arg = r,
		.max = sizeof(struct btrfs_sb),
		.timeout_ms = ROOTGUARD_READ_MS,
		.done = read_done,
		.ctx = r,
		.dev = job_device(node),
	};
	r->job = job_start(g->jobs, &spec);
	if (r->job > 0)
		return NULL;
	r->rc = r->job;
	r->job = 0;
	return r;
}

/* Member i's mapping if it is open, into buf; false if it is not. */
static bool member_node(const struct luks_set *luks, int i, char *buf,
			size_t size)
{
	const char *name = luks_open_name(luks, i);
	if (!name[0])
		return false;
	snprintf(buf, size, "/dev/mapper/%s", name);
	return true;
}

/* Asks for every superblock the decision needs: true once all are in
 * (or none is needed: nothing is held). */
static bool reads_done(struct root_guard *g, const struct luks_set *luks)
{
	bool held = false;
	for (int i = 0; i < g->nheld; i++)
		held |= !g->decided[i];
	if (!held)
		return true;
	bool done = true;
	for (int i = 0; i < luks_count(luks); i++) {
		char node[128];
		if (member_node(luks, i, node, sizeof(node)))
			done &= sb_read(g, node) != NULL;
	}
	for (int i = 0; i < g->nheld; i++)
		if (!g->decided[i] && strcmp(g->held[i].type, "btrfs") == 0)
			done &= sb_read(g, g->held[i].devnode) != NULL;
	return done;
}

/* The superblocks of the unlocked members that carry Btrfs; false if
 * one did not answer. */
static bool member_superblocks(struct root_guard *g,
			       const struct luks_set *luks, struct btrfs_sb *sb,
			       int max, int *ret_n)
{
	bool all = true;
	*ret_n = 0;
	for (int i = 0; i < luks_count(luks) && *ret_n < max; i++) {
		char node[128];
		if (!member_node(luks, i, node, sizeof(node)))
			continue;
		const struct rootguard_read *r = sb_read(g, node);
		if (r && r->answered && r->rc == 0)
			sb[(*ret_n)++] = r->sb;
		all &= r && r->answered;
	}
	return all;
}

/* Why a held device may not be part of the root, or NULL if it may. */
static const char *refusal(struct root_guard *g, const struct luks_set *luks,
			   bool complete, bool root_is_ours,
			   const struct dev_ids *ids,
			   const struct btrfs_sb *members, int nmembers)
{
	/* Seen before its member was known to be open (a mapping made in an
	 * earlier attempt or by hand): ours after all. */
	if (luks_owns_mapping(luks, ids->mapper_name))
		return NULL;
	if (luks_root_members_open(luks) == 0)
		return "no LUKS member could be opened, and an unencrypted device may not stand in for them";
	if (strcmp(ids->type, "btrfs") != 0)
		return root_is_ours
			       ? "it claims to be the root, but the root is the unlocked array"
			       : NULL;
	if (nmembers < 0)
		return "the superblocks of the unlocked members did not answer, so it cannot be compared with them";
	const struct rootguard_read *r = sb_read(g, ids->devnode);
	if (r && !r->answered && r->rc == -ETIMEDOUT)
		return "its Btrfs superblock did not answer in time";
	if (r && !r->answered && r->rc == -EBUSY)
		return "it does not answer: a read from before is still stuck";
	if (!r || !r->answered || r->rc < 0)
		return "its Btrfs superblock is unreadable";
	const struct btrfs_sb sb = r->sb;
	enum plain_verdict v =
		btrfs_plain_verdict(members, nmembers, complete, &sb);
	if (v == PLAIN_OTHER_FS)
		return NULL;
	if (v != PLAIN_JOINS)
		return btrfs_plain_verdict_text(v);
	/* A member that failed or is missing may not be replaced by a
	 * device that only says it is that member. */
	if (!luks_all_open(luks, false))
		return "it would take the place of a LUKS member that is not open";
	log_err("WARNING: %s is NOT encrypted but joins the root array as devid %llu",
		ids->devnode, (unsigned long long)sb.devid);
	return NULL;
}

int rootguard_release(struct root_guard *g, const struct luks_set *luks,
		      bool complete, bool root_is_ours, struct dev_ids *ret,
		      int max)
{
	if (!luks_settled(luks) || !reads_done(g, luks))
		return 0;
	struct btrfs_sb members[LUKS_MEMBERS_MAX];
	int nmembers = 0;
	if (!member_superblocks(g, luks, members, LUKS_MEMBERS_MAX, &nmembers))
		nmembers = -1; /* refuses every held Btrfs device */
	int admitted = 0;
	for (int i = 0; i < g->nheld && admitted < max; i++) {
		if (g->decided[i])
			continue;
		const struct dev_ids *ids = &g->held[i];
		const char *why = refusal(g, luks, complete, root_is_ours, ids,
					  members, nmembers);
		g->decided[i] = true;
		if (why) {
			log_warn("ignoring %s (%s, UUID=%s): %s", ids->devnode,
				 ids->type[0] ? ids->type : "no filesystem",
				 ids->uuid, why);
			continue;
		}
		g->admitted[i] = true;
		ret[admitted++] = *ids;
	}
	return admitted;
}
