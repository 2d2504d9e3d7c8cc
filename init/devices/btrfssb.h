/* Which array a Btrfs device belongs to, read from its superblock, and
 * whether a device that is not one of our unlocked members may join the
 * root. Pure: no I/O. */
#ifndef LUKSINIT_BTRFSSB_H
#define LUKSINIT_BTRFSSB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BTRFS_SB_OFFSET 65536
#define BTRFS_SB_READ 4096

struct btrfs_sb {
	unsigned char fsid[16];
	unsigned char dev_uuid[16];
	uint64_t devid;
	uint64_t num_devices;
	uint64_t generation;
};

/* Parses the primary superblock (the BTRFS_SB_READ bytes at
 * BTRFS_SB_OFFSET). Returns 0, or -EINVAL if it is not one. */
int btrfs_sb_parse(const unsigned char *buf, size_t len, struct btrfs_sb *out);

enum plain_verdict {
	PLAIN_OTHER_FS, /* not the members' filesystem: none of our business */
	PLAIN_NOT_NEEDED,  /* the members already form the whole array */
	PLAIN_DEVID_TAKEN, /* claims a devid one of the members holds */
	PLAIN_OWN_FS,	   /* a filesystem of its own with the same UUID */
	PLAIN_JOINS,	   /* a member the array lacks (unencrypted) */
};

/* A plain (not unlocked by us) device cand carries a Btrfs superblock;
 * members are those of the unlocked LUKS members that carry Btrfs, and
 * complete says whether they already form a whole filesystem. */
enum plain_verdict btrfs_plain_verdict(const struct btrfs_sb *members,
				       int nmembers, bool complete,
				       const struct btrfs_sb *cand);

const char *btrfs_plain_verdict_text(enum plain_verdict v);

#endif
