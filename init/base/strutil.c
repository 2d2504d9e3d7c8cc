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

bool str_escape_controls(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	if (size == 0)
		return src[0] == '\0';
	size_t len = 0;
	for (; *src; src++) {
		unsigned char c = (unsigned char)*src;
		bool control = char_is_control(c);
		size_t need = control ? 4 : 1;
		if (len + need >= size) {
			dst[len] = '\0';
			return false;
		}
		if (control) {
			dst[len++] = '\\';
			dst[len++] = 'x';
			dst[len++] = hex[c >> 4];
			dst[len++] = hex[c & 0xf];
		} else {
			dst[len++] = (char)c;
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
