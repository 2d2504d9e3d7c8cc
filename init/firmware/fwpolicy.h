/* Which firmware request luksinit holds and which it answers at once, and
 * reading the kernel's record of requests made before /init ran. Pure.
 *
 * The kernel's rules this follows (drivers/base/firmware_loader/):
 * - A request waits in request_firmware() (ASYNC=0) or in a work item
 *   (request_firmware_nowait(), ASYNC=1) until userspace answers or its
 *   timeout, fixed when the request was made, expires.
 * - A synchronous request is often made from the driver's probe. For USB
 *   that probe runs inside the hub's event work, which walks the hub's ports
 *   one after another: while it waits, no other device behind that hub (a
 *   keyboard) is enumerated. The deferred-probe worker and hot-plug paths
 *   are just as serial. Userspace cannot tell a probe from any other caller.
 * - A failed probe leaves the device without a driver; writing its name to
 *   /sys/bus/<bus>/drivers_probe probes it again (as the kernel's
 *   deferred-probe retry does), and that probe asks for the firmware again.
 *   A driver whose probe succeeded without the firmware is bound and
 *   working: re-binding it would disturb a working device (a GPU driving
 *   the console), so it is never touched.
 * So: a request that cannot be served now is held only if it is
 * asynchronous (nothing waits on it but its own work item) or comes from a
 * device whose probe is known to be over; any other synchronous one is
 * refused at once, and its device, if it is left without a driver, is
 * probed again once the real root is mounted. A bound driver whose
 * synchronous request was refused that way (bound before /init could see
 * it, asking outside its probe) goes without: it works without the file,
 * as it would have without an initramfs. */
#ifndef LUKSINIT_FWPOLICY_H
#define LUKSINIT_FWPOLICY_H

#include <stdbool.h>
#include <stddef.h>

enum fw_answer {
	FW_SERVE,	  /* the file is here: write it now */
	FW_HOLD,	  /* wait for the real root */
	FW_ABORT_REPROBE, /* refuse now; probe the device again later */
	FW_ABORT,	  /* refuse: it exists nowhere we can look */
};

/* found: the file can be read now; root: the real root is mounted (so
 * nothing better will come); async: the request's ASYNC= (1, 0, or -1 when
 * unknown); bound: the requesting device's probe is over (the kernel
 * announced its binding with a "bind" uevent while /init listened and it
 * has a driver), so even a synchronous request is not made from its probe
 * (a work item, as i915's DMC or a Bluetooth setup): holding it keeps
 * only that driver waiting; room: the hold queue has space. */
enum fw_answer fw_decide(bool found, bool root, int async, bool bound,
			 bool room);

#define FW_BUS_MAX 32
#define FW_DEVNAME_MAX 128

/* A /dev/kmsg record ("pri,seq,ts,flags;text\n KEY=value\n...") of the
 * kernel saying a device's firmware load failed ("Direct firmware load for
 * NAME failed with error E", printed before any fallback): fills the bus
 * and the device name from its DEVICE=+bus:name line. Returns true only for
 * such a record with a safe bus and name. */
bool fw_kmsg_failed_load(const char *rec, size_t len, char bus[FW_BUS_MAX],
			 char name[FW_DEVNAME_MAX]);

/* A sysfs name (bus or device) safe to put in a path: no '/', not "." or
 * "..", printable, bounded. */
bool fw_sysfs_name_ok(const char *name, size_t max);

#endif
