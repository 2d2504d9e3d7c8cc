#include "base/strutil.h"
#include "config/devspec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size, 512);
	struct devspec spec;
	if (devspec_parse(&spec, text) == 0) {
		INVARIANT(spec.kind != DEVSPEC_NONE);
		INVARIANT(spec.value[0] != '\0');
		INVARIANT(terminated(spec.value, sizeof(spec.value)));
		if (spec.kind == DEVSPEC_PATH) {
			INVARIANT(str_starts_with(spec.value, "/dev/"));
			INVARIANT(!path_has_dotdot(spec.value));
		}
		struct dev_ids ids;
		memset(&ids, 0, sizeof(ids));
		str_copy(ids.devnode, sizeof(ids.devnode), "/dev/vda");
		str_copy(ids.uuid, sizeof(ids.uuid), spec.value);
		str_copy(ids.label, sizeof(ids.label), spec.value);
		devspec_matches(&spec, &ids);
	} else {
		INVARIANT(spec.kind == DEVSPEC_NONE);
	}
	free(text);
	return 0;
}
