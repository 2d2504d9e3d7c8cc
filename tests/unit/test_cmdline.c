#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/cmdline.h"

/* Tokenizes a copy of line and returns the n-th param/value. */
static int nth_arg(const char *line, int n, char *param, char *val)
{
	char buf[512];
	strcpy(buf, line); /* test-only; inputs are literals below */
	char *rest = buf, *p, *v;
	for (int i = 0; (rest = cmdline_next_arg(rest, &p, &v)); i++) {
		if (i == n) {
			strcpy(param, p);
			strcpy(val, v ? v : "(none)");
			return 1;
		}
	}
	return 0;
}

static void tokenizer_follows_kernel_quoting(void)
{
	char p[256], v[256];
	CHECK(nth_arg("  root=/dev/vda   ro ", 0, p, v));
	CHECK_STR(p, "root");
	CHECK_STR(v, "/dev/vda");
	CHECK(nth_arg("  root=/dev/vda   ro ", 1, p, v));
	CHECK_STR(p, "ro");
	CHECK_STR(v, "(none)");
	CHECK(!nth_arg("  root=/dev/vda   ro ", 2, p, v));
	CHECK(nth_arg("rootflags=\"subvol=@root,compress=zstd\" x", 0, p, v));
	CHECK_STR(p, "rootflags");
	CHECK_STR(v, "subvol=@root,compress=zstd");
	CHECK(nth_arg("a=\"b c\" d", 0, p, v));
	CHECK_STR(v, "b c");
	CHECK(nth_arg("a=\"b c\" d", 1, p, v));
	CHECK_STR(p, "d");
	CHECK(nth_arg("\"quoted word\" next", 0, p, v));
	CHECK_STR(p, "quoted word");
	CHECK(nth_arg("k=v=w", 0, p, v));
	CHECK_STR(p, "k");
	CHECK_STR(v, "v=w");
	CHECK(!nth_arg("", 0, p, v));
	CHECK(!nth_arg("   \t\n", 0, p, v));
}

static void tokenizer_survives_unbalanced_quotes(void)
{
	char p[256], v[256];
	CHECK(nth_arg("a=\"unterminated value and more", 0, p, v));
	CHECK_STR(p, "a");
	CHECK_STR(v, "unterminated value and more");
	CHECK(nth_arg("\"", 0, p, v));
	CHECK_STR(p, "");
}

static void parse(struct boot_config *cfg, const char *line)
{
	char buf[CMDLINE_MAX];
	strcpy(buf, line);
	boot_config_init(cfg);
	cmdline_parse(cfg, buf);
}

static void defaults(void)
{
	struct boot_config cfg;
	parse(&cfg, "");
	CHECK(cfg.root.kind == DEVSPEC_NONE);
	CHECK_STR(cfg.init, "/sbin/init");
	CHECK(cfg.root_wait_s == ROOT_WAIT_DEFAULT_S);
	CHECK(!cfg.read_write);
	CHECK(!cfg.quiet && !cfg.debug);
	CHECK(cfg.shell == -1);
	CHECK(!cfg.panic_set);
	CHECK(cfg.nproblems == 0);
}

static void root_and_flags(void)
{
	struct boot_config cfg;
	parse(&cfg, "BOOT_IMAGE=/vmlinuz root=UUID=1234-abcd rootfstype=btrfs "
		    "rootflags=subvol=@root rw quiet rd.debug");
	CHECK(cfg.root.kind == DEVSPEC_UUID);
	CHECK_STR(cfg.root.value, "1234-abcd");
	CHECK_STR(cfg.rootfstype, "btrfs");
	CHECK_STR(cfg.rootflags, "subvol=@root");
	CHECK(cfg.read_write);
	CHECK(cfg.quiet && cfg.debug);
	CHECK(cfg.nproblems == 0);
	parse(&cfg, "rw ro root=LABEL=\"my root\"");
	CHECK(!cfg.read_write);
	CHECK(cfg.root.kind == DEVSPEC_LABEL);
	CHECK_STR(cfg.root.value, "my root");
	CHECK(!cfg.rootflags_degraded);
}

/* rootflags= is parsed once for "degraded"; the last one given counts,
 * and a malformed one asks for nothing. */
static void rootflags_degraded_parsed_once(void)
{
	struct boot_config cfg;
	parse(&cfg, "rootflags=subvol=@,degraded");
	CHECK(cfg.rootflags_degraded);
	parse(&cfg, "rootflags=degraded real_rootflags=subvol=@");
	CHECK(!cfg.rootflags_degraded);
	parse(&cfg, "rootflags=degraded,,x");
	CHECK(!cfg.rootflags_degraded);
	parse(&cfg, "rootflags=ro,degraded,compress=zstd");
	CHECK(cfg.rootflags_degraded);
}

