/* Console keymaps compiled at build time (scripts/keymap-compile.py) into
 * a compact binary form, embedded as /usr/share/luksinit/keymaps/NAME.lkm. Pure: parses a
 * buffer, checks names, words the prompt's note; applying a keymap to the
 * VT is vtkeymap.c's job.
 *
 * The form, all numbers little-endian:
 *   header   "LKM1", u16 maps, u16 strings, u16 diacritics, u16 zero
 *   maps     ascending by index: u8 index, u8 zero, u16 n, then n u16
 *            values for keys 0..n-1 (kb_value as KDSKBENT takes it; keys
 *            from n on are K_HOLE)
 *   strings  ascending by function key: u8 func, u8 zero, u16 len, then
 *            len bytes without NUL (KDSKBSENT)
 *   diacr    u32 accent, u32 base, u32 result (KDSKBDIACRUC)
 * Nothing follows. Maps not in the file are removed from the kernel's, so
 * the result does not depend on what was loaded before. */
#ifndef LUKSINIT_KEYMAP_H
#define LUKSINIT_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cmdline.h"

#define KEYMAP_MAGIC "LKM1"
#define KEYMAP_HEADER_LEN 12
/* The kernel's limits (linux/keyboard.h, linux/kd.h). */
#define KEYMAP_TABLES_MAX 256 /* MAX_NR_KEYMAPS */
#define KEYMAP_KEYS_MAX 256   /* NR_KEYS */
#define KEYMAP_FUNCS_MAX 256  /* MAX_NR_FUNC */
#define KEYMAP_STRING_MAX 511 /* kb_string[512] with its NUL */
#define KEYMAP_DIACR_MAX 256  /* MAX_DIACR */
/* Biggest well-formed file: every table, string and accent at its limit. */
#define KEYMAP_FILE_MAX                                                      \
	(KEYMAP_HEADER_LEN + KEYMAP_TABLES_MAX * (4 + 2 * KEYMAP_KEYS_MAX) + \
	 KEYMAP_FUNCS_MAX * (4 + KEYMAP_STRING_MAX) + KEYMAP_DIACR_MAX * 12)

#define KEYMAP_DIR "/usr/share/luksinit/keymaps"
#define KEYMAP_SUFFIX ".lkm"

/* kb_value of an unset key, and the value that deletes a table. */
#define KEYMAP_K_HOLE 0x0200
#define KEYMAP_K_NOSUCHMAP 0x027f

struct keymap_table {
	uint8_t index; /* which modifier combination (KDSKBENT kb_table) */
	uint16_t nkeys;
	const uint8_t *values; /* nkeys little-endian u16, inside the buffer */
};

struct keymap_string {
	uint8_t func;
	uint16_t len;
	const uint8_t *bytes; /* inside the buffer, not NUL-terminated */
};

/* Points into the buffer it was parsed from. */
struct keymap {
	struct keymap_table tables[KEYMAP_TABLES_MAX];
	int ntables;
	struct keymap_string strings[KEYMAP_FUNCS_MAX];
	int nstrings;
	const uint8_t *diacr; /* ndiacr entries of 3 little-endian u32 */
	int ndiacr;
};

/* Checks the whole buffer; 0, or -EINVAL for anything malformed (bad
 * magic, counts beyond the kernel's limits, indexes not ascending, a
 * K_NOSUCHMAP value, a NUL inside a string, bytes missing or left over). */
int keymap_parse(struct keymap *km, const uint8_t *buf, size_t len);

/* Value of key in table t (K_HOLE past the stored keys). */
uint16_t keymap_value(const struct keymap_table *t, unsigned key);
void keymap_diacr(const struct keymap *km, int i, uint32_t *ret_accent,
		  uint32_t *ret_base, uint32_t *ret_result);

/* genkernel's keymap= names for layouts that Debian's keymaps call
 * otherwise ("de" -> "de-latin1", "jp" -> "jp106"); NULL if none. */
const char *keymap_genkernel_alias(const char *name);

/* What the keymap step did, for the prompt. */
enum keymap_outcome {
	KEYMAP_NOT_ASKED, /* no keymap parameter: the kernel's layout */
	KEYMAP_APPLIED,
	KEYMAP_MISSING, /* named, not in this initramfs */
	KEYMAP_FAILED,	/* named, present, but unusable: nothing applied */
	KEYMAP_PARTIAL, /* the kernel refused part of it */
};

/* What the keymap step did and which file it used. */
struct keymap_status {
	enum keymap_outcome outcome;
	char used[KEYMAP_NAME_MAX];
};

/* Puts " [keyboard: NAME]" (or what went wrong) before the ": " that ends
 * a prompt. Leaves text alone when there is nothing to say or no room. */
void keymap_prompt_note(char *text, size_t size, enum keymap_outcome outcome,
			const char *name);

#endif
