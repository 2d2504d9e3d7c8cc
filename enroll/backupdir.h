/* Where the header backups go. A backup holds every keyslot of a header:
 * an old header and an old passphrase give the volume key, even after the
 * passphrase was changed. A file removed from a disk's filesystem leaves
 * its bytes in the freed blocks, so the backups are kept only in memory
 * (tmpfs or ramfs), never on a disk. */
#ifndef LUKSINIT_ENROLL_BACKUPDIR_H
#define LUKSINIT_ENROLL_BACKUPDIR_H

#include <stddef.h>

/* Makes a private directory for the backups in the first of $TMPDIR (or
 * /tmp), /run and /dev/shm that is in memory, into dir. Returns 0, or
 * -errno after saying why (none is in memory: set TMPDIR to a tmpfs). */
int backupdir_make(char *dir, size_t size);

#endif
