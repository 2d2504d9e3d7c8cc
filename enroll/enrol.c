#include "enrol.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/derive.h"
#include "common/dtoken.h"
#include "dev.h"
#include "vkdigest.h"

#define MEMBERS_MAX 32
/* The least libcryptsetup accepts: the key carries 256 bits of entropy,
 * a costly KDF on it would only slow the boot down. */
#define DERIVED_PBKDF2_ITERATIONS 1000

struct target {
	struct dev d;
	struct secret vk;  /* the member's own volume key */
	struct secret key; /* its derived key, DERIVE_KEY_LEN bytes */
	int slot;
};

/* The volume key behind pass (one KDF). Returns the keyslot that opened,
 * or -errno (said). */
static int volume_key(struct dev *d, const struct secret *pass,
		      struct secret *vk)
{
	int rc = secret_alloc(vk);
	if (rc < 0) {
		fprintf(stderr, "cannot lock memory for a volume key: %s\n",
			strerror(-rc));
		return rc;
	}
	size_t len = SECRET_MAX;
	rc = crypt_volume_key_get(d->cd, CRYPT_ANY_SLOT, vk->buf, &len,
				  pass->buf, pass->len);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", d->path,
			rc == -EPERM
				? "the passphrase opens none of its keyslots"
				: strerror(-rc));
		return rc;
	}
	vk->len = len;
	return rc;
}

static int free_keyslot(struct dev *d)
{
	int max = crypt_keyslot_max(CRYPT_LUKS2);
	for (int slot = 0; slot < max; slot++)
		if (crypt_keyslot_status(d->cd, slot) == CRYPT_SLOT_INACTIVE)
			return slot;
	fprintf(stderr, "%s: no free keyslot\n", d->path);
	return -ENOSPC;
}

/* /init never waits for a primary that waits for a primary of its own
 * (two could wait for each other): refuse to make such a chain. */
static int primary_unenrolled(struct dev *p)
{
	int ids[DEV_TOKENS_MAX];
	struct dtoken toks[DEV_TOKENS_MAX];
	int n = dev_derived_tokens(p, ids, toks, DEV_TOKENS_MAX);
	if (n > 0) {
		fprintf(stderr,
			"%s: is itself enrolled (derived from %s); a primary must open with the passphrase\n",
			p->path, toks[0].primary);
		return -EINVAL;
	}
	return n;
}

/* Everything that can be checked before a write, then the backup. */
static int prepare(struct target *t, const char *path, const struct dev *p,
		   const struct target *done, int ndone,
		   const struct secret *pass, const struct secret *pvk,
		   const char *tmpdir)
{
	int rc = dev_open(&t->d, path);
	if (rc < 0)
		return rc;
	if (strcmp(t->d.uuid, p->uuid) == 0) {
		fprintf(stderr, "%s: is the primary itself (UUID %s)\n", path,
			p->uuid);
		return -EINVAL;
	}
	for (int i = 0; i < ndone; i++)
		if (strcmp(t->d.uuid, done[i].d.uuid) == 0) {
			fprintf(stderr,
				"%s: the same LUKS device as %s (UUID %s)\n",
				path, done[i].d.path, t->d.uuid);
			return -EINVAL;
		}
	int ids[DEV_TOKENS_MAX];
	struct dtoken toks[DEV_TOKENS_MAX];
	rc = dev_derived_tokens(&t->d, ids, toks, DEV_TOKENS_MAX);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		fprintf(stderr,
			"%s: already enrolled (keyslot %d, derived from %s); `luksinit-enroll --remove %s` first\n",
			path, toks[0].keyslot, toks[0].primary, path);
		return -EEXIST;
	}
	t->slot = free_keyslot(&t->d);
	if (t->slot < 0)
		return t->slot;
	rc = volume_key(&t->d, pass, &t->vk);
	if (rc < 0)
		return rc;
	rc = secret_alloc(&t->key);
	if (rc == 0)
		rc = derive_member_key(pvk->buf, pvk->len, t->d.uuid,
				       (unsigned char *)t->key.buf);
	if (rc < 0)
		return rc;
	t->key.len = DERIVE_KEY_LEN;
	return dev_backup(&t->d, tmpdir);
}

/* A test can make the token step of the last member fail, to prove that
 * a failure after writes leaves every header as it was. */
static bool fault_injected(const char *step, bool last)
{
	const char *f = getenv("LUKSINIT_ENROLL_FAULT");
	return last && f && strcmp(f, step) == 0;
}

/* The token: which keyslot, whose primary, and the primary's volume-key
 * digest now (vkdigest.h: how --list tells a stale keyslot). */