static void last_root_wins(void)
{
	struct boot_config cfg;
	parse(&cfg, "root=/dev/sda1 root=PARTUUID=abc-01");
	CHECK(cfg.root.kind == DEVSPEC_PARTUUID);
	CHECK_STR(cfg.root.value, "abc-01");
}

static void rootwait_forms(void)
{
	struct boot_config cfg;
	parse(&cfg, "rootwait");
	CHECK(cfg.root_wait_s == ROOT_WAIT_FOREVER);
	parse(&cfg, "rootwait=7");
	CHECK(cfg.root_wait_s == 7);
	parse(&cfg, "rootdelay=90");
	CHECK(cfg.root_wait_s == 90);
	parse(&cfg, "rootdelay=5");
	CHECK(cfg.root_wait_s == ROOT_WAIT_DEFAULT_S);
	parse(&cfg, "rootwait rootdelay=90");
	CHECK(cfg.root_wait_s == ROOT_WAIT_FOREVER);
	parse(&cfg, "rootdelay=90 rootwait");
	CHECK(cfg.root_wait_s == ROOT_WAIT_FOREVER);
	parse(&cfg, "rootwait=abc");
	CHECK(cfg.root_wait_s == ROOT_WAIT_DEFAULT_S);
	CHECK(cfg.nproblems == 1);
	CHECK_STR(cfg.problems[0].param, "rootwait");
	parse(&cfg, "rootwait=999999");
	CHECK(cfg.nproblems == 1);
}

/* rootdelay= and rootwait= combine the same way in either order: the
 * longer wait wins (a delay never shortens an explicit rootwait=). */
static void rootdelay_independent_of_order(void)
{
	struct boot_config cfg;
	parse(&cfg, "rootdelay=60 rootwait=10");
	CHECK(cfg.root_wait_s == 60);
	parse(&cfg, "rootwait=10 rootdelay=60");
	CHECK(cfg.root_wait_s == 60);
	parse(&cfg, "rootdelay=5 rootwait=10");
	CHECK(cfg.root_wait_s == 10);
	parse(&cfg, "rootwait=10 rootdelay=5");
	CHECK(cfg.root_wait_s == 10);
	parse(&cfg, "rootdelay=20 rootwait=10");
	CHECK(cfg.root_wait_s == 20);
	parse(&cfg, "rootdelay=90 rootdelay=40");
	CHECK(cfg.root_wait_s == 40);
	parse(&cfg, "rootdelay=90 rootdelay=x");
	CHECK(cfg.root_wait_s == 90);
	CHECK(cfg.nproblems == 1);
}

static void init_and_arguments(void)
{
	struct boot_config cfg;
	parse(&cfg, "init=/bin/systemd root=/dev/vda -- single x=1 \"a b\"");
	CHECK_STR(cfg.init, "/bin/systemd");
	CHECK(cfg.init_argc == 3);
	CHECK_STR(cfg.init_args[0], "single");
	CHECK_STR(cfg.init_args[1], "x=1");
	CHECK_STR(cfg.init_args[2], "a b");
	CHECK(cfg.root.kind == DEVSPEC_PATH);
	parse(&cfg, "init=relative");
	CHECK_STR(cfg.init, "/sbin/init");
	CHECK(cfg.nproblems == 1);
	/* After "--" nothing is ours, even a root=. */
	parse(&cfg, "-- root=/dev/vdb");
	CHECK(cfg.root.kind == DEVSPEC_NONE);
	CHECK(cfg.init_argc == 1);
}

static void malformed_values_are_reported(void)
{
	struct boot_config cfg;
	parse(&cfg, "root=UUID= root rootfstype= ro=1 panic=x rd.shell=maybe");
	CHECK(cfg.root.kind == DEVSPEC_NONE);
	CHECK(cfg.nproblems == 6);
	CHECK_STR(cfg.problems[0].param, "root");
	CHECK_STR(cfg.problems[1].param, "root");
	CHECK_STR(cfg.problems[2].param, "rootfstype");
	CHECK_STR(cfg.problems[3].param, "ro");
	CHECK_STR(cfg.problems[4].param, "panic");
	CHECK_STR(cfg.problems[5].param, "rd.shell");
}

static void problems_are_bounded(void)
{
	struct boot_config cfg;
	char line[CMDLINE_MAX] = "";
	const char *bad[] = {
		"root=",       "rootwait=x",	    "init=x",
		"panic=x",     "rd.shell=x",	    "rd.luks.tries=x",
		"root_trim=x", "rd.luks.options=x", "rd.btrfs.degraded=x",
		"rootdelay=x", "crypt_roots=x",	    "rd.luks.timeout=x",
		"rd.luks=x",   "crypt_root=x",	    "real_init=x",
		"root_keydev", "swap_key=x",	    "rd.luks.data=x",
		"crypt_swap",  "rd.luks.crypttab"};
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			strcat(line, bad[i]);
			strcat(line, " ");
		}
	parse(&cfg, line);
	CHECK(cfg.nproblems == CFG_PROBLEMS_MAX);
	CHECK(cfg.problems[0].times == 3);
	CHECK(cfg.problems_dropped == 3 * (20 - CFG_PROBLEMS_MAX));
}

