/* One LUKS2 device the tool changes, with the header backup that undoes
 * every change: taken before the first write, restored if any step on any
 * device fails, so a failed run leaves every header as it was. */
#ifndef LUKSINIT_ENROLL_DEV_H
#define LUKSINIT_ENROLL_DEV_H

#include <stdbool.h>

#include "common/dtoken.h"

struct crypt_device;

#define DEV_TOKENS_MAX 32 /* LUKS2 */

struct dev {
	const char *path;
	struct crypt_device *cd;
	char uuid[DTOKEN_UUID_MAX];
	char backup[4096]; /* header backup file; empty until taken */
	bool written;	   /* a write was attempted: restore on failure */
};

/* Loads path's header. Returns 0, or -errno after saying why (LUKS1 and
 * not-LUKS are refused with what to do). */
int dev_open(struct dev *d, const char *path);
void dev_close(struct dev *d);
/* Re-reads the header from disk (after writes, to verify what is there,
 * not what libcryptsetup remembers). Returns 0 or -errno. */
int dev_reload(struct dev *d);
/* Collects the ids of d's luksinit-derived tokens and their parsed
 * contents; returns their count, or -errno after saying why (a token of
 * ours that this version cannot read is an error: never guess). */
int dev_derived_tokens(struct dev *d, int ids[], struct dtoken toks[], int max);
/* Writes d's header backup into dir. Returns 0 or -errno (said). */
int dev_backup(struct dev *d, const char *dir);
/* Puts the backup back if anything was written. Returns 0 or -errno. */
int dev_restore(struct dev *d);

#endif
