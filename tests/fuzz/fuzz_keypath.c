/* Key-file paths: whatever is accepted is absolute and cannot climb. */
#include "base/strutil.h"
#include "config/cmdline.h"
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
	/* The last three: a key file on a device (keydev.h), in each
	 * dialect. */
	static const char *const forms[] = {"rd.luks.key=",
					    "root_key=",
					    "rd.luks.key=1234=",
					    "root_keydev=LABEL=s root_key=",
					    "rd.luks.key=1234=/k:LABEL=",
					    "rd.luks.key=/k:"};
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		char line[CMDLINE_MAX];
		snprintf(line, sizeof(line), "%s\"%s\"", forms[f], val);
		static struct boot_config cfg;
		boot_config_init(&cfg);
		cmdline_parse(&cfg, line);
		check_path(cfg.keyfile);
		INVARIANT(cfg.keydev.kind == DEVSPEC_NONE ||
			  (cfg.keydev.value[0] && cfg.keyfile[0]));
		for (int i = 0; i < cfg.nmembers; i++) {
			const struct luks_member_cfg *m = &cfg.members[i];
			check_path(m->keyfile);
			INVARIANT(m->keydev.kind == DEVSPEC_NONE ||
				  (m->keydev.value[0] && m->keyfile[0]));
		}
	}
	free(val);
	return 0;
}
