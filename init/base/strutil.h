/* Bounded string helpers: every copy is checked, truncation is an error. */
#ifndef LUKSINIT_STRUTIL_H
#define LUKSINIT_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Copies src into dst (always NUL-terminated). -ENAMETOOLONG if it did not
 * fit; dst then holds an empty string, never a truncated value. */
int str_copy(char *dst, size_t size, const char *src);
/* Same for the first n bytes of src. */
int str_copy_n(char *dst, size_t size, const char *src, size_t n);
/* Appends src to dst. -ENAMETOOLONG if the result would not fit (or dst
 * is not NUL-terminated within size); dst is then left unchanged, so a
 * list built by repeated appends keeps the entries that did fit. */
int str_append(char *dst, size_t size, const char *src);

/* Decimal unsigned number in [min, max], whole string; -EINVAL/-ERANGE. */
int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *out);

bool str_starts_with(const char *s, const char *prefix);
/* C0 control bytes and DEL: what must never reach a terminal, a mount
 * option or a path luksinit builds. */
bool char_is_control(unsigned char c);
/* Whether s has one (before its NUL); the _n form looks at most at the
 * first n bytes. */
bool str_has_controls(const char *s);
bool str_has_controls_n(const char *s, size_t n);
/* Copies src into dst with control characters written as \xNN, so that
 * text from a device or the command line cannot drive a terminal (escape
 * sequences): C0 bytes and DEL; C1 controls (U+0080..U+009F, U+009B is
 * CSI) in UTF-8; and lone bytes 0x80-0x9F, C1 to a console not in UTF-8
 * mode. A valid UTF-8 sequence of any other character stays as it is.
 * Cut at the last whole character or escape that fits; dst is always
 * NUL-terminated. Returns false if src was cut. */
bool str_escape_controls(char *dst, size_t size, const char *src);

/* dst = a followed by b (no separator added); -ENAMETOOLONG if it does
 * not fit, and dst is then empty. */
int str_concat(char *dst, size_t size, const char *a, const char *b);

/* True if any '/'-separated component of path is "..". */
bool path_has_dotdot(const char *path);

#endif
