#include <string.h>

#include "firmware/fwpolicy.h"
#include "fuzz.h"

/* /dev/kmsg records are written by the kernel, but their text may carry
 * anything a driver or device printed: only a safe bus and device name
 * may come out, to be put in a /sys/bus path. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char bus[FW_BUS_MAX], name[FW_DEVNAME_MAX];
	if (fw_kmsg_failed_load((const char *)data, size, bus, name)) {
		INVARIANT(fw_sysfs_name_ok(bus, FW_BUS_MAX));
		INVARIANT(fw_sysfs_name_ok(name, FW_DEVNAME_MAX));
		INVARIANT(!strchr(bus, '/') && !strchr(name, '/'));
		INVARIANT(strcmp(name, "..") != 0 && strcmp(name, ".") != 0);
	}
	return 0;
}
