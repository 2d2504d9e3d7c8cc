#include "cmdline.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "strutil.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static char *skip_spaces(char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

char *cmdline_next_arg(char *args, char **param, char **val)
{
	args = skip_spaces(args);
	if (*args == '\0')
		return NULL;

	bool quoted = *args == '"';
	if (quoted)
		args++;
	bool in_quote = quoted;
	size_t equals = 0, i;
	for (i = 0; args[i]; i++) {
		if (is_space(args[i]) && !in_quote)
			break;
		if (equals == 0 && args[i] == '=')
			equals = i;
		if (args[i] == '"')
			in_quote = !in_quote;
	}
	char *end = args + i;
	char *rest = *end ? end + 1 : end;
	*end = '\0';

	*param = args;
	*val = NULL;
	if (equals) {
		args[equals] = '\0';
		*val = args + equals + 1;
		if (**val == '"') {
			(*val)++;
			if (end > *val && end[-1] == '"')
				end[-1] = '\0';
		}
	}
	/* A token that opened with a quote loses its closing quote too. */
	if (quoted && end > args && end[-1] == '"')
		end[-1] = '\0';
	return rest;
}

void boot_config_init(struct boot_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	str_copy(cfg->init, sizeof(cfg->init), "/sbin/init");
	cfg->root_wait_s = ROOT_WAIT_DEFAULT_S;
	cfg->shell = -1;
	cfg->luks_tries = LUKS_TRIES_DEFAULT;
	cfg->degraded_after_s = -1;
}

static void problem(struct boot_config *cfg, const char *param, const char *why)
{
	for (int i = 0; i < cfg->nproblems; i++) {
		struct cmdline_problem *p = &cfg->problems[i];
		if (p->why == why &&
		    strncmp(p->param, param, sizeof(p->param) - 1) == 0) {
			p->times++;
			return;
		}
	}
	if (cfg->nproblems >= CFG_PROBLEMS_MAX) {
		cfg->problems_dropped++;
		return;
	}
	struct cmdline_problem *p = &cfg->problems[cfg->nproblems++];
	if (str_copy(p->param, sizeof(p->param), param) < 0)
		str_copy_n(p->param, sizeof(p->param), param,
			   sizeof(p->param) - 1);
	p->why = why;
	p->times = 1;
}

/* A handler returns NULL on success, else the reason the value is bad. */
typedef const char *(*param_fn)(struct boot_config *cfg, const char *val);

static const char *set_root(struct boot_config *cfg, const char *val)
{
	if (devspec_parse(&cfg->root, val) < 0)
		return "expected /dev/..., UUID=, LABEL=, PARTUUID= or PARTLABEL= with a value";
	return NULL;
}

static const char *set_text(char *dst, size_t size, const char *val)
{
	if (val[0] == '\0')
		return "empty value";
	if (has_control_chars(val))
		return "control characters in value";
	if (str_copy(dst, size, val) < 0)
		return "value too long";
	return NULL;
}

static const char *set_rootfstype(struct boot_config *cfg, const char *val)
{
	return set_text(cfg->rootfstype, sizeof(cfg->rootfstype), val);
}

static const char *set_rootflags(struct boot_config *cfg, const char *val)
{
	return set_text(cfg->rootflags, sizeof(cfg->rootflags), val);
}

static const char *set_init(struct boot_config *cfg, const char *val)
{
	if (val[0] != '/')
		return "must be an absolute path";
	char tmp[CFG_PATH_MAX];
	const char *why = set_text(tmp, sizeof(tmp), val);
	if (why)
		return why;
	str_copy(cfg->init, sizeof(cfg->init), tmp);
	return NULL;
}

static const char *set_ro(struct boot_config *cfg, const char *val)
{
	(void)val;
	cfg->read_write = false;
	return NULL;
}

static const char *set_rw(struct boot_config *cfg, const char *val)
{
	(void)val;
	cfg->read_write = true;
	return NULL;
}

static const char *set_rootwait(struct boot_config *cfg, const char *val)
{
	if (!val) {
		cfg->root_wait_s = ROOT_WAIT_FOREVER;
		return NULL;
	}
	unsigned long s;
	if (parse_uint(val, 0, 86400, &s) < 0)
		return "expected seconds (0-86400)";
	cfg->root_wait_s = (int)s;
	return NULL;
}

