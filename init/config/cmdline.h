/* Kernel command line -> struct boot_config. Pure: no I/O, no allocation.
 * cmdline.c holds the tokenizer and the table of every parameter;
 * cmdline_luks.c and cmdline_header.c the LUKS ones (cmdline_params.h). */
#ifndef LUKSINIT_CMDLINE_H
#define LUKSINIT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/devspec.h"

/* x86 COMMAND_LINE_SIZE is 2048; leave room for other architectures. */
#define CMDLINE_MAX 4096
#define CFG_PATH_MAX 256
#define CFG_OPTS_MAX 512
/* The kernel's MAX_INIT_ARGS: it never passes init more. */
#define CFG_INIT_ARGS_MAX 32
#define CFG_INIT_ARG_LEN 128
#define CFG_PROBLEMS_MAX 16

#define LUKS_MEMBERS_MAX 16
/* Per-device settings (rd.luks.key=UUID=, rd.luks.options=UUID=, ...)
 * for devices not (yet) listed: they are matched once the line is read. */
#define LUKS_CFG_MAX (2 * LUKS_MEMBERS_MAX)
#define LUKS_NAME_MAX 64
#define LUKS_TRIES_DEFAULT 3
#define LUKS_TRIES_MAX 100
/* genkernel opens its one crypt_root= as /dev/mapper/root. */
#define LUKS_GENKERNEL_NAME "root"
/* The multiple crypt_roots/crypt_swaps patch names its swap devices swap,
 * swap_1, swap_2, ... in the order given. */
#define LUKS_GENKERNEL_SWAP "swap"

/* How long a key file's device is waited for, as genkernel does; then the
 * passphrase is asked. keyfile-timeout= (systemd) overrides it. */
#define KEYDEV_WAIT_DEFAULT_MS 10000
#define KEYDEV_WAIT_MAX_MS 3600000
#define KEYDEV_FSTYPE_MAX 32
/* rd.vconsole.keymap= and keymap=: a file name in the initramfs. */
#define KEYMAP_NAME_MAX 64

#define ROOT_WAIT_DEFAULT_S 30
#define ROOT_WAIT_FOREVER (-1)

struct cmdline_problem {
	char param[48];
	char item[96]; /* "" or the option / device(s) it is about */
	const char *why;
	int times; /* the same problem again and again counts once */
};

/* dm-crypt options of rd.luks.options= (crypttab's names). */
enum luks_opt {
	LUKS_OPT_DISCARD = 1u << 0,
	LUKS_OPT_SAME_CPU_CRYPT = 1u << 1,
	LUKS_OPT_SUBMIT_FROM_CRYPT_CPUS = 1u << 2,
	LUKS_OPT_NO_READ_WORKQUEUE = 1u << 3,
	LUKS_OPT_NO_WRITE_WORKQUEUE = 1u << 4,
};

/* One rd.luks.options= value: global, or for one device (then it replaces
 * the global one for that device, as in systemd). */
struct luks_opts {
	bool set;
	bool password_cache;	/* password-cache=yes */
	unsigned flags;		/* enum luks_opt */
	int tries;		/* 0: not given */
	int keyfile_timeout_ms; /* keyfile-timeout=; 0: not given */
};

/* One LUKS container to open: from crypt_root(s)=, rd.luks.uuid= or
 * rd.luks.name=. While parsing, also settings for a device not listed
 * (yet); cmdline_parse drops those that stay unlisted, with a warning. */
struct luks_member_cfg {
	struct devspec spec;
	char name[LUKS_NAME_MAX];   /* device-mapper name; "" = luks-<UUID> */
	char keyfile[CFG_PATH_MAX]; /* "" = the global one, if any */
	struct devspec keydev;	    /* keyfile is on it; NONE: initramfs */
	struct luks_opts opts;
	bool discard; /* rd.luks.allow-discards=UUID */
	bool listed;  /* to be opened, not just settings */
	/* Holds swap, not the root: never a Btrfs member nor the root, and
	 * not needed to boot (crypt_swap(s)=, or the mapping resume= names). */
	bool swap;
	const char *set_by; /* the parameter that named it first */
	/* A detached header (lukshdr.h): its file in the initramfs, and the
	 * device holding the data, which has no signature to find it by. */
	char header[CFG_PATH_MAX];
	struct devspec data;
	struct devspec headerdev; /* header is a file on it; NONE: initramfs */
};

