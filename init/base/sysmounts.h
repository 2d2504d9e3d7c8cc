/* The API filesystems /init needs before anything else. */
#ifndef LUKSINIT_SYSMOUNTS_H
#define LUKSINIT_SYSMOUNTS_H

#include <stddef.h>

/* Mounts proc, first and alone: what must be set before sysfs appears is
 * set in between (firmware_init). 0 or -errno. */
int sysmounts_proc(void);
/* Then sysfs, devtmpfs and a tmpfs on /run; one already mounted (EBUSY)
 * is left alone. Returns 0 or the first -errno. */
int sysmounts_setup(void);

/* Makes fds 0, 1, 2 the console if the kernel could not open it for us. */
void console_setup(void);

#endif
