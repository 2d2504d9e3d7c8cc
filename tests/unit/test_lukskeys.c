/* The key and prompt policy (init/luks/lukskeys.h): today's decisions,
 * pinned. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "luks/lukskeys.h"

#define UA "aaaaaaaa-0000-0000-0000-000000000000"
#define UB "bbbbbbbb-0000-0000-0000-000000000000"
#define MIB 1024ULL

/* n members, each present (its header read) and without a key yet; a
 * 64 MiB Argon2id KDF each, 1 GiB of budget, nothing running. */
static void members(struct luks_view *v, int n)
{
	memset(v, 0, sizeof(*v));
	v->n = n;
	v->budget_kb = 1024 * MIB;
	for (int i = 0; i < n; i++)
		v->m[i] = (struct member_view){
			.state = MEMBER_FOUND,
			.uuid = "",
			.primary_uuid = "",
			.tries_left = 3,
			.cost_kb = 66 * MIB,
		};
}

/* A passphrase typed at the shared prompt, not tried on anyone yet. */
static void shared_typed(struct luks_view *v)
{
	v->shared = true;
	for (int i = 0; i < v->n; i++)
		v->m[i].shared_untried = true;
}

/* Member i's job runs, on a key from source. */
static void running(struct luks_view *v, int i, enum key_source source)
{
	v->m[i].state = MEMBER_UNLOCKING;
	v->m[i].source = source;
	v->m[i].shared_untried &= source != KEY_SHARED;
	v->in_use_kb += v->m[i].cost_kb;
}

static void shared_passphrase_is_tried_on_every_member_that_lacks_a_key(void)
{
	struct luks_view v;
	members(&v, 3);
	shared_typed(&v);
	CHECK(keys_step(&v, 0) == KEYS_SHARED);
	running(&v, 0, KEY_SHARED);
	CHECK(keys_step(&v, 1) == KEYS_SHARED);
	running(&v, 1, KEY_SHARED);
	CHECK(keys_step(&v, 2) == KEYS_SHARED);
	/* Tried on it and failed: not again (the round decides). */
	v.m[0].state = MEMBER_FOUND;
	v.m[0].shared_failed = true;
	CHECK(keys_step(&v, 0) == KEYS_NONE);
	/* Not yet seen, still loading, open, failed: not asked. */
	v.m[2].state = MEMBER_WAITING;
	CHECK(keys_step(&v, 2) == KEYS_SKIP);
	v.m[2].state = MEMBER_LOADING;
	CHECK(keys_step(&v, 2) == KEYS_SKIP);
	v.m[2].state = MEMBER_OPEN;
	CHECK(keys_step(&v, 2) == KEYS_SKIP);
	v.m[2].state = MEMBER_FAILED;
	CHECK(keys_step(&v, 2) == KEYS_SKIP);
}

static void own_passphrase_then_key_file_then_shared(void)
{
	struct luks_view v;
	members(&v, 1);
	shared_typed(&v);
	v.m[0].own = true;
	v.m[0].keyfile_untried = true;
	CHECK(keys_step(&v, 0) == KEYS_OWN);
	v.m[0].own = false;
	CHECK(keys_step(&v, 0) == KEYS_FILE);
	v.m[0].keyfile_untried = false; /* tried: it did not open it */
	CHECK(keys_step(&v, 0) == KEYS_SHARED);
	v.m[0].shared_untried = false;
	CHECK(keys_step(&v, 0) == KEYS_NONE);
	/* A key file before any passphrase is typed. */
	members(&v, 1);
	v.m[0].keyfile_untried = true;
	CHECK(keys_step(&v, 0) == KEYS_FILE);
	CHECK(keys_step_underived(&v, 0) == KEYS_FILE);
}

/* b's token names a: b waits for a's volume key rather than its own KDF,
 * and takes it before anything else. */
