/* The LUKS part of the command line: which devices are members, their
 * names, keys, options, swap; what is left once the line is read. */
#include "config/cmdline_params.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"
#include "base/util.h"
#include "config/cmdline.h"

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
struct luks_member_cfg *cfg_list_member(struct boot_config *cfg,
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
	if (!cfg_list_member(cfg, &spec, set_by))
		return "too many LUKS devices (at most 16)";
	return NULL;
}

const char *set_crypt_roots(struct boot_config *cfg, const char *val)
{
	return add_member(cfg, val, "crypt_roots");
}

/* genkernel's own, singular form: one device, opened as
 * /dev/mapper/root (named once the whole line is read). */
const char *set_crypt_root(struct boot_config *cfg, const char *val)
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
	struct luks_member_cfg *m = cfg_list_member(cfg, &spec, set_by);
	if (!m)
		return "too many LUKS devices (at most 16)";
	m->swap = true;
	return NULL;
}

const char *set_crypt_swaps(struct boot_config *cfg, const char *val)
{
	return add_swap(cfg, val, "crypt_swaps");
}

const char *set_crypt_swap(struct boot_config *cfg, const char *val)
{
	return add_swap(cfg, val, "crypt_swap");
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

const char *set_luks_uuid(struct boot_config *cfg, const char *val)
{
	char spec[DEVSPEC_VALUE_MAX + 8];
	const char *why = luks_uuid_spec(val, spec, sizeof(spec));
	return why ? why : add_member(cfg, spec, "rd.luks.uuid");
}

/* Splits "[UUID=]UUID=REST" at the '=' after the UUID. */
const char *cfg_split_uuid_pair(const char *val, char *uuid_spec, size_t size,
				const char **rest)
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

const char *set_luks_name(struct boot_config *cfg, const char *val)
{
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	const char *name;
	const char *why =
		cfg_split_uuid_pair(val, spec_text, sizeof(spec_text), &name);
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
	struct luks_member_cfg *m = cfg_list_member(cfg, &spec, "rd.luks.name");
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
const char *set_luks_key(struct boot_config *cfg, const char *val)
{
	if (val[0] == '/')
		return set_global_key(cfg, val);
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	const char *path;
	const char *why =
		cfg_split_uuid_pair(val, spec_text, sizeof(spec_text), &path);
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
const char *set_root_key(struct boot_config *cfg, const char *val)
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

const char *set_root_keydev(struct boot_config *cfg, const char *val)
{
	if (!val || devspec_parse(&cfg->root_keydev, val) < 0)
		return "expected the device holding root_key= as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	return NULL;
}

const char *set_root_keydev_fstype(struct boot_config *cfg, const char *val)
{
	size_t n = strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (val[0] == '\0' || val[n] != '\0' ||
	    str_copy(cfg->keydev_fstype, sizeof(cfg->keydev_fstype), val) < 0)
		return "expected a filesystem type (vfat, ext4, ...)";
	return NULL;
}

const char *set_root_trim(struct boot_config *cfg, const char *val)
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

/* systemd's password-cache=: yes or no (its booleans), or read-only, which
 * there reads passphrases cached earlier without adding any. Nothing is
 * cached before the initramfs runs, so here read-only hands nothing on:
 * as no. */
static void password_cache_option(struct boot_config *cfg, const char *opt,
				  struct luks_opts *o)
{
	const char *val = opt + strlen("password-cache=");
	int on = strcmp(val, "read-only") == 0 ? 0 : cfg_parse_bool(val);
	if (on < 0)
		cfg_problem_item(
			cfg, "rd.luks.options", opt,
			"expected password-cache=yes, no or read-only");
	else
		o->password_cache = on;
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
			cfg_problem_item(cfg, "rd.luks.options", opt,
					 "expected tries=1-100");
		else
			o->tries = (int)n;
		return;
	}
	if (str_starts_with(opt, "keyfile-timeout=")) {
		int ms;
		if (parse_span_ms(opt + 16, &ms) < 0)
			cfg_problem_item(
				cfg, "rd.luks.options", opt,
				"expected keyfile-timeout=N with s (the default), ms or min; at most 1 h");
		else
			o->keyfile_timeout_ms = ms;
		return;
	}
	if (str_starts_with(opt, "password-cache=")) {
		password_cache_option(cfg, opt, o);
		return;
	}
	cfg_problem_item(cfg, "rd.luks.options", opt,
			 "not supported by luksinit");
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

const char *set_luks_options(struct boot_config *cfg, const char *val)
{
	struct luks_opts *dst = &cfg->luks_opts;
	struct luks_member_cfg *m = NULL;
	const char *opts = val;
	if (options_name_a_device(val)) {
		char spec_text[DEVSPEC_VALUE_MAX + 8];
		struct devspec spec;
		const char *why = cfg_split_uuid_pair(val, spec_text,
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
	const char *why = cfg_set_text(buf, sizeof(buf), opts);
	if (why)
		return why;
	/* The last one given wins, whole, as for every parameter. */
	struct luks_opts o = {.set = true};
	for (char *p = buf, *next; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (str_starts_with(p, "header="))
			cfg_header_option(cfg, m, p);
		else if (*p)
			luks_option(cfg, p, &o);
	}
	*dst = o;
	return NULL;
}

const char *set_allow_discards(struct boot_config *cfg, const char *val)
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

const char *set_luks_on(struct boot_config *cfg, const char *val)
{
	int on = cfg_parse_bool(val);
	if (on < 0)
		return "expected 0 or 1";
	cfg->luks_off = !on;
	return NULL;
}

const char *set_crypttab(struct boot_config *cfg, const char *val)
{
	(void)cfg;
	/* No crypttab is read anyway: "off" is simply true. */
	if (val && cfg_parse_bool(val) == 0)
		return NULL;
	return "luksinit reads no crypttab: the devices come from the command line";
}

const char *set_luks_tries(struct boot_config *cfg, const char *val)
{
	unsigned long n;
	if (parse_uint(val, 1, LUKS_TRIES_MAX, &n) < 0)
		return "expected a number of tries (1-100)";
	cfg->luks_tries = (int)n;
	return NULL;
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

bool luks_member_password_cache(const struct boot_config *cfg,
				const struct luks_member_cfg *m)
{
	const struct luks_opts *o = m->opts.set ? &m->opts : &cfg->luks_opts;
	return o->password_cache;
}

/* genkernel's crypt_root= is /dev/mapper/root, if given once and not
 * named otherwise (root=/dev/mapper/root is what its users write). */
static void name_crypt_root(struct boot_config *cfg)
{
	if (cfg->crypt_root_count == 0)
		return;
	if (cfg->crypt_root_count > 1) {
		cfg_problem(
			cfg, "crypt_root",
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

/* The member whose default mapping name (luks-UUID, no name of its own)
 * is name, other than m; NULL if none. */
static const struct luks_member_cfg *
default_name_owner(const struct boot_config *cfg,
		   const struct luks_member_cfg *m, const char *name)
{
	if (strncasecmp(name, "luks-", 5) != 0)
		return NULL;
	for (int i = 0; i < cfg->nmembers; i++) {
		const struct luks_member_cfg *o = &cfg->members[i];
		if (o != m && o->listed && !o->name[0] &&
		    o->spec.kind == DEVSPEC_UUID &&
		    strcasecmp(o->spec.value, name + 5) == 0)
			return o;
	}
	return NULL;
}

/* rd.luks.name=A=luks-B next to rd.luks.uuid=B: two mappings of one name,
 * and the second would fail at activation, after a whole KDF. Caught
 * now, whatever the order: A is opened under its default name (which
 * may clash in turn: again until none does). */
static void refuse_default_name_clash(struct boot_config *cfg)
{
	bool again = false;
	for (int i = 0; i < cfg->nmembers; i++) {
		struct luks_member_cfg *m = &cfg->members[i];
		if (!m->listed || !m->name[0] ||
		    !default_name_owner(cfg, m, m->name))
			continue;
		char item[sizeof(cfg->problems[0].item)];
		snprintf(item, sizeof(item), "%s=%s", m->spec.value, m->name);
		cfg_problem_item(
			cfg, "rd.luks.name", item,
			"the name is the default one of the other LUKS device listed with that UUID; this one is opened as luks-<its UUID>");
		m->name[0] = '\0';
		again = true;
	}
	if (again)
		refuse_default_name_clash(cfg);
}

/* Once the whole line is read: settings for devices nobody listed are
 * dropped with a warning, and what rd.luks=0 turns off. */
void cfg_finish_luks(struct boot_config *cfg)
{
	name_crypt_root(cfg);
	name_crypt_swaps(cfg);
	refuse_default_name_clash(cfg);
	mark_resume_member(cfg);
	cfg_apply_root_header(cfg);
	if (cfg->root_keydev.kind != DEVSPEC_NONE) {
		if (cfg->keyfile_is_root_key)
			cfg->keydev = cfg->root_keydev;
		else
			cfg_problem(
				cfg, "root_keydev",
				"no root_key= names the key file on it; ignored");
	}
	int n = 0;
	for (int i = 0; i < cfg->nmembers; i++) {
		struct luks_member_cfg *m = &cfg->members[i];
		char item[DEVSPEC_VALUE_MAX + 16];
		snprintf(item, sizeof(item), "%s%s",
			 devspec_kind_name(m->spec.kind), m->spec.value);
		if (!m->listed)
			cfg_problem_item(
				cfg, m->set_by, item,
				"no such device is listed (rd.luks.uuid=, rd.luks.name=, rd.luks.header=, rd.luks.data=, crypt_root(s)=)");
		else if (cfg->luks_off)
			cfg_problem_item(cfg, "rd.luks", item,
					 "not opened: LUKS is off (rd.luks=0)");
		else if (n != i)
			cfg->members[n++] = *m;
		else
			n++;
	}
	cfg->nmembers = n;
}
