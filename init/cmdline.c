#include "cmdline.h"

#include <errno.h>
#include <string.h>

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
}

static void problem(struct boot_config *cfg, const char *param,
		    const char *why)
{
	if (cfg->nproblems >= CFG_PROBLEMS_MAX) {
		cfg->problems_dropped++;
		return;
	}
	struct cmdline_problem *p = &cfg->problems[cfg->nproblems++];
	if (str_copy(p->param, sizeof(p->param), param) < 0)
		str_copy_n(p->param, sizeof(p->param), param,
			   sizeof(p->param) - 1);
	p->why = why;
}

/* A handler returns NULL on success, else the reason the value is bad. */
typedef const char *(*param_fn)(struct boot_config *cfg, const char *val);

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

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
	/* We wait for the device by events instead of sleeping, so a delay
	 * only ever makes us more patient. */
	if (cfg->root_wait_s != ROOT_WAIT_FOREVER &&
	    (int)s > cfg->root_wait_s)
		cfg->root_wait_s = (int)s;
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

enum value_rule { VAL_NONE, VAL_REQUIRED, VAL_OPTIONAL };

struct param_def {
	const char *name;
	enum value_rule rule;
	param_fn fn;
};

static const struct param_def params[] = {
	{ "root", VAL_REQUIRED, set_root },
	{ "rootfstype", VAL_REQUIRED, set_rootfstype },
	{ "rootflags", VAL_REQUIRED, set_rootflags },
	{ "ro", VAL_NONE, set_ro },
	{ "rw", VAL_NONE, set_rw },
	{ "init", VAL_REQUIRED, set_init },
	{ "rootwait", VAL_OPTIONAL, set_rootwait },
	{ "rootdelay", VAL_REQUIRED, set_rootdelay },
	{ "quiet", VAL_NONE, set_quiet },
	{ "rd.debug", VAL_NONE, set_debug },
	{ "rd.shell", VAL_OPTIONAL, set_shell },
	{ "panic", VAL_REQUIRED, set_panic },
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
	if (has_control_chars(arg) ||
	    str_copy(cfg->init_args[cfg->init_argc], CFG_INIT_ARG_LEN, arg) < 0) {
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
}
