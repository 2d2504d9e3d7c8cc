/* Inside config/ only: what cmdline.c, cmdline_luks.c and
 * cmdline_header.c share. Each parameter's handler returns NULL on
 * success, else the reason the value is bad (cmdline.c's table names
 * them all); problems are collected in cfg, never logged here. */
#ifndef LUKSINIT_CMDLINE_PARAMS_H
#define LUKSINIT_CMDLINE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/cmdline.h"

typedef const char *(*param_fn)(struct boot_config *cfg, const char *val);

/* ---- cmdline.c: problems and plain values ---- */

/* A problem about one item of a value (an option, a device), or "". */
void cfg_problem_item(struct boot_config *cfg, const char *param,
		      const char *item, const char *why);
void cfg_problem(struct boot_config *cfg, const char *param, const char *why);
const char *cfg_set_text(char *dst, size_t size, const char *val);
int cfg_parse_bool(const char *val);

/* ---- cmdline_luks.c ---- */

const char *set_crypt_root(struct boot_config *cfg, const char *val);
const char *set_crypt_roots(struct boot_config *cfg, const char *val);
const char *set_root_key(struct boot_config *cfg, const char *val);
const char *set_root_keydev(struct boot_config *cfg, const char *val);
const char *set_root_keydev_fstype(struct boot_config *cfg, const char *val);
const char *set_root_trim(struct boot_config *cfg, const char *val);
const char *set_crypt_swap(struct boot_config *cfg, const char *val);
const char *set_crypt_swaps(struct boot_config *cfg, const char *val);
const char *set_luks_on(struct boot_config *cfg, const char *val);
const char *set_luks_uuid(struct boot_config *cfg, const char *val);
const char *set_luks_name(struct boot_config *cfg, const char *val);
const char *set_luks_key(struct boot_config *cfg, const char *val);
const char *set_luks_options(struct boot_config *cfg, const char *val);
const char *set_allow_discards(struct boot_config *cfg, const char *val);
const char *set_crypttab(struct boot_config *cfg, const char *val);
const char *set_luks_tries(struct boot_config *cfg, const char *val);
struct luks_member_cfg *cfg_list_member(struct boot_config *cfg,
					const struct devspec *spec,
					const char *set_by);
const char *cfg_split_uuid_pair(const char *val, char *uuid_spec, size_t size,
				const char **rest);
/* Once the whole line is read: names, swap, what no device took. */
void cfg_finish_luks(struct boot_config *cfg);

/* ---- cmdline_header.c ---- */

const char *set_luks_data(struct boot_config *cfg, const char *val);
const char *set_luks_header(struct boot_config *cfg, const char *val);
const char *set_root_header(struct boot_config *cfg, const char *val);
const char *set_root_headerdev(struct boot_config *cfg, const char *val);
void cfg_header_option(struct boot_config *cfg, struct luks_member_cfg *m,
		       const char *opt);
void cfg_apply_root_header(struct boot_config *cfg);

#endif
