/* Key files on another device (genkernel's root_keydev=, dracut's and
 * systemd's rd.luks.key=PATH:DEVICE): a USB stick, usually.
 *
 * The steps stay apart so that other files on a device (a detached LUKS
 * header) can use them: the loop hands every identified device to
 * keydev_consider, which keeps those that match a wanted key device (they
 * are then never taken as part of the root); keydev_wait bounds the wait
 * for one; keydev_read_file mounts it (stickmount.h: read-only down to
 * the block device, without journal recovery, nodev, nosuid, noexec, only
 * filesystems of a short list) on a fresh mode-0700 directory under
 * RUN_DIR (/run/luksinit, base/rundir.h), reads one file, and unmounts it at once.
 *
 * A key is read by a job (loop/job.h: a child process, the key coming back
 * into locked memory), once per device and path, for every member that
 * names them; a read that does not end within KEYDEV_READ_TIMEOUT_MS is
 * killed, and the device is not read again in this attempt (each member
 * asks for its passphrase instead). The loop never waits for a read.
 *
 * The state is per boot attempt: a retry looks for the device again. */
#ifndef LUKSINIT_KEYDEV_H
#define LUKSINIT_KEYDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/secret.h"
#include "config/cmdline.h"
#include "config/devspec.h"
#include "loop/job.h"

#define KEYDEV_MAX 8
/* Reading a key (mount, read, unmount) in its job: past this, the job is
 * killed and the passphrase asked. */
#define KEYDEV_READ_TIMEOUT_MS 15000
#define KEYDEV_READS_MAX 8

struct keydev_set;

/* One key device wanted in this attempt. */
struct keydev_want {
	struct keydev_set *set;
	struct devspec spec;
	long long deadline_ms; /* clock_now_ms() when waiting ends */
	int timeout_ms;
	bool expired; /* given up on: said once, no more waiting */
	bool found;
	bool header;  /* holds a detached header (hdrdev.h), not a key */
	bool hung;    /* a read timed out: it is not read again */
	bool refused; /* never mounted (said once): keydev_wait says gone */
	struct dev_ids ids;
};

/* One key file read from one device, for every member that names it. */
struct keydev_read {
	struct keydev_want *want;
	char path[CFG_PATH_MAX];
	char fstype[32];
	int job; /* while it runs */
	long long deadline_ms;
	bool told; /* its end was reported by keydev_tick */
	int rc;
	char step[8]; /* what failed: "mount", "open", "read" */
	struct secret key;
	int takers; /* members yet to take the key; wiped at 0 */
};

/* Btrfs filesystem UUIDs seen on devices that are no key devices, for
 * /init's whole life (what they registered stays registered). */
#define KEYDEV_FSIDS_MAX 16
struct keydev_fsids {
	char fsid[KEYDEV_FSIDS_MAX][40];
	int n;
	bool overflow; /* more were seen */
};

struct keydev_set {
	const struct boot_config *cfg;
	struct jobs *jobs;	   /* kept by keydev_begin */
	struct keydev_fsids fsids; /* kept by keydev_begin */
	struct keydev_want want[KEYDEV_MAX];
	int n;
	struct keydev_read read[KEYDEV_READS_MAX];
	int nread;
};

/* Once, before the first keydev_begin: where key reads run. */
void keydev_attach(struct keydev_set *k, struct jobs *jobs);
/* Once per attempt: forgets the devices seen, and every key read (a
 * read still running is killed). */
void keydev_begin(struct keydev_set *k, const struct boot_config *cfg);
/* The attempt is over: every key read is wiped, one still running is
 * killed. No key file outlives the attempt that read it. */
void keydev_end(struct keydev_set *k);

/* A device was identified: true if it is a key device named on the
 * command line (it is then remembered, and must not become part of the
 * root). Device-mapper devices, LUKS devices and the disks a listed
 * member's spec names are never key devices (a key device named by path
 * may be named after a member's disk: the member takes it). */
bool keydev_consider(struct keydev_set *k, const struct dev_ids *ids);

enum keydev_wait_rc { KEYDEV_READY, KEYDEV_WAITING, KEYDEV_GONE };

/* spec is needed now: starts its wait (timeout_ms) on the first call.
 * KEYDEV_READY sets *ret_ids; KEYDEV_GONE once the wait ended without it,
 * or if it carries a Btrfs filesystem that must not be mounted (the
 * root's UUID, root=UUID=, or that of a Btrfs device seen here:
 * stickmount.h), each said once, as a warning, naming who waited. */
enum keydev_wait_rc keydev_wait(struct keydev_set *k,
				const struct devspec *spec, int timeout_ms,
				const char *who,
				const struct dev_ids **ret_ids);

/* Ends the waits that are due (each said once, as a warning). Returns 0
 * if one ended or a key read ended (the caller asks again, and hears
 * KEYDEV_GONE or the read's outcome), else milliseconds until the next
 * wait or read ends, or -1. */
int keydev_tick(struct keydev_set *k);
/* Milliseconds until the next wait or read ends (0: due), or -1;
 * changes nothing. */
int keydev_next_ms(const struct keydev_set *k);

/* Reads path (absolute, from the device's root, no "..", no symlink
 * followed) from the filesystem fstype on devnode, at most max bytes,
 * into buf. Blocking: run in a job's child (keydev_read_key's, and
 * hdrdev.h's copy); it does not log, and each call mounts on a directory
 * of its own. Returns 0 or -errno, and *ret_step names what failed
 * ("mount", "open", "read"). -EFBIG: larger than max; -ENOENT: no such
 * file; -EMEDIUMTYPE, -EROFS, -EPERM: not mounted (stick_mount's). */
int keydev_read_file(const char *devnode, const char *fstype, const char *path,
		     void *buf, size_t max, size_t *ret_len,
		     const char **ret_step);
/* The same mount, open and unmount, but fn reads the open file (its
 * return value is the result; *ret_step is "read" then). */
int keydev_with_file(const char *devnode, const char *fstype, const char *path,
		     int (*fn)(int fd, void *arg), void *arg,
		     const char **ret_step);

/* Why stick_mount's -EROFS or -EPERM refused a device, for messages. */
const char *keydev_unwritable_why(int rc);

/* The checks every file read from a device passes: a regular file of
 * 1..max bytes. Returns 0 with *ret_size, -EINVAL (not a regular file),
 * -ENODATA (empty), -EFBIG (larger than max) or -errno. */
int keydev_file_size(int fd, unsigned long long max, size_t *ret_size);

/* The key file path from the device ids (as keydev_wait gave them), in
 * locked memory: the first call starts its read, in a job; -EAGAIN while
 * it runs (keydev_tick says when it ended). 0 and the key in ret, or
 * -errno after logging why not (then the passphrase is asked; -ETIMEDOUT
 * when the device did not answer). fstype_override: root_keydev_fstype=,
 * or "" for what blkid found. */
int keydev_read_key(const struct dev_ids *ids, const char *fstype_override,
		    const char *path, const char *who, struct secret *ret);

#endif
