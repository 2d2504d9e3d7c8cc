#include "rootguard.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "devices/btrfs.h"
#include "devices/btrfssb.h"

bool rootguard_hold(struct root_guard *g, const struct luks_set *luks,
		    const struct devspec *root, const struct dev_ids *ids)
{
	if (luks_count(luks) == 0 || luks_owns_mapping(luks, ids->mapper_name))
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

/* The superblocks of the unlocked members that carry Btrfs. */
static int member_superblocks(const struct luks_set *luks, struct btrfs_sb *sb,
			      int max)
{
	int n = 0;
	for (int i = 0; i < luks_count(luks) && n < max; i++) {
		const char *name = luks_open_name(luks, i);
		char node[128];
		if (!name[0])
			continue;
		snprintf(node, sizeof(node), "/dev/mapper/%s", name);
		if (btrfs_read_sb(node, &sb[n]) == 0)
			n++;
	}
	return n;
}

/* Why a held device may not be part of the root, or NULL if it may. */
static const char *refusal(const struct luks_set *luks, bool complete,
			   bool root_is_ours, const struct dev_ids *ids,
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
	struct btrfs_sb sb;
	if (btrfs_read_sb(ids->devnode, &sb) < 0)
		return "its Btrfs superblock is unreadable";
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
	if (!luks_settled(luks))
		return 0;
	struct btrfs_sb members[LUKS_MEMBERS_MAX];
	int nmembers = -1;
	int admitted = 0;
	for (int i = 0; i < g->nheld && admitted < max; i++) {
		if (g->decided[i])
			continue;
		const struct dev_ids *ids = &g->held[i];
		if (nmembers < 0)
			nmembers = member_superblocks(luks, members,
						      LUKS_MEMBERS_MAX);
		const char *why = refusal(luks, complete, root_is_ours, ids,
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
