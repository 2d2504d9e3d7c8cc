#include "luks/derivedpolicy.h"

#include <errno.h>
#include <string.h>

int derived_primary(const struct luks_view *v, int m)
{
	const char *primary = v->m[m].primary_uuid;
	if (!primary[0])
		return -1;
	for (int i = 0; i < v->n; i++) {
		const struct member_view *p = &v->m[i];
		if (i == m || p->state == MEMBER_WAITING ||
		    p->state == MEMBER_DUPLICATE || !p->uuid[0])
			continue;
		if (strcmp(p->uuid, primary) == 0)
			return i;
	}
	return -1;
}

/* m's primary, when m has a usable derived token and its primary is
 * listed; NULL otherwise. */
static const struct member_view *usable_primary(const struct luks_view *v,
						int m)
{
	if (!v->m[m].derived || v->m[m].derived_failed)
		return NULL;
	int i = derived_primary(v, m);
	return i < 0 ? NULL : &v->m[i];
}

bool derived_defers(const struct luks_view *v, int m)
{
	const struct member_view *p = usable_primary(v, m);
	if (!p)
		return false;
	if (p->derived && !p->derived_failed)
		return false;
	return p->state == MEMBER_FOUND || p->state == MEMBER_UNLOCKING ||
	       (p->state == MEMBER_OPEN && p->vk_at_hand);
}

bool derived_ready(const struct luks_view *v, int m)
{
	const struct member_view *p = usable_primary(v, m);
	/* Its job found the key: no need to wait for its activation. */
	return p && (p->state == MEMBER_OPEN || p->state == MEMBER_UNLOCKING) &&
	       p->vk_at_hand;
}

bool derived_needs_key(const struct luks_view *v, int p)
{
	/* A reencrypting member's worker activates by passphrase: it never
	 * has a volume key to give. */
	if (!v->m[p].uuid[0] || v->m[p].reencrypt)
		return false;
	for (int i = 0; i < v->n; i++) {
		const struct member_view *m = &v->m[i];
		if (i == p ||
		    (m->state != MEMBER_FOUND && m->state != MEMBER_UNLOCKING))
			continue;
		if (m->derived && !m->derived_failed &&
		    strcmp(m->primary_uuid, v->m[p].uuid) == 0)
			return true;
	}
	return false;
}

bool derived_may_need_key(const struct luks_view *v, int p)
{
	if (!v->m[p].uuid[0] || v->m[p].reencrypt)
		return false;
	if (derived_needs_key(v, p))
		return true;
	for (int i = 0; i < v->n; i++)
		if (i != p && (v->m[i].state == MEMBER_WAITING ||
			       v->m[i].state == MEMBER_LOADING))
			return true;
	return false;
}

const char *derived_slot_problem(const char *kdf_type, uint32_t iterations)
{
	if (!kdf_type || strcmp(kdf_type, "pbkdf2") != 0)
		return "its KDF is not PBKDF2";
	if (iterations > DERIVED_ITERATIONS_MAX)
		return "more PBKDF2 iterations than a derived keyslot has";
	return NULL;
}

enum derived_told derived_failure(int job_rc, unsigned *said, int m)
{
	/* Any other error says nothing about the key. */
	if (job_rc != -EPERM)
		return DERIVED_TELL_ERROR;
	unsigned bit = 1u << m;
	if (*said & bit)
		return DERIVED_TELL_AGAIN;
	*said |= bit;
	return DERIVED_TELL_STALE;
}