static const char *set_rootdelay(struct boot_config *cfg, const char *val)
{
	unsigned long s;
	if (parse_uint(val, 0, 86400, &s) < 0)
		return "expected seconds (0-86400)";
	/* Folded into root_wait_s once the whole line is parsed, so that
	 * "rootdelay=60 rootwait=10" and "rootwait=10 rootdelay=60" agree. */
	cfg->root_delay_s = (int)s;
	return NULL;
}

static const char *set_quiet(struct boot_config *cfg, const char *val)
{
	(void)val;
	cfg->quiet = true;
	return NULL;
}

static const char *set_debug(struct boot_config *cfg, const char *val)
{
	(void)val;
	cfg->debug = true;
	return NULL;
}

static const char *set_shell(struct boot_config *cfg, const char *val)
{
	if (!val || strcmp(val, "1") == 0 || strcmp(val, "yes") == 0)
		cfg->shell = 1;
	else if (strcmp(val, "0") == 0 || strcmp(val, "no") == 0)
		cfg->shell = 0;
	else
		return "expected 0 or 1";
	return NULL;
}

static const char *set_panic(struct boot_config *cfg, const char *val)
{
	/* Kernel semantics: 0 waits forever, N>0 reboots after N seconds,
	 * N<0 reboots at once. */
	const char *digits = val[0] == '-' ? val + 1 : val;
	unsigned long s;
	if (parse_uint(digits, 0, 86400, &s) < 0)
		return "expected seconds (-86400..86400)";
	cfg->panic_set = true;
	cfg->panic_s = val[0] == '-' ? -(long)s : (long)s;
	return NULL;
}

/* Key files live in the initramfs: absolute, no ".." that could climb. */
static const char *check_key_path(const char *path)
{
	if (path[0] != '/')
		return "key file must be an absolute path in the initramfs";
	if (path[1] == '\0' || path_has_dotdot(path))
		return "key file path must not contain ..";
	if (has_control_chars(path))
		return "control characters in key file path";
	return NULL;
}

/* Device-mapper names: what dm accepts and what is safe in /dev/mapper. */
static const char *check_dm_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len >= LUKS_NAME_MAX)
		return "device-mapper name empty or too long";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "invalid device-mapper name";
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') ||
			  (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			  *p == '.' || *p == '+';
		if (!ok)
			return "device-mapper name may only use letters, digits and -_.+";
	}
	return NULL;
}

/* Finds the member with the same spec, or adds one. NULL when full. */
static struct luks_member_cfg *member_for(struct boot_config *cfg,
					  const struct devspec *spec)
{
	for (int i = 0; i < cfg->nmembers; i++) {
		const struct devspec *m = &cfg->members[i].spec;
		if (m->kind == spec->kind &&
		    strcasecmp(m->value, spec->value) == 0)
			return &cfg->members[i];
	}
	if (cfg->nmembers >= LUKS_MEMBERS_MAX) {
		cfg->members_dropped++;
		return NULL;
	}
	struct luks_member_cfg *m = &cfg->members[cfg->nmembers++];
	memset(m, 0, sizeof(*m));
	m->spec = *spec;
	return m;
}

static const char *add_member(struct boot_config *cfg, const char *spec_text)
{
	struct devspec spec;
	if (devspec_parse(&spec, spec_text) < 0)
		return "expected UUID=, LABEL=, PARTUUID= or /dev/... with a value";
	if (!member_for(cfg, &spec))
		return "too many LUKS devices (at most 16)";
	return NULL;
}

static const char *set_crypt_roots(struct boot_config *cfg, const char *val)
{
	return add_member(cfg, val);
}

/* dracut allows "luks-" before the UUID. */
static const char *luks_uuid_spec(const char *val, char *out, size_t size)
{
	if (str_starts_with(val, "luks-"))
		val += 5;
	if (val[0] == '\0')
		return "empty UUID";
	if (str_copy(out, size, "UUID=") < 0 || str_append(out, size, val) < 0)
		return "UUID too long";
	return NULL;
}

static const char *set_luks_uuid(struct boot_config *cfg, const char *val)
{
	char spec[DEVSPEC_VALUE_MAX + 8];
	const char *why = luks_uuid_spec(val, spec, sizeof(spec));
	return why ? why : add_member(cfg, spec);
}

