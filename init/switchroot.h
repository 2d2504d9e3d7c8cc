/* Handing over to the real root: checks first, then the irreversible part. */
#ifndef LUKSINIT_SWITCHROOT_H
#define LUKSINIT_SWITCHROOT_H

/* 0 if init (absolute, resolved inside newroot, symlinks included) is an
 * executable regular file that starts like an ELF binary or a script;
 * else -errno (-ENOEXEC for a file that is not a program). */
int switchroot_check_init(const char *newroot, const char *init);

/* Moves /dev /proc /sys /run under newroot, makes newroot the root, frees
 * the initramfs (only if it is ramfs/tmpfs and after the init check), and
 * execs init. Returns -errno only if it could not; after the root moved
 * the initramfs is gone, so callers check the init first. */
int switch_root(const char *newroot, const char *init, char *const argv[],
		char *const envp[]);

#endif
