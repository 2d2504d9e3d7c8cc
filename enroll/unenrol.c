#include "unenrol.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dev.h"
#include "vkdigest.h"

#define DEVICES_MAX 32

/* Whether the primary is still the one the member was enrolled from,
 * as a line's end: its volume-key digest then is still in its header. */
static void say_staleness(const char *path, const char *token_json,
			  const char *uuid, const char *primary)
{
	char digest[VKDIGEST_MAX], where[4096];
	if (vkdigest_token_get(token_json, digest, sizeof(digest)) < 0) {
		printf("cannot tell whether it is stale (enrolled by an older luksinit-enroll, which did not record the primary's volume-key digest); if the primary was re-keyed since, run `luksinit-enroll --remove %s` and enrol again\n",
		       path);
		return;
	}
	if (primary)
		snprintf(where, sizeof(where), "%s", primary);
	else
		snprintf(where, sizeof(where), "/dev/disk/by-uuid/%s", uuid);
	struct dev p;
	int present = -ENODEV;
	if (dev_open(&p, where) == 0) {
		present = strcasecmp(p.uuid, uuid) == 0
				  ? vkdigest_present(p.cd, digest)
				  : -EXDEV;
		dev_close(&p);
	}
	if (present == 1)
		printf("current\n");
	else if (present == 0)
		printf("STALE: the primary was re-keyed since enrolment, and its OLD volume key still opens this keyslot; run `luksinit-enroll --remove %s`, then enrol it again\n",
		       path);
	else if (present == -EXDEV)
		printf("cannot tell whether it is stale: %s is not its primary (LUKS UUID %s)\n",
		       where, uuid);
	else
		printf("cannot tell whether it is stale: its primary cannot be read at %s (name it: `luksinit-enroll --list %s PRIMARY`)\n",
		       where, path);
}

int list_derived(const char *path, const char *primary)
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
	for (int i = 0; i < n; i++) {
		printf("%s: keyslot %d derived from primary %s (token %d, version %d): ",
		       path, toks[i].keyslot, toks[i].primary, ids[i],
		       toks[i].version);
		const char *json = "";
		if (crypt_token_json_get(d.cd, ids[i], &json) < 0)
			json = "";
		say_staleness(path, json, toks[i].primary, primary);
	}
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
