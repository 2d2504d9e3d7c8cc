/* Answering the kernel's firmware requests (the sysfs fallback loader):
 * served from the initramfs at once if there, else held until the real
 * root is mounted and served from there; never left hanging. */
#ifndef LUKSINIT_FIRMWARE_H
#define LUKSINIT_FIRMWARE_H

#include <stdbool.h>

#include "cmdline.h"
#include "fwpath.h"
#include "uevent.h"

#define FW_HELD_MAX 64
#define FW_SYSDIR_LEN 512

struct fw_request {
	char name[FW_NAME_MAX];
	char sysdir[FW_SYSDIR_LEN]; /* /sys/devices/.../<name> */
	long long seen_ms;
	bool early; /* pending before /init lifted the timeout */
};

struct firmware {
	struct fw_request held[FW_HELD_MAX];
	int nheld;
	/* Devices whose request expired before we could answer it. */
	char expired[FW_HELD_MAX][FW_SYSDIR_LEN];
	int nexpired;
	const char *newroot; /* set once the real root is mounted */
	char release[65];
	char custom_path[CFG_PATH_MAX];
	char saved_timeout[16];
	char saved_force[16];
};

/* Lifts the fallback timeout for new requests, forces the sysfs fallback
 * if the kernel would not use it, and answers requests already pending. */
void firmware_start(struct firmware *fw, const struct boot_config *cfg);
/* A uevent arrived; firmware requests are handled, others ignored. */
void firmware_on_uevent(struct firmware *fw, const struct uevent *ev);
/* The real root is mounted at newroot: serve what was held, abort what
 * exists nowhere, re-probe devices whose early request expired. */
void firmware_root_mounted(struct firmware *fw, const char *newroot);
/* The new root was unmounted again (boot failed after mounting it). */
void firmware_root_gone(struct firmware *fw);
/* Right before the switch: answer anything still pending, restore the
 * kernel knobs. */
void firmware_finish(struct firmware *fw);

#endif
