/* password-cache=yes (systemd's crypttab option): the passphrases that
 * opened members are handed to the booted system the way
 * systemd-cryptsetup leaves them, so that its own crypttab and keyring
 * unlocks at login take them without a second prompt: one "user" key
 * named "cryptsetup" in root's user keyring, the passphrases separated by
 * NUL bytes (none after the last), expiring after PWCACHE_TIMEOUT_S. The
 * list lives in locked memory (common/secret.h) until then. Key files and
 * derived keys are no passphrases: never in it. */
#ifndef LUKSINIT_PWCACHE_H
#define LUKSINIT_PWCACHE_H

#include <stddef.h>

#include "common/secret.h"

#define PWCACHE_KEY "cryptsetup"
#define PWCACHE_TIMEOUT_S 150 /* systemd's KEYRING_TIMEOUT_USEC */

/* Adds pass (len bytes) to the list, after the ones there, unless it is
 * there already; allocates the list on first use. Returns 1 if added, 0
 * if already there, -EINVAL for what a NUL-separated list cannot hold (an
 * empty passphrase, a NUL in it), -ENOSPC past SECRET_MAX bytes, or the
 * allocation's -errno. */
int pwcache_add(struct secret *list, const char *pass, size_t len);
/* Puts the list in the kernel keyring, replacing a key of that name, with
 * its timeout; wipes the list whatever happens. Returns how many
 * passphrases it held (0: nothing to do), or -errno. */
int pwcache_hand_on(struct secret *list);

#endif
