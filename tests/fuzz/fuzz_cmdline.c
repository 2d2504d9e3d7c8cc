#include "config/cmdline.h"
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
	INVARIANT(cfg.prompt_timeout_s >= 0 && cfg.prompt_timeout_s <= 86400);
	for (int i = 0; i < cfg.nmembers; i++) {
		const struct luks_member_cfg *m = &cfg.members[i];
		INVARIANT(m->spec.kind != DEVSPEC_NONE && m->listed);
		INVARIANT(terminated(m->name, LUKS_NAME_MAX));
		INVARIANT(!strchr(m->name, '/'));
		int tries = luks_member_tries(&cfg, m);
		INVARIANT(tries >= 1 && tries <= LUKS_TRIES_MAX);
	}
	/* The same bytes as /init's argv: the kernel's words for init. */
	char *words = fuzz_cstr(data, size, CMDLINE_MAX * 4);
	const char *argv[80] = {"/init"};
	int argc = 1;
	for (char *w = words; *w && argc < 79;) {
		size_t n = strcspn(w, " ");
		if (n > 0)
			argv[argc++] = w;
		w += n;
		if (*w)
			*w++ = '\0';
	}
	cmdline_kernel_args(&cfg, argc, argv);
	INVARIANT(cfg.init_argc >= 0 && cfg.init_argc <= CFG_INIT_ARGS_MAX);
	for (int i = 0; i < cfg.init_argc; i++) {
		INVARIANT(terminated(cfg.init_args[i], CFG_INIT_ARG_LEN));
		for (const char *c = cfg.init_args[i]; *c; c++)
			INVARIANT((unsigned char)*c >= 0x20 && *c != 0x7f);
	}
	free(words);
	free(line);
	return 0;
}