static void long_values_rejected(void)
{
	struct boot_config cfg;
	char line[CMDLINE_MAX] = "rootflags=";
	for (int i = 0; i < 1000; i++)
		strcat(line, "a");
	parse(&cfg, line);
	CHECK_STR(cfg.rootflags, "");
	CHECK(cfg.nproblems == 1);
}

static void firmware_path(void)
{
	struct boot_config cfg;
	parse(&cfg, "firmware_class.path=/opt/fw");
	CHECK_STR(cfg.fw_path, "/opt/fw");
	parse(&cfg, "firmware_class.path=opt firmware_class.path=/a/../b");
	CHECK_STR(cfg.fw_path, "");
	CHECK(cfg.nproblems == 1 && cfg.problems[0].times == 2);
}

static void panic_and_shell(void)
{
	struct boot_config cfg;
	parse(&cfg, "panic=5 rd.shell=0");
	CHECK(cfg.panic_set && cfg.panic_s == 5);
	CHECK(cfg.shell == 0);
	parse(&cfg, "panic=-1 rd.shell");
	CHECK(cfg.panic_set && cfg.panic_s == -1);
	CHECK(cfg.shell == 1);
}

void cmdline_tests(void)
{
	RUN(tokenizer_follows_kernel_quoting);
	RUN(tokenizer_survives_unbalanced_quotes);
	RUN(defaults);
	RUN(root_and_flags);
	RUN(rootflags_degraded_parsed_once);
	RUN(last_root_wins);
	RUN(rootwait_forms);
	RUN(rootdelay_independent_of_order);
	RUN(init_and_arguments);
	RUN(malformed_values_are_reported);
	RUN(problems_are_bounded);
	RUN(long_values_rejected);
	RUN(panic_and_shell);
	RUN(firmware_path);
}

static void genkernel_luks_dialect(void)
{
	struct boot_config cfg;
	parse(&cfg,
	      "crypt_roots=UUID=aaa crypt_roots=/dev/vdb "
	      "crypt_roots=PARTUUID=ppp root_key=/etc/key.bin root_trim=yes "
	      "root=UUID=fs");
	CHECK(cfg.nmembers == 3);
	CHECK(cfg.members[0].spec.kind == DEVSPEC_UUID);
	CHECK_STR(cfg.members[0].spec.value, "aaa");
	CHECK(cfg.members[1].spec.kind == DEVSPEC_PATH);
	CHECK(cfg.members[2].spec.kind == DEVSPEC_PARTUUID);
	CHECK_STR(cfg.keyfile, "/etc/key.bin");
	CHECK(cfg.discard);
	CHECK(cfg.nproblems == 0);
}

static void dracut_luks_dialect(void)
{
	struct boot_config cfg;
	parse(&cfg,
	      "rd.luks.uuid=luks-1111 rd.luks.uuid=2222 "
	      "rd.luks.name=2222=cryptb rd.luks.name=3333=cryptc "
	      "rd.luks.key=/k0 rd.luks.key=1111=/k1 rd.luks.options=discard "
	      "rd.luks.tries=5 rd.btrfs.degraded=20");
	CHECK(cfg.nmembers == 3);
	CHECK_STR(cfg.members[0].spec.value, "1111");
	CHECK_STR(cfg.members[0].keyfile, "/k1");
	CHECK_STR(cfg.members[1].spec.value, "2222");
	CHECK_STR(cfg.members[1].name, "cryptb");
	CHECK_STR(cfg.members[2].spec.value, "3333");
	CHECK_STR(cfg.members[2].name, "cryptc");
	CHECK_STR(cfg.keyfile, "/k0");
	CHECK(luks_member_flags(&cfg, &cfg.members[0]) == LUKS_OPT_DISCARD);
	CHECK(cfg.luks_tries == 5);
	CHECK(cfg.degraded_after_s == 20);
	CHECK(cfg.nproblems == 0);
	parse(&cfg, "rd.luks.allow-discards");
	CHECK(cfg.discard);
	CHECK(cfg.luks_tries == LUKS_TRIES_DEFAULT);
	CHECK(cfg.degraded_after_s == -1);
}

static void same_member_listed_twice(void)
{
	struct boot_config cfg;
	parse(&cfg,
	      "crypt_roots=UUID=ABCD rd.luks.uuid=abcd rd.luks.uuid=luks-abcd");
	CHECK(cfg.nmembers == 1);
}

