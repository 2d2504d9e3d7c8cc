#include "luks/luksmembers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/strutil.h"
#include "luks/lukshdr.h"
#include "luks/luksload.h"
#include "luks/pwcache.h"

void member_provisional_name(struct luks_member *m, const char *fallback)
{
	if (str_copy(m->dm_name, sizeof(m->dm_name), "luks-") < 0 ||
	    str_append(m->dm_name, sizeof(m->dm_name), m->cfg->spec.value) < 0)
		str_copy(m->dm_name, sizeof(m->dm_name), fallback);
}

void member_release(struct luks_member *m)
{
	secret_free(&m->own);
	secret_free(&m->pass);
	secret_free(&m->vk);
	m->vk_ready = false;
}

void member_opened_by(struct luks_set *set, struct luks_member *m)
{
	if (!m->pass.buf)
		return;
	int rc = pwcache_add(&set->handon, m->pass.buf, m->pass.len);
	secret_free(&m->pass);
	if (rc == -EINVAL)
		log_warn(
			"%s: its passphrase is not handed on: a NUL byte in it cannot be in the keyring's list",
			m->dm_name);
	else if (rc < 0)
		log_warn_errno(rc, "%s: its passphrase is not handed on",
			       m->dm_name);
}

void member_fail(struct luks_set *set, struct luks_member *m, const char *why)
{
	m->state = MEMBER_FAILED;
	if (m->cfg->swap) {
		/* Swap is not needed to boot: the root boots without it (and
		 * without resuming from it). */
		log_warn("%s: %s; booting without this swap device",
			 m->dm_name[0] ? m->dm_name : m->cfg->spec.value, why);
		return;
	}
	set->nfailed++;
	if (set->failure.what[0]) {
		log_err("%s: %s", m->dm_name, why);
		return;
	}
	/* The first is the attempt's failure: not logged here, but said
	 * once by whoever takes it (luks_take_failure). */
	const struct devspec *spec = lukshdr_find_spec(m->cfg);
	failure_say(&set->failure, -EACCES,
		    "cannot unlock %s (%s%s on %s): ", m->dm_name,
		    devspec_kind_name(spec->kind), spec->value,
		    m->devnode[0] ? m->devnode : "no device");
	set->failure_why_at = strlen(set->failure.what);
	str_append(set->failure.what, sizeof(set->failure.what), why);
	set->failure_member = (int)(m - set->m);
	set->failure_told = false;
}

uint64_t member_cost_kb(const struct luks_member *m)
{
	return (uint64_t)m->mem_kb + JOB_OVERHEAD_KB;
}

const char *member_keyfile(const struct luks_set *set,
			   const struct luks_member *m,
			   const struct devspec **ret_dev)
{
	const struct luks_member_cfg *c = m->cfg;
	const char *kf = c->keyfile[0]		? c->keyfile
			 : set->cfg->keyfile[0] ? set->cfg->keyfile
						: NULL;
	if (ret_dev)
		*ret_dev = c->keyfile[0] ? &c->keydev : &set->cfg->keydev;
	return kf;
}

void members_view(const struct luks_set *set, struct luks_view *v)
{
	v->n = set->n;
	v->shared = set->shared.buf != NULL;
	v->shared_opened = set->shared_gen_opened;
	v->budget_kb = set->budget_kb;
	v->in_use_kb = set->in_use_kb;
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		v->m[i] = (struct member_view){
			.state = m->state,
			.source = m->source,
			.uuid = m->uuid,
			.derived = m->derived,
			.derived_failed = m->derived_failed,
			.primary_uuid = m->primary_uuid,
			.reencrypt = m->reencrypt,
			.exclusive = m->exclusive,
			.vk_at_hand = m->vk.buf && m->vk_ready,
			.own = m->own.buf != NULL,
			.keyfile_untried = member_keyfile(set, m, NULL) &&
					   !m->keyfile_tried,
			.keyfile_reading = m->keyfile_reading &&
					   !m->keyfile_tried &&
					   m->state == MEMBER_FOUND,
			.shared_untried =
				m->shared_gen_tried != set->shared_gen,
			.shared_failed =
				m->shared_gen_failed &&
				m->shared_gen_failed == set->shared_gen,
			.tries_left = m->tries_left,
			.cost_kb = member_cost_kb(m),
		};
	}
}

bool members_any_in(const struct luks_set *set, enum member_state st)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == st)
			return true;
	return false;
}

bool members_exclusive_running(const struct luks_set *set)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_UNLOCKING && set->m[i].exclusive)
			return true;
	return false;
}

/* The same disk listed twice (say by path and by UUID): opened once, the
 * second entry follows the first. */
static void announce_dup(struct luks_set *set, struct luks_member *dup)
{
	const struct luks_member *m = &set->m[dup->dup_of];
	str_copy(dup->dm_name, sizeof(dup->dm_name), m->dm_name);
	log_notice("%s%s names %s again; it is opened once, as %s",
		   devspec_kind_name(dup->cfg->spec.kind), dup->cfg->spec.value,
		   m->devnode, m->dm_name);
}

void members_follow(struct luks_set *set, struct luks_member *dup, int owner)
{
	const struct luks_member *m = &set->m[owner];
	str_copy(dup->devnode, sizeof(dup->devnode), m->devnode);
	dup->dup_of = owner;
	dup->state = MEMBER_DUPLICATE;
	/* Its name comes with its header: said once that is read. */
	if (m->state != MEMBER_LOADING)
		announce_dup(set, dup);
}

void members_announce_dups(struct luks_set *set, const struct luks_member *m)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_DUPLICATE &&
		    &set->m[set->m[i].dup_of] == m)
			announce_dup(set, &set->m[i]);
}

