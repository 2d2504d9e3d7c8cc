/* The systemd-tpm2 LUKS2 token, as systemd-cryptenroll --tpm2-device=
 * writes it. Debian 12's systemd 252, enrolled against PCR 7:
 *   {"type":"systemd-tpm2","keyslots":["1"],"tpm2-blob":"AJ4AIC...",
 *    "tpm2-pcrs":[7],"tpm2-pcr-bank":"sha256","tpm2-primary-alg":"ecc",
 *    "tpm2-policy-hash":"8b5682...","tpm2-pin":false}
 * (with no PCR, "tpm2-pcrs":[] and no "tpm2-pcr-bank"). systemd 254 and
 * later add "tpm2_srk" (the serialized storage root key) and "tpm2_salt"
 * (the salt of a PIN), parsed here; signed PCR policies ("tpm2_pubkey",
 * "tpm2_pubkey_pcrs"), pcrlock ("tpm2_pcrlock") and several blobs are
 * named as not supported. The token's keyslot takes the base64 of the
 * secret the blob seals as its passphrase. Pure (json-c only). */
#ifndef LUKSINIT_TPM2TOKEN_H
#define LUKSINIT_TPM2TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPM2TOKEN_TYPE "systemd-tpm2"
#define TPM2TOKEN_PCRS 24	/* a PC client TPM's PCRs */
#define TPM2TOKEN_BLOB_MAX 2048 /* TPM2B_PRIVATE + TPM2B_PUBLIC */
#define TPM2TOKEN_HASH_MAX 64	/* SHA-512 */
#define TPM2TOKEN_SRK_MAX 1024	/* Esys_TR_Serialize: handle, name, public */
#define TPM2TOKEN_SALT_MAX 64

/* TPM_ALG_ID values (TPM 2.0 part 2), as the TPM takes them. */
#define TPM2TOKEN_ALG_RSA 0x0001
#define TPM2TOKEN_ALG_SHA1 0x0004
#define TPM2TOKEN_ALG_SHA256 0x000B
#define TPM2TOKEN_ALG_SHA384 0x000C
#define TPM2TOKEN_ALG_SHA512 0x000D
#define TPM2TOKEN_ALG_ECC 0x0023

struct tpm2token {
	int keyslot;
	uint32_t pcr_mask; /* bit n: PCR n */
	/* The PCR bank; 0 when the token names none (systemd then takes
	 * SHA-256 if the TPM has that bank, else SHA-1). */
	uint16_t pcr_bank;
	/* The primary key's algorithm: RSA or ECC (ECC when the token names
	 * none: systemd before 250 always made an ECC primary). */
	uint16_t primary_alg;
	bool pin;
	/* The sealed object: a TPM2B_PRIVATE (its first private_size bytes),
	 * then a TPM2B_PUBLIC. */
	uint8_t blob[TPM2TOKEN_BLOB_MAX];
	size_t blob_size, private_size;
	uint8_t policy_hash[TPM2TOKEN_HASH_MAX];
	size_t policy_hash_size;
	uint8_t srk[TPM2TOKEN_SRK_MAX]; /* tpm2_srk; srk_size 0: none */
	size_t srk_size;
	uint8_t salt[TPM2TOKEN_SALT_MAX]; /* tpm2_salt; salt_size 0: none */
	size_t salt_size;
	/* With -EINVAL: the field that is malformed; with -EPROTONOSUPPORT:
	 * what this build does not support. A static string. */
	const char *why;
};

/* Parses a token's JSON. Returns 0 for a token this build can use,
 * -ENOENT for another type of token, -EPROTONOSUPPORT for a systemd-tpm2
 * token with a feature named in why that is not supported, -EINVAL if
 * malformed (why names the field). */
int tpm2token_parse(const char *json, struct tpm2token *out);

/* The name of a PCR bank (TPM2TOKEN_ALG_SHA*), "" for 0 or unknown. */
const char *tpm2token_bank_name(uint16_t bank);

#endif
