#include <sys/mount.h>

#include "config/mountopts.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *opts = fuzz_cstr(data, size, 2048);
	struct mount_opts o;
	int rc = mountopts_parse(&o, opts, size & 1);
	INVARIANT(terminated(o.data, sizeof(o.data)));
	if (rc == 0) {
		INVARIANT(strlen(o.data) <= strlen(opts));
		INVARIANT(!strstr(o.data, ",,"));
		if (o.degraded)
			INVARIANT(strstr(o.data, "degraded"));
	}
	free(opts);
	return 0;
}
