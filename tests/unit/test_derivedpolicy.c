#include <errno.h>
#include <string.h>

#include "check.h"
#include "luks/derivedpolicy.h"

#define UA "aaaaaaaa-0000-0000-0000-000000000000"
#define UB "bbbbbbbb-0000-0000-0000-000000000000"
#define UC "cccccccc-0000-0000-0000-000000000000"

/* a (the primary) found, b and c found with tokens naming a. */
static void three(struct luks_view *set)
{
	memset(set, 0, sizeof(*set));
	set->n = 3;
	const char *uuids[] = {UA, UB, UC};
	for (int i = 0; i < 3; i++) {
		struct member_view *m = &set->m[i];
		m->state = MEMBER_FOUND;
		m->uuid = uuids[i];
		m->primary_uuid = "";
		if (i > 0) {
			m->derived = true;
			m->primary_uuid = UA;
		}
	}
}

static void members_wait_for_a_present_primary(void)
{
	struct luks_view set;
	three(&set);
	CHECK(derived_primary(&set, 1) == 0);
	CHECK(derived_defers(&set, 1));
	CHECK(!derived_defers(&set, 0)); /* no token */
	CHECK(!derived_ready(&set, 1));
	set.m[0].state = MEMBER_UNLOCKING;
	CHECK(derived_defers(&set, 2));
	CHECK(!derived_ready(&set, 2));
	/* Open with its key at hand: the members open now. */
	/* Its job found the key: the members open, even before the
	 * primary's own activation. */
	CHECK(!derived_ready(&set, 1));
	set.m[0].vk_at_hand = true;
	CHECK(derived_ready(&set, 1));
	set.m[0].state = MEMBER_OPEN;
	CHECK(derived_ready(&set, 1));
	CHECK(derived_defers(&set, 2));
}

static void absent_failed_or_keyless_primary_is_not_waited_for(void)
{
	struct luks_view set;
	three(&set);
	set.m[0].state = MEMBER_WAITING; /* its disk never appeared */
	CHECK(derived_primary(&set, 1) == -1);
	CHECK(!derived_defers(&set, 1));
	set.m[0].state = MEMBER_FAILED;
	CHECK(!derived_defers(&set, 1));
	/* Open from an earlier attempt: its key was wiped. */
	set.m[0].state = MEMBER_OPEN;
	CHECK(!derived_defers(&set, 1));
	CHECK(!derived_ready(&set, 1));
	/* Not listed at all. */
	three(&set);
	set.m[1].primary_uuid = "dddddddd-0000-0000-0000-000000000000";
	CHECK(!derived_defers(&set, 1));
}

static void a_refused_derived_key_is_not_tried_again(void)
{
	struct luks_view set;
	three(&set);
	set.m[0].state = MEMBER_OPEN;
	set.m[0].vk_at_hand = true;
	set.m[1].derived_failed = true;
	CHECK(!derived_defers(&set, 1));
	CHECK(!derived_ready(&set, 1));
	CHECK(derived_ready(&set, 2));
}

static void members_naming_each_other_never_wait(void)
{
	struct luks_view set;
	three(&set);
	set.m[0].derived = true; /* a names b, b names a */
	set.m[0].primary_uuid = UB;
	CHECK(!derived_defers(&set, 0));
	CHECK(!derived_defers(&set, 1));
}

static void the_key_is_kept_only_while_a_present_member_needs_it(void)
{
	struct luks_view set;
	three(&set);
	set.m[0].state = MEMBER_OPEN;
	set.m[0].vk_at_hand = true;
	CHECK(derived_needs_key(&set, 0));
	CHECK(!derived_needs_key(&set, 1)); /* nobody names b */
	set.m[1].state = MEMBER_UNLOCKING;
	set.m[2].state = MEMBER_OPEN;
	CHECK(derived_needs_key(&set, 0));
	set.m[1].state = MEMBER_OPEN;
	CHECK(!derived_needs_key(&set, 0));
	/* A member that fell back to the passphrase needs it no more. */
	set.m[1].state = MEMBER_FOUND;
	set.m[1].derived_failed = true;
	CHECK(!derived_needs_key(&set, 0));
	/* One not seen yet is not waited for. */
	set.m[1].state = MEMBER_WAITING;
	set.m[1].derived_failed = false;
	CHECK(!derived_needs_key(&set, 0));
	/* A reencrypting primary never has a key to give. */
	three(&set);
	set.m[0].reencrypt = true;
	CHECK(!derived_needs_key(&set, 0));
}

