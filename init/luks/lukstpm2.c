#include "luks/lukstpm2.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "luks/luksmembers.h"
#include "tpm2/tpm2token.h"

#define TOKENS_MAX 32 /* LUKS2 */

void tpm2_scan(struct crypt_device *cd, struct tpm2_info *out)
{
	static struct tpm2token tok; /* in the child only: 3 KiB off its stack */
	memset(out, 0, sizeof(*out));
	for (int id = 0; id < TOKENS_MAX; id++) {
		const char *type = NULL, *json = NULL;
		crypt_token_info st = crypt_token_status(cd, id, &type);
		if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID ||
		    !type || strcmp(type, TPM2TOKEN_TYPE) != 0)
			continue;
		if (out->found && out->rc == 0)
			break;
		int rc = crypt_token_json_get(cd, id, &json);
		rc = rc < 0 ? -EINVAL : tpm2token_parse(json, &tok);
		if (out->found && rc != 0)
			continue; /* the first one that parses, else the first */
		out->found = true;
		out->token_id = id;
		out->rc = rc;
		out->keyslot = tok.keyslot;
		snprintf(out->why, sizeof(out->why), "%s",
			 rc < 0 && tok.why ? tok.why : "the token");
	}
}

void tpm2_load(const struct luks_member *m, const struct tpm2_info *t)
{
	if (!t->found)
		return;
	char why[sizeof(t->why)];
	memcpy(why, t->why, sizeof(why));
	why[sizeof(why) - 1] = '\0'; /* from a child */
	if (t->rc == -EPROTONOSUPPORT)
		log_warn(
			"%s: the passphrase opens it: TPM2 token %d uses %s, which luksinit does not support",
			m->dm_name, t->token_id, why);
	else if (t->rc < 0)
		log_warn(
			"%s: the passphrase opens it: TPM2 token %d is malformed (%s)",
			m->dm_name, t->token_id, why);
	else
		log_warn(
			"%s: the passphrase opens it: TPM2 token %d (keyslot %d) found, but this luksinit cannot unseal TPM2 tokens yet",
			m->dm_name, t->token_id, t->keyslot);
}
