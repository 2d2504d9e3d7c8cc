/* devices_coldplug() against a fake /sys/class/block. */
#include <string.h>

#include "check.h"
#include "devices/devices.h"
#include "fakesys.h"

struct seen {
	char names[8][32];
	int n;
};

static void on_block(const struct uevent *ev, void *arg)
{
	struct seen *s = arg;
	CHECK_STR(ev->action, "add");
	CHECK_STR(ev->subsystem, "block");
	if (s->n < 8)
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%s:%d:%d",
			 ev->devname, ev->major, ev->minor);
}

static bool saw(const struct seen *s, const char *what)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->names[i], what) == 0)
			return true;
	return false;
}

static void coldplug_reads_good_uevent_files_only(void)
{
	CHECK(fake_setup());
	static const char sda[] =
		"MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n";
	static const char sda1[] = "MAJOR=8\nMINOR=1\nDEVNAME=sda1\n"
				   "DEVTYPE=partition\nPARTN=1\n";
	fake_put("sys/devices/pci0/host0/block/sda/uevent", sda,
		 sizeof(sda) - 1);
	fake_put("sys/devices/pci0/host0/block/sda/sda1/uevent", sda1,
		 sizeof(sda1) - 1);
	fake_put("sys/devices/virtual/block/junk/uevent",
		 "\xff\x01garbage\n=\nMAJOR=x\n", 20);
	fake_link("../../devices/pci0/host0/block/sda", "sys/class/block/sda");
	fake_link("../../devices/pci0/host0/block/sda/sda1",
		  "sys/class/block/sda1");
	fake_link("../../devices/virtual/block/junk", "sys/class/block/junk");
	/* No uevent file at all, and a link to nowhere. */
	fake_mkdir("sys/class/block/empty");
	fake_link("../../devices/gone", "sys/class/block/gone");
	struct seen s = {0};
	CHECK(devices_coldplug(on_block, &s) == 2);
	CHECK(s.n == 2);
	CHECK(saw(&s, "sda:8:0"));
	CHECK(saw(&s, "sda1:8:1"));
	fake_teardown();
	/* No /sys/class/block: an error, no call. */
	CHECK(fake_setup());
	s.n = 0;
	CHECK(devices_coldplug(on_block, &s) < 0);
	CHECK(s.n == 0);
	fake_teardown();
}

void devsysfs_tests(void)
{
	RUN(coldplug_reads_good_uevent_files_only);
}