struct boot_config {
	struct devspec root;
	char rootfstype[64];
	char rootflags[CFG_OPTS_MAX];
	/* rootflags= asks for a degraded mount (parsed once, at the end of
	 * cmdline_parse: the wait asks on every pass). */
	bool rootflags_degraded;
	bool read_write; /* kernel default is read-only */
	char init[CFG_PATH_MAX];
	/* For the real init, in order: the kernel's own words for it
	 * (cmdline_kernel_args), init_opts=, the words after "--". */
	char init_args[CFG_INIT_ARGS_MAX][CFG_INIT_ARG_LEN];
	int init_argc;
	int dash_words;	 /* words after "--", taken or not */
	int root_wait_s; /* seconds, or ROOT_WAIT_FOREVER */
	int root_delay_s; /* rootdelay=; cmdline_parse folds it into root_wait_s */
	bool quiet;
	bool debug;
	int shell; /* rd.shell: -1 unset (cmdline_shell_allowed), 0 off, 1 on */
	/* ip= asks the kernel to configure a network interface (not "off"
	 * or "none"): SSH unlock listens on it, if the initramfs has it. */
	bool net;
	bool neednet; /* rd.neednet=1: leave it configured after us */
	bool panic_set;
	long panic_s; /* kernel panic= semantics, when panic_set */
	unsigned long long resume_offset; /* resume_offset=, in pages */

	/* After cmdline_parse: the first nmembers, all listed, at most
	 * LUKS_MEMBERS_MAX. */
	struct luks_member_cfg members[LUKS_CFG_MAX];
	int nmembers;
	int nlisted;
	int members_dropped;	    /* listed beyond LUKS_MEMBERS_MAX: fatal */
	char keyfile[CFG_PATH_MAX]; /* root_key= / rd.luks.key=PATH */
	struct devspec keydev;	    /* keyfile is on it; NONE: initramfs */
	char keydev_fstype[KEYDEV_FSTYPE_MAX]; /* root_keydev_fstype= */
	bool discard;		    /* root_trim=yes, rd.luks.allow-discards */
	int luks_tries;		    /* rd.luks.tries= */
	struct luks_opts luks_opts; /* rd.luks.options=OPTS, for all */
	bool luks_off;		    /* rd.luks=0 */
	int prompt_timeout_s; /* rd.luks.timeout=, gk.prompt.timeout=; 0: none */
	int crypt_root_count; /* genkernel's singular crypt_root= */
	struct devspec crypt_root_spec;
	/* genkernel's root_header=, for its crypt_root (lukshdr.h), and
	 * root_headerdev=, the device holding it (hdrdev.h). */
	char root_header[CFG_PATH_MAX];
	struct devspec root_headerdev;
	struct devspec root_keydev; /* genkernel: root_key= is on it */
	bool keyfile_is_root_key;   /* cfg->keyfile came from root_key= */
	int degraded_after_s;	    /* rd.btrfs.degraded=, -1 = never */
	struct devspec resume;	    /* resume=; kind NONE if absent */
	/* The last resume= as given, if it is a form the kernel resolves
	 * itself before /init runs (PARTUUID=, PARTLABEL=, a disk's /dev/
	 * path, MAJ:MIN), parsed by /init or not; else "". */
	char resume_by_kernel[DEVSPEC_VALUE_MAX];
	bool resume_offset_set;
	bool noresume;
	char fw_path[CFG_PATH_MAX]; /* firmware_class.path= */
	/* rd.vconsole.keymap= or genkernel's keymap=, the last one given. */
	char keymap[KEYMAP_NAME_MAX];
	const char *keymap_param; /* which of the two named it */
	bool dokeymap;		  /* genkernel: load a keymap */

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
 * and leave the default in place, as do known parameters luksinit does
 * not support. */
void cmdline_parse(struct boot_config *cfg, char *cmdline);

/* /init's own argv, after cmdline_parse: the kernel hands init its unknown
 * bare words ("single", "emergency", "3") followed by the words after
 * "--"; the former go to the real init first, as they would without an
 * initramfs. Untrusted: bounded, control characters refused. */
void cmdline_kernel_args(struct boot_config *cfg, int argc,
			 const char *const *argv);

/* What member m is opened with: its own rd.luks.options= if it has one,
 * else the global one; discards also from root_trim=yes and
 * rd.luks.allow-discards[=UUID]. */
unsigned luks_member_flags(const struct boot_config *cfg,
			   const struct luks_member_cfg *m);
/* Passphrase tries: tries= of the options above, else rd.luks.tries=,
 * else 3. */
int luks_member_tries(const struct boot_config *cfg,
		      const struct luks_member_cfg *m);
/* How long m's key device is waited for: keyfile-timeout= of the options
 * above, else KEYDEV_WAIT_DEFAULT_MS. */
int luks_member_keyfile_timeout_ms(const struct boot_config *cfg,
				   const struct luks_member_cfg *m);
/* Whether the passphrase that opens m is handed on to the booted system
 * (password-cache=yes of the options above; no by default). */
bool luks_member_password_cache(const struct boot_config *cfg,
				const struct luks_member_cfg *m);

/* Whether a failed boot may start a rescue shell (if there is one): with
 * LUKS members configured only on rd.shell=1, since whoever is at the
 * keyboard gets it, unauthenticated (an evil maid); without members
 * unless rd.shell=0. */
bool cmdline_shell_allowed(const struct boot_config *cfg);

/* A name that can only mean a keymap file of the initramfs: letters,
 * digits and "._+-", not starting with '.', shorter than KEYMAP_NAME_MAX. */
bool keymap_name_ok(const char *name);

#endif