/* Splits "UUID=REST" at the '=' after the UUID. */
static const char *split_uuid_pair(const char *val, char *uuid_spec,
				   size_t size, const char **rest)
{
	const char *eq = strchr(val, '=');
	if (!eq || eq == val || eq[1] == '\0')
		return "expected UUID=VALUE";
	char uuid[DEVSPEC_VALUE_MAX];
	if (str_copy_n(uuid, sizeof(uuid), val, (size_t)(eq - val)) < 0)
		return "UUID too long";
	*rest = eq + 1;
	return luks_uuid_spec(uuid, uuid_spec, size);
}

static const char *set_luks_name(struct boot_config *cfg, const char *val)
{
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	const char *name;
	const char *why =
		split_uuid_pair(val, spec_text, sizeof(spec_text), &name);
	if (why || (why = check_dm_name(name)))
		return why;
	struct devspec spec;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	for (int i = 0; i < cfg->nmembers; i++)
		if (strcmp(cfg->members[i].name, name) == 0 &&
		    !(cfg->members[i].spec.kind == spec.kind &&
		      strcasecmp(cfg->members[i].spec.value, spec.value) == 0))
			return "that name is already given to another LUKS device";
	struct luks_member_cfg *m = member_for(cfg, &spec);
	if (!m)
		return "too many LUKS devices (at most 16)";
	str_copy(m->name, sizeof(m->name), name);
	return NULL;
}

static const char *set_luks_key(struct boot_config *cfg, const char *val)
{
	if (val[0] == '/') {
		const char *why = check_key_path(val);
		if (why)
			return why;
		if (str_copy(cfg->keyfile, sizeof(cfg->keyfile), val) < 0)
			return "path too long";
		return NULL;
	}
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	const char *path;
	const char *why =
		split_uuid_pair(val, spec_text, sizeof(spec_text), &path);
	if (why || (why = check_key_path(path)))
		return why;
	struct devspec spec;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	struct luks_member_cfg *m = member_for(cfg, &spec);
	if (!m)
		return "too many LUKS devices (at most 16)";
	if (str_copy(m->keyfile, sizeof(m->keyfile), path) < 0)
		return "path too long";
	return NULL;
}

static const char *set_root_key(struct boot_config *cfg, const char *val)
{
	return set_luks_key(cfg, val[0] == '/' ? val : "relative");
}

static const char *set_root_trim(struct boot_config *cfg, const char *val)
{
	if (strcmp(val, "yes") == 0)
		cfg->discard = true;
	else if (strcmp(val, "no") != 0)
		return "expected yes or no";
	return NULL;
}

static const char *set_luks_options(struct boot_config *cfg, const char *val)
{
	/* Only discard matters for opening; other crypttab options are
	 * accepted by dracut but meaningless here. */
	const char *p = val;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 7 && strncmp(p, "discard", 7) == 0)
			cfg->discard = true;
		else
			return "only \"discard\" is supported";
		if (!comma)
			break;
		p = comma + 1;
	}
	return NULL;
}

static const char *set_allow_discards(struct boot_config *cfg, const char *val)
{
	(void)val;
	cfg->discard = true;
	return NULL;
}

static const char *set_luks_tries(struct boot_config *cfg, const char *val)
{
	unsigned long n;
	if (parse_uint(val, 1, 100, &n) < 0)
		return "expected a number of tries (1-100)";
	cfg->luks_tries = (int)n;
	return NULL;
}

static const char *set_degraded(struct boot_config *cfg, const char *val)
{
	unsigned long s;
	if (parse_uint(val, 0, 86400, &s) < 0)
		return "expected seconds (0-86400)";
	cfg->degraded_after_s = (int)s;
	return NULL;
}

static const char *set_fw_path(struct boot_config *cfg, const char *val)
{
	if (val[0] != '/' || path_has_dotdot(val))
		return "must be an absolute path without ..";
	return set_text(cfg->fw_path, sizeof(cfg->fw_path), val);
}

static const char *set_keymap_from(struct boot_config *cfg, const char *param,
				   const char *val)
{
	if (!keymap_name_ok(val))
		return "not a keymap name (letters, digits, ._+-)";
	str_copy(cfg->keymap, sizeof(cfg->keymap), val);
	cfg->keymap_param = param;
	return NULL;
}

