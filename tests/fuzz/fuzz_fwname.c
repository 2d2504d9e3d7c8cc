#include "base/strutil.h"
#include "firmware/fwpath.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_cstr(data, size, FW_NAME_MAX * 2);
	if (fw_name_ok(name)) {
		INVARIANT(name[0] != '/');
		INVARIANT(!path_has_dotdot(name));
		INVARIANT(strlen(name) < FW_NAME_MAX);
		INVARIANT(!strstr(name, "//"));
	}
	/* The same bytes as a sysfs name, and as path= and release. */
	char *copy = strdup(name);
	fw_name_from_sysfs(copy);
	INVARIANT(!strchr(copy, '!'));
	char dirs[FW_DIRS_MAX][FW_DIR_LEN];
	size_t half = strlen(name) / 2;
	char *release = strdup(name + half);
	name[half] = '\0';
	int n = fw_search_dirs(name, release, dirs);
	INVARIANT(n >= 2 && n <= FW_DIRS_MAX);
	for (int i = 0; i < n; i++) {
		INVARIANT(dirs[i][0] == '/');
		INVARIANT(!path_has_dotdot(dirs[i]));
	}
	free(copy);
	free(release);
	free(name);
	return 0;
}
