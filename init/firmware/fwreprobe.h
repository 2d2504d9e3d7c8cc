/* Devices left without a driver because their firmware was missing when
 * they were probed, and probing them again once it can be had. */
#ifndef LUKSINIT_FWREPROBE_H
#define LUKSINIT_FWREPROBE_H

#include <stdbool.h>
#include <sys/types.h>

#include "firmware/fwpolicy.h"

#define FW_REPROBE_MAX 32
/* A probe that asks for firmware we serve takes milliseconds; one that
 * takes longer is left running and the boot goes on. */
#define FW_REPROBE_BOUND_MS 20000

struct fw_candidate {
	char bus[FW_BUS_MAX];
	char name[FW_DEVNAME_MAX];
	pid_t pid;	    /* the child writing drivers_probe, 0 if none */
	long long deadline; /* while pid runs */
	bool done;
};

struct fw_reprobe {
	struct fw_candidate c[FW_REPROBE_MAX];
	int n;
};

/* The device that made the request at /sys<devpath> (the request lives at
 * <device>/firmware/<name>), if it sits on a bus. */
void fw_reprobe_note_request(struct fw_reprobe *r, const char *fw_sysdir);
/* Devices the kernel says failed a direct firmware load (/dev/kmsg). */
void fw_reprobe_scan_kmsg(struct fw_reprobe *r);
/* Starts a child per candidate that has no driver now. */
void fw_reprobe_start(struct fw_reprobe *r);
bool fw_reprobe_running(const struct fw_reprobe *r);
void fw_reprobe_child_exit(struct fw_reprobe *r, pid_t pid, int status);
int fw_reprobe_next_timeout(const struct fw_reprobe *r, long long now);
void fw_reprobe_tick(struct fw_reprobe *r, long long now);

#endif
