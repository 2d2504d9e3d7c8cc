/* Small things every part of /init shares, written once. The helpers with
 * code of their own have their own files: clock.h (the one clock),
 * file.h (small files, opening a path inside a root), knob.h (kernel
 * knobs), kmsg.h (reading /dev/kmsg); strutil.h has the string checks. */
#ifndef LUKSINIT_UTIL_H
#define LUKSINIT_UTIL_H

/* ---- Arrays ---- */

/* Elements of an array (not a pointer: the size would be the pointer's). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Places ---- */

/* /init's own directory on the /run tmpfs (mode 0700): key devices are
 * mounted and detached headers copied below it, and it is removed again
 * before the real init runs (base/rundir.h: who makes and removes it). */
#define RUN_DIR "/run/luksinit"

#endif
