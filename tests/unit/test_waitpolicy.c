#include <stdio.h>

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

/* What rootwait= and rootdelay= mean for the wait, from the command line
 * to the policy's verdict: the default is 30 s (the number the manual
 * gives, not the constant), and rootdelay= waits at least its seconds,
 * whichever comes first on the line. */
static struct wait_state parsed(const char *line)
{
	static struct boot_config cfg;
	char buf[CMDLINE_MAX];
	snprintf(buf, sizeof(buf), "%s", line);
	boot_config_init(&cfg);
	cmdline_parse(&cfg, buf);
	struct wait_state s = base();
	s.matched = false;
	s.root_wait_s = cfg.root_wait_s;
	return s;
}

static bool expired_at(const char *line, long long ms)
{
	struct wait_state s = parsed(line);
	s.waited_ms = ms;
	return wait_expired(&s);
}

static void rootwait_default_is_30_s(void)
{
	CHECK(!expired_at("", 29999));
	CHECK(expired_at("", 30000));
	CHECK(!expired_at("rootwait=5", 4999));
	CHECK(expired_at("rootwait=5", 5000));
	/* Bare rootwait: never. */
	CHECK(!expired_at("rootwait", 24LL * 3600 * 1000));
}

static void rootdelay_waits_at_least_its_seconds(void)
{
	CHECK(!expired_at("rootdelay=40", 39999));
	CHECK(expired_at("rootdelay=40", 40000));
	CHECK(!expired_at("rootdelay=40 rootwait=10", 39999));
	CHECK(!expired_at("rootwait=10 rootdelay=40", 39999));
	CHECK(expired_at("rootwait=10 rootdelay=40", 40000));
	/* A shorter delay never shortens the wait. */
	CHECK(!expired_at("rootdelay=5", 29999));
	CHECK(!expired_at("rootdelay=5 rootwait=10", 9999));
	CHECK(!expired_at("rootdelay=60 rootwait", 24LL * 3600 * 1000));
}

void waitpolicy_tests(void)
{
	RUN(rootwait_default_is_30_s);
	RUN(rootdelay_waits_at_least_its_seconds);
	RUN(degraded_only_when_allowed_and_nobody_is_asked);
	RUN(rootwait_and_timeouts);
}
