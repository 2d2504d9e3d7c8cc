#include <errno.h>
#include <string.h>

#include "base/uevent.h"
#include "check.h"

/* Builds a kernel-style message from NUL-separated fields given with '|'. */
static size_t build(char *buf, const char *fields)
{
	size_t n = strlen(fields);
	memcpy(buf, fields, n + 1);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '|')
			buf[i] = '\0';
	return n;
}

static void parses_block_add(void)
{
	char buf[UEVENT_MSG_MAX + 1];
	size_t n = build(
		buf, "add@/devices/pci0000:00/virtio1/block/vda|"
		     "ACTION=add|DEVPATH=/devices/pci0000:00/virtio1/block/vda|"
		     "SUBSYSTEM=block|MAJOR=254|MINOR=0|DEVNAME=vda|"
		     "DEVTYPE=disk|SEQNUM=812");
	struct uevent ev;
	CHECK(uevent_parse(&ev, buf, n) == 0);
	CHECK_STR(ev.action, "add");
	CHECK_STR(ev.subsystem, "block");
	CHECK_STR(ev.devname, "vda");
	CHECK_STR(ev.devtype, "disk");
	CHECK(ev.major == 254 && ev.minor == 0);
	CHECK(uevent_is_block_add(&ev));
}

/* A mapping's "add" comes before its table; its "change" is acted on. */
static void dm_add_is_not_acted_on_its_change_is(void)
{
	char buf[UEVENT_MSG_MAX + 1];
	size_t n = build(buf, "add@/devices/virtual/block/dm-3|ACTION=add|"
			      "DEVPATH=/devices/virtual/block/dm-3|"
			      "SUBSYSTEM=block|DEVNAME=dm-3|DEVTYPE=disk|"
			      "MAJOR=253|MINOR=3");
	struct uevent ev;
	CHECK(uevent_parse(&ev, buf, n) == 0);
	CHECK(uevent_is_block_add(&ev) && uevent_is_dm_created(&ev));
	n = build(buf, "change@/devices/virtual/block/dm-3|ACTION=change|"
		       "DEVPATH=/devices/virtual/block/dm-3|"
		       "SUBSYSTEM=block|DEVNAME=dm-3|DEVTYPE=disk|"
		       "MAJOR=253|MINOR=3");
	CHECK(uevent_parse(&ev, buf, n) == 0);
	CHECK(uevent_is_block_add(&ev) && !uevent_is_dm_created(&ev));
	n = build(buf, "add@/devices/pci/virtio1/block/vda|ACTION=add|"
		       "DEVPATH=/devices/pci/virtio1/block/vda|"
		       "SUBSYSTEM=block|DEVNAME=vda|DEVTYPE=disk|"
		       "MAJOR=254|MINOR=0");
	CHECK(uevent_parse(&ev, buf, n) == 0);
	CHECK(!uevent_is_dm_created(&ev));
}

static void parses_firmware_request(void)
{
	char buf[UEVENT_MSG_MAX + 1];
	size_t n =
		build(buf, "add@/devices/virtual/firmware/a!b.bin|ACTION=add|"
			   "DEVPATH=/devices/virtual/firmware/a!b.bin|"
			   "SUBSYSTEM=firmware|FIRMWARE=a/b.bin|TIMEOUT=60");
	struct uevent ev;
	CHECK(uevent_parse(&ev, buf, n) == 0);
	CHECK_STR(ev.firmware, "a/b.bin");
	CHECK(ev.async == -1); /* absent */
	CHECK(!uevent_is_block_add(&ev));
	n = build(buf, "add@/devices/virtual/firmware/x|ACTION=add|"
		       "DEVPATH=/devices/virtual/firmware/x|"
		       "SUBSYSTEM=firmware|FIRMWARE=x|ASYNC=1");
	CHECK(uevent_parse(&ev, buf, n) == 0 && ev.async == 1);
	n = build(buf, "add@/devices/virtual/firmware/x|ACTION=add|"
		       "DEVPATH=/devices/virtual/firmware/x|"
		       "SUBSYSTEM=firmware|FIRMWARE=x|ASYNC=7");
	CHECK(uevent_parse(&ev, buf, n) == 0 && ev.async == 0);
}

static void rejects_non_kernel_messages(void)
{
	char buf[UEVENT_MSG_MAX + 1];
	struct uevent ev;
	size_t n = build(buf, "libudev|ACTION=add|DEVPATH=/x|SUBSYSTEM=block");
	CHECK(uevent_parse(&ev, buf, n) == -EINVAL);
	n = build(buf, "add@/x|ACTION=add|SUBSYSTEM=block"); /* no DEVPATH */
	CHECK(uevent_parse(&ev, buf, n) == -EINVAL);
	n = build(buf, "add@/x|ACTION=add|DEVPATH=x|SUBSYSTEM=block");
	CHECK(uevent_parse(&ev, buf, n) == -EINVAL);
	CHECK(uevent_parse(&ev, buf, 0) == -EINVAL);
	CHECK(uevent_parse(&ev, buf, UEVENT_MSG_MAX + 1) == -EINVAL);
	/* Header only, not NUL-terminated by the sender: still bounded. */
	memset(buf, 'a', 100);
	CHECK(uevent_parse(&ev, buf, 100) == -EINVAL);
}

static void whole_key_match(void)
{
	char buf[UEVENT_MSG_MAX + 1];
	struct uevent ev;
	size_t n = build(buf, "add@/x|ACTION=add|DEVPATH=/x|SUBSYSTEM=block|"
			      "DEVNAMEX=evil|XDEVNAME=evil|MAJOR=1x|MINOR=");
	CHECK(uevent_parse(&ev, buf, n) == 0);
	CHECK(ev.devname == NULL);
	CHECK(ev.major == -1 && ev.minor == -1);
	CHECK(!uevent_is_block_add(&ev));
}

static void devname_safety(void)
{
	CHECK(uevent_devname_ok("vda"));
	CHECK(uevent_devname_ok("mapper/luks-1"));
	CHECK(!uevent_devname_ok(""));
	CHECK(!uevent_devname_ok(NULL));
	CHECK(!uevent_devname_ok("/etc/shadow"));
	CHECK(!uevent_devname_ok("../etc/shadow"));
	CHECK(!uevent_devname_ok("a/../../b"));
	CHECK(!uevent_devname_ok("a//b"));
	CHECK(!uevent_devname_ok("a b"));
	CHECK(!uevent_devname_ok("a\nb"));
	char longname[100];
	memset(longname, 'a', 99);
	longname[99] = '\0';
	CHECK(!uevent_devname_ok(longname));
}

static void sysfs_uevent_file(void)
{
	char buf[UEVENT_MSG_MAX + 1];
	const char *text = "MAJOR=254\nMINOR=16\nDEVNAME=vdb\nDEVTYPE=disk\n";
	strcpy(buf, text);
	struct uevent ev;
	CHECK(uevent_parse_file(&ev, buf, strlen(text)) == 0);
	CHECK_STR(ev.devname, "vdb");
	CHECK(ev.major == 254 && ev.minor == 16);
}

void uevent_tests(void)
{
	RUN(parses_block_add);
	RUN(dm_add_is_not_acted_on_its_change_is);
	RUN(parses_firmware_request);
	RUN(rejects_non_kernel_messages);
	RUN(whole_key_match);
	RUN(devname_safety);
	RUN(sysfs_uevent_file);
}
