/* Where /sys, /proc and /dev/kmsg are: "" (the real ones) in /init, a
 * temporary directory holding a fake tree in the unit tests. */
#ifndef LUKSINIT_SYSROOT_H
#define LUKSINIT_SYSROOT_H

#include <stddef.h>

/* Sets the prefix (an absolute path without a trailing '/', or "");
 * -ENAMETOOLONG (prefix unchanged) if it is too long. */
int sysroot_set(const char *prefix);
const char *sysroot_prefix(void);
/* dst = prefix followed by path (an absolute path such as "/sys/..."); 0,
 * or -ENAMETOOLONG (dst then empty). */
int sysroot_path(char *dst, size_t size, const char *path);

#endif
