#include "base/failure.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void failure_clear(struct failure *f)
{
	f->err = 0;
	f->show_err = false;
	f->what[0] = '\0';
	f->hint = NULL;
}

static int set(struct failure *f, int rc, bool show, const char *fmt,
	       va_list ap)
{
	f->err = rc < 0 ? -rc : 0;
	f->show_err = show && rc < 0;
	f->hint = NULL;
	/* A sentence cut short is still a sentence (unlike a path). */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	if (vsnprintf(f->what, sizeof(f->what), fmt, ap) < 0)
		f->what[0] = '\0';
	return rc;
}

int failure_errno(struct failure *f, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rc = set(f, rc, true, fmt, ap);
	va_end(ap);
	return rc;
}

int failure_say(struct failure *f, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rc = set(f, rc, false, fmt, ap);
	va_end(ap);
	return rc;
}

/* Appends what fits of s at *len (a sentence may be cut short). */
static void put(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (n > size - 1 - *len)
		n = size - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

void failure_context(struct failure *f, const char *fmt, ...)
{
	char context[FAILURE_WHAT_MAX];
	va_list ap;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	int n = vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	char was[FAILURE_WHAT_MAX];
	memcpy(was, f->what, sizeof(was));
	was[sizeof(was) - 1] = '\0';
	const char *sep = context[n - 1] == ' ' ? "" : ": ";
	size_t len = 0;
	put(f->what, sizeof(f->what), &len, context);
	put(f->what, sizeof(f->what), &len, sep);
	put(f->what, sizeof(f->what), &len, was);
}

int failure_rc(const struct failure *f)
{
	return f->err ? -f->err : -EIO;
}

size_t failure_text(const struct failure *f, char *buf, size_t size)
{
	if (size == 0)
		return 0;
	int n = f->show_err ? snprintf(buf, size, "%s: %s", f->what,
				       strerror(f->err))
			    : snprintf(buf, size, "%s", f->what);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n < size ? (size_t)n : size - 1;
}

void failure_log(const struct failure *f, enum log_level lvl, const char *lead)
{
	char line[FAILURE_WHAT_MAX + 128];
	failure_text(f, line, sizeof(line));
	log_msg(lvl, "%s%s%s", lead ? lead : "", lead ? ": " : "", line);
	if (f->hint && *f->hint)
		log_msg(lvl, "hint: %s", f->hint);
}
