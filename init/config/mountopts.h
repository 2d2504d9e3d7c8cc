/* rootflags= text -> mount(2) flags + filesystem data string. Pure. */
#ifndef LUKSINIT_MOUNTOPTS_H
#define LUKSINIT_MOUNTOPTS_H

#include <stdbool.h>
#include <stddef.h>

struct mount_opts {
	unsigned long flags;
	char data[512];
	bool degraded; /* "degraded" was asked for (Btrfs) */
};

/* Splits a comma-separated option list: the generic VFS options become
 * MS_* flags, the rest is passed to the filesystem as data. read_write
 * is the ro/rw choice from the command line; ro/rw inside rootflags win.
 * Returns 0, -EINVAL for an empty option (",,") or control characters,
 * -ENAMETOOLONG when data would not fit. */
int mountopts_parse(struct mount_opts *out, const char *opts, bool read_write);

#endif
