#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "config/cmdline.h"
#include "console/keymap.h"

/* A small well-formed keymap built by hand: tables 0 and 1, two strings,
 * one accent. */
struct builder {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct builder *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}

static void put16(struct builder *w, unsigned v)
{
	put8(w, v & 0xff);
	put8(w, v >> 8);
}

static void put32(struct builder *w, uint32_t v)
{
	put16(w, v & 0xffff);
	put16(w, v >> 16);
}

static void header(struct builder *w, unsigned t, unsigned s, unsigned d)
{
	memcpy(w->b, "LKM1", 4);
	w->n = 4;
	put16(w, t);
	put16(w, s);
	put16(w, d);
	put16(w, 0);
}

static void sample(struct builder *w)
{
	header(w, 2, 2, 1);
	put8(w, 0); /* plain: keys 0..2 */
	put8(w, 0);
	put16(w, 3);
	put16(w, 0x0200);
	put16(w, 0x001b);
	put16(w, 0x0b7a); /* KT_LETTER 'z' */
	put8(w, 1);	  /* shift: key 0 only */
	put8(w, 0);
	put16(w, 1);
	put16(w, 0xf0df); /* U+00DF as a Unicode keysym */
	put8(w, 0);	  /* F1 */
	put8(w, 0);
	put16(w, 4);
	memcpy(w->b + w->n, "\033[[A", 4);
	w->n += 4;
	put8(w, 5);
	put8(w, 0);
	put16(w, 0); /* an empty string is allowed */
	put32(w, '^');
	put32(w, 'a');
	put32(w, 0xe2);
}

static void parses_what_the_compiler_writes(void)
{
	struct builder w;
	sample(&w);
	static struct keymap km;
	CHECK(keymap_parse(&km, w.b, w.n) == 0);
	CHECK(km.ntables == 2 && km.nstrings == 2 && km.ndiacr == 1);
	CHECK(km.tables[0].index == 0 && km.tables[1].index == 1);
	CHECK(keymap_value(&km.tables[0], 2) == 0x0b7a);
	CHECK(keymap_value(&km.tables[0], 3) == KEYMAP_K_HOLE);
	CHECK(keymap_value(&km.tables[0], 255) == KEYMAP_K_HOLE);
	CHECK(keymap_value(&km.tables[1], 0) == 0xf0df);
	CHECK(km.strings[0].func == 0 && km.strings[0].len == 4 &&
	      memcmp(km.strings[0].bytes, "\033[[A", 4) == 0);
	CHECK(km.strings[1].func == 5 && km.strings[1].len == 0);
	uint32_t a, b, r;
	keymap_diacr(&km, 0, &a, &b, &r);
	CHECK(a == '^' && b == 'a' && r == 0xe2);
	/* An empty keymap is well-formed (nothing but the header). */
	header(&w, 0, 0, 0);
	CHECK(keymap_parse(&km, w.b, w.n) == 0 && km.ntables == 0);
}

static void rejects_every_truncation_and_trailing_bytes(void)
{
	struct builder w;
	sample(&w);
	static struct keymap km;
	for (size_t len = 0; len < w.n; len++)
		CHECK(keymap_parse(&km, w.b, len) == -EINVAL);
	w.b[w.n++] = 0;
	CHECK(keymap_parse(&km, w.b, w.n) == -EINVAL);
	CHECK(keymap_parse(&km, NULL, 0) == -EINVAL);
}

/* Parses sample() with one byte changed. */
static int patched(size_t at, uint8_t v)
{
	struct builder w;
	sample(&w);
	w.b[at] = v;
	static struct keymap km;
	int rc = keymap_parse(&km, w.b, w.n);
	if (rc < 0)
		CHECK(km.ntables == 0 && km.nstrings == 0 && km.ndiacr == 0);
	return rc;
}

static void rejects_malformed_fields(void)
{
	CHECK(patched(0, 'X') == -EINVAL); /* magic */
	CHECK(patched(3, '2') == -EINVAL); /* another version */
	CHECK(patched(10, 1) == -EINVAL);  /* reserved header field */
	CHECK(patched(13, 1) == -EINVAL);  /* reserved table byte */
	CHECK(patched(22, 0) == -EINVAL);  /* table 0 twice */
	CHECK(patched(12, 1) == -EINVAL);  /* tables not ascending */
	/* A value that would delete a table. */
	CHECK(patched(20, 0x7f) == 0);
	CHECK(patched(21, 0x02) == 0);
	struct builder w;
	sample(&w);
	w.b[20] = 0x7f;
	w.b[21] = 0x02;
	static struct keymap km;
	CHECK(keymap_parse(&km, w.b, w.n) == -EINVAL);
	/* A NUL inside a string; strings not ascending. */
	CHECK(patched(34, 0) == -EINVAL);
	CHECK(patched(36, 0) == -EINVAL);
	/* Counts beyond the kernel's limits. */
	header(&w, 257, 0, 0);
	CHECK(keymap_parse(&km, w.b, w.n) == -EINVAL);
	header(&w, 0, 0, 257);
	CHECK(keymap_parse(&km, w.b, w.n) == -EINVAL);
	header(&w, 1, 0, 0);
	put8(&w, 0);
	put8(&w, 0);
	put16(&w, 257);
	CHECK(keymap_parse(&km, w.b, w.n) == -EINVAL);
	header(&w, 0, 1, 0);
	put8(&w, 0);
	put8(&w, 0);
	put16(&w, 512);
	memset(w.b + w.n, 'x', 512);
	w.n += 512;
	CHECK(keymap_parse(&km, w.b, w.n) == -EINVAL);
}

