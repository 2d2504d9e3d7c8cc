#include "tpm2/tpm2token.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/dtoken.h"
#include "tpm2/tpm2codec.h"

static const struct {
	const char *name;
	uint16_t alg;
} BANKS[] = {
	{"sha1", TPM2TOKEN_ALG_SHA1},
	{"sha256", TPM2TOKEN_ALG_SHA256},
	{"sha384", TPM2TOKEN_ALG_SHA384},
	{"sha512", TPM2TOKEN_ALG_SHA512},
};

const char *tpm2token_bank_name(uint16_t bank)
{
	for (size_t i = 0; i < sizeof(BANKS) / sizeof(BANKS[0]); i++)
		if (BANKS[i].alg == bank)
			return BANKS[i].name;
	return "";
}

static int fail(struct tpm2token *t, int rc, const char *why)
{
	t->why = why;
	return rc;
}

static struct json_object *get(struct json_object *o, const char *key,
			       json_type type)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

static bool has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

/* What later systemd versions seal in ways this build cannot unseal. A
 * field systemd writes only when the feature is in use counts by its
 * presence; an empty tpm2_pubkey_pcrs or a false tpm2_pcrlock is none. */
static const char *unsupported(struct json_object *o)
{
	struct json_object *v;
	if (has(o, "tpm2_pubkey"))
		return "tpm2_pubkey (a signed PCR policy)";
	v = get(o, "tpm2_pubkey_pcrs", json_type_array);
	if (v && json_object_array_length(v) > 0)
		return "tpm2_pubkey_pcrs (a signed PCR policy)";
	v = get(o, "tpm2_pcrlock", json_type_boolean);
	if (v && json_object_get_boolean(v))
		return "tpm2_pcrlock (a pcrlock policy)";
	if (get(o, "tpm2-blob", json_type_array) ||
	    get(o, "tpm2-policy-hash", json_type_array))
		return "several tpm2-blob (alternative policies)";
	return NULL;
}

static int parse_pcrs(struct json_object *o, struct tpm2token *t)
{
	struct json_object *arr = get(o, "tpm2-pcrs", json_type_array);
	if (!arr)
		return fail(t, -EINVAL, "tpm2-pcrs");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_int))
			return fail(t, -EINVAL, "tpm2-pcrs");
		int64_t pcr = json_object_get_int64(v);
		if (pcr < 0 || pcr >= TPM2TOKEN_PCRS)
			return fail(t, -EINVAL, "tpm2-pcrs");
		t->pcr_mask |= UINT32_C(1) << pcr;
	}
	return 0;
}

