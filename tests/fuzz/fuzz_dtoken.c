#include <errno.h>

#include "common/dtoken.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size, 8192);
	struct dtoken t;
	int rc = dtoken_parse(text, &t);
	INVARIANT(rc == 0 || rc == -EINVAL || rc == -ENOENT ||
		  rc == -EPROTONOSUPPORT);
	if (rc == 0) {
		INVARIANT(t.keyslot >= 0 && t.keyslot < 32);
		INVARIANT(terminated(t.primary, sizeof(t.primary)));
		INVARIANT(t.primary[0] != '\0');
		/* What parses can be written back, and means the same. */
		char json[512];
		struct dtoken again;
		INVARIANT(dtoken_format(json, sizeof(json), t.primary,
					t.keyslot) == 0);
		INVARIANT(dtoken_parse(json, &again) == 0);
		INVARIANT(again.keyslot == t.keyslot);
		INVARIANT(strcmp(again.primary, t.primary) == 0);
	}
	free(text);
	return 0;
}