static int set_token(struct target *t, const char *primary_uuid,
		     const char *primary_digest)
{
	char json[512], with_digest[1024];
	int rc = dtoken_format(json, sizeof(json), primary_uuid, t->slot);
	if (rc == 0)
		rc = vkdigest_token_add(json, primary_digest, with_digest,
					sizeof(with_digest));
	if (rc == 0)
		rc = crypt_token_json_set(t->d.cd, CRYPT_ANY_TOKEN,
					  with_digest);
	return rc < 0 ? rc : 0;
}

static int write_member(struct target *t, const struct dev *p,
			const char *primary_digest, bool last)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = DERIVED_PBKDF2_ITERATIONS,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	int rc = crypt_set_pbkdf_type(t->d.cd, &pbkdf);
	if (rc < 0)
		return rc;
	t->d.written = true;
	rc = crypt_keyslot_add_by_volume_key(t->d.cd, t->slot, t->vk.buf,
					     t->vk.len, t->key.buf, t->key.len);
	if (rc < 0)
		return rc;
	if (fault_injected("token", last))
		return -EIO;
	return set_token(t, p->uuid, primary_digest);
}

/* What is on disk now: exactly one token of ours, naming the primary and
 * a keyslot that the derived key opens. */
static int verify_member(struct target *t, const char *primary_uuid)
{
	int rc = dev_reload(&t->d);
	if (rc < 0)
		return rc;
	int ids[DEV_TOKENS_MAX];
	struct dtoken toks[DEV_TOKENS_MAX];
	int n = dev_derived_tokens(&t->d, ids, toks, DEV_TOKENS_MAX);
	if (n != 1 || toks[0].keyslot != t->slot ||
	    strcmp(toks[0].primary, primary_uuid) != 0)
		return -EIO;
	/* No name: only checks that the key opens that keyslot. */
	rc = crypt_activate_by_passphrase(t->d.cd, NULL, t->slot, t->key.buf,
					  t->key.len, 0);
	return rc == t->slot ? 0 : -EIO;
}

static void release(struct target *t)
{
	secret_free(&t->vk);
	secret_free(&t->key);
	dev_close(&t->d);
}

/* Writes every member, then verifies it; on the first failure, puts back
 * every header that was written. */
static int write_all(struct target *ts, int n, const struct dev *p,
		     const char *primary_digest)
{
	for (int i = 0; i < n; i++) {
		struct target *t = &ts[i];
		int rc = write_member(t, p, primary_digest, i == n - 1);
		if (rc == 0)
			rc = verify_member(t, p->uuid);
		if (rc == 0)
			continue;
		fprintf(stderr,
			"%s: enrolment failed (%s); undoing every change\n",
			t->d.path, strerror(-rc));
		for (int k = 0; k <= i; k++) {
			int r = dev_restore(&ts[k].d);
			if (r < 0)
				rc = r;
		}
		return rc;
	}
	return 0;
}

int enrol(const char *primary, char *const members[], int n,
	  const struct secret *pass, const char *tmpdir)
{
	if (n < 1 || n > MEMBERS_MAX) {
		fprintf(stderr, "between 1 and %d members, please\n",
			MEMBERS_MAX);
		return -EINVAL;
	}
	static struct target ts[MEMBERS_MAX];
	memset(ts, 0, sizeof(ts));
	struct dev p;
	struct secret pvk = {0};
	int rc = dev_open(&p, primary);
	if (rc < 0)
		return rc;
	rc = primary_unenrolled(&p);
	char pdigest[VKDIGEST_MAX];
	if (rc == 0)
		rc = volume_key(&p, pass, &pvk);
	if (rc >= 0) {
		rc = vkdigest_of_keyslot(p.cd, rc, pdigest, sizeof(pdigest));
		if (rc < 0)
			fprintf(stderr,
				"%s: its volume key's digest cannot be read: %s\n",
				primary, strerror(-rc));
	}
	int prepared = 0;
	for (; rc == 0 && prepared < n; prepared++)
		rc = prepare(&ts[prepared], members[prepared], &p, ts, prepared,
			     pass, &pvk, tmpdir);
	if (rc == 0)
		rc = write_all(ts, n, &p, pdigest);
	if (rc == 0)
		for (int i = 0; i < n; i++)
			printf("%s: keyslot %d opens with a key derived from %s (%s)\n",
			       ts[i].d.path, ts[i].slot, p.uuid, primary);
	secret_free(&pvk);
	for (int i = 0; i < prepared; i++)
		release(&ts[i]);
	dev_close(&p);
	return rc;
}
