/* The shared helpers of init/base (util.h, clock.h, file.h, knob.h, kmsg.h)
 * and common/io.h. */
#include <time.h>

#include "base/clock.h"
#include "base/util.h"
#include "check.h"

static void array_size_counts_elements(void)
{
	static const struct {
		char c;
		long l;
	} three[3];
	char name[17];
	CHECK(ARRAY_SIZE(three) == 3);
	CHECK(ARRAY_SIZE(name) == 17);
}

/* Milliseconds, never backwards, on the monotonic clock. */
static void clock_counts_milliseconds(void)
{
	long long a = clock_now_ms();
	struct timespec pause = {0, 20 * 1000 * 1000};
	nanosleep(&pause, NULL);
	long long b = clock_now_ms();
	CHECK(a > 0);
	CHECK(b - a >= 20 && b - a < 5000);
}

void base_tests(void)
{
	RUN(array_size_counts_elements);
	RUN(clock_counts_milliseconds);
}