static void malformed_luks_values(void)
{
	struct boot_config cfg;
	parse(&cfg, "crypt_roots=vda rd.luks.uuid=luks- rd.luks.name=1111 "
		    "rd.luks.name=1111=bad/name rd.luks.key=relative "
		    "rd.luks.key=1111=/a/../etc/shadow rd.luks.tries=0 "
		    "rd.luks.options=nofail");
	CHECK(cfg.nmembers == 0);
	CHECK(cfg.nproblems == 8);
	CHECK(cfg.keyfile[0] == '\0');
	CHECK(cfg.luks_tries == LUKS_TRIES_DEFAULT);
	parse(&cfg, "rd.luks.key=/\x06"
		    "ee rd.luks.key=1111=/a\x01"
		    "b");
	CHECK(cfg.keyfile[0] == '\0' && cfg.nmembers == 0);
	CHECK(cfg.nproblems == 1 && cfg.problems[0].times == 2);
	parse(&cfg, "root_trim=maybe root_key=../x rd.btrfs.degraded=-1");
	CHECK(cfg.nproblems == 3);
	CHECK(!cfg.discard);
}

static void thousand_members_bounded(void)
{
	/* Longer than any kernel allows: the parser itself must stay bounded. */
	size_t size = 1000 * 24 + 1;
	char *line = calloc(1, size);
	for (int i = 0; i < 1000; i++) {
		char one[32];
		snprintf(one, sizeof(one), "crypt_roots=UUID=%d ", i);
		strcat(line, one);
	}
	struct boot_config cfg;
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	free(line);
	CHECK(cfg.nmembers == LUKS_MEMBERS_MAX);
	CHECK(cfg.nproblems == 1 && cfg.problems_dropped == 0);
	CHECK(cfg.problems[0].times == 1000 - LUKS_MEMBERS_MAX);
	CHECK(cfg.members_dropped == 1000 - LUKS_MEMBERS_MAX);
}

static void one_mapper_name_for_two_devices_is_refused(void)
{
	struct boot_config cfg;
	boot_config_init(&cfg);
	char line[] = "rd.luks.name=aaaa=root rd.luks.name=bbbb=root "
		      "rd.luks.name=aaaa=root";
	cmdline_parse(&cfg, line);
	CHECK(cfg.nmembers == 1);
	CHECK_STR(cfg.members[0].name, "root");
	CHECK(cfg.nproblems == 1);
	CHECK_STR(cfg.problems[0].param, "rd.luks.name");
}

/* rd.luks.name=A=luks-B next to rd.luks.uuid=B: both mappings would be
 * luks-B, and the second would fail at activation, after a full KDF
 * (review L7). Refused while parsing, in either order, naming both; A
 * is still opened, under its own default name. */
static void name_equal_to_another_default_name_is_refused(void)
{
	static const char *const lines[] = {
		"rd.luks.name=aaaa=luks-BBBB rd.luks.uuid=bbbb",
		"rd.luks.uuid=luks-bbbb rd.luks.name=aaaa=luks-bbbb",
		"crypt_roots=UUID=bbbb rd.luks.name=UUID=aaaa=luks-bbbb",
	};
	for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		struct boot_config cfg;
		parse(&cfg, lines[k]);
		CHECK(cfg.nmembers == 2);
		CHECK(cfg.nproblems == 1);
		CHECK_STR(cfg.problems[0].param, "rd.luks.name");
		CHECK(strstr(cfg.problems[0].item, "aaaa") != NULL);
		CHECK(strcasestr(cfg.problems[0].item, "luks-bbbb") != NULL);
		for (int i = 0; i < cfg.nmembers; i++)
			CHECK_STR(cfg.members[i].name, "");
	}
	/* A name that only looks like one: no other member has that UUID. */
	struct boot_config cfg;
	parse(&cfg, "rd.luks.name=aaaa=luks-cccc rd.luks.uuid=bbbb");
	CHECK(cfg.nproblems == 0);
	CHECK_STR(cfg.members[0].name, "luks-cccc");
}

/* The rescue shell is an unauthenticated root shell: with LUKS members
 * it needs rd.shell=1 (review H5); without, rd.shell=0 still forbids it. */