int members_list(const struct luks_set *set, char *text, size_t size)
{
	int count = 0;
	text[0] = '\0';
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state == MEMBER_OPEN || m->state == MEMBER_FAILED ||
		    m->state == MEMBER_DUPLICATE)
			continue;
		str_append(text, size, count ? ", " : "");
		str_append(text, size,
			   m->dm_name[0] ? m->dm_name : m->cfg->spec.value);
		count++;
	}
	return count;
}

/* The queries of luks.h. */

int luks_keydev_ms(const struct luks_set *set)
{
	return keydev_next_ms(&set->keydevs);
}

bool luks_loading(const struct luks_set *set)
{
	return load_pending(set);
}

bool luks_jobs_running(const struct luks_set *set)
{
	return members_any_in(set, MEMBER_UNLOCKING);
}

static enum member_state effective_state(const struct luks_set *set, int i)
{
	enum member_state st = set->m[i].state;
	return st == MEMBER_DUPLICATE ? set->m[set->m[i].dup_of].state : st;
}

/* Swap members are not part of the root: luks_swaps_settled is theirs. */
bool luks_all_open(const struct luks_set *set, bool failed_ok)
{
	for (int i = 0; i < set->n; i++) {
		enum member_state st = effective_state(set, i);
		if (set->m[i].cfg->swap)
			continue;
		if (st != MEMBER_OPEN && !(failed_ok && st == MEMBER_FAILED))
			return false;
	}
	return true;
}

bool luks_swaps_settled(const struct luks_set *set)
{
	for (int i = 0; i < set->n; i++) {
		enum member_state st = effective_state(set, i);
		if (set->m[i].cfg->swap && st != MEMBER_OPEN &&
		    st != MEMBER_FAILED)
			return false;
	}
	return true;
}

/* What an unsettled swap member still waits for, in words. */
static const char *swap_state_words(enum member_state st)
{
	switch (st) {
	case MEMBER_WAITING:
		return "its device has not appeared";
	case MEMBER_LOADING:
		return "reading its header";
	case MEMBER_FOUND:
		return "waiting for its passphrase or a turn for its KDF";
	case MEMBER_UNLOCKING:
		return "its KDF is running";
	default:
		return "not settled";
	}
}

void luks_describe_swaps(const struct luks_set *set, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		enum member_state st = effective_state(set, i);
		if (!m->cfg->swap || st == MEMBER_OPEN || st == MEMBER_FAILED)
			continue;
		const struct devspec *spec = lukshdr_find_spec(m->cfg);
		str_append(buf, size, buf[0] ? ", " : "");
		str_append(buf, size, devspec_kind_name(spec->kind));
		str_append(buf, size, spec->value);
		str_append(buf, size, " (");
		str_append(buf, size, swap_state_words(st));
		str_append(buf, size, ")");
	}
}

bool luks_is_swap_mapping(const struct luks_set *set, const char *mapper_name)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].cfg->swap && set->m[i].state == MEMBER_OPEN &&
		    mapper_name[0] &&
		    strcmp(set->m[i].dm_name, mapper_name) == 0)
			return true;
	return false;
}

bool luks_settled(const struct luks_set *set)
{
	return luks_all_open(set, true);
}

bool luks_owns_mapping(const struct luks_set *set, const char *mapper_name)
{
	for (int i = 0; i < set->n; i++)
		if (set->m[i].state == MEMBER_OPEN && mapper_name[0] &&
		    strcmp(set->m[i].dm_name, mapper_name) == 0)
			return true;
	return false;
}

bool luks_awaits_key(const struct luks_set *set)
{
	return members_any_in(set, MEMBER_FOUND);
}

int luks_count(const struct luks_set *set)
{
	return set->n;
}

const char *luks_open_name(const struct luks_set *set, int i)
{
	if (i < 0 || i >= set->n || set->m[i].state != MEMBER_OPEN)
		return "";
	return set->m[i].dm_name;
}

int luks_root_count(const struct luks_set *set)
{
	int n = 0;
	for (int i = 0; i < set->n; i++)
		n += !set->m[i].cfg->swap;
	return n;
}

int luks_root_members_open(const struct luks_set *set)
{
	int n = 0;
	for (int i = 0; i < set->n; i++)
		n += set->m[i].state == MEMBER_OPEN && !set->m[i].cfg->swap;
	return n;
}

const struct failure *luks_take_failure(struct luks_set *set)
{
	if (!set->failure.what[0] || set->failure_told)
		return NULL;
	set->failure_told = true;
	return &set->failure;
}

void luks_tell_failure(struct luks_set *set)
{
	if (!luks_take_failure(set))
		return;
	log_err("%s: %s", set->m[set->failure_member].dm_name,
		set->failure.what + set->failure_why_at);
}

int luks_nfailed(const struct luks_set *set)
{
	return set->nfailed;
}

void luks_describe_missing(const struct luks_set *set, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_WAITING)
			continue;
		const struct devspec *spec = lukshdr_find_spec(m->cfg);
		str_append(buf, size, buf[0] ? ", " : "");
		if (m->cfg->header[0])
			str_append(buf, size, "data device ");
		str_append(buf, size, devspec_kind_name(spec->kind));
		str_append(buf, size, spec->value);
		if (m->cfg->header[0]) {
			str_append(buf, size, " (header ");
			str_append(buf, size, m->cfg->header);
			str_append(buf, size, ")");
		}
	}
	for (int i = 0; i < set->n; i++) {
		const struct luks_member *m = &set->m[i];
		if (m->state != MEMBER_FAILED)
			continue;
		str_append(buf, size, buf[0] ? ", " : "");
		str_append(buf, size, m->dm_name);
		str_append(buf, size, m->devnode[0] ? " on " : " on no device");
		str_append(buf, size, m->devnode);
		str_append(buf, size, " (failed)");
	}
}
