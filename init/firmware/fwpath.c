#include "firmware/fwpath.h"

#include <stdio.h>
#include <string.h>

#include "base/strutil.h"

bool fw_name_ok(const char *name)
{
	if (!name || !name[0] || name[0] == '/')
		return false;
	if (strnlen(name, FW_NAME_MAX) >= FW_NAME_MAX)
		return false;
	if (str_has_controls(name))
		return false;
	const char *p = name;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

void fw_name_from_sysfs(char *name)
{
	for (; *name; name++)
		if (*name == '!')
			*name = '/';
}

static int add_dir(char dirs[FW_DIRS_MAX][FW_DIR_LEN], int n, const char *base,
		   const char *sub)
{
	if (n >= FW_DIRS_MAX)
		return n;
	int len = snprintf(dirs[n], FW_DIR_LEN, "%s%s%s", base,
			   sub[0] ? "/" : "", sub);
	if (len < 0 || len >= FW_DIR_LEN)
		return n;
	return n + 1;
}

int fw_search_dirs(const char *custom_path, const char *release,
		   char dirs[FW_DIRS_MAX][FW_DIR_LEN])
{
	int n = 0;
	if (custom_path && custom_path[0] == '/' &&
	    !path_has_dotdot(custom_path)) {
		/* "/opt/fw/" is "/opt/fw" to the kernel too. */
		char path[FW_DIR_LEN];
		size_t len = strnlen(custom_path, sizeof(path) - 1);
		memcpy(path, custom_path, len);
		path[len] = '\0';
		while (len > 1 && path[len - 1] == '/')
			path[--len] = '\0';
		n = add_dir(dirs, n, path, "");
	}
	bool rel_ok = release && release[0] && !strchr(release, '/') &&
		      strcmp(release, "..") != 0 && strcmp(release, ".") != 0;
	if (rel_ok)
		n = add_dir(dirs, n, "/lib/firmware/updates", release);
	n = add_dir(dirs, n, "/lib/firmware/updates", "");
	if (rel_ok)
		n = add_dir(dirs, n, "/lib/firmware", release);
	n = add_dir(dirs, n, "/lib/firmware", "");
	return n;
}