static void shell_needs_rd_shell_1_with_luks_members(void)
{
	struct boot_config cfg;
	parse(&cfg, "root=/dev/vda rd.luks.uuid=aaaa");
	CHECK(!cmdline_shell_allowed(&cfg));
	parse(&cfg, "root=/dev/vda crypt_roots=UUID=aaaa rd.shell=0");
	CHECK(!cmdline_shell_allowed(&cfg));
	parse(&cfg, "root=/dev/vda rd.luks.uuid=aaaa rd.shell=1");
	CHECK(cmdline_shell_allowed(&cfg));
	parse(&cfg, "root=/dev/vda rd.luks.uuid=aaaa rd.shell");
	CHECK(cmdline_shell_allowed(&cfg));
	parse(&cfg, "root=/dev/vda");
	CHECK(cmdline_shell_allowed(&cfg));
	parse(&cfg, "root=/dev/vda rd.shell=0");
	CHECK(!cmdline_shell_allowed(&cfg));
	/* rd.luks=0 opens nothing: a plain boot. */
	parse(&cfg, "root=/dev/vda rd.luks.uuid=aaaa rd.luks=0");
	CHECK(cmdline_shell_allowed(&cfg));
}

static void init_gets_kernel_words_then_init_opts_then_dashes(void)
{
	struct boot_config cfg;
	char line[] =
		"root=/dev/vda single init_opts=\"a  b\" real_init=/bin/x "
		"-- k=\"c d\" e";
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	CHECK_STR(cfg.init, "/bin/x");
	CHECK(cfg.dash_words == 2);
	/* What the kernel gives /init: its unknown words, then those after
	 * "--" (as it rebuilt them). */
	const char *argv[] = {"/init", "single", "emergency",
			      "k=c d", "e",	 NULL};
	cmdline_kernel_args(&cfg, 5, argv);
	CHECK(cfg.init_argc == 6);
	CHECK_STR(cfg.init_args[0], "single");
	CHECK_STR(cfg.init_args[1], "emergency");
	CHECK_STR(cfg.init_args[2], "a");
	CHECK_STR(cfg.init_args[3], "b");
	CHECK_STR(cfg.init_args[4], "k=c d"); /* REVIEW L8: no stray quote */
	CHECK_STR(cfg.init_args[5], "e");
	CHECK(cfg.nproblems == 0);
}

static void hostile_kernel_words_are_bounded(void)
{
	struct boot_config cfg;
	char line[] = "root=/dev/vda";
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line);
	static char long_word[400];
	memset(long_word, 'x', sizeof(long_word) - 1);
	const char *argv[64] = {"/init", "ok", "bad\x1b[2J", long_word};
	for (int i = 4; i < 63; i++)
		argv[i] = "w";
	cmdline_kernel_args(&cfg, 63, argv);
	CHECK(cfg.init_argc == CFG_INIT_ARGS_MAX);
	CHECK_STR(cfg.init_args[0], "ok");
	CHECK_STR(cfg.init_args[1], "w");
	CHECK(cfg.nproblems == 2);
	/* An argv shorter than the words after "--": nothing taken. */
	char line2[] = "root=/dev/vda -- a b c";
	boot_config_init(&cfg);
	cmdline_parse(&cfg, line2);
	const char *argv2[] = {"/init", "a", NULL};
	cmdline_kernel_args(&cfg, 2, argv2);
	CHECK(cfg.init_argc == 3);
	CHECK_STR(cfg.init_args[0], "a");
}

static void luks_options_global_and_per_member(void)
{
	struct boot_config cfg;
	parse(&cfg,
	      "rd.luks.uuid=aaaa-1 rd.luks.uuid=bbbb-2 rd.luks.uuid=cccc-3 "
	      "rd.luks.options=no-read-workqueue,tries=2 "
	      "rd.luks.options=UUID=aaaa-1=tries=1,same-cpu-crypt "
	      "rd.luks.options=bbbb-2=discard,no-write-workqueue,"
	      "submit-from-crypt-cpus,luks");
	CHECK(cfg.nmembers == 3 && cfg.nproblems == 0);
	CHECK(luks_member_tries(&cfg, &cfg.members[0]) == 1);
	CHECK(luks_member_flags(&cfg, &cfg.members[0]) ==
	      LUKS_OPT_SAME_CPU_CRYPT);
	/* Its own options replace the global ones, tries included. */
	CHECK(luks_member_tries(&cfg, &cfg.members[1]) == LUKS_TRIES_DEFAULT);
	CHECK(luks_member_flags(&cfg, &cfg.members[1]) ==
	      (LUKS_OPT_DISCARD | LUKS_OPT_NO_WRITE_WORKQUEUE |
	       LUKS_OPT_SUBMIT_FROM_CRYPT_CPUS));
	CHECK(luks_member_tries(&cfg, &cfg.members[2]) == 2);
	CHECK(luks_member_flags(&cfg, &cfg.members[2]) ==
	      LUKS_OPT_NO_READ_WORKQUEUE);
	/* root_trim=yes / rd.luks.allow-discards add discards to all;
	 * rd.luks.allow-discards=UUID to one. */
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.uuid=bbbb "
		    "rd.luks.options=aaaa=tries=4 rd.luks.allow-discards=bbbb");
	CHECK(luks_member_flags(&cfg, &cfg.members[0]) == 0);
	CHECK(luks_member_flags(&cfg, &cfg.members[1]) == LUKS_OPT_DISCARD);
	CHECK(luks_member_tries(&cfg, &cfg.members[0]) == 4);
	parse(&cfg,
	      "rd.luks.uuid=aaaa rd.luks.options=aaaa=tries=4 root_trim=yes");
	CHECK(luks_member_flags(&cfg, &cfg.members[0]) == LUKS_OPT_DISCARD);
}

