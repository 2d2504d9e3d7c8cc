#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#include "check.h"
#include "config/mountopts.h"

static void defaults_follow_ro_rw(void)
{
	struct mount_opts o;
	CHECK(mountopts_parse(&o, "", false) == 0);
	CHECK(o.flags == MS_RDONLY);
	CHECK_STR(o.data, "");
	CHECK(mountopts_parse(&o, NULL, true) == 0);
	CHECK(o.flags == 0);
}

static void splits_flags_from_data(void)
{
	struct mount_opts o;
	CHECK(mountopts_parse(&o, "subvol=@root,noatime,compress=zstd:3,nodev",
			      true) == 0);
	CHECK(o.flags == (MS_NOATIME | MS_NODEV));
	CHECK_STR(o.data, "subvol=@root,compress=zstd:3");
	CHECK(!o.degraded);
	CHECK(mountopts_parse(&o, "rw,degraded", false) == 0);
	CHECK(o.flags == 0);
	CHECK_STR(o.data, "degraded");
	CHECK(o.degraded);
	CHECK(mountopts_parse(&o, "ro", true) == 0);
	CHECK(o.flags == MS_RDONLY);
	CHECK(mountopts_parse(&o, "defaults", false) == 0);
	CHECK(o.flags == MS_RDONLY && o.data[0] == '\0');
}

static void whole_names_only(void)
{
	struct mount_opts o;
	/* "rodata" is not "ro"; "degraded2" is not "degraded". */
	CHECK(mountopts_parse(&o, "rodata,degraded2", true) == 0);
	CHECK(o.flags == 0);
	CHECK_STR(o.data, "rodata,degraded2");
	CHECK(!o.degraded);
}

static void rejects_malformed(void)
{
	struct mount_opts o;
	CHECK(mountopts_parse(&o, "a,,b", false) == -EINVAL);
	CHECK(mountopts_parse(&o, ",a", false) == -EINVAL);
	CHECK(mountopts_parse(&o, "a,", false) == -EINVAL);
	CHECK(mountopts_parse(&o, "a\nb", false) == -EINVAL);
	char big[1200];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(mountopts_parse(&o, big, false) == -ENAMETOOLONG);
}

void mountopts_tests(void)
{
	RUN(defaults_follow_ro_rw);
	RUN(splits_flags_from_data);
	RUN(whole_names_only);
	RUN(rejects_malformed);
}
