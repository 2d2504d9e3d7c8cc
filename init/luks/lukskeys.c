#include "luks/lukskeys.h"

#include <errno.h>

#include "luks/derivedpolicy.h"

static bool any_in(const struct luks_view *v, enum member_state st)
{
	for (int i = 0; i < v->n; i++)
		if (v->m[i].state == st)
			return true;
	return false;
}

/* A worker runs a job that must run alone (luksload.c, header_loaded). */
static bool exclusive_running(const struct luks_view *v)
{
	for (int i = 0; i < v->n; i++)
		if (v->m[i].state == MEMBER_UNLOCKING && v->m[i].exclusive)
			return true;
	return false;
}

/* A reencrypting member's worker runs alone: no other job, and no header
 * read, beside it. */
static bool must_wait_alone(const struct luks_view *v, int i)
{
	return exclusive_running(v) ||
	       (v->m[i].exclusive &&
		(any_in(v, MEMBER_UNLOCKING) || any_in(v, MEMBER_LOADING)));
}

/* The keys at hand, in their order. */
static enum key_step key_at_hand(const struct luks_view *v, int i)
{
	const struct member_view *m = &v->m[i];
	if (m->own)
		return KEYS_OWN;
	if (m->keyfile_untried)
		return KEYS_FILE;
	if (v->shared && m->shared_untried)
		return KEYS_SHARED;
	return KEYS_NONE;
}

enum key_step keys_step(const struct luks_view *v, int i)
{
	if (v->m[i].state != MEMBER_FOUND)
		return KEYS_SKIP;
	if (must_wait_alone(v, i))
		return KEYS_STOP;
	/* No costly KDF: costs no budget to speak of either. */
	if (derived_ready(v, i))
		return KEYS_DERIVED;
	return keys_step_underived(v, i);
}

enum key_step keys_step_underived(const struct luks_view *v, int i)
{
	const struct member_view *m = &v->m[i];
	if (m->state != MEMBER_FOUND)
		return KEYS_SKIP;
	if (must_wait_alone(v, i))
		return KEYS_STOP;
	if (derived_defers(v, i))
		return KEYS_SKIP;
	/* PID 1 cannot be OOM-killed: a KDF larger than the memory there is
	 * would panic the kernel. */
	if (v->budget_kb && m->cost_kb + KDF_MARGIN_KB > 2 * v->budget_kb)
		return KEYS_TOO_BIG;
	/* One job always runs, even over budget; more only while the KDFs'
	 * memory fits. */
	if (any_in(v, MEMBER_UNLOCKING) &&
	    v->in_use_kb + m->cost_kb > v->budget_kb)
		return KEYS_WAIT_MEMORY;
	return key_at_hand(v, i);
}

/* Member i is here and can get no key without a person. */
static bool needs_person(const struct luks_view *v, int i)
{
	const struct member_view *m = &v->m[i];
	return m->state == MEMBER_FOUND && !m->own && !derived_defers(v, i) &&
	       !m->keyfile_untried && !(v->shared && m->shared_untried);
}

/* A key file is being read: a key about to be tried. */
static bool any_reading(const struct luks_view *v)
{
	for (int i = 0; i < v->n; i++)
		if (v->m[i].state == MEMBER_FOUND && v->m[i].keyfile_reading)
			return true;
	return false;
}

enum luks_need keys_prompt(const struct luks_view *v, int *member)
{
	if (any_in(v, MEMBER_UNLOCKING) || any_reading(v))
		return NEED_NOTHING;
	for (int i = 0; i < v->n; i++) {
		if (!needs_person(v, i))
			continue;
		if (v->shared_opened) {
			*member = i;
			return NEED_OWN;
		}
		*member = -1;
		return NEED_SHARED;
	}
	return NEED_NOTHING;
}

enum key_failed keys_job_failed(enum key_source source, int job_rc)
{
	/* Re-keyed primary, stale token: not the person's mistake. */
	if (source == KEY_DERIVED)
		return KEYS_FAILED_DERIVED;
	if (source == KEY_FILE)
		return KEYS_FAILED_KEYFILE;
	if (job_rc != -EPERM)
		return KEYS_FAILED_MEMBER;
	return source == KEY_SHARED ? KEYS_FAILED_ROUND : KEYS_FAILED_CHARGE;
}

bool keys_charge(int *tries_left)
{
	(*tries_left)--;
	return *tries_left <= 0;
}

bool keys_round_over(const struct luks_view *v)
{
	for (int i = 0; i < v->n; i++) {
		const struct member_view *m = &v->m[i];
		if (m->state == MEMBER_UNLOCKING && m->source == KEY_SHARED)
			return false;
		if (m->state == MEMBER_FOUND && v->shared &&
		    m->shared_untried && !derived_defers(v, i))
			return false;
	}
	return true;
}

/* If the shared passphrase opened none, it was wrong and costs each a
 * try; if it opened some, it was meant for those, and the others get a
 * prompt of their own for free. */
enum key_settle keys_settle(const struct luks_view *v, int i)
{
	const struct member_view *m = &v->m[i];
	if (m->state != MEMBER_FOUND || !m->shared_failed)
		return KEYS_KEEP;
	return v->shared_opened ? KEYS_FORGIVE : KEYS_CHARGE;
}

bool keys_shared_done(const struct luks_view *v)
{
	return !any_in(v, MEMBER_WAITING) && !any_in(v, MEMBER_LOADING) &&
	       !any_in(v, MEMBER_FOUND) && !any_in(v, MEMBER_UNLOCKING);
}