static void luks_options_unknown_named_known_applied(void)
{
	/* REVIEW L8: each option stands alone; the unknown ones are named. */
	struct boot_config cfg;
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.options=discard,foo,tries=0,"
		    "no-read-workqueue,tpm2-device=auto");
	CHECK(luks_member_flags(&cfg, &cfg.members[0]) ==
	      (LUKS_OPT_DISCARD | LUKS_OPT_NO_READ_WORKQUEUE));
	CHECK(luks_member_tries(&cfg, &cfg.members[0]) == LUKS_TRIES_DEFAULT);
	CHECK(cfg.nproblems == 3);
	CHECK_STR(cfg.problems[0].param, "rd.luks.options");
	CHECK_STR(cfg.problems[0].item, "foo");
	CHECK_STR(cfg.problems[1].item, "tries=0");
	CHECK_STR(cfg.problems[2].item, "tpm2-device=auto");
	/* A malformed value as a whole changes nothing. */
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.options=discard "
		    "rd.luks.options=aaaa= rd.luks.options=\x01");
	CHECK(cfg.nproblems == 2);
	CHECK(luks_member_flags(&cfg, &cfg.members[0]) == LUKS_OPT_DISCARD);
}

static void per_device_settings_do_not_add_members(void)
{
	/* REVIEW L8: a typo in rd.luks.key=UUID= must not make the boot
	 * wait for a disk that does not exist. */
	struct boot_config cfg;
	parse(&cfg, "rd.luks.key=dead=/k rd.luks.options=beef=discard "
		    "rd.luks.allow-discards=f00d rd.luks.uuid=cafe "
		    "rd.luks.key=UUID=cafe=/c");
	CHECK(cfg.nmembers == 1);
	CHECK_STR(cfg.members[0].spec.value, "cafe");
	CHECK_STR(cfg.members[0].keyfile, "/c");
	CHECK(cfg.nproblems == 3);
	CHECK_STR(cfg.problems[0].param, "rd.luks.key");
	CHECK_STR(cfg.problems[0].item, "UUID=dead");
	CHECK_STR(cfg.problems[1].param, "rd.luks.options");
	CHECK_STR(cfg.problems[2].param, "rd.luks.allow-discards");
	/* Settings before the listing count too. */
	parse(&cfg, "rd.luks.key=cafe=/c rd.luks.uuid=UUID=cafe");
	CHECK(cfg.nmembers == 1 && cfg.nproblems == 0);
	CHECK_STR(cfg.members[0].keyfile, "/c");
	CHECK_STR(cfg.members[0].spec.value, "cafe");
}

/* Key files on a device, in each dialect: genkernel's root_keydev=,
 * dracut's PATH:KEYDEV[:LUKSDEV], systemd's UUID=PATH:DEVICE. */
