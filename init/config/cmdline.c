#include "config/cmdline.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"
#include "base/util.h"
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
static void problem_item(struct boot_config *cfg, const char *param,
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

static void problem(struct boot_config *cfg, const char *param, const char *why)
{
	problem_item(cfg, param, "", why);
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
	if (str_has_controls(val))
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

/* Key files: absolute (in the initramfs, or from the root of their
 * device), no ".." that could climb. */
static const char *check_key_path(const char *path)
{
	if (path[0] != '/')
		return "key file must be an absolute path";
	if (path[1] == '\0' || path_has_dotdot(path))
		return "key file path must not contain ..";
	if (str_has_controls(path))
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

static struct luks_member_cfg *find_member(struct boot_config *cfg,
					   const struct devspec *spec)
{
	for (int i = 0; i < cfg->nmembers; i++) {
		const struct devspec *m = &cfg->members[i].spec;
		if (m->kind == spec->kind &&
		    strcasecmp(m->value, spec->value) == 0)
			return &cfg->members[i];
	}
	return NULL;
}

static struct luks_member_cfg *new_entry(struct boot_config *cfg,
					 const struct devspec *spec,
					 const char *set_by)
{
	struct luks_member_cfg *m = &cfg->members[cfg->nmembers++];
	memset(m, 0, sizeof(*m));
	m->spec = *spec;
	m->set_by = set_by;
	return m;
}

/* A member to open: the one with the same spec, or a new one. NULL when
 * LUKS_MEMBERS_MAX are listed already (counted: a fatal error later). */
static struct luks_member_cfg *list_member(struct boot_config *cfg,
					   const struct devspec *spec,
					   const char *set_by)
{
	struct luks_member_cfg *m = find_member(cfg, spec);
	if (m && m->listed)
		return m;
	if (cfg->nlisted >= LUKS_MEMBERS_MAX) {
		cfg->members_dropped++;
		return NULL;
	}
	/* Settings take at most LUKS_CFG_MAX - LUKS_MEMBERS_MAX entries, so
	 * there is room. */
	if (!m)
		m = new_entry(cfg, spec, set_by);
	m->listed = true;
	cfg->nlisted++;
	return m;
}

/* Settings for a device (a key file, options): they do not make it a
 * member, so that a typo in a UUID cannot make the boot wait for a disk
 * that does not exist. */
static struct luks_member_cfg *member_settings(struct boot_config *cfg,
					       const struct devspec *spec,
					       const char *set_by)
{
	struct luks_member_cfg *m = find_member(cfg, spec);
	if (m)
		return m;
	if (cfg->nmembers - cfg->nlisted >= LUKS_CFG_MAX - LUKS_MEMBERS_MAX)
		return NULL;
	return new_entry(cfg, spec, set_by);
}

static const char *add_member(struct boot_config *cfg, const char *spec_text,
			      const char *set_by)
{
	struct devspec spec;
	if (devspec_parse(&spec, spec_text) < 0)
		return "expected UUID=, LABEL=, PARTUUID= or /dev/... with a value";
	if (!list_member(cfg, &spec, set_by))
		return "too many LUKS devices (at most 16)";
	return NULL;
}

static const char *set_crypt_roots(struct boot_config *cfg, const char *val)
{
	return add_member(cfg, val, "crypt_roots");
}

/* genkernel's own, singular form: one device, opened as
 * /dev/mapper/root (named once the whole line is read). */
static const char *set_crypt_root(struct boot_config *cfg, const char *val)
{
	const char *why = add_member(cfg, val, "crypt_root");
	if (why)
		return why;
	cfg->crypt_root_count++;
	devspec_parse(&cfg->crypt_root_spec, val);
	return NULL;
}

/* The multiple crypt_roots/crypt_swaps patch of genkernel: a member that
 * holds swap, named swap, swap_1, ... once the whole line is read. */
static const char *add_swap(struct boot_config *cfg, const char *val,
			    const char *set_by)
{
	struct devspec spec;
	if (devspec_parse(&spec, val) < 0)
		return "expected UUID=, LABEL=, PARTUUID= or /dev/... with a value";
	struct luks_member_cfg *m = list_member(cfg, &spec, set_by);
	if (!m)
		return "too many LUKS devices (at most 16)";
	m->swap = true;
	return NULL;
}

static const char *set_crypt_swaps(struct boot_config *cfg, const char *val)
{
	return add_swap(cfg, val, "crypt_swaps");
}

static const char *set_crypt_swap(struct boot_config *cfg, const char *val)
{
	return add_swap(cfg, val, "crypt_swap");
}

/* The kernel's resume=: where a hibernation image may be. Its MAJ:MIN
 * form is the kernel's own business (it resumes before /init runs). */
static const char *set_resume(struct boot_config *cfg, const char *val)
{
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

/* dracut allows "luks-" before the UUID; "UUID=" is accepted too. */
static const char *luks_uuid_spec(const char *val, char *out, size_t size)
{
	if (str_starts_with(val, "UUID="))
		val += 5;
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
	return why ? why : add_member(cfg, spec, "rd.luks.uuid");
}

/* Splits "[UUID=]UUID=REST" at the '=' after the UUID. */
static const char *split_uuid_pair(const char *val, char *uuid_spec,
				   size_t size, const char **rest)
{
	if (str_starts_with(val, "UUID="))
		val += 5;
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
	struct luks_member_cfg *m = list_member(cfg, &spec, "rd.luks.name");
	if (!m)
		return "too many LUKS devices (at most 16)";
	str_copy(m->name, sizeof(m->name), name);
	return NULL;
}

/* A key file: the first len bytes of path, on device dev ("" or NULL:
 * in the initramfs). */
struct key_ref {
	char path[CFG_PATH_MAX];
	struct devspec dev;
};

static const char *key_ref_parse(struct key_ref *ret, const char *path,
				 size_t len, const char *dev)
{
	memset(ret, 0, sizeof(*ret));
	if (str_copy_n(ret->path, sizeof(ret->path), path, len) < 0)
		return "path too long";
	const char *why = check_key_path(ret->path);
	if (why)
		return why;
	if (dev && dev[0] && devspec_parse(&ret->dev, dev) < 0)
		return "expected the key device as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	return NULL;
}

static const char *key_ref_store(struct boot_config *cfg,
				 const struct devspec *luksdev,
				 const struct key_ref *ref)
{
	if (!luksdev) {
		memcpy(cfg->keyfile, ref->path, sizeof(cfg->keyfile));
		cfg->keydev = ref->dev;
		cfg->keyfile_is_root_key = false;
		return NULL;
	}
	struct luks_member_cfg *m =
		member_settings(cfg, luksdev, "rd.luks.key");
	if (!m)
		return "too many per-device settings";
	memcpy(m->keyfile, ref->path, sizeof(m->keyfile));
	m->keydev = ref->dev;
	return NULL;
}

/* dracut: PATH[:KEYDEV[:LUKSDEV]], split at each ':' as dracut does (a
 * device path with ':' in it, by-path, cannot be named here either). No
 * KEYDEV: in the initramfs (systemd's global form); no LUKSDEV: for every
 * member. */
static const char *set_global_key(struct boot_config *cfg, const char *val)
{
	const char *c1 = strchr(val, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char dev[DEVSPEC_VALUE_MAX + 16] = "";
	if (c1 && str_copy_n(dev, sizeof(dev), c1 + 1,
			     c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)) < 0)
		return "key device too long";
	struct key_ref ref;
	const char *why = key_ref_parse(
		&ref, val, c1 ? (size_t)(c1 - val) : strlen(val), dev);
	if (why)
		return why;
	struct devspec luksdev;
	if (c2 && c2[1] && devspec_parse(&luksdev, c2 + 1) < 0)
		return "expected the LUKS device as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	return key_ref_store(cfg, c2 && c2[1] ? &luksdev : NULL, &ref);
}

/* systemd: [UUID=]UUID=PATH[:DEVICE]. Like systemd, split at the last ':'
 * only if what follows is a device specification; else the ':' is part
 * of the path. */
static const char *set_luks_key(struct boot_config *cfg, const char *val)
{
	if (val[0] == '/')
		return set_global_key(cfg, val);
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	const char *path;
	const char *why =
		split_uuid_pair(val, spec_text, sizeof(spec_text), &path);
	if (why)
		return why;
	struct devspec spec, dev;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	const char *colon = strrchr(path, ':');
	if (colon && devspec_parse(&dev, colon + 1) < 0)
		colon = NULL;
	struct key_ref ref;
	why = key_ref_parse(&ref, path,
			    colon ? (size_t)(colon - path) : strlen(path),
			    colon ? colon + 1 : NULL);
	return why ? why : key_ref_store(cfg, &spec, &ref);
}

/* genkernel: a path in the initramfs, or on root_keydev= if given. */
static const char *set_root_key(struct boot_config *cfg, const char *val)
{
	if (val[0] != '/')
		return "must be the absolute path of a key file (in the initramfs, or on root_keydev=)";
	struct key_ref ref;
	const char *why = key_ref_parse(&ref, val, strlen(val), NULL);
	if (why)
		return why;
	why = key_ref_store(cfg, NULL, &ref);
	cfg->keyfile_is_root_key = true;
	return why;
}

static const char *set_root_keydev(struct boot_config *cfg, const char *val)
{
	if (!val || devspec_parse(&cfg->root_keydev, val) < 0)
		return "expected the device holding root_key= as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	return NULL;
}

static const char *set_root_keydev_fstype(struct boot_config *cfg,
					  const char *val)
{
	size_t n = strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (val[0] == '\0' || val[n] != '\0' ||
	    str_copy(cfg->keydev_fstype, sizeof(cfg->keydev_fstype), val) < 0)
		return "expected a filesystem type (vfat, ext4, ...)";
	return NULL;
}

/* ---- Detached LUKS headers (lukshdr.h) ---- */

/* A header file: absolute, no ".." that could climb. In the initramfs,
 * or on a device (set_header_ref splits PATH:DEVICE first). */
static const char *set_header_path(char *dst, size_t size, const char *path)
{
	static const char *const not_initramfs[] = {"/dev", "/proc", "/sys",
						    "/run"};
	if (strchr(path, ':'))
		return "header path must not contain ':' (PATH:DEVICE names the device holding it)";
	if (path[0] != '/' || path[1] == '\0')
		return "header must be the absolute path of a file in the initramfs";
	/* booster's rd.luks.header=UUID=/dev/sdb, or a file the kernel
	 * makes: no file of the initramfs (checked again when opened). */
	for (size_t i = 0; i < ARRAY_SIZE(not_initramfs); i++) {
		size_t n = strlen(not_initramfs[i]);
		if (strncmp(path, not_initramfs[i], n) == 0 &&
		    (path[n] == '/' || path[n] == '\0'))
			return "a header on a device (or in /dev, /proc, /sys, /run) is not supported; only a file in the initramfs";
	}
	if (path_has_dotdot(path))
		return "header path must not contain ..";
	if (str_has_controls(path))
		return "control characters in header path";
	if (str_copy(dst, size, path) < 0)
		return "header path too long";
	return NULL;
}

/* PATH[:DEVICE] (systemd's and booster's form): the header file on
 * DEVICE, mounted read-only to copy it (hdrdev.h), else in the
 * initramfs. */
static const char *set_header_ref(char *dst, size_t size, struct devspec *dev,
				  const char *val)
{
	char path[CFG_PATH_MAX];
	const char *colon = strchr(val, ':');
	if (!colon) {
		memset(dev, 0, sizeof(*dev));
		return set_header_path(dst, size, val);
	}
	if (str_copy_n(path, sizeof(path), val, (size_t)(colon - val)) < 0)
		return "header path too long";
	struct devspec d;
	if (devspec_parse(&d, colon + 1) < 0)
		return "expected the header device as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	const char *why = set_header_path(dst, size, path);
	if (!why)
		*dev = d;
	return why;
}

/* rd.luks.header=UUID=PATH: UUID is the header's (the data device has
 * none). It names a volume to open, as rd.luks.uuid= does. */
static const char *set_luks_header(struct boot_config *cfg, const char *val)
{
	char spec_text[DEVSPEC_VALUE_MAX + 8], path[CFG_PATH_MAX];
	const char *rest;
	struct devspec spec, hdev;
	const char *why =
		split_uuid_pair(val, spec_text, sizeof(spec_text), &rest);
	if (why || (why = set_header_ref(path, sizeof(path), &hdev, rest)))
		return why;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	struct luks_member_cfg *m = list_member(cfg, &spec, "rd.luks.header");
	if (!m)
		return "too many LUKS devices (at most 16)";
	str_copy(m->header, sizeof(m->header), path);
	m->headerdev = hdev;
	return NULL;
}

/* The data device carries no signature: only a name or a partition's
 * own tag can find it, never a filesystem's UUID= or LABEL=. */
static const char *check_data_spec(const struct devspec *data)
{
	if (data->kind == DEVSPEC_UUID || data->kind == DEVSPEC_LABEL)
		return "a data device has no filesystem, so no UUID= or LABEL=: use /dev/..., PARTUUID= or PARTLABEL=";
	/* devspec turns by-partuuid/ and by-partlabel/ into tags; the other
	 * links (by-id/, by-path/) are udev's, and no udev runs here. */
	if (data->kind == DEVSPEC_PATH &&
	    strncmp(data->value, "/dev/disk/", 10) == 0)
		return "/dev/disk/by-id/ and by-path/ links are made by udev, which luksinit does not run: use the kernel's name (/dev/sdb), PARTUUID= or PARTLABEL=";
	return NULL;
}

/* rd.luks.data=UUID=DEVICE (systemd): where the data of the volume whose
 * header has that UUID is. Lists it, as rd.luks.uuid= does. */
static const char *set_luks_data(struct boot_config *cfg, const char *val)
{
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	const char *rest;
	struct devspec spec, data;
	const char *why =
		split_uuid_pair(val, spec_text, sizeof(spec_text), &rest);
	if (why)
		return why;
	if (devspec_parse(&data, rest) < 0)
		return "expected UUID=DEVICE, DEVICE as /dev/..., PARTUUID= or PARTLABEL=";
	if ((why = check_data_spec(&data)))
		return why;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	struct luks_member_cfg *m = list_member(cfg, &spec, "rd.luks.data");
	if (!m)
		return "too many LUKS devices (at most 16)";
	m->data = data;
	return NULL;
}

/* systemd's header=PATH in rd.luks.options=UUID=...: for that device. */
static void header_option(struct boot_config *cfg, struct luks_member_cfg *m,
			  const char *opt)
{
	const char *why =
		m ? set_header_ref(m->header, sizeof(m->header), &m->headerdev,
				   opt + 7)
		  : "header= needs a device: rd.luks.options=UUID=header=PATH";
	if (why)
		problem_item(cfg, "rd.luks.options", opt, why);
}

/* genkernel's root_header=PATH: in the initramfs, or on root_headerdev=
 * if given; applied once the line is read. */
static const char *set_root_header(struct boot_config *cfg, const char *val)
{
	return set_header_path(cfg->root_header, sizeof(cfg->root_header), val);
}

/* genkernel's root_headerdev=: root_header= is on that device. */
static const char *set_root_headerdev(struct boot_config *cfg, const char *val)
{
	if (devspec_parse(&cfg->root_headerdev, val) < 0)
		return "expected the device holding root_header= as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	return NULL;
}

/* genkernel opens each crypt_root(s)= device with root_header=: that
 * device is the data device. One header describes one volume, so with
 * several devices it cannot be meant for all of them. */
static void apply_root_header(struct boot_config *cfg)
{
	if (!cfg->root_header[0])
		return;
	struct luks_member_cfg *one = NULL;
	int n = 0;
	for (int i = 0; i < cfg->nmembers; i++) {
		struct luks_member_cfg *m = &cfg->members[i];
		if (m->listed && m->set_by &&
		    str_starts_with(m->set_by, "crypt_root")) {
			one = m;
			n++;
		}
	}
	if (n != 1) {
		problem(cfg, "root_header",
			n ? "several crypt_root(s)= devices, but one header describes one volume: give each its own with rd.luks.header=UUID=PATH and rd.luks.data=UUID=DEVICE"
			  : "no crypt_root= device to open with it");
		return;
	}
	const char *why = check_data_spec(&one->spec);
	if (why) {
		problem(cfg, "crypt_root", why);
		return;
	}
	if (!one->header[0]) {
		str_copy(one->header, sizeof(one->header), cfg->root_header);
		one->headerdev = cfg->root_headerdev;
	}
	if (one->data.kind == DEVSPEC_NONE)
		one->data = one->spec;
}

static const char *set_root_trim(struct boot_config *cfg, const char *val)
{
	if (strcmp(val, "yes") == 0)
		cfg->discard = true;
	else if (strcmp(val, "no") != 0)
		return "expected yes or no";
	return NULL;
}

static const struct {
	const char *name;
	unsigned flag;
} luks_flag_opts[] = {
	{"discard", LUKS_OPT_DISCARD},
	{"same-cpu-crypt", LUKS_OPT_SAME_CPU_CRYPT},
	{"submit-from-crypt-cpus", LUKS_OPT_SUBMIT_FROM_CRYPT_CPUS},
	{"no-read-workqueue", LUKS_OPT_NO_READ_WORKQUEUE},
	{"no-write-workqueue", LUKS_OPT_NO_WRITE_WORKQUEUE},
	{"luks", 0}, /* the type: every member is LUKS */
};

/* A systemd time span, the few units a key device's wait needs. */
static int parse_span_ms(const char *text, int *ret_ms)
{
	size_t n = strspn(text, "0123456789");
	const char *unit = text + n;
	unsigned long scale, v;
	char num[16];
	if (unit[0] == '\0' || strcmp(unit, "s") == 0)
		scale = 1000;
	else if (strcmp(unit, "ms") == 0)
		scale = 1;
	else if (strcmp(unit, "min") == 0)
		scale = 60000;
	else
		return -EINVAL;
	if (str_copy_n(num, sizeof(num), text, n) < 0 ||
	    parse_uint(num, 1, KEYDEV_WAIT_MAX_MS / scale, &v) < 0)
		return -EINVAL;
	*ret_ms = (int)(v * scale);
	return 0;
}

/* One crypttab option into o. Each option stands alone, as in systemd:
 * the known ones apply, every other is named in a warning. */
static void luks_option(struct boot_config *cfg, const char *opt,
			struct luks_opts *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(luks_flag_opts); i++)
		if (strcmp(opt, luks_flag_opts[i].name) == 0) {
			o->flags |= luks_flag_opts[i].flag;
			return;
		}
	unsigned long n;
	if (str_starts_with(opt, "tries=")) {
		/* systemd's tries=0 (without end) breaks luksinit's bound. */
		if (parse_uint(opt + 6, 1, LUKS_TRIES_MAX, &n) < 0)
			problem_item(cfg, "rd.luks.options", opt,
				     "expected tries=1-100");
		else
			o->tries = (int)n;
		return;
	}
	if (str_starts_with(opt, "keyfile-timeout=")) {
		int ms;
		if (parse_span_ms(opt + 16, &ms) < 0)
			problem_item(
				cfg, "rd.luks.options", opt,
				"expected keyfile-timeout=N with s (the default), ms or min; at most 1 h");
		else
			o->keyfile_timeout_ms = ms;
		return;
	}
	problem_item(cfg, "rd.luks.options", opt, "not supported by luksinit");
}

/* systemd: "UUID=OPTS" (a UUID of hex digits and dashes) is for one
 * device; "UUID=" and "luks-" before it are accepted too. */
static bool options_name_a_device(const char *val)
{
	if (str_starts_with(val, "UUID=") || str_starts_with(val, "luks-"))
		return true;
	size_t n = strspn(val, "0123456789abcdefABCDEF-");
	return n > 0 && val[n] == '=';
}

static const char *set_luks_options(struct boot_config *cfg, const char *val)
{
	struct luks_opts *dst = &cfg->luks_opts;
	struct luks_member_cfg *m = NULL;
	const char *opts = val;
	if (options_name_a_device(val)) {
		char spec_text[DEVSPEC_VALUE_MAX + 8];
		struct devspec spec;
		const char *why = split_uuid_pair(val, spec_text,
						  sizeof(spec_text), &opts);
		if (why)
			return why;
		if (devspec_parse(&spec, spec_text) < 0)
			return "malformed UUID";
		m = member_settings(cfg, &spec, "rd.luks.options");
		if (!m)
			return "too many per-device settings";
		dst = &m->opts;
	}
	char buf[CFG_OPTS_MAX];
	const char *why = set_text(buf, sizeof(buf), opts);
	if (why)
		return why;
	/* The last one given wins, whole, as for every parameter. */
	struct luks_opts o = {.set = true};
	for (char *p = buf, *next; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (str_starts_with(p, "header="))
			header_option(cfg, m, p);
		else if (*p)
			luks_option(cfg, p, &o);
	}
	*dst = o;
	return NULL;
}

static const char *set_allow_discards(struct boot_config *cfg, const char *val)
{
	if (!val) {
		cfg->discard = true;
		return NULL;
	}
	/* dracut: rd.luks.allow-discards=UUID for that device only. */
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	struct devspec spec;
	const char *why = luks_uuid_spec(val, spec_text, sizeof(spec_text));
	if (why)
		return why;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	struct luks_member_cfg *m =
		member_settings(cfg, &spec, "rd.luks.allow-discards");
	if (!m)
		return "too many per-device settings";
	m->discard = true;
	return NULL;
}

/* systemd's boolean words. */
static int parse_bool(const char *val)
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

static const char *set_luks_on(struct boot_config *cfg, const char *val)
{
	int on = parse_bool(val);
	if (on < 0)
		return "expected 0 or 1";
	cfg->luks_off = !on;
	return NULL;
}

static const char *set_crypttab(struct boot_config *cfg, const char *val)
{
	(void)cfg;
	/* No crypttab is read anyway: "off" is simply true. */
	if (val && parse_bool(val) == 0)
		return NULL;
	return "luksinit reads no crypttab: the devices come from the command line";
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

static const char *set_luks_tries(struct boot_config *cfg, const char *val)
{
	unsigned long n;
	if (parse_uint(val, 1, LUKS_TRIES_MAX, &n) < 0)
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
			problem(cfg, name, why);
		return;
	}
}

/* from: where the argument came from, for the warning. */
static void add_init_arg(struct boot_config *cfg, const char *from,
			 const char *arg)
{
	if (cfg->init_argc >= CFG_INIT_ARGS_MAX) {
		problem(cfg, from, "too many arguments for init");
		return;
	}
	if (str_has_controls(arg) || str_copy(cfg->init_args[cfg->init_argc],
					      CFG_INIT_ARG_LEN, arg) < 0) {
		problem(cfg, from, "init argument too long or malformed");
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
				problem(cfg, "init_opts",
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

unsigned luks_member_flags(const struct boot_config *cfg,
			   const struct luks_member_cfg *m)
{
	unsigned flags = m->opts.set ? m->opts.flags : cfg->luks_opts.flags;
	if (cfg->discard || m->discard)
		flags |= LUKS_OPT_DISCARD;
	return flags;
}

int luks_member_tries(const struct boot_config *cfg,
		      const struct luks_member_cfg *m)
{
	const struct luks_opts *o = m->opts.set ? &m->opts : &cfg->luks_opts;
	return o->tries > 0 ? o->tries : cfg->luks_tries;
}

int luks_member_keyfile_timeout_ms(const struct boot_config *cfg,
				   const struct luks_member_cfg *m)
{
	const struct luks_opts *o = m->opts.set ? &m->opts : &cfg->luks_opts;
	return o->keyfile_timeout_ms > 0 ? o->keyfile_timeout_ms
					 : KEYDEV_WAIT_DEFAULT_MS;
}

/* genkernel's crypt_root= is /dev/mapper/root, if given once and not
 * named otherwise (root=/dev/mapper/root is what its users write). */
static void name_crypt_root(struct boot_config *cfg)
{
	if (cfg->crypt_root_count == 0)
		return;
	if (cfg->crypt_root_count > 1) {
		problem(cfg, "crypt_root",
			"given more than once (genkernel opens one device; crypt_roots= takes several): each is opened as luks-UUID");
		return;
	}
	struct luks_member_cfg *m = find_member(cfg, &cfg->crypt_root_spec);
	for (int i = 0; i < cfg->nmembers; i++)
		if (strcmp(cfg->members[i].name, LUKS_GENKERNEL_NAME) == 0)
			return;
	if (m && !m->name[0])
		str_copy(m->name, sizeof(m->name), LUKS_GENKERNEL_NAME);
}

static bool name_taken(const struct boot_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->nmembers; i++)
		if (strcmp(cfg->members[i].name, name) == 0)
			return true;
	return false;
}

/* crypt_swap(s)= members not named by rd.luks.name=: swap, swap_1, ... in
 * the order given, as the genkernel patch names them. */
static void name_crypt_swaps(struct boot_config *cfg)
{
	int k = 0;
	for (int i = 0; i < cfg->nmembers; i++) {
		struct luks_member_cfg *m = &cfg->members[i];
		if (!m->listed || !m->swap)
			continue;
		char name[LUKS_NAME_MAX];
		if (k == 0)
			str_copy(name, sizeof(name), LUKS_GENKERNEL_SWAP);
		else
			snprintf(name, sizeof(name), "%s_%d",
				 LUKS_GENKERNEL_SWAP, k);
		k++;
		if (!m->name[0] && !name_taken(cfg, name))
			str_copy(m->name, sizeof(m->name), name);
	}
}

/* dracut and systemd know no swap members: resume=/dev/mapper/NAME names
 * the member that holds the swap (luks-UUID unless rd.luks.name= named
 * it). */
static void mark_resume_member(struct boot_config *cfg)
{
	const struct devspec *r = &cfg->resume;
	if (r->kind != DEVSPEC_PATH ||
	    !str_starts_with(r->value, "/dev/mapper/"))
		return;
	const char *name = r->value + strlen("/dev/mapper/");
	for (int i = 0; i < cfg->nmembers; i++) {
		struct luks_member_cfg *m = &cfg->members[i];
		bool same = strcmp(m->name, name) == 0;
		if (!m->name[0] && m->spec.kind == DEVSPEC_UUID &&
		    str_starts_with(name, "luks-"))
			same = strcasecmp(m->spec.value, name + 5) == 0;
		if (m->listed && same)
			m->swap = true;
	}
}

/* Once the whole line is read: settings for devices nobody listed are
 * dropped with a warning, and what rd.luks=0 turns off. */
static void finish_luks(struct boot_config *cfg)
{
	name_crypt_root(cfg);
	name_crypt_swaps(cfg);
	mark_resume_member(cfg);
	apply_root_header(cfg);
	if (cfg->root_keydev.kind != DEVSPEC_NONE) {
		if (cfg->keyfile_is_root_key)
			cfg->keydev = cfg->root_keydev;
		else
			problem(cfg, "root_keydev",
				"no root_key= names the key file on it; ignored");
	}
	int n = 0;
	for (int i = 0; i < cfg->nmembers; i++) {
		struct luks_member_cfg *m = &cfg->members[i];
		char item[DEVSPEC_VALUE_MAX + 16];
		snprintf(item, sizeof(item), "%s%s",
			 devspec_kind_name(m->spec.kind), m->spec.value);
		if (!m->listed)
			problem_item(
				cfg, m->set_by, item,
				"no such device is listed (rd.luks.uuid=, rd.luks.name=, rd.luks.header=, rd.luks.data=, crypt_root(s)=)");
		else if (cfg->luks_off)
			problem_item(cfg, "rd.luks", item,
				     "not opened: LUKS is off (rd.luks=0)");
		else if (n != i)
			cfg->members[n++] = *m;
		else
			n++;
	}
	cfg->nmembers = n;
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
	finish_luks(cfg);
}
