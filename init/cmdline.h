/* Kernel command line -> struct boot_config. Pure: no I/O, no allocation. */
#ifndef LUKSINIT_CMDLINE_H
#define LUKSINIT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "devspec.h"
#include "keymap.h"

/* x86 COMMAND_LINE_SIZE is 2048; leave room for other architectures. */
#define CMDLINE_MAX 4096
#define CFG_PATH_MAX 256
#define CFG_OPTS_MAX 512
#define CFG_INIT_ARGS_MAX 16
#define CFG_INIT_ARG_LEN 128
#define CFG_PROBLEMS_MAX 8

#define LUKS_MEMBERS_MAX 16
#define LUKS_NAME_MAX 64
#define LUKS_TRIES_DEFAULT 3

#define ROOT_WAIT_DEFAULT_S 30
#define ROOT_WAIT_FOREVER (-1)

struct cmdline_problem {
	char param[48];
	const char *why;
	int times; /* the same problem again and again counts once */
};

/* One LUKS container to open: from crypt_roots=, rd.luks.uuid= or
 * rd.luks.name=. */
struct luks_member_cfg {
	struct devspec spec;
	char name[LUKS_NAME_MAX];   /* device-mapper name; "" = luks-<UUID> */
	char keyfile[CFG_PATH_MAX]; /* "" = the global one, if any */
};

struct boot_config {
	struct devspec root;
	char rootfstype[64];
	char rootflags[CFG_OPTS_MAX];
	bool read_write; /* kernel default is read-only */
	char init[CFG_PATH_MAX];
	char init_args[CFG_INIT_ARGS_MAX][CFG_INIT_ARG_LEN];
	int init_argc;
	int root_wait_s; /* seconds, or ROOT_WAIT_FOREVER */
	int root_delay_s; /* rootdelay=; cmdline_parse folds it into root_wait_s */
	bool quiet;
	bool debug;
	int shell; /* rd.shell: -1 unset (auto), 0 off, 1 on */
	bool panic_set;
	long panic_s; /* kernel panic= semantics, when panic_set */

	struct luks_member_cfg members[LUKS_MEMBERS_MAX];
	int nmembers;
	int members_dropped;	    /* listed beyond LUKS_MEMBERS_MAX: fatal */
	char keyfile[CFG_PATH_MAX]; /* root_key= / rd.luks.key=PATH */
	bool discard;		    /* root_trim=yes, rd.luks.allow-discards */
	int luks_tries;
	int degraded_after_s;	    /* rd.btrfs.degraded=, -1 = never */
	char fw_path[CFG_PATH_MAX]; /* firmware_class.path= */
	/* rd.vconsole.keymap= or genkernel's keymap=, the last one given. */
	char keymap[KEYMAP_NAME_MAX];
	const char *keymap_param; /* which of the two named it */
	bool dokeymap;		  /* genkernel: load a keymap */
	/* Not parsed: what vtkeymap_setup() did, for the prompt. */
	enum keymap_outcome keymap_outcome;
	char keymap_used[KEYMAP_NAME_MAX];

	struct cmdline_problem problems[CFG_PROBLEMS_MAX];
	int nproblems;
	int problems_dropped;
};

/* Kernel grammar (lib/cmdline.c next_arg): params split on white space,
 * double quotes group, "param=value" splits at the first '=', quotes around
 * the value are removed. Tokenizes args in place; returns the rest, or
 * NULL at the end. *val is NULL for a bare word. */
char *cmdline_next_arg(char *args, char **param, char **val);

void boot_config_init(struct boot_config *cfg);

/* Parses a NUL-terminated, writable command line. Unknown parameters are
 * ignored; malformed values of known ones are recorded in cfg->problems
 * and leave the default in place. */
void cmdline_parse(struct boot_config *cfg, char *cmdline);

#endif
