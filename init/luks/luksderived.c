#include "luks/luksderived.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>

#include "base/log.h"
#include "common/derive.h"
#include "common/dtoken.h"
#include "luks/derivedpolicy.h"

#define TOKENS_MAX 32 /* LUKS2 */

void derived_load(struct luks_member *m)
{
	m->derived = false;
	/* A reencryption opens only through libcryptsetup's own activation
	 * by passphrase: no volume key of ours can help there. */
	if (m->reencrypt || strcmp(crypt_get_type(m->cd), CRYPT_LUKS2) != 0)
		return;
	for (int id = 0; id < TOKENS_MAX; id++) {
		const char *type = NULL, *json = NULL;
		crypt_token_info st = crypt_token_status(m->cd, id, &type);
		if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID ||
		    !type || strcmp(type, DTOKEN_TYPE) != 0)
			continue;
		struct dtoken t;
		int rc = crypt_token_json_get(m->cd, id, &json);
		if (rc >= 0)
			rc = dtoken_parse(json, &t);
		if (rc < 0) {
			log_warn(
				"%s: token %d (%s) unusable: %s; the passphrase opens it",
				m->dm_name, id, DTOKEN_TYPE, strerror(-rc));
			continue;
		}
		m->derived = true;
		m->derived_slot = t.keyslot;
		memcpy(m->primary_uuid, t.primary, sizeof(m->primary_uuid));
		log_info(
			"%s: keyslot %d opens with a key derived from LUKS UUID %s",
			m->dm_name, t.keyslot, t.primary);
		return;
	}
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