static void derived_key_before_the_kdf(void)
{
	struct luks_view v;
	members(&v, 2);
	shared_typed(&v);
	v.m[0].uuid = UA;
	v.m[1].uuid = UB;
	v.m[1].derived = true;
	v.m[1].primary_uuid = UA;
	v.m[1].keyfile_untried = true;
	CHECK(keys_step(&v, 0) == KEYS_SHARED);
	CHECK(keys_step(&v, 1) == KEYS_SKIP); /* its primary is on its way */
	running(&v, 0, KEY_SHARED);
	CHECK(keys_step(&v, 1) == KEYS_SKIP);
	v.m[0].vk_at_hand = true; /* a's job found its key */
	CHECK(keys_step(&v, 1) == KEYS_DERIVED);
	/* The derived key could not be made: b still waits for a. */
	CHECK(keys_step_underived(&v, 1) == KEYS_SKIP);
	v.m[0].state = MEMBER_OPEN;
	CHECK(keys_step(&v, 1) == KEYS_DERIVED);
	/* No memory needed: a derived opening is no costly KDF. */
	v.budget_kb = 1;
	v.in_use_kb = 10 * MIB;
	running(&v, 0, KEY_SHARED);
	CHECK(keys_step(&v, 1) == KEYS_DERIVED);
	/* a open but its key wiped: b takes its keys in their order. */
	members(&v, 2);
	v.m[0].uuid = UA;
	v.m[1].derived = true;
	v.m[1].primary_uuid = UA;
	v.m[1].keyfile_untried = true;
	v.m[0].state = MEMBER_OPEN;
	CHECK(keys_step(&v, 1) == KEYS_FILE);
	/* The derived key was refused: the passphrase, then. */
	v.m[0].state = MEMBER_UNLOCKING;
	v.m[0].vk_at_hand = true;
	v.m[1].derived_failed = true;
	CHECK(keys_step(&v, 1) == KEYS_FILE);
	/* a never appeared: b does not wait for it. */
	members(&v, 2);
	v.m[0].state = MEMBER_WAITING;
	v.m[1].derived = true;
	v.m[1].primary_uuid = UA;
	shared_typed(&v);
	CHECK(keys_step(&v, 1) == KEYS_SHARED);
}

static void memory_bounds_the_kdfs_that_run_at_once(void)
{
	struct luks_view v;
	members(&v, 3);
	shared_typed(&v);
	v.budget_kb = 100 * MIB;
	/* One job always runs, even over budget. */
	v.m[0].cost_kb = 120 * MIB;
	CHECK(keys_step(&v, 0) == KEYS_SHARED);
	running(&v, 0, KEY_SHARED);
	/* More only while their memory fits: the pass ends here. */
	CHECK(keys_step(&v, 1) == KEYS_WAIT_MEMORY);
	v.m[1].cost_kb = 1;
	v.in_use_kb = 50 * MIB;
	CHECK(keys_step(&v, 1) == KEYS_SHARED);
	/* Larger than the memory there is (twice the budget, less what the
	 * rest of boot needs): it fails, whether a key is at hand or not. */
	v.m[2].cost_kb = 200 * MIB - KDF_MARGIN_KB + 1;
	v.m[2].shared_untried = false;
	CHECK(keys_step(&v, 2) == KEYS_TOO_BIG);
	v.m[2].cost_kb = 200 * MIB - KDF_MARGIN_KB;
	CHECK(keys_step(&v, 2) == KEYS_WAIT_MEMORY);
	/* Nothing known of the memory: nothing is too big. */
	v.budget_kb = 0;
	v.m[2].cost_kb = 4096 * MIB;
	CHECK(keys_step(&v, 2) == KEYS_WAIT_MEMORY);
	v.m[0].state = MEMBER_OPEN;
	CHECK(keys_step(&v, 2) == KEYS_NONE);
}

static void a_reencrypting_member_runs_alone(void)
{
	struct luks_view v;
	members(&v, 3);
	shared_typed(&v);
	v.m[1].exclusive = true;
	running(&v, 0, KEY_SHARED);
	CHECK(keys_step(&v, 1) == KEYS_STOP); /* a job runs */
	v.m[0].state = MEMBER_OPEN;
	v.m[2].state = MEMBER_LOADING;
	CHECK(keys_step(&v, 1) == KEYS_STOP); /* a header is being read */
	v.m[2].state = MEMBER_FOUND;
	CHECK(keys_step(&v, 1) == KEYS_SHARED);
	running(&v, 1, KEY_SHARED);
	CHECK(keys_step(&v, 2) == KEYS_STOP); /* and nothing beside it */
}

