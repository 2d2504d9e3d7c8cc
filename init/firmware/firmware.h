/* Answering the kernel's firmware requests (the sysfs fallback loader) in
 * every phase of /init's life: served at once from the initramfs or the
 * real root when the file is there; an asynchronous request held until the
 * real root is mounted; a synchronous one refused at once and its device
 * probed again once the root is there (init/firmware/fwpolicy.h says why). Every
 * request made while /init runs is answered before the real init starts. */
#ifndef LUKSINIT_FIRMWARE_H
#define LUKSINIT_FIRMWARE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/knob.h"
#include "base/uevent.h"
#include "config/cmdline.h"
#include "firmware/fwpath.h"
#include "firmware/fwreprobe.h"

#define FW_HELD_MAX 64
/* A request lives at /sys/devices/<path>/firmware/<name>: device paths
 * behind bridges and hubs are long, so a whole path. */
#define FW_SYSDIR_LEN PATH_MAX
#define FW_LOGGED_MAX 32
#define FW_BOUND_MAX 128

struct fw_request {
	char name[FW_NAME_MAX];
	char sysdir[FW_SYSDIR_LEN]; /* /sys/devices/.../firmware/<name> */
	long long seen_ms;
	int async;
	bool early; /* pending before /init was up (firmware_start) */
};

struct firmware {
	struct fw_request held[FW_HELD_MAX];
	int nheld;
	struct fw_reprobe reprobe;
	/* The root firmware is read from: the initramfs, then the real root
	 * (a path as /init sees it, and an fd on it). */
	const char *root;
	int root_fd;
	bool root_is_real;
	long long last_request_ms;
	/* Hashes of devpaths announced bound ("bind" uevents) meanwhile. */
	unsigned long long bound[FW_BOUND_MAX];
	unsigned nbound;
	/* A driver asking again and again must not flood the console. */
	struct {
		unsigned hash;
		int count;
	} logged[FW_LOGGED_MAX];
	char release[65];
	char custom_path[CFG_PATH_MAX];
	struct knob_saved saved_timeout;
	struct knob_saved saved_force;
};

/* Right after /proc is mounted and before /sys: forces the sysfs
 * fallback while /init runs, so that no request made from the moment /sys
 * appears fails at once (a kernel without _FALLBACK fails it otherwise);
 * such a request waits in sysfs until firmware_start finds it. */
void firmware_init(struct firmware *fw);
/* After firmware_init, once /sys and the log are there: sets a finite
 * timeout for new requests, reads which devices failed to load firmware
 * before /init ran, and answers requests already pending. */
void firmware_start(struct firmware *fw, const struct boot_config *cfg);
/* A uevent arrived; firmware requests are handled, others ignored. */
void firmware_on_uevent(struct firmware *fw, const struct uevent *ev);
/* Events may have been lost: look at what is pending now. */
void firmware_rescan(struct firmware *fw);
/* The real root is mounted at newroot and will be booted: serve what was
 * held, refuse what exists nowhere, probe again the devices left without a
 * driver for want of firmware (each in a child, so the loop keeps serving
 * their new requests). */
void firmware_root_mounted(struct firmware *fw, const char *newroot);
/* The new root was unmounted again (boot failed after mounting it). */
void firmware_root_gone(struct firmware *fw);
/* True while a re-probe started by firmware_root_mounted() runs (each has
 * its own time bound). */
bool firmware_reprobing(const struct firmware *fw);
/* /init now runs inside the new root (after chroot): read firmware from
 * "/", give the kernel its knobs back, so that from now on it loads
 * firmware itself (unless it was built to always ask userspace). */
void firmware_in_new_root(struct firmware *fw);
/* The real init could not be executed: /init stays in charge inside the
 * new root (its emergency prompt, a retry of the exec), so requests wait
 * for it again and are served from "/". */
void firmware_exec_failed(struct firmware *fw);
/* 0 once no request arrived for a moment (QUIET_MS) and none is held;
 * otherwise how many ms to wait before asking again. */
int firmware_quiet_in(const struct firmware *fw, long long now_ms);
/* Right before exec: answer everything still pending. */
void firmware_finish(struct firmware *fw);

/* For the loop: a child exited; ms until firmware wants a tick (-1:
 * never); the tick itself. */
void firmware_on_child_exit(struct firmware *fw, pid_t pid, int status);
int firmware_next_timeout(const struct firmware *fw);
void firmware_tick(struct firmware *fw);

#endif
