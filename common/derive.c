#include "common/derive.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* OpenSSL 3.0's HKDF refuses more info than this (HKDF_MAXBUF). */
#define HKDF_MAX_INFO 1024
#define SHA256_LEN 32

/* HKDF from OpenSSL's default provider: libcrypto is in /init's static
 * link anyway, under libcryptsetup. It runs in a library context of its
 * own: OpenSSL's configuration (openssl.cnf, or the file OPENSSL_CONF
 * names, which the kernel command line can put in /init's environment; a
 * host's FIPS setup under luksinit-enroll) applies to the default context
 * only, so it cannot change a key. That context and the HKDF fetched from
 * it hold algorithm tables, never key material: they are made on first
 * use and kept for the process (setting them up costs 2 million
 * instructions, 0.7 ms natively and some 20 ms under emulation, and /init
 * derives one key per member on its loop's thread). The key, the salt and
 * the pseudorandom key live in a KDF context freed after each call;
 * OpenSSL wipes them (OPENSSL_clear_free, OPENSSL_cleanse). */
static EVP_KDF *hkdf_kdf;

/* 0, -ENOMEM (no library context) or -ENOSYS (no HKDF in it). */
static int hkdf_fetch(void)
{
	static OSSL_LIB_CTX *lib;
	if (hkdf_kdf)
		return 0;
	if (!lib)
		lib = OSSL_LIB_CTX_new();
	if (!lib)
		return -ENOMEM;
	hkdf_kdf = EVP_KDF_fetch(lib, "HKDF", NULL);
	return hkdf_kdf ? 0 : -ENOSYS;
}

int derive_prepare(void)
{
	return hkdf_fetch();
}

int hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		size_t ikm_len, const void *info, size_t info_len,
		unsigned char *out, size_t out_len)
{
	if (!ikm || ikm_len == 0 || !out || out_len == 0 ||
	    out_len > (size_t)255 * SHA256_LEN || info_len > HKDF_MAX_INFO ||
	    (salt_len > 0 && !salt) || (info_len > 0 && !info))
		return -EINVAL;
	int mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
	/* The OSSL_PARAM constructors take non-const pointers; HKDF only
	 * reads through them. An empty salt means HashLen zero bytes
	 * (RFC 5869 2.2), which is what OpenSSL's HMAC makes of it. */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						  (void *)ikm, ikm_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
						  (void *)salt, salt_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						  (void *)info, info_len),
		OSSL_PARAM_construct_end(),
	};
	EVP_KDF_CTX *ctx = NULL;
	int rc = hkdf_fetch();
	if (rc < 0)
		; /* rc says why */
	else if (!(ctx = EVP_KDF_CTX_new(hkdf_kdf)))
		rc = -ENOMEM;
	else
		rc = EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0
								    : -EINVAL;
	EVP_KDF_CTX_free(ctx);
	/* Never half a key, nor one that looks derived. */
	if (rc < 0)
		OPENSSL_cleanse(out, out_len);
	return rc;
}

int derive_member_key(const void *primary_vk, size_t vk_len,
		      const char *member_uuid,
		      unsigned char out[DERIVE_KEY_LEN])
{
	if (!primary_vk || vk_len == 0 || !member_uuid || !member_uuid[0])
		return -EINVAL;
	return hkdf_sha256(DERIVE_CONTEXT, strlen(DERIVE_CONTEXT), primary_vk,
			   vk_len, member_uuid, strlen(member_uuid), out,
			   DERIVE_KEY_LEN);
}
