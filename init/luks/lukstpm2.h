/* systemd-tpm2 tokens at boot (issue 24), this far: the header-read child
 * finds a member's token and parses it (tpm2/tpm2token.h); the loop says
 * in one line, before any prompt, why the TPM does not open the member,
 * and the passphrase opens it as before. The unseal (tpm2-tss) is the
 * issue's next step. */
#ifndef LUKSINIT_LUKSTPM2_H
#define LUKSINIT_LUKSTPM2_H

#include <stdbool.h>

struct crypt_device;
struct luks_member;

/* What the child found (plain data: it comes back over a pipe). */
struct tpm2_info {
	bool found;
	int token_id;
	int keyslot;
	int rc;	      /* tpm2token_parse's */
	char why[64]; /* its why, cut short */
};

/* In the header-read child (luksload.c), on a LUKS2 header: the first
 * systemd-tpm2 token, preferring one that parses. Does not log. */
void tpm2_scan(struct crypt_device *cd, struct tpm2_info *out);
/* On the loop's thread: says why m's token does not open it. */
void tpm2_load(const struct luks_member *m, const struct tpm2_info *t);

#endif
