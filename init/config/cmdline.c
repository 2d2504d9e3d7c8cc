#include "config/cmdline.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"
#include "base/util.h"
#include "config/cmdline_params.h"
#include "config/mountopts.h"

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
	cfg->luks_tries = LUKS_TRIES_DEFAULT;
	cfg->degraded_after_s = -1;
}

/* Only shown: a long one is cut, not refused. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	if (str_copy(dst, size, src) < 0)
		str_copy_n(dst, size, src, size - 1);
}

/* A problem about one item of a value (an option, a device), or "". */
void cfg_problem_item(struct boot_config *cfg, const char *param,
		      const char *item, const char *why)
{
	for (int i = 0; i < cfg->nproblems; i++) {
		struct cmdline_problem *p = &cfg->problems[i];
		if (p->why == why &&
		    strncmp(p->param, param, sizeof(p->param) - 1) == 0 &&
		    strncmp(p->item, item, sizeof(p->item) - 1) == 0) {
			p->times++;
			return;
		}
	}
	if (cfg->nproblems >= CFG_PROBLEMS_MAX) {
		cfg->problems_dropped++;
		return;
	}
	struct cmdline_problem *p = &cfg->problems[cfg->nproblems++];
	copy_cut(p->param, sizeof(p->param), param);
	copy_cut(p->item, sizeof(p->item), item);
	p->why = why;
	p->times = 1;
}

void cfg_problem(struct boot_config *cfg, const char *param, const char *why)
{
	cfg_problem_item(cfg, param, "", why);
}

static const char *set_root(struct boot_config *cfg, const char *val)
{
	if (devspec_parse(&cfg->root, val) < 0)
		return "expected /dev/..., UUID=, LABEL=, PARTUUID= or PARTLABEL= with a value";
	return NULL;
}

const char *cfg_set_text(char *dst, size_t size, const char *val)
{
	if (val[0] == '\0')
		return "empty value";
	if (str_has_controls(val))
		return "control characters in value";
	if (str_copy(dst, size, val) < 0)
		return "value too long";
	return NULL;
}

static const char *set_rootfstype(struct boot_config *cfg, const char *val)
{
	return cfg_set_text(cfg->rootfstype, sizeof(cfg->rootfstype), val);
}

static const char *set_rootflags(struct boot_config *cfg, const char *val)
{
	return cfg_set_text(cfg->rootflags, sizeof(cfg->rootflags), val);
}

