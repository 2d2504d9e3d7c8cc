/* The one clock for deadlines and durations (STYLE #19): milliseconds on
 * CLOCK_MONOTONIC, as long long. The boot does not suspend, so time a
 * machine spends asleep never needs to count. */
#ifndef LUKSINIT_CLOCK_H
#define LUKSINIT_CLOCK_H

long long clock_now_ms(void);

#endif
