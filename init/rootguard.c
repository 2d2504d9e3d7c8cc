#include "rootguard.h"

#include <stdio.h>
#include <string.h>

#include "btrfs.h"
#include "btrfssb.h"
#include "log.h"

bool rootguard_hold(struct root_guard *g, const struct luks_set *luks,
		    const struct dev_ids *ids)
{
	if (luks->n == 0 || strcmp(ids->type, "btrfs") != 0 ||
	    luks_owns_mapping(luks, ids->mapper_name))
		return false;
	for (int i = 0; i < g->nheld; i++)
		if (strcmp(g->held[i].devnode, ids->devnode) == 0)
			return !g->admitted[i];
	if (g->nheld >= ROOTGUARD_HELD_MAX) {
		log_warn(
			"%s: ignoring a Btrfs device: too many unencrypted ones",
			ids->devnode);
		return true;
	}
	g->held[g->nheld] = *ids;
	g->decided[g->nheld] = false;
	g->admitted[g->nheld] = false;
	g->nheld++;
	log_debug("%s: plain Btrfs device held until the LUKS members are open",
		  ids->devnode);
	return true;
}

/* The superblocks of the unlocked members that carry Btrfs. */
static int member_superblocks(const struct luks_set *luks, struct btrfs_sb *sb,
			      int max)
{
	int n = 0;
	for (int i = 0; i < luks->n && n < max; i++) {
		const struct luks_member *m = &luks->m[i];
		char node[128];
		if (m->state != MEMBER_OPEN)
			continue;
		snprintf(node, sizeof(node), "/dev/mapper/%s", m->dm_name);
		if (btrfs_read_sb(node, &sb[n]) == 0)
			n++;
	}
	return n;
}

int rootguard_release(struct root_guard *g, const struct luks_set *luks,
		      bool complete, struct dev_ids *ret, int max)
{
	if (!luks_settled(luks))
		return 0;
	struct btrfs_sb members[LUKS_MEMBERS_MAX];
	int nmembers = -1;
	int admitted = 0;
	for (int i = 0; i < g->nheld; i++) {
		if (g->decided[i])
			continue;
		const struct dev_ids *ids = &g->held[i];
		if (nmembers < 0)
			nmembers = member_superblocks(luks, members,
						      LUKS_MEMBERS_MAX);
		struct btrfs_sb sb = {0};
		enum plain_verdict v = PLAIN_OWN_FS;
		/* Seen before its member was known to be open (a mapping
		 * made in an earlier attempt or by hand): ours after all. */
		if (luks_owns_mapping(luks, ids->mapper_name))
			v = PLAIN_OTHER_FS;
		else if (btrfs_read_sb(ids->devnode, &sb) == 0)
			v = btrfs_plain_verdict(members, nmembers, complete,
						&sb);
		if (v == PLAIN_OTHER_FS || v == PLAIN_JOINS) {
			if (v == PLAIN_JOINS)
				log_err("WARNING: %s is NOT encrypted but joins the root array as devid %llu",
					ids->devnode,
					(unsigned long long)sb.devid);
			if (admitted >= max)
				continue; /* decided on the next call */
			ret[admitted++] = *ids;
			g->admitted[i] = true;
		} else {
			log_warn("ignoring %s (Btrfs, UUID=%s): %s",
				 ids->devnode, ids->uuid,
				 btrfs_plain_verdict_text(v));
		}
		g->decided[i] = true;
	}
	return admitted;
}
