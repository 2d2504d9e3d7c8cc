#include <string.h>

#include "check.h"
#include "firmware/fwpolicy.h"

static void holds_only_what_waits_in_a_work_item(void)
{
	/* Found: always served, whatever the phase. */
	CHECK(fw_decide(true, false, 0, false, true) == FW_SERVE);
	CHECK(fw_decide(true, true, 1, false, false) == FW_SERVE);
	/* Not found before the root: ASYNC=1 is held... */
	CHECK(fw_decide(false, false, 1, false, true) == FW_HOLD);
	/* ...and so is a synchronous one from a device whose probe is over. */
	CHECK(fw_decide(false, false, 0, true, true) == FW_HOLD);
	/* Any other synchronous one (maybe a probe holding a USB hub) or
	 * one of unknown kind is refused at once, its device probed again
	 * later. */
	CHECK(fw_decide(false, false, 0, false, true) == FW_ABORT_REPROBE);
	CHECK(fw_decide(false, false, -1, false, true) == FW_ABORT_REPROBE);
	/* A full queue holds nothing more. */
	CHECK(fw_decide(false, false, 1, false, false) == FW_ABORT_REPROBE);
	CHECK(fw_decide(false, false, 0, true, false) == FW_ABORT_REPROBE);
	/* The real root is there and has nothing: nothing better will come. */
	CHECK(fw_decide(false, true, 1, false, true) == FW_ABORT);
	CHECK(fw_decide(false, true, 0, true, true) == FW_ABORT);
}

static bool parse(const char *rec, char *bus, char *name)
{
	return fw_kmsg_failed_load(rec, strlen(rec), bus, name);
}

static void reads_failed_loads_from_kmsg(void)
{
	char bus[FW_BUS_MAX], name[FW_DEVNAME_MAX];
	CHECK(parse("4,812,1503223,-;luksinit_fwtest luksinit_fwtest.0: "
		    "Direct firmware load for fwtest/sync.bin failed with "
		    "error -2\n SUBSYSTEM=platform\n"
		    " DEVICE=+platform:luksinit_fwtest.0\n",
		    bus, name));
	CHECK_STR(bus, "platform");
	CHECK_STR(name, "luksinit_fwtest.0");
	CHECK(parse("4,9,1,-;iwlwifi 0000:00:14.3: Direct firmware load for "
		    "iwlwifi-so-a0-gf-a0-72.ucode failed with error -2\n"
		    " SUBSYSTEM=pci\n DEVICE=+pci:0000:00:14.3\n",
		    bus, name));
	CHECK_STR(bus, "pci");
	CHECK_STR(name, "0000:00:14.3");
}

static void ignores_other_and_hostile_records(void)
{
	char bus[FW_BUS_MAX], name[FW_DEVNAME_MAX];
	/* Another message, even with a device. */
	CHECK(!parse("6,1,1,-;usb 1-1: new device\n DEVICE=+usb:1-1\n", bus,
		     name));
	/* No dictionary: the device is unknown. */
	CHECK(!parse("4,1,1,-;x: Direct firmware load for a failed with "
		     "error -2\n",
		     bus, name));
	/* A block or net device (c/b/n), not a bus device. */
	CHECK(!parse("4,1,1,-;x: Direct firmware load for a failed with "
		     "error -2\n DEVICE=b8:0\n",
		     bus, name));
	/* Names that would walk out of /sys/bus. */
	CHECK(!parse("4,1,1,-;x: Direct firmware load for a failed with "
		     "error -2\n DEVICE=+../..:x\n",
		     bus, name));
	CHECK(!parse("4,1,1,-;x: Direct firmware load for a failed with "
		     "error -2\n DEVICE=+pci:a/../../b\n",
		     bus, name));
	CHECK(!parse("4,1,1,-;x: Direct firmware load for a failed with "
		     "error -2\n DEVICE=+pci:..\n",
		     bus, name));
	/* Text written by a user to /dev/kmsg has no dictionary either. */
	CHECK(!parse("12,1,1,-;Direct firmware load for a failed with error "
		     "-2",
		     bus, name));
	/* Not even a record. */
	CHECK(!parse("Direct firmware load for", bus, name));
}

static void sysfs_names(void)
{
	CHECK(fw_sysfs_name_ok("0000:00:14.3", FW_DEVNAME_MAX));
	CHECK(fw_sysfs_name_ok("1-1:1.0", FW_DEVNAME_MAX));
	CHECK(!fw_sysfs_name_ok("", FW_DEVNAME_MAX));
	CHECK(!fw_sysfs_name_ok(".", FW_DEVNAME_MAX));
	CHECK(!fw_sysfs_name_ok("..", FW_DEVNAME_MAX));
	CHECK(!fw_sysfs_name_ok("a/b", FW_DEVNAME_MAX));
	CHECK(!fw_sysfs_name_ok("a b", FW_DEVNAME_MAX));
	CHECK(!fw_sysfs_name_ok("abcd", 4));
}

void fwpolicy_tests(void)
{
	RUN(holds_only_what_waits_in_a_work_item);
	RUN(reads_failed_loads_from_kmsg);
	RUN(ignores_other_and_hostile_records);
	RUN(sysfs_names);
}
