#include "luks/derivedpolicy.h"

#include <string.h>

int derived_primary(const struct luks_set *set, const struct luks_member *m)
{
	if (!m->primary_uuid[0])
		return -1;
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *p = &set->m[i];
		if (p == m || p->state == MEMBER_WAITING ||
		    p->state == MEMBER_DUPLICATE || !p->uuid[0])
			continue;
		if (strcmp(p->uuid, m->primary_uuid) == 0)
			return i;
	}
	return -1;
}

bool derived_defers(const struct luks_set *set, const struct luks_member *m)
{
	if (!m->derived || m->derived_failed)
		return false;
	int i = derived_primary(set, m);
	if (i < 0)
		return false;
	const struct luks_member *p = &set->m[i];
	if (p->derived && !p->derived_failed)
		return false;
	return p->state == MEMBER_FOUND || p->state == MEMBER_UNLOCKING ||
	       (p->state == MEMBER_OPEN && p->vk.buf && p->vk_ready);
}

bool derived_ready(const struct luks_set *set, const struct luks_member *m)
{
	if (!m->derived || m->derived_failed)
		return false;
	int i = derived_primary(set, m);
	if (i < 0)
		return false;
	/* Its job found the key: no need to wait for its activation. */
	const struct luks_member *p = &set->m[i];
	return (p->state == MEMBER_OPEN || p->state == MEMBER_UNLOCKING) &&
	       p->vk.buf && p->vk_ready;
}

bool derived_needs_key(const struct luks_set *set, const struct luks_member *p)
{
	/* A reencrypting member's worker activates by passphrase: it never
	 * has a volume key to give. */
	if (!p->uuid[0] || p->reencrypt)
		return false;
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m == p ||
		    (m->state != MEMBER_FOUND && m->state != MEMBER_UNLOCKING))
			continue;
		if (m->derived && !m->derived_failed &&
		    strcmp(m->primary_uuid, p->uuid) == 0)
			return true;
	}
	return false;
}
