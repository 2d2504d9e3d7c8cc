#include "waitpolicy.h"

#include "config/cmdline.h"

bool wait_degraded_permitted(bool degraded_flag, int degraded_after_s)
{
	return degraded_flag || degraded_after_s >= 0;
}

bool wait_degraded_now(const struct wait_state *s)
{
	if (!s->matched || s->complete || !s->btrfs || s->person_or_kdf ||
	    s->awaits_key)
		return false;
	if (s->degraded_flag)
		return true;
	return s->degraded_after_s >= 0 &&
	       s->waited_ms >= (long long)s->degraded_after_s * 1000;
}

bool wait_expired(const struct wait_state *s)
{
	return s->root_wait_s != ROOT_WAIT_FOREVER &&
	       s->waited_ms >= (long long)s->root_wait_s * 1000;
}

int wait_timeout_ms(const struct wait_state *s)
{
	if (s->person_or_kdf)
		return -1;
	long long until = s->progress_in_ms;
	if (s->root_wait_s != ROOT_WAIT_FOREVER) {
		long long left =
			(long long)s->root_wait_s * 1000 - s->waited_ms;
		if (left < until)
			until = left;
	}
	if (s->degraded_after_s >= 0 && s->matched) {
		long long left =
			(long long)s->degraded_after_s * 1000 - s->waited_ms;
		if (left >= 0 && left < until)
			until = left;
	}
	if (until > 0x7fffffff)
		until = 0x7fffffff;
	return until < 0 ? 0 : (int)until;
}
