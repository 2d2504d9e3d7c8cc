/* Firmware names and where to look for them. Pure. */
#ifndef LUKSINIT_FWPATH_H
#define LUKSINIT_FWPATH_H

#include <stdbool.h>
#include <stddef.h>

#define FW_NAME_MAX 256
#define FW_DIRS_MAX 5
#define FW_DIR_LEN 320

/* A firmware name from a uevent or sysfs is untrusted: refuse empty,
 * over-long and absolute names, "." / ".." / empty components and control
 * characters. */
bool fw_name_ok(const char *name);

/* sysfs shows a '/' in a firmware name as '!': undo that in place. */
void fw_name_from_sysfs(char *name);

/* The kernel's own search order (drivers/base/firmware_loader/main.c):
 * firmware_class.path= if given, then /lib/firmware/updates/<release>,
 * /lib/firmware/updates, /lib/firmware/<release>, /lib/firmware.
 * Fills dirs (absolute paths) and returns how many. */
int fw_search_dirs(const char *custom_path, const char *release,
		   char dirs[FW_DIRS_MAX][FW_DIR_LEN]);

#endif