static void key_files_on_a_device(void)
{
	struct boot_config cfg;
	parse(&cfg,
	      "crypt_roots=UUID=a root_key=/k/key root_keydev=LABEL=stick "
	      "root_keydev_fstype=vfat");
	CHECK(cfg.nproblems == 0);
	CHECK_STR(cfg.keyfile, "/k/key");
	CHECK(cfg.keydev.kind == DEVSPEC_LABEL);
	CHECK_STR(cfg.keydev.value, "stick");
	CHECK_STR(cfg.keydev_fstype, "vfat");
	/* Order does not matter; without root_keydev=, the initramfs. */
	parse(&cfg, "root_keydev=/dev/sdz1 crypt_roots=UUID=a root_key=/k");
	CHECK(cfg.keydev.kind == DEVSPEC_PATH && cfg.nproblems == 0);
	parse(&cfg, "crypt_roots=UUID=a root_key=/k");
	CHECK(cfg.keydev.kind == DEVSPEC_NONE);
	/* root_keydev= alone names no key file. */
	parse(&cfg, "crypt_roots=UUID=a root_keydev=UUID=b");
	CHECK(cfg.nproblems == 1 && cfg.keyfile[0] == '\0');
	CHECK_STR(cfg.problems[0].param, "root_keydev");
	parse(&cfg, "root_keydev_fstype=../x root_keydev_fstype=");
	CHECK(cfg.nproblems == 1 && cfg.problems[0].times == 2);
	CHECK(cfg.keydev_fstype[0] == '\0');

	/* dracut: for all members, or for LUKSDEV only. */
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.key=/k:UUID=1234-ABCD");
	CHECK(cfg.nproblems == 0);
	CHECK_STR(cfg.keyfile, "/k");
	CHECK(cfg.keydev.kind == DEVSPEC_UUID);
	CHECK_STR(cfg.keydev.value, "1234-ABCD");
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.key=/k:LABEL=s:UUID=cafe");
	CHECK(cfg.nproblems == 0 && cfg.keyfile[0] == '\0');
	CHECK_STR(cfg.members[0].keyfile, "/k");
	CHECK(cfg.members[0].keydev.kind == DEVSPEC_LABEL);
	CHECK_STR(cfg.members[0].keydev.value, "s");
	/* An empty KEYDEV: the initramfs. */
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.key=/k:");
	CHECK(cfg.nproblems == 0 && cfg.keydev.kind == DEVSPEC_NONE);

	/* systemd: UUID=PATH:DEVICE, split at the last ':' only before a
	 * device spec. */
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.key=cafe=/k:/dev/sdb1 "
		    "rd.luks.options=keyfile-timeout=3s");
	CHECK(cfg.nproblems == 0 && cfg.keyfile[0] == '\0');
	CHECK_STR(cfg.members[0].keyfile, "/k");
	CHECK(cfg.members[0].keydev.kind == DEVSPEC_PATH);
	CHECK_STR(cfg.members[0].keydev.value, "/dev/sdb1");
	CHECK(luks_member_keyfile_timeout_ms(&cfg, &cfg.members[0]) == 3000);
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.key=UUID=cafe=/a:b:LABEL=x");
	CHECK_STR(cfg.members[0].keyfile, "/a:b");
	CHECK_STR(cfg.members[0].keydev.value, "x");
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.key=cafe=/a:b");
	CHECK(cfg.nproblems == 0);
	CHECK_STR(cfg.members[0].keyfile, "/a:b");
	CHECK(cfg.members[0].keydev.kind == DEVSPEC_NONE);
	CHECK(luks_member_keyfile_timeout_ms(&cfg, &cfg.members[0]) ==
	      KEYDEV_WAIT_DEFAULT_MS);
	/* Paths on a device are checked like those in the initramfs. */
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.key=/../k:LABEL=x "
		    "rd.luks.key=cafe=k:LABEL=x rd.luks.key=/k:LABEL=");
	CHECK(cfg.nproblems == 3 && cfg.keyfile[0] == '\0');
	CHECK(cfg.members[0].keyfile[0] == '\0');

	/* keyfile-timeout=: systemd's time span, bounded. */
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.options=keyfile-timeout=1500ms");
	CHECK(luks_member_keyfile_timeout_ms(&cfg, &cfg.members[0]) == 1500);
	parse(&cfg, "rd.luks.uuid=cafe rd.luks.options=keyfile-timeout=2min");
	CHECK(luks_member_keyfile_timeout_ms(&cfg, &cfg.members[0]) == 120000);
	parse(&cfg, "rd.luks.options=keyfile-timeout=0 "
		    "rd.luks.options=keyfile-timeout=2h "
		    "rd.luks.options=keyfile-timeout=61min "
		    "rd.luks.options=keyfile-timeout=s");
	CHECK(cfg.nproblems == 4);
	CHECK(cfg.luks_opts.keyfile_timeout_ms == 0);
}

static void genkernel_crypt_root_is_mapper_root(void)
{
	/* REVIEW M10. */
	struct boot_config cfg;
	parse(&cfg, "crypt_root=UUID=aaaa real_root=/dev/mapper/root");
	CHECK(cfg.nmembers == 1);
	CHECK_STR(cfg.members[0].name, "root");
	CHECK(cfg.root.kind == DEVSPEC_PATH);
	CHECK_STR(cfg.root.value, "/dev/mapper/root");
	parse(&cfg, "crypt_roots=UUID=bbbb crypt_root=UUID=aaaa");
	CHECK(cfg.nmembers == 2);
	CHECK_STR(cfg.members[0].name, "");
	CHECK_STR(cfg.members[1].name, "root");
	parse(&cfg, "crypt_root=UUID=aaaa crypt_root=UUID=bbbb");
	CHECK(cfg.nmembers == 2 && cfg.nproblems == 1);
	CHECK_STR(cfg.members[0].name, "");
	parse(&cfg, "crypt_root=UUID=aaaa rd.luks.name=aaaa=cr");
	CHECK_STR(cfg.members[0].name, "cr");
}

