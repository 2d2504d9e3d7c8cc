#include "../../init/cmdline.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size, CMDLINE_MAX * 4);
	static struct boot_config cfg;
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	INVARIANT(cfg.nmembers >= 0 && cfg.nmembers <= LUKS_MEMBERS_MAX);
	INVARIANT(cfg.nproblems >= 0 && cfg.nproblems <= CFG_PROBLEMS_MAX);
	INVARIANT(cfg.init_argc >= 0 && cfg.init_argc <= CFG_INIT_ARGS_MAX);
	INVARIANT(cfg.init[0] == '/' && terminated(cfg.init, sizeof(cfg.init)));
	INVARIANT(terminated(cfg.rootflags, sizeof(cfg.rootflags)));
	INVARIANT(terminated(cfg.root.value, sizeof(cfg.root.value)));
	INVARIANT(cfg.luks_tries >= 1 && cfg.luks_tries <= 100);
	for (int i = 0; i < cfg.nmembers; i++) {
		INVARIANT(cfg.members[i].spec.kind != DEVSPEC_NONE);
		INVARIANT(terminated(cfg.members[i].name, LUKS_NAME_MAX));
		INVARIANT(!strchr(cfg.members[i].name, '/'));
	}
	free(line);
	return 0;
}
