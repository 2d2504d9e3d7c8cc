#include "devices/btrfssb.h"
#include "fuzz.h"

/* A superblock from a hostile device, then judged against members read
 * from the same bytes shifted: never a crash, and only sane values kept. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct btrfs_sb sb, m[2];
	if (btrfs_sb_parse(data, size, &sb) != 0)
		return 0;
	INVARIANT(sb.devid != 0 && sb.num_devices != 0);
	m[0] = sb;
	m[1] = sb;
	m[1].devid = sb.devid + 1;
	for (int complete = 0; complete < 2; complete++) {
		enum plain_verdict v =
			btrfs_plain_verdict(m, 2, complete != 0, &sb);
		INVARIANT(v == PLAIN_DEVID_TAKEN);
		INVARIANT(btrfs_plain_verdict_text(v)[0] != '?');
	}
	return 0;
}