static void genkernel_unsupported_are_named(void)
{
	struct boot_config cfg;
	/* A relative root_key= says what is wrong (REVIEW M10). */
	parse(&cfg, "root_key=luks.key");
	CHECK(cfg.nproblems == 1);
	CHECK_STR(
		cfg.problems[0].why,
		"must be the absolute path of a key file (in the initramfs, or on root_keydev=)");
	parse(&cfg, "crypt_root=UUID=a root_key=/k root_keydev=UUID=b "
		    "crypt_root_options=x swap_key=/s crypt_swap=/dev/x "
		    "swap_keydev=/dev/y swap_trim=yes crypt_swap_options=z");
	CHECK_STR(cfg.keyfile, "/k");
	CHECK(cfg.keydev.kind == DEVSPEC_UUID);
	CHECK(cfg.nproblems == 5);
	CHECK_STR(cfg.problems[0].param, "crypt_root_options");
	CHECK(cfg.nmembers == 2); /* crypt_swap= is a (swap) member */
}

static void luks_off_timeouts_and_crypttab(void)
{
	struct boot_config cfg;
	parse(&cfg, "rd.luks=0 rd.luks.uuid=aaaa crypt_roots=UUID=bbbb");
	CHECK(cfg.luks_off && cfg.nmembers == 0);
	CHECK(cfg.nproblems == 2);
	CHECK_STR(cfg.problems[0].param, "rd.luks");
	CHECK_STR(cfg.problems[0].item, "UUID=aaaa");
	parse(&cfg, "rd.luks=no rd.luks=1 rd.luks.uuid=aaaa");
	CHECK(!cfg.luks_off && cfg.nmembers == 1 && cfg.nproblems == 0);
	parse(&cfg, "rd.luks.timeout=30");
	CHECK(cfg.prompt_timeout_s == 30);
	parse(&cfg, "rd.luks.timeout=2min");
	CHECK(cfg.prompt_timeout_s == 120);
	parse(&cfg, "gk.prompt.timeout=15s rd.luks.timeout=0");
	CHECK(cfg.prompt_timeout_s == 0);
	parse(&cfg,
	      "rd.luks.timeout=-1 gk.prompt.timeout=5h rd.luks.timeout=s");
	CHECK(cfg.prompt_timeout_s == 0 && cfg.nproblems == 2);
	CHECK(cfg.problems[0].times == 2);
	parse(&cfg, "rd.luks.crypttab=0");
	CHECK(cfg.nproblems == 0);
	parse(&cfg, "rd.luks.crypttab=1");
	CHECK(cfg.nproblems == 1);
}

static void password_cache_global_per_member_and_refused(void)
{
	/* Issue 24 item 5: off unless asked; a member's own options replace
	 * the global ones, as for tries=; a bad value is named. */
	struct boot_config cfg;
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.uuid=bbbb rd.luks.uuid=cccc "
		    "rd.luks.options=password-cache=yes "
		    "rd.luks.options=bbbb=tries=2 "
		    "rd.luks.options=cccc=password-cache=read-only");
	CHECK(cfg.nproblems == 0);
	CHECK(luks_member_password_cache(&cfg, &cfg.members[0]));
	CHECK(!luks_member_password_cache(&cfg, &cfg.members[1]));
	CHECK(!luks_member_password_cache(&cfg, &cfg.members[2]));
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.uuid=bbbb "
		    "rd.luks.options=aaaa=password-cache=on "
		    "rd.luks.options=bbbb=password-cache=no");
	CHECK(cfg.nproblems == 0);
	CHECK(luks_member_password_cache(&cfg, &cfg.members[0]));
	CHECK(!luks_member_password_cache(&cfg, &cfg.members[1]));
	parse(&cfg, "rd.luks.uuid=aaaa");
	CHECK(!luks_member_password_cache(&cfg, &cfg.members[0]));
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.options=password-cache=maybe");
	CHECK(cfg.nproblems == 1);
	CHECK_STR(cfg.problems[0].item, "password-cache=maybe");
	CHECK(!luks_member_password_cache(&cfg, &cfg.members[0]));
}

void cmdline_luks_tests(void)
{
	RUN(init_gets_kernel_words_then_init_opts_then_dashes);
	RUN(hostile_kernel_words_are_bounded);
	RUN(luks_options_global_and_per_member);
	RUN(luks_options_unknown_named_known_applied);
	RUN(password_cache_global_per_member_and_refused);
	RUN(per_device_settings_do_not_add_members);
	RUN(genkernel_crypt_root_is_mapper_root);
	RUN(genkernel_unsupported_are_named);
	RUN(key_files_on_a_device);
	RUN(luks_off_timeouts_and_crypttab);
	RUN(genkernel_luks_dialect);
	RUN(dracut_luks_dialect);
	RUN(same_member_listed_twice);
	RUN(malformed_luks_values);
	RUN(thousand_members_bounded);
	RUN(one_mapper_name_for_two_devices_is_refused);
	RUN(name_equal_to_another_default_name_is_refused);
	RUN(shell_needs_rd_shell_1_with_luks_members);
}
