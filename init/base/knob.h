/* Kernel knobs (/proc/sys, /sys): reading and writing one, and setting
 * one for /init's time only, to give it back before the real init runs. */
#ifndef LUKSINIT_KNOB_H
#define LUKSINIT_KNOB_H

#include <stddef.h>

#define KNOB_PRINTK "/proc/sys/kernel/printk"
#define KNOB_VALUE_MAX 16

/* Reads a one-line value (without the newline) into buf. 0 or -errno. */
int knob_read(const char *path, char *buf, size_t size);
/* Writes value and the newline some handlers insist on. 0 or -errno. */
int knob_write(const char *path, const char *value);

/* The console log level, the first number of KNOB_PRINTK ("7 4 1 7"), or
 * -1 if it cannot be read. */
int knob_console_level(void);

/* What a knob held before /init set it: "" when there is nothing to give
 * back. */
struct knob_saved {
	char value[KNOB_VALUE_MAX];
};

/* Sets the knob at path to want, unless it already holds want or (with
 * only_from set) holds anything but only_from; what it held is kept in
 * saved. Returns 1 if set, 0 if left as it was, or -errno. */
int knob_save_set(struct knob_saved *saved, const char *path, const char *want,
		  const char *only_from);
/* Writes back what knob_save_set replaced, once. */
void knob_restore(struct knob_saved *saved, const char *path);

#endif
