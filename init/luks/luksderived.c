#include "luks/luksderived.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>

#include "base/log.h"
#include "common/derive.h"
#include "common/dtoken.h"
#include "luks/derivedpolicy.h"

void derived_scan(struct crypt_device *cd, struct derived_info *out)
{
	memset(out, 0, sizeof(*out));
	for (int id = 0; id < DERIVED_TOKENS_MAX; id++) {
		const char *type = NULL, *json = NULL;
		crypt_token_info st = crypt_token_status(cd, id, &type);
		if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID ||
		    !type || strcmp(type, DTOKEN_TYPE) != 0)
			continue;
		int rc = crypt_token_json_get(cd, id, &json);
		if (rc >= 0)
			rc = dtoken_parse(json, &out->token);
		if (rc < 0) {
			out->bad[out->nbad].id = id;
			out->bad[out->nbad++].rc = rc;
			continue;
		}
		out->found = true;
		out->token_id = id;
		return;
	}
}

void derived_load(struct luks_member *m, const struct derived_info *d)
{
	m->derived = false;
	for (int k = 0; k < d->nbad && k < DERIVED_TOKENS_MAX; k++)
		log_warn(
			"%s: token %d (%s) unusable: %s; the passphrase opens it",
			m->dm_name, d->bad[k].id, DTOKEN_TYPE,
			strerror(d->bad[k].rc < 0 ? -d->bad[k].rc : EINVAL));
	if (!d->found)
		return;
	/* From a child: checked again (a keyslot in range, a UUID). */
	char primary[DTOKEN_UUID_MAX];
	memcpy(primary, d->token.primary, sizeof(primary));
	primary[sizeof(primary) - 1] = '\0';
	if (d->token.keyslot < 0 || d->token.keyslot >= DERIVED_TOKENS_MAX ||
	    !primary[0])
		return;
	m->derived = true;
	m->derived_slot = d->token.keyslot;
	memcpy(m->primary_uuid, primary, sizeof(m->primary_uuid));
	log_info("%s: keyslot %d opens with a key derived from LUKS UUID %s",
		 m->dm_name, d->token.keyslot, primary);
}

int derived_key(const struct luks_set *set, int i, struct secret *key)
{
	struct luks_view v;
	members_view(set, &v);
	if (!derived_ready(&v, i) || secret_alloc(key) < 0)
		return -1;
	const struct luks_member *m = &set->m[i];
	const struct luks_member *p = &set->m[derived_primary(&v, i)];
	if (derive_member_key(p->vk.buf, p->vk.len, m->uuid,
			      (unsigned char *)key->buf) < 0) {
		secret_free(key);
		return -1;
	}
	key->len = DERIVE_KEY_LEN;
	return m->derived_slot;
}

void derived_wipe_unneeded(struct luks_set *set)
{
	/* Wiping one key changes nothing another member's need is made of. */
	struct luks_view v;
	members_view(set, &v);
	for (int i = 0; i < set->n; i++) {
		struct luks_member *p = &set->m[i];
		if (p->state != MEMBER_OPEN || !p->vk.buf ||
		    derived_needs_key(&v, i))
			continue;
		secret_free(&p->vk);
		p->vk_ready = false;
		log_debug("%s: volume key wiped: no member needs it any more",
			  p->dm_name);
	}
}
