#include "dev.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

int dev_open(struct dev *d, const char *path)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
	int rc = crypt_init(&d->cd, path);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(-rc));
		return rc;
	}
	rc = crypt_load(d->cd, CRYPT_LUKS, NULL);
	if (rc < 0) {
		fprintf(stderr, "%s: no LUKS header could be read: %s\n", path,
			strerror(-rc));
		dev_close(d);
		return rc;
	}
	if (strcmp(crypt_get_type(d->cd), CRYPT_LUKS2) != 0) {
		fprintf(stderr,
			"%s: LUKS1 is not supported: a derived keyslot needs a LUKS2 token (`cryptsetup convert --type luks2 %s` converts the header; back it up first)\n",
			path, path);
		dev_close(d);
		return -EPROTONOSUPPORT;
	}
	const char *uuid = crypt_get_uuid(d->cd);
	if (!uuid ||
	    snprintf(d->uuid, sizeof(d->uuid), "%s", uuid) >= DTOKEN_UUID_MAX) {
		fprintf(stderr, "%s: the header has no usable UUID\n", path);
		dev_close(d);
		return -EINVAL;
	}
	return 0;
}

void dev_close(struct dev *d)
{
	crypt_free(d->cd);
	d->cd = NULL;
	if (d->backup[0])
		remove(d->backup);
	d->backup[0] = '\0';
}

int dev_reload(struct dev *d)
{
	crypt_free(d->cd);
	d->cd = NULL;
	int rc = crypt_init(&d->cd, d->path);
	if (rc == 0)
		rc = crypt_load(d->cd, CRYPT_LUKS2, NULL);
	return rc;
}

int dev_derived_tokens(struct dev *d, int ids[], struct dtoken toks[], int max)
{
	int n = 0;
	for (int id = 0; id < DEV_TOKENS_MAX; id++) {
		const char *type = NULL;
		crypt_token_info st = crypt_token_status(d->cd, id, &type);
		if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID ||
		    !type || strcmp(type, DTOKEN_TYPE) != 0)
			continue;
		const char *json = NULL;
		int rc = crypt_token_json_get(d->cd, id, &json);
		struct dtoken t;
		if (rc >= 0)
			rc = dtoken_parse(json, &t);
		if (rc == -EPROTONOSUPPORT) {
			fprintf(stderr,
				"%s: token %d (%s) is of another version than this tool's; use the tool that made it\n",
				d->path, id, DTOKEN_TYPE);
			return rc;
		}
		if (rc < 0) {
			fprintf(stderr,
				"%s: token %d (%s) is malformed (was its keyslot removed by hand?); `cryptsetup token remove --token-id %d %s` removes it\n",
				d->path, id, DTOKEN_TYPE, id, d->path);
			return rc;
		}
		if (n >= max)
			return -E2BIG;
		ids[n] = id;
		toks[n++] = t;
	}
	return n;
}

int dev_backup(struct dev *d, const char *dir)
{
	/* The device's UUID names the file: unique among the devices of one
	 * run (the same device twice is refused before). */
	snprintf(d->backup, sizeof(d->backup), "%s/%s.hdr", dir, d->uuid);
	int rc = crypt_header_backup(d->cd, CRYPT_LUKS2, d->backup);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot back up the header: %s\n", d->path,
			strerror(-rc));
		d->backup[0] = '\0';
	}
	return rc;
}

int dev_restore(struct dev *d)
{
	if (!d->written || !d->backup[0])
		return 0;
	/* A fresh context: the old one may hold what failed half-way. */
	struct crypt_device *cd = NULL;
	int rc = crypt_init(&cd, d->path);
	if (rc == 0)
		rc = crypt_header_restore(cd, CRYPT_LUKS2, d->backup);
	crypt_free(cd);
	if (rc < 0) {
		fprintf(stderr,
			"%s: RESTORING THE HEADER FAILED: %s; the backup is kept in %s (restore it with `cryptsetup luksHeaderRestore %s --header-backup-file %s`)\n",
			d->path, strerror(-rc), d->backup, d->path, d->backup);
		d->backup[0] = '\0'; /* kept: dev_close must not remove it */
		return rc;
	}
	fprintf(stderr, "%s: header restored as it was\n", d->path);
	return 0;
}
