#include <errno.h>
#include <string.h>

#include "check.h"
#include "luks/pwcache.h"

static void list_is_nul_separated_each_once(void)
{
	/* Issue 24 item 5: as systemd-cryptsetup writes its "cryptsetup"
	 * key: in the order added, no duplicates, no NUL after the last. */
	struct secret l = {0};
	CHECK(pwcache_add(&l, "test-pass", 9) == 1);
	CHECK(l.len == 9 && memcmp(l.buf, "test-pass", 9) == 0);
	CHECK(pwcache_add(&l, "test-pass", 9) == 0);
	CHECK(pwcache_add(&l, "test", 4) == 1); /* a prefix is another one */
	CHECK(pwcache_add(&l, "other", 5) == 1);
	CHECK(pwcache_add(&l, "test", 4) == 0);
	CHECK(l.len == 20 && memcmp(l.buf, "test-pass\0test\0other", 20) == 0);
	/* What a NUL-separated list cannot carry is refused. */
	CHECK(pwcache_add(&l, "", 0) == -EINVAL);
	CHECK(pwcache_add(&l, "a\0b", 3) == -EINVAL);
	CHECK(l.len == 20);
	secret_free(&l);
	CHECK(!l.buf && l.len == 0);
}

static void list_is_bounded(void)
{
	static char big[SECRET_MAX];
	memset(big, 'x', sizeof(big));
	struct secret l = {0};
	CHECK(pwcache_add(&l, big, SECRET_MAX) == 1);
	CHECK(pwcache_add(&l, "y", 1) == -ENOSPC);
	CHECK(l.len == SECRET_MAX);
	secret_free(&l);
	CHECK(pwcache_add(&l, big, SECRET_MAX - 2) == 1);
	CHECK(pwcache_add(&l, "y", 1) == 1); /* the NUL and "y": full */
	CHECK(pwcache_add(&l, "z", 1) == -ENOSPC);
	CHECK(l.len == SECRET_MAX);
	/* Nothing to hand on: nothing done, the list wiped all the same. */
	struct secret none = {0};
	CHECK(pwcache_hand_on(&none) == 0);
	secret_free(&l);
}

void pwcache_tests(void)
{
	RUN(list_is_nul_separated_each_once);
	RUN(list_is_bounded);
}
