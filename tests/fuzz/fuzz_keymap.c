#include "console/keymap.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keymap km;
	if (keymap_parse(&km, data, size) < 0) {
		INVARIANT(km.ntables == 0 && km.nstrings == 0 &&
			  km.ndiacr == 0);
		return 0;
	}
	INVARIANT(size <= KEYMAP_FILE_MAX);
	/* Everything parsed lies inside the input, in ascending order, and
	 * within the kernel's limits. */
	for (int i = 0; i < km.ntables; i++) {
		const struct keymap_table *t = &km.tables[i];
		INVARIANT(i == 0 || t->index > km.tables[i - 1].index);
		INVARIANT(t->nkeys <= KEYMAP_KEYS_MAX);
		INVARIANT(t->values >= data &&
			  t->values + 2 * t->nkeys <= data + size);
		for (unsigned k = 0; k < KEYMAP_KEYS_MAX; k++)
			INVARIANT(keymap_value(t, k) != KEYMAP_K_NOSUCHMAP);
	}
	for (int i = 0; i < km.nstrings; i++) {
		const struct keymap_string *s = &km.strings[i];
		INVARIANT(i == 0 || s->func > km.strings[i - 1].func);
		INVARIANT(s->len <= KEYMAP_STRING_MAX);
		INVARIANT(s->bytes >= data && s->bytes + s->len <= data + size);
		INVARIANT(!memchr(s->bytes, '\0', s->len));
	}
	INVARIANT(km.ndiacr <= KEYMAP_DIACR_MAX);
	INVARIANT(km.diacr + 12 * km.ndiacr == data + size);
	for (int i = 0; i < km.ndiacr; i++) {
		uint32_t a, b, r;
		keymap_diacr(&km, i, &a, &b, &r);
	}
	return 0;
}
