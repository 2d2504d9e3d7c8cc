/* Shared bits of the libFuzzer targets: copy the input into a bounded,
 * NUL-terminated buffer (as /init does with what it reads), and fail loudly
 * when an invariant breaks. */
#ifndef LUKSINIT_FUZZ_H
#define LUKSINIT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVARIANT(cond)                                                   \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "invariant broken: %s\n", #cond); \
			abort();                                          \
		}                                                         \
	} while (0)

/* Returns a malloc'd NUL-terminated copy of at most max bytes. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size, size_t max)
{
	if (size > max)
		size = max;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#endif
