#include "luks/luksderived.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "common/derive.h"
#include "common/dtoken.h"
#include "luks/derivedpolicy.h"

#define TOKENS_MAX 32 /* LUKS2 */

/* The keyslot token id names must be one luksinit-enroll made: its KDF
 * runs outside the memory budget (derived_slot_problem). */
static bool slot_usable(const struct luks_member *m, int id, int slot)
{
	struct crypt_pbkdf_type pbkdf;
	if (crypt_keyslot_get_pbkdf(m->cd, slot, &pbkdf) < 0) {
		log_warn(
			"%s: token %d (%s) names keyslot %d, which is not in use; ignored, the passphrase opens it",
			m->dm_name, id, DTOKEN_TYPE, slot);
		return false;
	}
	const char *why = derived_slot_problem(pbkdf.type, pbkdf.iterations);
	if (!why)
		return true;
	char cost[48];
	if (pbkdf.max_memory_kb)
		snprintf(cost, sizeof(cost), "%u MiB",
			 pbkdf.max_memory_kb / 1024);
	else
		snprintf(cost, sizeof(cost), "%u iterations", pbkdf.iterations);
	log_warn(
		"%s: token %d names keyslot %d, whose KDF is %s (%s): not a derived keyslot (%s; luksinit-enroll makes PBKDF2 at a low cost); ignored, the passphrase opens it",
		m->dm_name, id, slot, pbkdf.type ? pbkdf.type : "unknown", cost,
		why);
	return false;
}

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
		if (!slot_usable(m, id, t.keyslot))
			continue;
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

void derived_failed(struct luks_set *set, struct luks_member *m)
{
	switch (derived_failure(m->job_rc, &set->stale_said,
				(int)(m - set->m))) {
	case DERIVED_TELL_STALE:
		/* Re-keying is done when the old key may have leaked: the
		 * person must know that this keyslot still lets it in. */
		log_warn(
			"%s: keyslot %d is stale: the key derived from the volume key of LUKS UUID %s (its primary) does not open it, so that primary was re-keyed, and its OLD volume key still opens it. Run `luksinit-enroll --remove /dev/disk/by-uuid/%s` and enrol it again; the passphrase opens it now",
			m->dm_name, m->job_slot, m->primary_uuid, m->uuid);
		return;
	case DERIVED_TELL_AGAIN:
		log_info(
			"%s: keyslot %d is stale (see above); the passphrase will open it",
			m->dm_name, m->job_slot);
		return;
	case DERIVED_TELL_ERROR:
		log_warn(
			"%s: the derived key does not open keyslot %d (%s); the passphrase will",
			m->dm_name, m->job_slot, strerror(-m->job_rc));
		return;
	}
}
