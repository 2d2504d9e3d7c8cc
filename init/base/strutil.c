#include "base/strutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int str_copy_n(char *dst, size_t size, const char *src, size_t n)
{
	if (size == 0)
		return -ENAMETOOLONG;
	if (n >= size) {
		dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int str_copy(char *dst, size_t size, const char *src)
{
	return str_copy_n(dst, size, src, strnlen(src, size));
}

int str_append(char *dst, size_t size, const char *src)
{
	size_t have = strnlen(dst, size);
	if (have >= size)
		return -ENAMETOOLONG;
	size_t add = strnlen(src, size);
	if (have + add >= size)
		return -ENAMETOOLONG;
	memcpy(dst + have, src, add);
	dst[have + add] = '\0';
	return 0;
}

int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool char_is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool str_has_controls_n(const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		if (char_is_control((unsigned char)s[i]))
			return true;
	return false;
}

bool str_has_controls(const char *s)
{
	return str_has_controls_n(s, (size_t)-1);
}

/* The length of the valid UTF-8 sequence at s (2 to 4 bytes; no overlong
 * form, no surrogate, nothing past U+10FFFF), or 0 if there is none. */
static size_t utf8_seq_len(const unsigned char *s)
{
	size_t n;
	unsigned min;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	unsigned cp = s[0] & (0x3f >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also the NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* How many bytes at s form one unit, and whether they are escaped: a C0
 * byte or DEL; a C1 control (U+0080..U+009F) in UTF-8; a lone byte
 * 0x80-0x9F, which a console not in UTF-8 mode takes as C1 (0x9b: CSI). */
static size_t next_unit(const unsigned char *s, bool *escape)
{
	size_t n = utf8_seq_len(s);
	if (n == 2 && s[0] == 0xc2 && s[1] <= 0x9f) {
		*escape = true;
		return 2;
	}
	*escape = n == 0 &&
		  (char_is_control(s[0]) || (s[0] >= 0x80 && s[0] <= 0x9f));
	return n ? n : 1;
}

bool str_escape_controls(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	if (size == 0)
		return src[0] == '\0';
	size_t len = 0;
	const unsigned char *s = (const unsigned char *)src;
	while (*s) {
		bool escape;
		size_t n = next_unit(s, &escape);
		if (len + (escape ? 4 * n : n) >= size) {
			dst[len] = '\0';
			return false;
		}
		for (size_t i = 0; i < n; i++, s++) {
			if (!escape) {
				dst[len++] = (char)*s;
				continue;
			}
			dst[len++] = '\\';
			dst[len++] = 'x';
			dst[len++] = hex[*s >> 4];
			dst[len++] = hex[*s & 0xf];
		}
	}
	dst[len] = '\0';
	return true;
}

bool path_has_dotdot(const char *path)
{
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		if (!slash)
			return false;
		p = slash + 1;
	}
}

int str_concat(char *dst, size_t size, const char *a, const char *b)
{
	if (str_copy(dst, size, a) < 0 || str_append(dst, size, b) < 0) {
		if (size)
			dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
