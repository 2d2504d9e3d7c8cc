/* Enrolment: a derived keyslot and its token on every member. */
#ifndef LUKSINIT_ENROLL_ENROL_H
#define LUKSINIT_ENROLL_ENROL_H

#include "common/secret.h"

/* The passphrase must open primary and every member. Either every member
 * gets its keyslot and token, verified, or no header is left changed.
 * Returns 0 or -errno (said). */
int enrol(const char *primary, char *const members[], int n,
	  const struct secret *pass, const char *tmpdir);

#endif
