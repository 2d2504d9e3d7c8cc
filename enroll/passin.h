/* The passphrase, once: from a key file (its exact bytes) or typed at the
 * terminal without echo. */
#ifndef LUKSINIT_ENROLL_PASSIN_H
#define LUKSINIT_ENROLL_PASSIN_H

#include "common/secret.h"

/* keyfile NULL: ask on /dev/tty with prompt. Returns 0 or -errno (said). */
int passin_read(struct secret *pass, const char *keyfile, const char *prompt);

#endif
