/* The hash the firmware tests compare what a driver got by: FNV-1a over
 * 64 bits, from FWTEST_FNV_START (tests/boot/firmware.py fnv1a computes
 * the same on the host). That start is not FNV's own offset basis, but it
 * is the suite's, on both sides. */
#ifndef LUKSINIT_TEST_FNV_H
#define LUKSINIT_TEST_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FWTEST_FNV_START 1469598103934665603ULL

static inline uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

#endif
