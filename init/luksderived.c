#include "luksderived.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>

#include "derive.h"
#include "dtoken.h"
#include "log.h"

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

/* The member whose header has m's primary's UUID, or NULL if it has not
 * been seen (or is not listed at all). */
static const struct luks_member *primary_of(const struct luks_set *set,
					    const struct luks_member *m)
{
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *p = &set->m[i];
		if (p == m || !p->cd || p->state == MEMBER_WAITING ||
		    p->state == MEMBER_DUPLICATE)
			continue;
		const char *uuid = crypt_get_uuid(p->cd);
		if (uuid && strcmp(uuid, m->primary_uuid) == 0)
			return p;
	}
	return NULL;
}

bool derived_defers(const struct luks_set *set, const struct luks_member *m)
{
	if (!m->derived || m->derived_failed)
		return false;
	const struct luks_member *p = primary_of(set, m);
	/* A primary that waits for a primary of its own is never waited for:
	 * two members naming each other would wait forever. */
	if (!p || (p->derived && !p->derived_failed))
		return false;
	return p->state == MEMBER_FOUND || p->state == MEMBER_UNLOCKING ||
	       (p->state == MEMBER_OPEN && p->vk.buf);
}

int derived_key(const struct luks_set *set, const struct luks_member *m,
		struct secret *key)
{
	if (!m->derived || m->derived_failed)
		return -1;
	const struct luks_member *p = primary_of(set, m);
	if (!p || p->state != MEMBER_OPEN || !p->vk.buf)
		return -1;
	const char *uuid = crypt_get_uuid(m->cd);
	if (!uuid || secret_alloc(key) < 0)
		return -1;
	if (derive_member_key(p->vk.buf, p->vk.len, uuid,
			      (unsigned char *)key->buf) < 0) {
		secret_free(key);
		return -1;
	}
	key->len = DERIVE_KEY_LEN;
	return m->derived_slot;
}

/* m may still open with p's key: not open yet and not given up on it. A
 * member that appears later is not waited for: it takes the passphrase,
 * and the key is not kept in memory on the chance that it comes. */
static bool may_need(const struct luks_member *m, const char *p_uuid)
{
	if (m->state != MEMBER_FOUND && m->state != MEMBER_UNLOCKING)
		return false;
	return m->derived && !m->derived_failed &&
	       strcmp(m->primary_uuid, p_uuid) == 0;
}

bool derived_needs_key(const struct luks_set *set, const struct luks_member *p)
{
	const char *uuid = p->cd ? crypt_get_uuid(p->cd) : NULL;
	if (!uuid || p->reencrypt)
		return false;
	for (int i = 0; i < set->n; i++)
		if (&set->m[i] != p && may_need(&set->m[i], uuid))
			return true;
	return false;
}

void derived_wipe_unneeded(struct luks_set *set)
{
	for (int i = 0; i < set->n; i++) {
		struct luks_member *p = &set->m[i];
		if (p->state != MEMBER_OPEN || !p->vk.buf ||
		    derived_needs_key(set, p))
			continue;
		secret_free(&p->vk);
		log_debug("%s: volume key wiped: no member needs it any more",
			  p->dm_name);
	}
}
