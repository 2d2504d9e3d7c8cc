/* One failure, described once. A function that fails either fills a
 * struct failure for its caller or logs what went wrong; never both. The
 * caller may add context in front ("/sbin/init on the new root is not
 * usable: ..."), and the emergency path prints it once (failure_log):
 * what failed, the error behind it, and what the person can do. */
#ifndef LUKSINIT_FAILURE_H
#define LUKSINIT_FAILURE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/log.h"

#define FAILURE_WHAT_MAX 1024

struct failure {
	int err;       /* the errno behind it (positive); 0: none */
	bool show_err; /* what reads "...: <strerror(err)>" when printed */
	char what[FAILURE_WHAT_MAX]; /* a sentence; cut short, still one */
	const char *hint;	     /* static text, or NULL */
};

/* No failure: what empty, no errno, no hint. */
void failure_clear(struct failure *f);
/* Both set what (replacing it and the hint) and return rc, so that a
 * function can "return failure_say(f, -ENOEXEC, ...)". rc is -errno (or 0,
 * for a failure without one). failure_errno prints strerror(-rc) after
 * what; failure_say's sentence says it all. */
int failure_errno(struct failure *f, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int failure_say(struct failure *f, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Puts "<context>: " in front of what (or "<context> " when the context
 * ends in a blank), keeping err and hint. */
void failure_context(struct failure *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* -err, or -EIO for a failure that named no errno: what a caller that
 * returns -errno passes up. */
int failure_rc(const struct failure *f);
/* what, then ": <strerror>" if shown: the one line a person reads. */
size_t failure_text(const struct failure *f, char *buf, size_t size);
/* "<lead>: <line>" (or the line alone, lead NULL) and "hint: <hint>", at
 * lvl, on every console and in kmsg. */
void failure_log(const struct failure *f, enum log_level lvl, const char *lead);

#endif
