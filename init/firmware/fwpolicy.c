#include "firmware/fwpolicy.h"

#include <string.h>

#include "base/strutil.h"

enum fw_answer fw_decide(bool found, bool root, int async, bool bound,
			 bool room)
{
	if (found)
		return FW_SERVE;
	if (root)
		return FW_ABORT;
	if ((async == 1 || bound) && room)
		return FW_HOLD;
	return FW_ABORT_REPROBE;
}

bool fw_sysfs_name_ok(const char *name, size_t max)
{
	size_t n = strnlen(name, max);
	if (n == 0 || n >= max || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 ||
		    (unsigned char)name[i] >= 0x7f || name[i] == '/')
			return false;
	return true;
}

/* Copies [s, s+n) into dst as a string, if it fits. */
static bool take(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static const char *find_in(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0)
			return s + i;
	return NULL;
}

bool fw_kmsg_failed_load(const char *rec, size_t len, char bus[FW_BUS_MAX],
			 char name[FW_DEVNAME_MAX])
{
	const char *text = memchr(rec, ';', len);
	if (!text)
		return false;
	text++;
	const char *nl = memchr(text, '\n', len - (size_t)(text - rec));
	size_t tlen = nl ? (size_t)(nl - text) : len - (size_t)(text - rec);
	if (!find_in(text, tlen, "Direct firmware load for ") ||
	    !find_in(text, tlen, " failed with error "))
		return false;
	if (!nl)
		return false;
	/* The dictionary: one " KEY=value" line per key. */
	const char *end = rec + len;
	for (const char *line = nl + 1; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);
		const char *p = line;
		if (n > 9 && memcmp(p, " DEVICE=+", 9) == 0) {
			const char *v = p + 9;
			const char *colon = memchr(v, ':', n - 9);
			if (!colon)
				return false;
			return take(bus, FW_BUS_MAX, v, (size_t)(colon - v)) &&
			       take(name, FW_DEVNAME_MAX, colon + 1,
				    n - 9 - (size_t)(colon - v) - 1) &&
			       fw_sysfs_name_ok(bus, FW_BUS_MAX) &&
			       fw_sysfs_name_ok(name, FW_DEVNAME_MAX);
		}
		line += n + 1;
	}
	return false;
}