static void prompt_only_when_no_member_can_proceed_without_a_person(void)
{
	struct luks_view v;
	int member = 7;
	members(&v, 3);
	CHECK(keys_prompt(&v, &member) == NEED_SHARED);
	CHECK(member == -1);
	/* Not while a KDF runs, whatever the others lack. */
	running(&v, 0, KEY_FILE);
	CHECK(keys_prompt(&v, &member) == NEED_NOTHING);
	/* Nor while a key file is read from its stick (a job): the member
	 * it opens is not named in the question. Waiting for the stick to
	 * appear holds nobody else's prompt. */
	members(&v, 2);
	v.m[0].keyfile_untried = true;
	v.m[0].keyfile_reading = true;
	CHECK(keys_prompt(&v, &member) == NEED_NOTHING);
	v.m[0].keyfile_reading = false;
	CHECK(keys_prompt(&v, &member) == NEED_SHARED);
	/* Nobody present: nothing to ask. */
	members(&v, 3);
	v.m[0].state = MEMBER_WAITING;
	v.m[1].state = MEMBER_LOADING;
	v.m[2].state = MEMBER_OPEN;
	CHECK(keys_prompt(&v, &member) == NEED_NOTHING);
	/* Each with a way on of its own: a key file to try, its own
	 * passphrase typed, the shared one not tried on it yet, a primary
	 * whose key it waits for. */
	members(&v, 4);
	v.m[0].keyfile_untried = true;
	v.m[1].own = true;
	v.shared = true;
	v.m[2].shared_untried = true;
	v.m[0].uuid = UA;
	v.m[3].derived = true;
	v.m[3].primary_uuid = UA;
	member = 7;
	CHECK(keys_prompt(&v, &member) == NEED_NOTHING);
	CHECK(member == 7);
	/* One that has none: asked. */
	v.m[2].shared_untried = false;
	CHECK(keys_prompt(&v, &member) == NEED_SHARED);
	CHECK(member == -1);
}

/* The shared passphrase opened some members: one it did not open (say the
 * swap, with a passphrase of its own) gets its own prompt. */
static void own_prompt_once_the_shared_passphrase_opened_others(void)
{
	struct luks_view v;
	int member = -1;
	members(&v, 3);
	v.shared = true;
	v.shared_opened = true;
	v.m[0].state = MEMBER_OPEN;
	v.m[1].state = MEMBER_OPEN;
	v.m[2].shared_failed = true;
	CHECK(keys_prompt(&v, &member) == NEED_OWN);
	CHECK(member == 2);
	/* The first such member is asked first. */
	v.m[1].state = MEMBER_FOUND;
	CHECK(keys_prompt(&v, &member) == NEED_OWN);
	CHECK(member == 1);
	/* Typed: it goes on without the person. */
	v.m[1].own = true;
	CHECK(keys_prompt(&v, &member) == NEED_OWN);
	CHECK(member == 2);
}

static void what_a_failed_job_means(void)
{
	CHECK(keys_job_failed(KEY_DERIVED, -EPERM) == KEYS_FAILED_DERIVED);
	CHECK(keys_job_failed(KEY_DERIVED, -EIO) == KEYS_FAILED_DERIVED);
	CHECK(keys_job_failed(KEY_FILE, -EPERM) == KEYS_FAILED_KEYFILE);
	CHECK(keys_job_failed(KEY_FILE, -EIO) == KEYS_FAILED_KEYFILE);
	CHECK(keys_job_failed(KEY_SHARED, -EPERM) == KEYS_FAILED_ROUND);
	CHECK(keys_job_failed(KEY_OWN, -EPERM) == KEYS_FAILED_CHARGE);
	/* Not a wrong passphrase (a dying disk, no memory): the member
	 * fails, no try is counted. */
	CHECK(keys_job_failed(KEY_SHARED, -EIO) == KEYS_FAILED_MEMBER);
	CHECK(keys_job_failed(KEY_OWN, -ENOMEM) == KEYS_FAILED_MEMBER);
}