static const char *set_init(struct boot_config *cfg, const char *val)
{
	if (val[0] != '/')
		return "must be an absolute path";
	char tmp[CFG_PATH_MAX];
	const char *why = cfg_set_text(tmp, sizeof(tmp), val);
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

/* The kernel itself parses ip= (CONFIG_IP_PNP) before /init runs; we only
 * need to know whether it was asked to configure anything. */
static const char *set_ip(struct boot_config *cfg, const char *val)
{
	cfg->net = strcmp(val, "off") != 0 && strcmp(val, "none") != 0;
	return NULL;
}

static const char *set_neednet(struct boot_config *cfg, const char *val)
{
	int on = val ? cfg_parse_bool(val) : 1;
	if (on < 0)
		return "expected 0 or 1";
	cfg->neednet = on == 1;
	return NULL;
}

bool cmdline_shell_allowed(const struct boot_config *cfg)
{
	if (cfg->shell >= 0)
		return cfg->shell == 1;
	return cfg->nmembers == 0;
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

/* Whether the kernel finds the device val names by itself, before /init
 * runs (software_resume, a late initcall: name_to_dev_t takes PARTUUID=,
 * PARTLABEL=, /dev/<disk or partition>, MAJ:MIN and hex numbers). It
 * cannot resolve a filesystem's UUID= or LABEL=, a device-mapper device
 * (none exists yet), nor udev's /dev/disk/ links. */
static bool kernel_resolves(const char *val)
{
	if (str_starts_with(val, "PARTUUID=") ||
	    str_starts_with(val, "PARTLABEL="))
		return true;
	if (str_starts_with(val, "/dev/"))
		return !str_starts_with(val, "/dev/mapper/") &&
		       !str_starts_with(val, "/dev/dm-") &&
		       !str_starts_with(val, "/dev/disk/");
	return val[0] && strspn(val, "0123456789abcdefABCDEF:") == strlen(val);
}

/* The kernel's resume=: where a hibernation image may be. Its MAJ:MIN
 * form is the kernel's own business (it resumes before /init runs). The
 * kernel takes the last one, whatever /init makes of it. */
static const char *set_resume(struct boot_config *cfg, const char *val)
{
	size_t n = strlen(val);
	if (n >= sizeof(cfg->resume_by_kernel))
		n = sizeof(cfg->resume_by_kernel) - 1; /* enough to name it */
	cfg->resume_by_kernel[0] = '\0';
	if (kernel_resolves(val))
		str_copy_n(cfg->resume_by_kernel, sizeof(cfg->resume_by_kernel),
			   val, n);
	struct devspec spec;
	if (devspec_parse(&spec, val) < 0)
		return "expected UUID=, LABEL=, PARTUUID=, /dev/mapper/NAME or /dev/...";
	cfg->resume = spec;
	return NULL;
}

static const char *set_resume_offset(struct boot_config *cfg, const char *val)
{
	unsigned long n;
	if (parse_uint(val, 0, ULONG_MAX, &n) < 0)
		return "expected a number of pages";
	cfg->resume_offset = n;
	cfg->resume_offset_set = true;
	return NULL;
}

static const char *set_noresume(struct boot_config *cfg, const char *val)
{
	(void)val;
	cfg->noresume = true;
	return NULL;
}

/* systemd's boolean words. */
int cfg_parse_bool(const char *val)
{
	static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
	static const char *const no[] = {"0", "no", "n", "false", "f", "off"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(val, yes[i]) == 0)
			return 1;
		if (strcasecmp(val, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

/* Seconds, as systemd's "30", "30s" or "2min". */
static const char *set_prompt_timeout(struct boot_config *cfg, const char *val)
{
	char digits[16];
	size_t n = strspn(val, "0123456789");
	unsigned long s, unit = 1;
	if (strcmp(val + n, "min") == 0)
		unit = 60;
	else if (strcmp(val + n, "s") != 0 && val[n] != '\0')
		return "expected seconds (0-86400; 0: no timeout)";
	if (str_copy_n(digits, sizeof(digits), val, n) < 0 ||
	    parse_uint(digits, 0, 86400 / unit, &s) < 0)
		return "expected seconds (0-86400; 0: no timeout)";
	cfg->prompt_timeout_s = (int)(s * unit);
	return NULL;
}

static const char *unsupported(struct boot_config *cfg, const char *val)
{
	(void)cfg;
	(void)val;
	return "not supported by luksinit";
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
	return cfg_set_text(cfg->fw_path, sizeof(cfg->fw_path), val);
}

bool keymap_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= KEYMAP_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') ||
			  (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
			  ch == '+' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
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

static const char *set_init_opts(struct boot_config *cfg, const char *val);

/* Names luksinit takes from genkernel, dracut and systemd; the manual page
 * (and tests/install-test.sh) knows each. */
static const struct param_def params[] = {
	{"root", VAL_REQUIRED, set_root},
	{"real_root", VAL_REQUIRED, set_root},
	{"rootfstype", VAL_REQUIRED, set_rootfstype},
	{"rootflags", VAL_REQUIRED, set_rootflags},
	{"real_rootflags", VAL_REQUIRED, set_rootflags},
	{"ro", VAL_NONE, set_ro},
	{"rw", VAL_NONE, set_rw},
	{"init", VAL_REQUIRED, set_init},
	{"real_init", VAL_REQUIRED, set_init},
	{"init_opts", VAL_REQUIRED, set_init_opts},
	{"rootwait", VAL_OPTIONAL, set_rootwait},
	{"rootdelay", VAL_REQUIRED, set_rootdelay},
	{"quiet", VAL_NONE, set_quiet},
	{"rd.debug", VAL_NONE, set_debug},
	{"rd.shell", VAL_OPTIONAL, set_shell},
	{"panic", VAL_REQUIRED, set_panic},
	{"ip", VAL_REQUIRED, set_ip},
	{"rd.neednet", VAL_OPTIONAL, set_neednet},
	{"crypt_root", VAL_REQUIRED, set_crypt_root},
	{"crypt_roots", VAL_REQUIRED, set_crypt_roots},
	{"root_key", VAL_REQUIRED, set_root_key},
	{"root_keydev", VAL_OPTIONAL, set_root_keydev},
	{"root_keydev_fstype", VAL_REQUIRED, set_root_keydev_fstype},
	{"root_trim", VAL_REQUIRED, set_root_trim},
	{"gk.prompt.timeout", VAL_REQUIRED, set_prompt_timeout},
	{"crypt_root_options", VAL_OPTIONAL, unsupported},
	{"crypt_swap", VAL_REQUIRED, set_crypt_swap},
	{"crypt_swaps", VAL_REQUIRED, set_crypt_swaps},
	{"resume", VAL_REQUIRED, set_resume},
	{"resume_offset", VAL_REQUIRED, set_resume_offset},
	{"noresume", VAL_NONE, set_noresume},
	{"crypt_swap_options", VAL_OPTIONAL, unsupported},
	{"swap_key", VAL_OPTIONAL, unsupported},
	{"swap_keydev", VAL_OPTIONAL, unsupported},
	{"swap_trim", VAL_OPTIONAL, unsupported},
	{"rd.luks", VAL_REQUIRED, set_luks_on},
	{"rd.luks.uuid", VAL_REQUIRED, set_luks_uuid},
	{"rd.luks.name", VAL_REQUIRED, set_luks_name},
	{"rd.luks.key", VAL_REQUIRED, set_luks_key},
	{"rd.luks.options", VAL_REQUIRED, set_luks_options},
	{"rd.luks.allow-discards", VAL_OPTIONAL, set_allow_discards},
	{"rd.luks.timeout", VAL_REQUIRED, set_prompt_timeout},
	{"rd.luks.crypttab", VAL_OPTIONAL, set_crypttab},
	{"rd.luks.data", VAL_REQUIRED, set_luks_data},
	{"rd.luks.header", VAL_REQUIRED, set_luks_header},
	{"root_header", VAL_REQUIRED, set_root_header},
	{"root_headerdev", VAL_REQUIRED, set_root_headerdev},
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
	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
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
			cfg_problem(cfg, name, why);
		return;
	}
}

/* from: where the argument came from, for the warning. */
static void add_init_arg(struct boot_config *cfg, const char *from,
			 const char *arg)
{
	if (cfg->init_argc >= CFG_INIT_ARGS_MAX) {
		cfg_problem(cfg, from, "too many arguments for init");
		return;
	}
	if (str_has_controls(arg) || str_copy(cfg->init_args[cfg->init_argc],
					      CFG_INIT_ARG_LEN, arg) < 0) {
		cfg_problem(cfg, from, "init argument too long or malformed");
		return;
	}
	cfg->init_argc++;
}

/* genkernel: init_opts="a b" gives the real init the words a and b. */
static const char *set_init_opts(struct boot_config *cfg, const char *val)
{
	char word[CFG_INIT_ARG_LEN];
	for (const char *p = val; *p;) {
		size_t n = strcspn(p, " \t");
		if (n > 0) {
			if (str_copy_n(word, sizeof(word), p, n) < 0)
				cfg_problem(
					cfg, "init_opts",
					"init argument too long or malformed");
			else
				add_init_arg(cfg, "init_opts", word);
		}
		p += n;
		p += strspn(p, " \t");
	}
	return NULL;
}

void cmdline_kernel_args(struct boot_config *cfg, int argc,
			 const char *const *argv)
{
	/* The kernel appends the words after "--" to the words it did not
	 * know; those after "--" are taken from the command line. */
	int n = argc - 1 - cfg->dash_words;
	if (n <= 0 || !argv)
		return;
	static char ours[CFG_INIT_ARGS_MAX][CFG_INIT_ARG_LEN];
	int nours = cfg->init_argc;
	memcpy(ours, cfg->init_args, sizeof(ours));
	cfg->init_argc = 0;
	for (int i = 1; i <= n && argv[i]; i++)
		add_init_arg(cfg, "(kernel argument for init)", argv[i]);
	for (int i = 0; i < nours; i++)
		add_init_arg(cfg, "--", ours[i]);
	explicit_bzero(ours, sizeof(ours));
}

void cmdline_parse(struct boot_config *cfg, char *cmdline)
{
	char *rest = cmdline, *param, *val;
	bool after_dashes = false;
	while ((rest = cmdline_next_arg(rest, &param, &val)) != NULL) {
		if (after_dashes) {
			/* Kernel passes these to init; a "k=v" arrives whole,
			 * 'k="a b"' as "k=a b" (its repair_env_string). */
			cfg->dash_words++;
			if (val && val[-1] == '"')
				memmove(val - 1, val, strlen(val) + 1);
			if (val)
				param[strlen(param)] = '=';
			add_init_arg(cfg, "--", param);
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
	struct mount_opts opts;
	cfg->rootflags_degraded =
		mountopts_parse(&opts, cfg->rootflags, true) == 0 &&
		opts.degraded;
	cfg_finish_luks(cfg);
}
