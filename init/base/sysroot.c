#include "base/sysroot.h"

#include <errno.h>
#include <limits.h>

#include "base/strutil.h"

static char prefix[PATH_MAX / 2];

int sysroot_set(const char *p)
{
	char tmp[sizeof(prefix)];
	if (str_copy(tmp, sizeof(tmp), p) < 0)
		return -ENAMETOOLONG;
	return str_copy(prefix, sizeof(prefix), tmp);
}

const char *sysroot_prefix(void)
{
	return prefix;
}

int sysroot_path(char *dst, size_t size, const char *path)
{
	return str_concat(dst, size, prefix, path);
}
