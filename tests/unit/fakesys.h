/* A fake /sys, /dev and root in a temporary directory for tests of code
 * that reads and writes sysfs (init/base/sysroot.h points it there). Paths
 * given to these helpers are relative to that directory. */
#ifndef LUKSINIT_FAKESYS_H
#define LUKSINIT_FAKESYS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Creates the directory, points sysroot at it, silences the log. */
bool fake_setup(void);
/* Removes it all, points sysroot back at "". */
void fake_teardown(void);
void fake_path(char *dst, size_t size, const char *rel);
void fake_mkdir(const char *rel);
/* Creates the file (and its parent directories) with these bytes. */
void fake_put(const char *rel, const void *data, size_t len);
void fake_link(const char *target, const char *rel);
void fake_remove(const char *rel);
/* Reads the file into buf (NUL-terminated); its length or -1. */
ssize_t fake_get(const char *rel, char *buf, size_t size);

/* A stand-in for Btrfs's control device in the unit binary's wrapped
 * open() and ioctl() (test_kmsghold.c, test_keydev.c): while set, an
 * open of /dev/btrfs-control gives /dev/null, and SCAN_DEV and
 * DEVICES_READY return what it returns for the device's name (it may
 * set errno, or never return). */
extern int (*fake_btrfs_ioctl)(unsigned long req, const char *devnode);

#endif
