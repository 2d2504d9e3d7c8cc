#include "luks/luksderived.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "common/derive.h"
#include "common/dtoken.h"
#include "luks/derivedpolicy.h"

/* The KDF of the keyslot the token names, for derived_load to judge. */
static void scan_slot(struct crypt_device *cd, struct derived_info *out)
{
	struct crypt_pbkdf_type pbkdf;
	if (crypt_keyslot_get_pbkdf(cd, out->token.keyslot, &pbkdf) < 0)
		return; /* not in use */
	out->slot_in_use = true;
	snprintf(out->slot_kdf, sizeof(out->slot_kdf), "%s",
		 pbkdf.type ? pbkdf.type : "unknown");
	out->slot_iterations = pbkdf.iterations;
	out->slot_memory_kb = pbkdf.max_memory_kb;
}

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
		scan_slot(cd, out);
		return;
	}
}

/* The keyslot the token names must be one luksinit-enroll made: its KDF
 * runs outside the memory budget (derived_slot_problem). */
static bool slot_usable(const struct luks_member *m,
			const struct derived_info *d)
{
	if (!d->slot_in_use) {
		log_warn(
			"%s: token %d (%s) names keyslot %d, which is not in use; ignored, the passphrase opens it",
			m->dm_name, d->token_id, DTOKEN_TYPE, d->token.keyslot);
		return false;
	}
	char kdf[sizeof(d->slot_kdf)];
	memcpy(kdf, d->slot_kdf, sizeof(kdf));
	kdf[sizeof(kdf) - 1] = '\0'; /* from a child */
	const char *why = derived_slot_problem(kdf, d->slot_iterations);
	if (!why)
		return true;
	char cost[48];
	if (d->slot_memory_kb)
		snprintf(cost, sizeof(cost), "%u MiB",
			 d->slot_memory_kb / 1024);
	else
		snprintf(cost, sizeof(cost), "%u iterations",
			 d->slot_iterations);
	log_warn(
		"%s: token %d names keyslot %d, whose KDF is %s (%s): not a derived keyslot (%s; luksinit-enroll makes PBKDF2 at a low cost); ignored, the passphrase opens it",
		m->dm_name, d->token_id, d->token.keyslot, kdf, cost, why);
	return false;
}

void derived_load(struct luks_member *m, const struct derived_info *d)
{
	m->derived = false;
	for (int k = 0; k < d->nbad && k < DERIVED_TOKENS_MAX; k++)
		log_warn_errno(
			d->bad[k].rc < 0 ? d->bad[k].rc : -EINVAL,
			"%s: the passphrase opens it: token %d (%s) unusable",
			m->dm_name, d->bad[k].id, DTOKEN_TYPE);
	if (!d->found)
		return;
	/* From a child: checked again (a keyslot in range, a UUID). */
	char primary[DTOKEN_UUID_MAX];
	memcpy(primary, d->token.primary, sizeof(primary));
	primary[sizeof(primary) - 1] = '\0';
	if (d->token.keyslot < 0 || d->token.keyslot >= DERIVED_TOKENS_MAX ||
	    !primary[0])
		return;
	if (!slot_usable(m, d))
		return;
	m->derived = true;
	m->derived_slot = d->token.keyslot;
	/* While the person types and the primary's KDF runs, not after. */
	int rc = derive_prepare();
	if (rc < 0)
		log_warn_errno(
			rc,
			"%s: cannot set up HKDF (libcrypto) for its derived key yet",
			m->dm_name);
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
		log_warn_errno(
			m->job_rc,
			"%s: the passphrase will open it: the derived key does not open keyslot %d",
			m->dm_name, m->job_slot);
		return;
	}
}
