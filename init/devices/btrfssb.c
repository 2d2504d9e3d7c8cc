#include "devices/btrfssb.h"

#include <errno.h>
#include <string.h>

/* Offsets in struct btrfs_super_block (fs/btrfs/ctree.h, on-disk format,
 * little endian). */
#define SB_FSID 0x20
#define SB_MAGIC 0x40
#define SB_GENERATION 0x48
#define SB_NUM_DEVICES 0x88
#define SB_DEV_ITEM 0xc9
#define DEV_ITEM_DEVID 0
#define DEV_ITEM_UUID 66
#define SB_MIN_LEN (SB_DEV_ITEM + DEV_ITEM_UUID + 16)

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int btrfs_sb_parse(const unsigned char *buf, size_t len, struct btrfs_sb *out)
{
	memset(out, 0, sizeof(*out));
	if (len < SB_MIN_LEN || memcmp(buf + SB_MAGIC, "_BHRfS_M", 8) != 0)
		return -EINVAL;
	memcpy(out->fsid, buf + SB_FSID, 16);
	memcpy(out->dev_uuid, buf + SB_DEV_ITEM + DEV_ITEM_UUID, 16);
	out->devid = le64(buf + SB_DEV_ITEM + DEV_ITEM_DEVID);
	out->num_devices = le64(buf + SB_NUM_DEVICES);
	out->generation = le64(buf + SB_GENERATION);
	if (out->devid == 0 || out->num_devices == 0)
		return -EINVAL;
	return 0;
}

enum plain_verdict btrfs_plain_verdict(const struct btrfs_sb *members,
				       int nmembers, bool complete,
				       const struct btrfs_sb *cand)
{
	const struct btrfs_sb *same_fs = NULL;
	for (int i = 0; i < nmembers; i++)
		if (memcmp(members[i].fsid, cand->fsid, 16) == 0)
			same_fs = &members[i];
	if (!same_fs)
		return PLAIN_OTHER_FS;
	for (int i = 0; i < nmembers; i++)
		if (memcmp(members[i].fsid, cand->fsid, 16) == 0 &&
		    members[i].devid == cand->devid)
			return PLAIN_DEVID_TAKEN;
	if (cand->num_devices != same_fs->num_devices)
		return PLAIN_OWN_FS;
	if (complete)
		return PLAIN_NOT_NEEDED;
	return PLAIN_JOINS;
}

const char *btrfs_plain_verdict_text(enum plain_verdict v)
{
	switch (v) {
	case PLAIN_OTHER_FS:
		return "another filesystem";
	case PLAIN_NOT_NEEDED:
		return "the unlocked members already form the whole array";
	case PLAIN_DEVID_TAKEN:
		return "it claims a device ID an unlocked member holds";
	case PLAIN_OWN_FS:
		return "it is a filesystem of its own with the root's UUID";
	case PLAIN_JOINS:
		return "an unencrypted member the array lacks";
	}
	return "?";
}
