#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "tpm2/tpm2codec.h"
#include "tpm2/tpm2token.h"

/* Written by Debian 12's systemd-cryptenroll (252) against swtpm:
 * --tpm2-pcrs=7, then --tpm2-with-pin=yes --tpm2-pcrs=0+7. */
#define BLOB7                                                                    \
	"AJ4AICHQoewXrjKUyNoVEuVMEnClBRXj0R/Fbew9djV2U6VQABDRJVS6lK+jktxKhVL31l" \
	"ai98MsMPSW44LL46NAmVjcjCWmoSQa/nAE3myiMOsWojbA0q6xBQGUXZFStHEEz6gc7RVB" \
	"vg+LNdOUEvSEGP0XmEKAicNMqcx05KwSL90/HzQMIs79OfSDnzCJC+Klc70w1BcUqD65Qo" \
	"GXiABOAAgACwAAABIAIItWgtgbKUNdCNeSeBUGEdx+WSOy/vzOaEoJV3tAEwqLABAAIJGR" \
	"a7P6rDfIUkE70Ag6YoBGTfUHszKX5TzLVfhOrnzF"
#define HASH7 "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b"
#define TOKEN7                                                                   \
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"" BLOB7 \
	"\",\"tpm2-pcrs\":[7],\"tpm2-pcr-bank\":\"sha256\",\"tpm2-primary-alg\"" \
	":\"ecc\",\"tpm2-policy-hash\":\"" HASH7 "\",\"tpm2-pin\":false}"

/* A token with one field replaced: key (with quotes) and its new value. */
static void token_with(char *buf, size_t size, const char *key,
		       const char *value)
{
	const char *tok = TOKEN7;
	const char *k = strstr(tok, key);
	const char *end = k + strlen(key) + 1; /* past the ':' */
	int depth = 0;
	while (*end && (depth || (*end != ',' && *end != '}'))) {
		depth += *end == '[' ? 1 : *end == ']' ? -1 : 0;
		end++;
	}
	snprintf(buf, size, "%.*s%s%s", (int)(k - tok + strlen(key) + 1), tok,
		 value, end);
}

static void tpm2token_systemd_252_parses(void)
{
	struct tpm2token t;
	CHECK(tpm2token_parse(TOKEN7, &t) == 0);
	CHECK(t.keyslot == 1 && t.pcr_mask == 1u << 7 && !t.pin);
	CHECK(t.pcr_bank == TPM2TOKEN_ALG_SHA256);
	CHECK(t.primary_alg == TPM2TOKEN_ALG_ECC);
	/* TPM2B_PRIVATE of 0x9e bytes, then TPM2B_PUBLIC of 0x4e. */
	CHECK(t.private_size == 2 + 0x9e && t.blob_size == 2 + 0x9e + 2 + 0x4e);
	CHECK(t.policy_hash_size == 32 && t.policy_hash[0] == 0x8b &&
	      t.policy_hash[31] == 0x8b);
	CHECK(t.srk_size == 0 && t.salt_size == 0);
	CHECK_STR(tpm2token_bank_name(t.pcr_bank), "sha256");
}

static void tpm2token_pcrs_pin_and_algorithms(void)
{
	char json[2048];
	struct tpm2token t;
	token_with(json, sizeof(json), "\"tpm2-pcrs\"", "[0,7,23]");
	CHECK(tpm2token_parse(json, &t) == 0 &&
	      t.pcr_mask == (1u | 1u << 7 | 1u << 23));
	token_with(json, sizeof(json), "\"tpm2-pcrs\"", "[]");
	CHECK(tpm2token_parse(json, &t) == 0 && t.pcr_mask == 0);
	token_with(json, sizeof(json), "\"tpm2-pin\"", "true");
	CHECK(tpm2token_parse(json, &t) == 0 && t.pin);
	token_with(json, sizeof(json), "\"tpm2-primary-alg\"", "\"rsa\"");
	CHECK(tpm2token_parse(json, &t) == 0 &&
	      t.primary_alg == TPM2TOKEN_ALG_RSA);
	token_with(json, sizeof(json), "\"tpm2-pcr-bank\"", "\"sha1\"");
	CHECK(tpm2token_parse(json, &t) == 0 &&
	      t.pcr_bank == TPM2TOKEN_ALG_SHA1);
	/* Before systemd 250 neither was written; ECC was the primary. */
	const char *old = "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],"
			  "\"tpm2-blob\":\"" BLOB7 "\",\"tpm2-pcrs\":[7],"
			  "\"tpm2-policy-hash\":\"" HASH7 "\"}";
	CHECK(tpm2token_parse(old, &t) == 0);
	CHECK(t.pcr_bank == 0 && t.primary_alg == TPM2TOKEN_ALG_ECC && !t.pin);
}

