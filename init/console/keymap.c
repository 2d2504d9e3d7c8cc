#include "console/keymap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A cursor that never reads past the end: take() fails instead. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	if (n > c->left)
		return NULL;
	const uint8_t *at = c->p;
	c->p += n;
	c->left -= n;
	return at;
}

static int parse_tables(struct keymap *km, struct cursor *c, unsigned n)
{
	int last = -1;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *h = take(c, 4);
		if (!h || h[0] <= last || h[1] != 0)
			return -EINVAL;
		uint16_t nkeys = le16(h + 2);
		if (nkeys > KEYMAP_KEYS_MAX)
			return -EINVAL;
		const uint8_t *v = take(c, (size_t)2 * nkeys);
		if (!v)
			return -EINVAL;
		/* Written at index 0, K_NOSUCHMAP would delete the table. */
		for (unsigned k = 0; k < nkeys; k++)
			if (le16(v + (size_t)2 * k) == KEYMAP_K_NOSUCHMAP)
				return -EINVAL;
		last = h[0];
		km->tables[km->ntables++] = (struct keymap_table){
			.index = h[0], .nkeys = nkeys, .values = v};
	}
	return 0;
}

static int parse_strings(struct keymap *km, struct cursor *c, unsigned n)
{
	int last = -1;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *h = take(c, 4);
		if (!h || h[0] <= last || h[1] != 0)
			return -EINVAL;
		uint16_t len = le16(h + 2);
		if (len > KEYMAP_STRING_MAX)
			return -EINVAL;
		const uint8_t *s = take(c, len);
		if (!s || memchr(s, '\0', len))
			return -EINVAL;
		last = h[0];
		km->strings[km->nstrings++] = (struct keymap_string){
			.func = h[0], .len = len, .bytes = s};
	}
	return 0;
}

int keymap_parse(struct keymap *km, const uint8_t *buf, size_t len)
{
	memset(km, 0, sizeof(*km));
	struct cursor c = {buf, len};
	const uint8_t *h = take(&c, KEYMAP_HEADER_LEN);
	if (!h || memcmp(h, KEYMAP_MAGIC, 4) != 0)
		return -EINVAL;
	unsigned ntables = le16(h + 4), nstrings = le16(h + 6),
		 ndiacr = le16(h + 8);
	if (ntables > KEYMAP_TABLES_MAX || nstrings > KEYMAP_FUNCS_MAX ||
	    ndiacr > KEYMAP_DIACR_MAX || le16(h + 10) != 0)
		return -EINVAL;
	int rc = parse_tables(km, &c, ntables);
	if (rc == 0)
		rc = parse_strings(km, &c, nstrings);
	if (rc == 0) {
		km->diacr = take(&c, (size_t)12 * ndiacr);
		km->ndiacr = (int)ndiacr;
		if (!km->diacr || c.left != 0)
			rc = -EINVAL;
	}
	if (rc < 0)
		memset(km, 0, sizeof(*km));
	return rc;
}

uint16_t keymap_value(const struct keymap_table *t, unsigned key)
{
	if (key >= t->nkeys)
		return KEYMAP_K_HOLE;
	return le16(t->values + (size_t)2 * key);
}

void keymap_diacr(const struct keymap *km, int i, uint32_t *ret_accent,
		  uint32_t *ret_base, uint32_t *ret_result)
{
	const uint8_t *d = km->diacr + (size_t)12 * i;
	*ret_accent = le32(d);
	*ret_base = le32(d + 4);
	*ret_result = le32(d + 8);
}

/* genkernel's own keymap names (its defaults/keymaps) and the Debian
 * console-data keymap of the same layout. */
static const struct {
	const char *genkernel, *debian;
} aliases[] = {
	{"be", "be-latin1"},	   {"br-a", "br-abnt2"}, {"br-l", "br-latin1"},
	{"de", "de-latin1"},	   {"dk", "dk-latin1"},	 {"fi", "fi-latin1"},
	{"fr", "fr-latin1"},	   {"jp", "jp106"},	 {"la", "la-latin1"},
	{"no", "no-latin1"},	   {"pt", "pt-latin1"},	 {"se", "se-latin1"},
	{"sf_CH", "fr_CH-latin1"}, {"sg", "sg-latin1"},	 {"sk-y", "sk-qwerty"},
	{"sk-z", "sk-qwertz"},
};

const char *keymap_genkernel_alias(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (strcmp(name, aliases[i].genkernel) == 0)
			return aliases[i].debian;
	return NULL;
}

void keymap_prompt_note(char *text, size_t size, enum keymap_outcome outcome,
			const char *name)
{
	char note[KEYMAP_NAME_MAX + 96];
	switch (outcome) {
	case KEYMAP_APPLIED:
		snprintf(note, sizeof(note), " [keyboard: %s]", name);
		break;
	case KEYMAP_MISSING:
		snprintf(
			note, sizeof(note),
			" (keyboard: kernel's US layout; keymap %s not in this initramfs)",
			name);
		break;
	case KEYMAP_FAILED:
		snprintf(
			note, sizeof(note),
			" (keyboard: kernel's US layout; keymap %s could not be loaded)",
			name);
		break;
	case KEYMAP_PARTIAL:
		snprintf(note, sizeof(note),
			 " (keyboard: uncertain; keymap %s only partly loaded)",
			 name);
		break;
	default:
		return;
	}
	size_t len = strnlen(text, size);
	if (len == size || len < 2 || strcmp(text + len - 2, ": ") != 0)
		return;
	size_t nlen = strlen(note);
	if (len + nlen >= size)
		return;
	/* "...(names): " -> "...(names) [keyboard: de-latin1]: " */
	memmove(text + len - 2 + nlen, text + len - 2, 3);
	memcpy(text + len - 2, note, nlen);
}