/* A job brings its volume key back only if a member may derive from it:
 * one seen that names it, or one whose header is not read yet. Any other
 * member is opened by its keyslot alone (one digest check). */
static void the_key_comes_back_only_if_a_member_may_derive_from_it(void)
{
	struct luks_view set;
	three(&set);
	CHECK(derived_may_need_key(&set, 0));  /* b and c name a */
	CHECK(!derived_may_need_key(&set, 1)); /* nobody names b */
	CHECK(!derived_may_need_key(&set, 2));
	/* A header still being read, or a listed disk not seen yet: it may
	 * name anyone. */
	set.m[2].state = MEMBER_LOADING;
	CHECK(derived_may_need_key(&set, 1));
	set.m[2].state = MEMBER_WAITING;
	CHECK(derived_may_need_key(&set, 1));
	/* Every header read, none naming a: no key to keep. */
	three(&set);
	set.m[1].derived = set.m[2].derived = false;
	set.m[1].primary_uuid = set.m[2].primary_uuid = "";
	CHECK(!derived_may_need_key(&set, 0));
	/* Members that fell back to the passphrase need it no more. */
	three(&set);
	set.m[1].derived_failed = set.m[2].derived_failed = true;
	CHECK(!derived_may_need_key(&set, 0));
	/* A reencrypting member opens by passphrase: never a key. */
	three(&set);
	set.m[0].reencrypt = true;
	CHECK(!derived_may_need_key(&set, 0));
	set.m[0].reencrypt = false;
	set.m[0].uuid = ""; /* its header not read: nothing to decide */
	CHECK(!derived_may_need_key(&set, 0));
}

/* A token naming a keyslot whose KDF is costly (an edited header): its
 * KDF would run outside the memory budget, so the token is ignored. */
static void only_cheap_pbkdf2_keyslots_are_derived(void)
{
	CHECK(derived_slot_problem("pbkdf2", 1000) == NULL);
	CHECK(derived_slot_problem("pbkdf2", DERIVED_ITERATIONS_MAX) == NULL);
	CHECK(derived_slot_problem("pbkdf2", DERIVED_ITERATIONS_MAX + 1));
	CHECK(derived_slot_problem("argon2id", 4));
	CHECK(derived_slot_problem("argon2i", 4));
	CHECK(derived_slot_problem(NULL, 1000));
	CHECK(derived_slot_problem("", 1000));
}

/* A derived key refused (a wrong key) means a stale keyslot: said once a
 * boot for each member, however many attempts; another error is no news
 * about the key. */
static void a_stale_keyslot_is_told_once(void)
{
	unsigned said = 0;
	CHECK(derived_failure(-EPERM, &said, 1) == DERIVED_TELL_STALE);
	CHECK(derived_failure(-EPERM, &said, 1) == DERIVED_TELL_AGAIN);
	CHECK(derived_failure(-EPERM, &said, 2) == DERIVED_TELL_STALE);
	CHECK(derived_failure(-EPERM, &said, 15) == DERIVED_TELL_STALE);
	CHECK(derived_failure(-EPERM, &said, 2) == DERIVED_TELL_AGAIN);
	unsigned none = 0;
	CHECK(derived_failure(-ENOMEM, &none, 1) == DERIVED_TELL_ERROR);
	CHECK(derived_failure(-EINVAL, &none, 1) == DERIVED_TELL_ERROR);
	CHECK(none == 0);
	CHECK(derived_failure(-EPERM, &none, 1) == DERIVED_TELL_STALE);
}

void derivedpolicy_tests(void)
{
	RUN(only_cheap_pbkdf2_keyslots_are_derived);
	RUN(a_stale_keyslot_is_told_once);
	RUN(members_wait_for_a_present_primary);
	RUN(absent_failed_or_keyless_primary_is_not_waited_for);
	RUN(a_refused_derived_key_is_not_tried_again);
	RUN(members_naming_each_other_never_wait);
	RUN(the_key_is_kept_only_while_a_present_member_needs_it);
	RUN(the_key_comes_back_only_if_a_member_may_derive_from_it);
}