static void tpm2token_newer_fields(void)
{
	char json[2048];
	struct tpm2token t;
	token_with(
		json, sizeof(json), "\"tpm2-pin\"",
		"true,\"tpm2_salt\":\"c2FsdHNhbHQ=\",\"tpm2_srk\":\"gQAAAQ==\","
		"\"tpm2_pcrlock\":false,\"tpm2_pubkey_pcrs\":[]");
	CHECK(tpm2token_parse(json, &t) == 0);
	CHECK(t.salt_size == 8 && memcmp(t.salt, "saltsalt", 8) == 0);
	CHECK(t.srk_size == 4 && t.srk[0] == 0x81 && t.srk[3] == 0x01);
	const char *named[][2] = {
		{"\"tpm2_pubkey\":\"AAAA\"", "tpm2_pubkey"},
		{"\"tpm2_pubkey_pcrs\":[11]", "tpm2_pubkey_pcrs"},
		{"\"tpm2_pcrlock\":true", "tpm2_pcrlock"},
		{"\"tpm2-blob\":[\"AAAA\"]", "several tpm2-blob"},
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		snprintf(json, sizeof(json), "%.*s,%s}",
			 (int)strlen(TOKEN7) - 1, TOKEN7, named[i][0]);
		CHECK(tpm2token_parse(json, &t) == -EPROTONOSUPPORT);
		CHECK(t.why && strstr(t.why, named[i][1]) == t.why);
	}
	/* A blob with more after its two parts: an offline enrolment's seed. */
	token_with(json, sizeof(json), "\"tpm2-blob\"", "\"" BLOB7 "AAAA\"");
	CHECK(tpm2token_parse(json, &t) == -EPROTONOSUPPORT);
}

static void tpm2token_other_and_malformed(void)
{
	struct tpm2token t;
	CHECK(tpm2token_parse("{\"type\":\"luksinit-derived\"}", &t) ==
	      -ENOENT);
	CHECK(tpm2token_parse("", &t) == -EINVAL);
	CHECK(tpm2token_parse("[]", &t) == -EINVAL);
	const char *bad[][3] = {
		{"\"keyslots\"", "[\"1\",\"2\"]", "keyslots"},
		{"\"keyslots\"", "[\"32\"]", "keyslots"},
		{"\"tpm2-pcrs\"", "[24]", "tpm2-pcrs"},
		{"\"tpm2-pcrs\"", "[-1]", "tpm2-pcrs"},
		{"\"tpm2-pcrs\"", "[\"7\"]", "tpm2-pcrs"},
		{"\"tpm2-pcrs\"", "7", "tpm2-pcrs"},
		{"\"tpm2-pcr-bank\"", "\"md5\"", "tpm2-pcr-bank"},
		{"\"tpm2-primary-alg\"", "\"dsa\"", "tpm2-primary-alg"},
		{"\"tpm2-pin\"", "\"no\"", "tpm2-pin"},
		{"\"tpm2-policy-hash\"", "\"8b5\"", "tpm2-policy-hash"},
		{"\"tpm2-policy-hash\"", "\"\"", "tpm2-policy-hash"},
		{"\"tpm2-policy-hash\"", "\"zz\"", "tpm2-policy-hash"},
		{"\"tpm2-blob\"", "\"AJ4A\"", "tpm2-blob"},
		{"\"tpm2-blob\"", "\"AAAAAA==\"", "tpm2-blob"},
		{"\"tpm2-blob\"", "\"AJ4 AICH\"", "tpm2-blob"},
		{"\"tpm2-blob\"", "1", "tpm2-blob"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char json[2048];
		token_with(json, sizeof(json), bad[i][0], bad[i][1]);
		int rc = tpm2token_parse(json, &t);
		CHECK(rc == -EINVAL);
		CHECK(t.why && strcmp(t.why, bad[i][2]) == 0);
		if (rc != -EINVAL)
			printf("  bad token %zu parsed: %d\n", i, rc);
	}
}

static void tpm2_codecs(void)
{
	uint8_t b[8];
	char s[16];
	CHECK(tpm2_unbase64("", b, sizeof(b)) == 0);
	CHECK(tpm2_unbase64("YQ==", b, sizeof(b)) == 1 && b[0] == 'a');
	CHECK(tpm2_unbase64("YWI=", b, sizeof(b)) == 2 && b[1] == 'b');
	CHECK(tpm2_unbase64("YWJj", b, sizeof(b)) == 3 && b[2] == 'c');
	CHECK(tpm2_unbase64("YR==", b, sizeof(b)) ==
	      -EINVAL); /* not canonical */
	CHECK(tpm2_unbase64("YQ", b, sizeof(b)) == -EINVAL);
	CHECK(tpm2_unbase64("Y===", b, sizeof(b)) == -EINVAL);
	CHECK(tpm2_unbase64("YQ==YWJj", b, sizeof(b)) == -EINVAL);
	CHECK(tpm2_unbase64("YWJjYWJjYWJj", b, sizeof(b)) == -E2BIG);
	CHECK(tpm2_unhex("0aFf", b, sizeof(b)) == 2 && b[0] == 0x0a &&
	      b[1] == 0xff);
	CHECK(tpm2_unhex("0g", b, sizeof(b)) == -EINVAL);
	CHECK(tpm2_unhex("000000000000000000", b, sizeof(b)) == -E2BIG);
	CHECK(tpm2_base64((const uint8_t *)"abcd", 4, s, sizeof(s)) == 8);
	CHECK_STR(s, "YWJjZA==");
	CHECK(tpm2_base64((const uint8_t *)"abc", 3, s, 4) == -E2BIG);
}

void tpm2token_tests(void)
{
	RUN(tpm2token_systemd_252_parses);
	RUN(tpm2token_pcrs_pin_and_algorithms);
	RUN(tpm2token_newer_fields);
	RUN(tpm2token_other_and_malformed);
	RUN(tpm2_codecs);
}
