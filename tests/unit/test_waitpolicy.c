#include "check.h"
#include "config/cmdline.h"
#include "waitpolicy.h"

static struct wait_state base(void)
{
	return (struct wait_state){
		.matched = true,
		.btrfs = true,
		.degraded_after_s = -1,
		.root_wait_s = ROOT_WAIT_FOREVER,
		.progress_in_ms = 10000,
	};
}

static void degraded_only_when_allowed_and_nobody_is_asked(void)
{
	struct wait_state s = base();
	CHECK(!wait_degraded_now(&s)); /* not allowed */
	s.degraded_after_s = 5;
	s.waited_ms = 4999;
	CHECK(!wait_degraded_now(&s));
	s.waited_ms = 5000;
	CHECK(wait_degraded_now(&s));
	/* Never instead of asking for a key, or while a KDF runs. */
	s.awaits_key = true;
	CHECK(!wait_degraded_now(&s));
	s.awaits_key = false;
	s.person_or_kdf = true;
	CHECK(!wait_degraded_now(&s));
	s.person_or_kdf = false;
	/* Never for a complete array, a non-Btrfs root, or no root at all. */
	s.complete = true;
	CHECK(!wait_degraded_now(&s));
	s.complete = false;
	s.btrfs = false;
	CHECK(!wait_degraded_now(&s));
	s.btrfs = true;
	s.matched = false;
	CHECK(!wait_degraded_now(&s));
	/* rootflags=degraded: at once. */
	s = base();
	s.degraded_flag = true;
	CHECK(wait_degraded_now(&s));
	CHECK(wait_degraded_permitted(true, -1));
	CHECK(wait_degraded_permitted(false, 0));
	CHECK(!wait_degraded_permitted(false, -1));
}

static void rootwait_and_timeouts(void)
{
	struct wait_state s = base();
	CHECK(!wait_expired(&s));
	CHECK(wait_timeout_ms(&s) == 10000); /* the next progress line */
	s.root_wait_s = 3;
	s.waited_ms = 1000;
	CHECK(!wait_expired(&s));
	CHECK(wait_timeout_ms(&s) == 2000);
	s.waited_ms = 3000;
	CHECK(wait_expired(&s));
	CHECK(wait_timeout_ms(&s) == 0);
	/* The degraded deadline, once the root is seen. */
	s = base();
	s.degraded_after_s = 2;
	s.waited_ms = 500;
	CHECK(wait_timeout_ms(&s) == 1500);
	s.matched = false;
	CHECK(wait_timeout_ms(&s) == 10000);
	/* A person typing or a KDF: no device deadline runs. */
	s.person_or_kdf = true;
	CHECK(wait_timeout_ms(&s) == -1);
}

void waitpolicy_tests(void)
{
	RUN(degraded_only_when_allowed_and_nobody_is_asked);
	RUN(rootwait_and_timeouts);
}
