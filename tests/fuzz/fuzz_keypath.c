/* Key-file paths: whatever is accepted is absolute and cannot climb. */
#include "../../init/cmdline.h"
#include "../../init/strutil.h"
#include "fuzz.h"

static void check_path(const char *p)
{
	if (!p[0])
		return;
	INVARIANT(p[0] == '/');
	INVARIANT(!path_has_dotdot(p));
	for (const char *c = p; *c; c++)
		INVARIANT((unsigned char)*c >= 0x20 && *c != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *val = fuzz_cstr(data, size, 600);
	static const char *const forms[] = {
		"rd.luks.key=", "root_key=", "rd.luks.key=1234="};
	for (size_t f = 0; f < 3; f++) {
		char line[CMDLINE_MAX];
		snprintf(line, sizeof(line), "%s\"%s\"", forms[f], val);
		static struct boot_config cfg;
		boot_config_init(&cfg);
		cmdline_parse(&cfg, line);
		check_path(cfg.keyfile);
		for (int i = 0; i < cfg.nmembers; i++)
			check_path(cfg.members[i].keyfile);
	}
	free(val);
	return 0;
}
