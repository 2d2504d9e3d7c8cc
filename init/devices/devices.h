/* Block devices: names from uevents, identification with libblkid. */
#ifndef LUKSINIT_DEVICES_H
#define LUKSINIT_DEVICES_H

#include <stdbool.h>

#include "base/uevent.h"
#include "config/devspec.h"

/* Fills ids for /dev/<devname> with libblkid (superblock tags and
 * partition entry details) and the device-mapper name from sysfs.
 * Returns 0, 1 if several filesystem signatures were found (ids->type
 * stays empty), or -errno; a device without a known superblock is not an
 * error (ids->type stays empty). Reads the disk, which may take minutes:
 * called from identify.c's jobs (child processes), never the loop's
 * thread; it does not
 * log. */
int device_identify(const char *devname, struct dev_ids *ids);

/* Calls fn for every block device already present (coldplug), by reading
 * /sys/class/block/<name>/uevent. Returns how many were visited. */
int devices_coldplug(void (*fn)(const struct uevent *ev, void *arg), void *arg);

#endif