static void tries_are_counted_per_member(void)
{
	int tries[2] = {3, 1};
	CHECK(!keys_charge(&tries[0]));
	CHECK(tries[0] == 2);
	CHECK(tries[1] == 1);
	CHECK(keys_charge(&tries[1])); /* its last: it fails */
	CHECK(!keys_charge(&tries[0]));
	CHECK(keys_charge(&tries[0]));
	CHECK(tries[0] == 0);
}

static void a_wrong_shared_passphrase_costs_each_member_a_try(void)
{
	struct luks_view v;
	members(&v, 3);
	v.shared = true;
	v.m[0].shared_failed = true;
	v.m[1].shared_failed = true;
	v.m[2].state = MEMBER_OPEN; /* opened earlier, not by this one */
	CHECK(keys_round_over(&v));
	CHECK(keys_settle(&v, 0) == KEYS_CHARGE);
	CHECK(keys_settle(&v, 1) == KEYS_CHARGE);
	CHECK(keys_settle(&v, 2) == KEYS_KEEP);
	/* It opened one: meant for that one, no try charged elsewhere. */
	v.shared_opened = true;
	CHECK(keys_settle(&v, 0) == KEYS_FORGIVE);
	/* A member that did not try it is not charged. */
	v.m[1].shared_failed = false;
	CHECK(keys_settle(&v, 1) == KEYS_KEEP);
}

static void the_round_is_over_once_every_member_tried_the_passphrase(void)
{
	struct luks_view v;
	members(&v, 3);
	shared_typed(&v);
	v.m[0].shared_untried = false;
	v.m[0].shared_failed = true;
	running(&v, 1, KEY_SHARED);
	CHECK(!keys_round_over(&v)); /* 1 runs it, 2 has yet to */
	v.m[1].state = MEMBER_OPEN;
	CHECK(!keys_round_over(&v));
	running(&v, 2, KEY_OWN); /* its own passphrase: not this round */
	v.m[2].shared_untried = true;
	CHECK(keys_round_over(&v));
	/* A member that waits for its primary's key does not hold it up. */
	v.m[2].state = MEMBER_FOUND;
	v.m[1].uuid = UA;
	v.m[1].state = MEMBER_UNLOCKING;
	v.m[1].source = KEY_OWN;
	v.m[2].derived = true;
	v.m[2].primary_uuid = UA;
	CHECK(keys_round_over(&v));
	/* Without a shared passphrase there is no round to wait for. */
	members(&v, 2);
	v.m[0].shared_untried = true;
	CHECK(keys_round_over(&v));
}

static void the_shared_passphrase_is_dropped_once_nobody_can_use_it(void)
{
	struct luks_view v;
	members(&v, 3);
	v.m[0].state = MEMBER_OPEN;
	v.m[1].state = MEMBER_FAILED;
	v.m[2].state = MEMBER_DUPLICATE;
	CHECK(keys_shared_done(&v));
	static const enum member_state pending[] = {
		MEMBER_WAITING, MEMBER_LOADING, MEMBER_FOUND, MEMBER_UNLOCKING};
	for (size_t k = 0; k < sizeof(pending) / sizeof(pending[0]); k++) {
		v.m[1].state = pending[k];
		CHECK(!keys_shared_done(&v));
	}
}

void lukskeys_tests(void)
{
	RUN(shared_passphrase_is_tried_on_every_member_that_lacks_a_key);
	RUN(own_passphrase_then_key_file_then_shared);
	RUN(derived_key_before_the_kdf);
	RUN(memory_bounds_the_kdfs_that_run_at_once);
	RUN(a_reencrypting_member_runs_alone);
	RUN(prompt_only_when_no_member_can_proceed_without_a_person);
	RUN(own_prompt_once_the_shared_passphrase_opened_others);
	RUN(what_a_failed_job_means);
	RUN(tries_are_counted_per_member);
	RUN(a_wrong_shared_passphrase_costs_each_member_a_try);
	RUN(the_round_is_over_once_every_member_tried_the_passphrase);
	RUN(the_shared_passphrase_is_dropped_once_nobody_can_use_it);
}