static void names_are_file_names_only(void)
{
	CHECK(keymap_name_ok("de-latin1"));
	CHECK(keymap_name_ok("fr_CH-latin1"));
	CHECK(keymap_name_ok("jp106"));
	CHECK(keymap_name_ok("us+euro.1"));
	CHECK(!keymap_name_ok(""));
	CHECK(!keymap_name_ok("."));
	CHECK(!keymap_name_ok(".."));
	CHECK(!keymap_name_ok(".hidden"));
	CHECK(!keymap_name_ok("../etc/x"));
	CHECK(!keymap_name_ok("de/latin1"));
	CHECK(!keymap_name_ok("de latin1"));
	CHECK(!keymap_name_ok("de\n"));
	char long_name[KEYMAP_NAME_MAX + 1];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[KEYMAP_NAME_MAX] = '\0';
	CHECK(!keymap_name_ok(long_name));
	long_name[KEYMAP_NAME_MAX - 1] = '\0';
	CHECK(keymap_name_ok(long_name));
}

static void genkernel_names_map_to_debian_ones(void)
{
	CHECK_STR(keymap_genkernel_alias("de"), "de-latin1");
	CHECK_STR(keymap_genkernel_alias("jp"), "jp106");
	CHECK(keymap_genkernel_alias("de-latin1") == NULL);
	CHECK(keymap_genkernel_alias("us") == NULL);
}

static void prompt_names_the_layout(void)
{
	char t[128] = "Passphrase for 2 encrypted disks (a, b): ";
	keymap_prompt_note(t, sizeof(t), KEYMAP_APPLIED, "de-latin1");
	CHECK_STR(
		t,
		"Passphrase for 2 encrypted disks (a, b) [keyboard: de-latin1]: ");
	char m[160] = "Passphrase for a: ";
	keymap_prompt_note(m, sizeof(m), KEYMAP_MISSING, "dvorak");
	CHECK_STR(
		m,
		"Passphrase for a (keyboard: kernel's US layout; keymap dvorak not in this initramfs): ");
	char f[160] = "Passphrase for a: ";
	keymap_prompt_note(f, sizeof(f), KEYMAP_FAILED, "fr");
	CHECK_STR(
		f,
		"Passphrase for a (keyboard: kernel's US layout; keymap fr could not be loaded): ");
	char n[64] = "Passphrase for a: ";
	keymap_prompt_note(n, sizeof(n), KEYMAP_NOT_ASKED, "");
	CHECK_STR(n, "Passphrase for a: ");
	/* No room, or not a prompt: left as it is. */
	char s[24] = "Passphrase for a: ";
	keymap_prompt_note(s, sizeof(s), KEYMAP_APPLIED, "de-latin1");
	CHECK_STR(s, "Passphrase for a: ");
	char o[64] = "odd text";
	keymap_prompt_note(o, sizeof(o), KEYMAP_APPLIED, "de-latin1");
	CHECK_STR(o, "odd text");
}

static void parse_line(struct boot_config *cfg, const char *line)
{
	char buf[512];
	strcpy(buf, line); /* test-only; literals below */
	boot_config_init(cfg);
	cmdline_parse(cfg, buf);
}

static void cmdline_names_the_keymap(void)
{
	static struct boot_config cfg;
	parse_line(&cfg, "root=/dev/vda rd.vconsole.keymap=de-latin1");
	CHECK_STR(cfg.keymap, "de-latin1");
	CHECK_STR(cfg.keymap_param, "rd.vconsole.keymap");
	CHECK(!cfg.dokeymap && cfg.nproblems == 0);
	parse_line(&cfg, "keymap=de dokeymap");
	CHECK_STR(cfg.keymap, "de");
	CHECK_STR(cfg.keymap_param, "keymap");
	CHECK(cfg.dokeymap);
	/* The last one given wins. */
	parse_line(&cfg, "keymap=de rd.vconsole.keymap=fr");
	CHECK_STR(cfg.keymap, "fr");
	CHECK_STR(cfg.keymap_param, "rd.vconsole.keymap");
	parse_line(&cfg, "dokeymap");
	CHECK(cfg.dokeymap && cfg.keymap[0] == '\0');
	/* A name that is no file name is a problem, and nothing is kept. */
	parse_line(&cfg, "rd.vconsole.keymap=../x keymap= dokeymap=1");
	CHECK(cfg.keymap[0] == '\0' && !cfg.dokeymap);
	CHECK(cfg.nproblems == 3);
}

void keymap_tests(void)
{
	RUN(parses_what_the_compiler_writes);
	RUN(rejects_every_truncation_and_trailing_bytes);
	RUN(rejects_malformed_fields);
	RUN(names_are_file_names_only);
	RUN(genkernel_names_map_to_debian_ones);
	RUN(prompt_names_the_layout);
	RUN(cmdline_names_the_keymap);
}