static const char *set_vconsole_keymap(struct boot_config *cfg, const char *val)
{
	return set_keymap_from(cfg, "rd.vconsole.keymap", val);
}

static const char *set_gk_keymap(struct boot_config *cfg, const char *val)
{
	return set_keymap_from(cfg, "keymap", val);
}

static const char *set_dokeymap(struct boot_config *cfg, const char *val)
{
	(void)val;
	cfg->dokeymap = true;
	return NULL;
}

enum value_rule { VAL_NONE, VAL_REQUIRED, VAL_OPTIONAL };

struct param_def {
	const char *name;
	enum value_rule rule;
	param_fn fn;
};

static const struct param_def params[] = {
	{"root", VAL_REQUIRED, set_root},
	{"rootfstype", VAL_REQUIRED, set_rootfstype},
	{"rootflags", VAL_REQUIRED, set_rootflags},
	{"ro", VAL_NONE, set_ro},
	{"rw", VAL_NONE, set_rw},
	{"init", VAL_REQUIRED, set_init},
	{"rootwait", VAL_OPTIONAL, set_rootwait},
	{"rootdelay", VAL_REQUIRED, set_rootdelay},
	{"quiet", VAL_NONE, set_quiet},
	{"rd.debug", VAL_NONE, set_debug},
	{"rd.shell", VAL_OPTIONAL, set_shell},
	{"panic", VAL_REQUIRED, set_panic},
	{"crypt_roots", VAL_REQUIRED, set_crypt_roots},
	{"root_key", VAL_REQUIRED, set_root_key},
	{"root_trim", VAL_REQUIRED, set_root_trim},
	{"rd.luks.uuid", VAL_REQUIRED, set_luks_uuid},
	{"rd.luks.name", VAL_REQUIRED, set_luks_name},
	{"rd.luks.key", VAL_REQUIRED, set_luks_key},
	{"rd.luks.options", VAL_REQUIRED, set_luks_options},
	{"rd.luks.allow-discards", VAL_NONE, set_allow_discards},
	{"rd.luks.tries", VAL_REQUIRED, set_luks_tries},
	{"rd.btrfs.degraded", VAL_REQUIRED, set_degraded},
	{"firmware_class.path", VAL_REQUIRED, set_fw_path},
	{"rd.vconsole.keymap", VAL_REQUIRED, set_vconsole_keymap},
	{"keymap", VAL_REQUIRED, set_gk_keymap},
	{"dokeymap", VAL_NONE, set_dokeymap},
};

static void apply_param(struct boot_config *cfg, const char *name,
			const char *val)
{
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		const struct param_def *d = &params[i];
		if (strcmp(name, d->name) != 0)
			continue;
		const char *why = NULL;
		if (d->rule == VAL_REQUIRED && !val)
			why = "needs a value";
		else if (d->rule == VAL_NONE && val)
			why = "takes no value";
		else
			why = d->fn(cfg, val);
		if (why)
			problem(cfg, name, why);
		return;
	}
}

static void add_init_arg(struct boot_config *cfg, const char *arg)
{
	if (cfg->init_argc >= CFG_INIT_ARGS_MAX) {
		problem(cfg, "--", "too many arguments for init");
		return;
	}
	if (has_control_chars(arg) || str_copy(cfg->init_args[cfg->init_argc],
					       CFG_INIT_ARG_LEN, arg) < 0) {
		problem(cfg, "--", "init argument too long or malformed");
		return;
	}
	cfg->init_argc++;
}

void cmdline_parse(struct boot_config *cfg, char *cmdline)
{
	char *rest = cmdline, *param, *val;
	bool after_dashes = false;
	while ((rest = cmdline_next_arg(rest, &param, &val)) != NULL) {
		if (after_dashes) {
			/* Kernel passes these to init; a "k=v" arrives whole. */
			if (val)
				param[strlen(param)] = '=';
			add_init_arg(cfg, param);
			continue;
		}
		if (!val && strcmp(param, "--") == 0) {
			after_dashes = true;
			continue;
		}
		apply_param(cfg, param, val);
	}
	/* We wait for the device by events instead of sleeping, so a delay
	 * only ever makes us more patient: wait the longer of the two. */
	if (cfg->root_wait_s != ROOT_WAIT_FOREVER &&
	    cfg->root_delay_s > cfg->root_wait_s)
		cfg->root_wait_s = cfg->root_delay_s;
}
