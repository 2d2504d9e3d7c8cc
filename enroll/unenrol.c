#include "unenrol.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

#include "dev.h"

#define DEVICES_MAX 32

int list_derived(const char *path)
{
	struct dev d;
	int rc = dev_open(&d, path);
	if (rc < 0)
		return rc;
	int ids[DEV_TOKENS_MAX];
	struct dtoken toks[DEV_TOKENS_MAX];
	int n = dev_derived_tokens(&d, ids, toks, DEV_TOKENS_MAX);
	if (n == 0)
		printf("%s: no derived keyslot\n", path);
	for (int i = 0; i < n; i++)
		printf("%s: keyslot %d derived from primary %s (token %d, version %d)\n",
		       path, toks[i].keyslot, toks[i].primary, ids[i],
		       toks[i].version);
	dev_close(&d);
	return n < 0 ? n : 0;
}

struct removal {
	struct dev d;
	int ids[DEV_TOKENS_MAX];
	struct dtoken toks[DEV_TOKENS_MAX];
	int n;
};

static int active_keyslots(struct dev *d)
{
	int count = 0, max = crypt_keyslot_max(CRYPT_LUKS2);
	for (int slot = 0; slot < max; slot++) {
		crypt_keyslot_info st = crypt_keyslot_status(d->cd, slot);
		count +=
			st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST;
	}
	return count;
}

static int prepare(struct removal *r, const char *path, const char *tmpdir)
{
	int rc = dev_open(&r->d, path);
	if (rc < 0)
		return rc;
	r->n = dev_derived_tokens(&r->d, r->ids, r->toks, DEV_TOKENS_MAX);
	if (r->n <= 0)
		return r->n;
	/* The derived keyslot is never the only way in: enrolment only
	 * adds one. Were it so now, removing it would lose the data. */
	if (active_keyslots(&r->d) <= r->n) {
		fprintf(stderr,
			"%s: its derived keyslot is its only keyslot; removing it would make the device unopenable (add a passphrase first)\n",
			path);
		return -EPERM;
	}
	return dev_backup(&r->d, tmpdir);
}

static int remove_one(struct removal *r)
{
	r->d.written = r->n > 0;
	for (int i = 0; i < r->n; i++) {
		int rc = crypt_token_json_set(r->d.cd, r->ids[i], NULL);
		if (rc < 0)
			return rc;
		rc = crypt_keyslot_destroy(r->d.cd, r->toks[i].keyslot);
		if (rc < 0)
			return rc;
	}
	/* Verify what is on disk now. */
	int rc = dev_reload(&r->d);
	if (rc < 0)
		return rc;
	int ids[DEV_TOKENS_MAX];
	struct dtoken toks[DEV_TOKENS_MAX];
	if (dev_derived_tokens(&r->d, ids, toks, DEV_TOKENS_MAX) != 0)
		return -EIO;
	for (int i = 0; i < r->n; i++)
		if (crypt_keyslot_status(r->d.cd, r->toks[i].keyslot) !=
		    CRYPT_SLOT_INACTIVE)
			return -EIO;
	return 0;
}

int remove_derived(char *const paths[], int n, const char *tmpdir)
{
	if (n < 1 || n > DEVICES_MAX) {
		fprintf(stderr, "between 1 and %d devices, please\n",
			DEVICES_MAX);
		return -EINVAL;
	}
	static struct removal rs[DEVICES_MAX];
	memset(rs, 0, sizeof(rs));
	int rc = 0, prepared = 0;
	for (; rc == 0 && prepared < n; prepared++)
		rc = prepare(&rs[prepared], paths[prepared], tmpdir);
	for (int i = 0; rc == 0 && i < n; i++) {
		rc = remove_one(&rs[i]);
		if (rc == 0)
			continue;
		fprintf(stderr,
			"%s: removal failed (%s); undoing every change\n",
			rs[i].d.path, strerror(-rc));
		for (int k = 0; k <= i; k++)
			if (dev_restore(&rs[k].d) < 0)
				break;
	}
	for (int i = 0; rc == 0 && i < n; i++) {
		if (rs[i].n == 0)
			printf("%s: no derived keyslot; nothing to remove\n",
			       rs[i].d.path);
		for (int k = 0; k < rs[i].n; k++)
			printf("%s: removed keyslot %d (derived from %s) and token %d\n",
			       rs[i].d.path, rs[i].toks[k].keyslot,
			       rs[i].toks[k].primary, rs[i].ids[k]);
	}
	for (int i = 0; i < prepared; i++)
		dev_close(&rs[i].d);
	return rc;
}
