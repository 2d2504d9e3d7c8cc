#include <errno.h>

#include "fuzz.h"
#include "tpm2/tpm2codec.h"
#include "tpm2/tpm2token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size, 16384);
	struct tpm2token t;
	int rc = tpm2token_parse(text, &t);
	INVARIANT(rc == 0 || rc == -EINVAL || rc == -ENOENT ||
		  rc == -EPROTONOSUPPORT);
	INVARIANT(rc == 0 || rc == -ENOENT || (t.why && t.why[0]));
	if (rc == 0) {
		INVARIANT(t.keyslot >= 0 && t.keyslot < 32);
		INVARIANT(t.pcr_mask < 1u << TPM2TOKEN_PCRS);
		INVARIANT(t.primary_alg == TPM2TOKEN_ALG_ECC ||
			  t.primary_alg == TPM2TOKEN_ALG_RSA);
		INVARIANT(t.pcr_bank == 0 ||
			  tpm2token_bank_name(t.pcr_bank)[0] != '\0');
		/* The blob is exactly its two sized parts. */
		INVARIANT(t.private_size > 2 &&
			  t.private_size + 2 < t.blob_size &&
			  t.blob_size <= sizeof(t.blob));
		INVARIANT(t.policy_hash_size > 0 &&
			  t.policy_hash_size <= sizeof(t.policy_hash));
		/* The blob encodes back to what decodes to it. */
		char b64[TPM2TOKEN_BLOB_MAX / 3 * 4 + 8];
		uint8_t again[TPM2TOKEN_BLOB_MAX];
		INVARIANT(tpm2_base64(t.blob, t.blob_size, b64, sizeof(b64)) >
			  0);
		INVARIANT(tpm2_unbase64(b64, again, sizeof(again)) ==
			  (long)t.blob_size);
		INVARIANT(memcmp(again, t.blob, t.blob_size) == 0);
	}
	free(text);
	return 0;
}