/* tpm2-pcr-bank and tpm2-primary-alg: optional, by name. */
static int parse_algs(struct json_object *o, struct tpm2token *t)
{
	if (has(o, "tpm2-pcr-bank")) {
		struct json_object *v =
			get(o, "tpm2-pcr-bank", json_type_string);
		const char *s = v ? json_object_get_string(v) : "";
		for (size_t i = 0; i < sizeof(BANKS) / sizeof(BANKS[0]); i++)
			if (strcmp(s, BANKS[i].name) == 0)
				t->pcr_bank = BANKS[i].alg;
		if (!t->pcr_bank)
			return fail(t, -EINVAL, "tpm2-pcr-bank");
	}
	t->primary_alg = TPM2TOKEN_ALG_ECC;
	if (has(o, "tpm2-primary-alg")) {
		struct json_object *v =
			get(o, "tpm2-primary-alg", json_type_string);
		const char *s = v ? json_object_get_string(v) : "";
		if (strcmp(s, "rsa") == 0)
			t->primary_alg = TPM2TOKEN_ALG_RSA;
		else if (strcmp(s, "ecc") != 0)
			return fail(t, -EINVAL, "tpm2-primary-alg");
	}
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The blob is a TPM2B_PRIVATE and a TPM2B_PUBLIC, each a big-endian size
 * and that many bytes. Anything after them is the import seed of an
 * offline enrolment (systemd 256's --tpm2-device-key=). */
static int parse_blob(struct json_object *o, struct tpm2token *t)
{
	struct json_object *v = get(o, "tpm2-blob", json_type_string);
	long n = v ? tpm2_unbase64(json_object_get_string(v), t->blob,
				   sizeof(t->blob))
		   : -EINVAL;
	if (n < 4)
		return fail(t, -EINVAL, "tpm2-blob");
	t->blob_size = (size_t)n;
	size_t priv = 2 + (size_t)be16(t->blob);
	if (priv == 2 || priv + 2 > t->blob_size)
		return fail(t, -EINVAL, "tpm2-blob");
	size_t pub = 2 + (size_t)be16(t->blob + priv);
	if (pub == 2 || priv + pub > t->blob_size)
		return fail(t, -EINVAL, "tpm2-blob");
	if (priv + pub < t->blob_size)
		return fail(
			t, -EPROTONOSUPPORT,
			"tpm2-blob with an import seed (offline enrolment)");
	t->private_size = priv;
	return 0;
}

/* An optional base64 field into buf; its size into *size (0: absent). */
static int parse_opt_b64(struct json_object *o, const char *key, uint8_t *buf,
			 size_t max, size_t *size)
{
	if (!has(o, key))
		return 0;
	struct json_object *v = get(o, key, json_type_string);
	long n = v ? tpm2_unbase64(json_object_get_string(v), buf, max)
		   : -EINVAL;
	if (n <= 0)
		return -EINVAL;
	*size = (size_t)n;
	return 0;
}

static int parse_secrets(struct json_object *o, struct tpm2token *t)
{
	struct json_object *v = get(o, "tpm2-policy-hash", json_type_string);
	long n = v ? tpm2_unhex(json_object_get_string(v), t->policy_hash,
				sizeof(t->policy_hash))
		   : -EINVAL;
	if (n <= 0)
		return fail(t, -EINVAL, "tpm2-policy-hash");
	t->policy_hash_size = (size_t)n;
	if (has(o, "tpm2-pin")) {
		v = get(o, "tpm2-pin", json_type_boolean);
		if (!v)
			return fail(t, -EINVAL, "tpm2-pin");
		t->pin = json_object_get_boolean(v);
	}
	if (parse_opt_b64(o, "tpm2_srk", t->srk, sizeof(t->srk), &t->srk_size) <
	    0)
		return fail(t, -EINVAL, "tpm2_srk");
	if (parse_opt_b64(o, "tpm2_salt", t->salt, sizeof(t->salt),
			  &t->salt_size) < 0)
		return fail(t, -EINVAL, "tpm2_salt");
	return 0;
}

static int parse_object(struct json_object *o, struct tpm2token *t)
{
	if (!json_object_is_type(o, json_type_object))
		return fail(t, -EINVAL, "the token");
	struct json_object *type = get(o, "type", json_type_string);
	if (!type)
		return fail(t, -EINVAL, "type");
	if (strcmp(json_object_get_string(type), TPM2TOKEN_TYPE) != 0)
		return -ENOENT;
	int slot = luks2_token_keyslot(o);
	if (slot < 0)
		return fail(t, -EINVAL, "keyslots");
	t->keyslot = slot;
	const char *what = unsupported(o);
	if (what)
		return fail(t, -EPROTONOSUPPORT, what);
	int rc = parse_pcrs(o, t);
	if (rc == 0)
		rc = parse_algs(o, t);
	if (rc == 0)
		rc = parse_blob(o, t);
	if (rc == 0)
		rc = parse_secrets(o, t);
	return rc;
}

int tpm2token_parse(const char *json, struct tpm2token *out)
{
	memset(out, 0, sizeof(*out));
	out->keyslot = -1;
	struct json_object *o = json_tokener_parse(json);
	if (!o)
		return fail(out, -EINVAL, "the token's JSON");
	int rc = parse_object(o, out);
	json_object_put(o);
	return rc;
}
