/* Key files on another device (genkernel's root_keydev=, dracut's and
 * systemd's rd.luks.key=PATH:DEVICE): a USB stick, usually.
 *
 * The steps stay apart so that other files on a device (a detached LUKS
 * header) can use them: the loop hands every identified device to
 * keydev_consider, which keeps those that match a wanted key device (they
 * are then never taken as part of the root); keydev_wait bounds the wait
 * for one; keydev_read_file mounts it read-only, nodev, nosuid, noexec on
 * a fresh mode-0700 directory under /run/luksinit, reads one file within
 * a bound, and unmounts it at once.
 *
 * The state is per boot attempt: a retry looks for the device again. */
#ifndef LUKSINIT_KEYDEV_H
#define LUKSINIT_KEYDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/secret.h"
#include "config/cmdline.h"
#include "config/devspec.h"

#define KEYDEV_MAX 8
/* Reading a key (mount, read, unmount) holds the loop at most this long;
 * a device that does not answer is left to its worker thread. */
#define KEYDEV_READ_TIMEOUT_MS 15000
#define KEYDEV_STACK ((size_t)64 * 1024)

/* One key device wanted in this attempt. */
struct keydev_want {
	struct devspec spec;
	long long deadline_ms; /* loop_now_ms() when waiting ends */
	int timeout_ms;
	bool expired; /* given up on: said once, no more waiting */
	bool found;
	bool header; /* holds a detached header (hdrdev.h), not a key */
	struct dev_ids ids;
};

struct keydev_set {
	const struct boot_config *cfg;
	struct keydev_want want[KEYDEV_MAX];
	int n;
};

/* Once per attempt: forgets the devices seen. */
void keydev_begin(struct keydev_set *k, const struct boot_config *cfg);

/* A device was identified: true if it is a key device named on the
 * command line (it is then remembered, and must not become part of the
 * root). Device-mapper devices are never key devices. */
bool keydev_consider(struct keydev_set *k, const struct dev_ids *ids);

enum keydev_wait_rc { KEYDEV_READY, KEYDEV_WAITING, KEYDEV_GONE };

/* spec is needed now: starts its wait (timeout_ms) on the first call.
 * KEYDEV_READY sets *ret_ids; KEYDEV_GONE once the wait ended without it
 * (said once, as a warning, naming who waited). */
enum keydev_wait_rc keydev_wait(struct keydev_set *k,
				const struct devspec *spec, int timeout_ms,
				const char *who,
				const struct dev_ids **ret_ids);

/* Ends the waits that are due (each said once, as a warning). Returns 0
 * if one ended (the caller asks again, and hears KEYDEV_GONE), else
 * milliseconds until the next ends, or -1. */
int keydev_tick(struct keydev_set *k);
/* Milliseconds until the next wait ends (0: due), or -1; changes
 * nothing. */
int keydev_next_ms(const struct keydev_set *k);

/* Reads path (absolute, from the device's root, no "..", no symlink
 * followed) from the filesystem fstype on devnode, at most max bytes,
 * into buf. Blocking (a worker's job); thread-safe: it does not log, and
 * each call mounts on a directory of its own. Returns 0 or -errno, and *ret_step names what
 * failed ("mount", "open", "read"). -EFBIG: larger than max; -ENOENT: no
 * such file. */
int keydev_read_file(const char *devnode, const char *fstype, const char *path,
		     void *buf, size_t max, size_t *ret_len,
		     const char **ret_step);
/* The same mount, open and unmount, but fn reads the open file (its
 * return value is the result; *ret_step is "read" then). */
int keydev_with_file(const char *devnode, const char *fstype, const char *path,
		     int (*fn)(int fd, void *arg), void *arg,
		     const char **ret_step);

/* The checks every file read from a device passes: a regular file of
 * 1..max bytes. Returns 0 with *ret_size, -EINVAL (not a regular file),
 * -ENODATA (empty), -EFBIG (larger than max) or -errno. */
int keydev_file_size(int fd, unsigned long long max, size_t *ret_size);

/* The key file path from the device ids, in locked memory, read by a
 * worker within KEYDEV_READ_TIMEOUT_MS: logs why not (then the
 * passphrase is asked). fstype_override: root_keydev_fstype=,
 * or "" for what blkid found. */
int keydev_read_key(const struct dev_ids *ids, const char *fstype_override,
		    const char *path, const char *who, struct secret *ret);

#endif
