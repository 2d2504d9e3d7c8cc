#include <errno.h>
#include <string.h>

#include "check.h"
#include "config/devspec.h"

static void parses_every_form(void)
{
	struct devspec s;
	CHECK(devspec_parse(&s, "/dev/vda") == 0 && s.kind == DEVSPEC_PATH);
	CHECK_STR(s.value, "/dev/vda");
	CHECK(devspec_parse(&s, "UUID=ab-cd") == 0 && s.kind == DEVSPEC_UUID);
	CHECK_STR(s.value, "ab-cd");
	CHECK(devspec_parse(&s, "LABEL=root") == 0 && s.kind == DEVSPEC_LABEL);
	CHECK(devspec_parse(&s, "PARTUUID=1-2") == 0 &&
	      s.kind == DEVSPEC_PARTUUID);
	CHECK(devspec_parse(&s, "PARTLABEL=p") == 0 &&
	      s.kind == DEVSPEC_PARTLABEL);
	CHECK(devspec_parse(&s, "/dev/disk/by-uuid/xyz") == 0 &&
	      s.kind == DEVSPEC_UUID);
	CHECK_STR(s.value, "xyz");
	CHECK(devspec_parse(&s, "LABEL=\"my root\"") == 0);
	CHECK_STR(s.value, "my root");
	CHECK(devspec_parse(&s, "LABEL=\"\"") == -EINVAL);
	CHECK(devspec_parse(&s, "/dev/mapper/luks-1") == 0 &&
	      s.kind == DEVSPEC_PATH);
}

static void rejects_bad_specs(void)
{
	struct devspec s;
	CHECK(devspec_parse(&s, "") == -EINVAL);
	CHECK(devspec_parse(&s, "UUID=") == -EINVAL);
	CHECK(devspec_parse(&s, "/dev/") == -EINVAL);
	CHECK(devspec_parse(&s, "vda") == -EINVAL);
	CHECK(devspec_parse(&s, "FOO=bar") == -EINVAL);
	CHECK(devspec_parse(&s, "/dev/../etc/shadow") == -EINVAL);
	CHECK(devspec_parse(&s, "LABEL=a\tb") == -EINVAL);
	CHECK(devspec_parse(&s, NULL) == -EINVAL);
	char long_uuid[300] = "UUID=";
	memset(long_uuid + 5, 'a', 250);
	long_uuid[255] = '\0';
	CHECK(devspec_parse(&s, long_uuid) == -EINVAL);
	CHECK(s.kind == DEVSPEC_NONE);
}

static void matching(void)
{
	struct dev_ids ids;
	memset(&ids, 0, sizeof(ids));
	strcpy(ids.devnode, "/dev/vdb");
	strcpy(ids.uuid, "0a1b2c3d-aaaa");
	strcpy(ids.label, "Root");
	strcpy(ids.mapper_name, "luks-1234");
	struct devspec s;
	devspec_parse(&s, "UUID=0A1B2C3D-AAAA");
	CHECK(devspec_matches(&s, &ids));
	devspec_parse(&s, "LABEL=root");
	CHECK(!devspec_matches(&s, &ids)); /* labels are case-sensitive */
	devspec_parse(&s, "LABEL=Root");
	CHECK(devspec_matches(&s, &ids));
	devspec_parse(&s, "/dev/vdb");
	CHECK(devspec_matches(&s, &ids));
	devspec_parse(&s, "/dev/vd");
	CHECK(!devspec_matches(&s, &ids));
	devspec_parse(&s, "/dev/mapper/luks-1234");
	CHECK(devspec_matches(&s, &ids));
	devspec_parse(&s, "PARTUUID=x");
	CHECK(!devspec_matches(&s, &ids)); /* empty partuuid never matches */
}

void devspec_tests(void)
{
	RUN(parses_every_form);
	RUN(rejects_bad_specs);
	RUN(matching);
}
