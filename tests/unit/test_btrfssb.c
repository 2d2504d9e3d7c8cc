#include <errno.h>
#include <string.h>

#include "check.h"
#include "devices/btrfssb.h"

static void put_le64(unsigned char *p, unsigned long long v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A superblock with the fields the parser reads, as mkfs.btrfs lays them
 * out (fs/btrfs/ctree.h). */
static void make_sb(unsigned char *buf, unsigned char fsid_byte,
		    unsigned long long devid, unsigned long long ndev)
{
	memset(buf, 0, BTRFS_SB_READ);
	memset(buf + 0x20, fsid_byte, 16);
	memcpy(buf + 0x40, "_BHRfS_M", 8);
	put_le64(buf + 0x48, 7);
	put_le64(buf + 0x88, ndev);
	put_le64(buf + 0xc9, devid);
	memset(buf + 0xc9 + 66, (int)(0x40 + devid), 16);
}

static void parses_a_superblock(void)
{
	unsigned char buf[BTRFS_SB_READ];
	struct btrfs_sb sb;
	make_sb(buf, 0xab, 2, 3);
	CHECK(btrfs_sb_parse(buf, sizeof(buf), &sb) == 0);
	CHECK(sb.devid == 2 && sb.num_devices == 3 && sb.generation == 7);
	CHECK(sb.fsid[0] == 0xab && sb.fsid[15] == 0xab);
	CHECK(sb.dev_uuid[0] == 0x42);
}

static void rejects_what_is_not_one(void)
{
	unsigned char buf[BTRFS_SB_READ];
	struct btrfs_sb sb;
	make_sb(buf, 1, 1, 1);
	CHECK(btrfs_sb_parse(buf, 0x100, &sb) == -EINVAL); /* truncated */
	buf[0x40] = 'X';
	CHECK(btrfs_sb_parse(buf, sizeof(buf), &sb) == -EINVAL);
	make_sb(buf, 1, 0, 1);
	CHECK(btrfs_sb_parse(buf, sizeof(buf), &sb) == -EINVAL); /* devid 0 */
	make_sb(buf, 1, 1, 0);
	CHECK(btrfs_sb_parse(buf, sizeof(buf), &sb) == -EINVAL);
}

static struct btrfs_sb sb_of(unsigned char fsid_byte, unsigned long long devid,
			     unsigned long long ndev)
{
	unsigned char buf[BTRFS_SB_READ];
	struct btrfs_sb sb;
	make_sb(buf, fsid_byte, devid, ndev);
	btrfs_sb_parse(buf, sizeof(buf), &sb);
	return sb;
}

static void plain_devices_join_only_where_the_array_lacks_them(void)
{
	/* Members hold devids 1 and 2 of a three-device array. */
	struct btrfs_sb m[2] = {sb_of(0xaa, 1, 3), sb_of(0xaa, 2, 3)};
	struct btrfs_sb third = sb_of(0xaa, 3, 3);
	struct btrfs_sb stick = sb_of(0xaa, 1, 1); /* mkfs -U <fsid> */
	struct btrfs_sb clone = sb_of(0xaa, 2, 3); /* devid 2 again */
	struct btrfs_sb other = sb_of(0xbb, 1, 1);
	CHECK(btrfs_plain_verdict(m, 2, false, &third) == PLAIN_JOINS);
	CHECK(btrfs_plain_verdict(m, 2, true, &third) == PLAIN_NOT_NEEDED);
	CHECK(btrfs_plain_verdict(m, 2, false, &stick) == PLAIN_DEVID_TAKEN);
	CHECK(btrfs_plain_verdict(m, 2, false, &clone) == PLAIN_DEVID_TAKEN);
	CHECK(btrfs_plain_verdict(m, 2, false, &other) == PLAIN_OTHER_FS);
	struct btrfs_sb own = sb_of(0xaa, 4, 1); /* devid free, but alone */
	CHECK(btrfs_plain_verdict(m, 2, false, &own) == PLAIN_OWN_FS);
	/* No member carries Btrfs (say, the root is plain): not ours. */
	CHECK(btrfs_plain_verdict(m, 0, false, &stick) == PLAIN_OTHER_FS);
}

void btrfssb_tests(void)
{
	RUN(parses_a_superblock);
	RUN(rejects_what_is_not_one);
	RUN(plain_devices_join_only_where_the_array_lacks_them);
}
