/* Handing over to the real root: checks first, then the irreversible part. */
#ifndef LUKSINIT_SWITCHROOT_H
#define LUKSINIT_SWITCHROOT_H

#include <stddef.h>

#include "base/failure.h"

/* 0 if newroot is a mount point, not mounted noexec, and init (absolute,
 * resolved inside newroot, symlinks included) is a program execve() would
 * run there (see initcheck_program(): x bit, ELF for this machine with its
 * program interpreter, or #! script with its interpreter). Else -errno,
 * and f says what is wrong ("its program interpreter /lib64/ld-... is
 * missing"). */
int switchroot_check_init(const char *newroot, const char *init,
			  struct failure *f);

/* Checks init once more, moves /dev /proc /sys /run under newroot, makes
 * newroot the root and frees the initramfs (only if it is ramfs/tmpfs).
 * Returns 0, or -errno with f filled if it could not; after the root
 * moved the initramfs is gone, so callers check the init first. */
int switch_root_enter(const char *newroot, const char *init, struct failure *f);
/* Runs the real init; returns -errno (f filled) only if execve failed. */
int switch_root_exec(const char *init, char *const argv[], char *const envp[],
		     struct failure *f);

#endif
