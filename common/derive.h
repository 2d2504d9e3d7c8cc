/* Derived keys (issue 14): a member's key for its derived keyslot, made
 * from the primary member's volume key and the member's LUKS UUID, so the
 * member opens without a costly KDF once the primary is open. Shared by
 * /init and luksinit-enroll; pure (no I/O). The hashing is OpenSSL's
 * (libcrypto): link with -lcrypto. */
#ifndef LUKSINIT_DERIVE_H
#define LUKSINIT_DERIVE_H

#include <stddef.h>

#define DERIVE_KEY_LEN 32
/* The HKDF salt: names the scheme and its version. A new version means a
 * new string, never new meaning for this one. */
#define DERIVE_CONTEXT "luksinit-derived-key v1"
#define DERIVE_VERSION 1

/* RFC 5869 HKDF-SHA256 (extract and expand), by OpenSSL's libcrypto.
 * ikm must not be empty; salt and info may be. Returns 0; -EINVAL for an
 * empty ikm or out_len, out_len > 255 * 32 or info_len > 1024; or
 * -ENOMEM, -ENOSYS or -EINVAL when libcrypto cannot derive, and then out
 * holds zeros, never part of a key. */
int hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		size_t ikm_len, const void *info, size_t info_len,
		unsigned char *out, size_t out_len);

/* Sets up what hkdf_sha256 needs (OpenSSL's tables, kept for the
 * process), so that the first derivation after a KDF does not wait for it.
 * Returns 0, -ENOMEM or -ENOSYS (no HKDF in libcrypto). Optional:
 * hkdf_sha256 does it when needed. */
int derive_prepare(void);

/* The key of member_uuid's derived keyslot: HKDF-SHA256 with salt
 * DERIVE_CONTEXT, the primary's volume key as input keying material and
 * the member's LUKS UUID (as its header stores it) as
 * info. Returns 0, -EINVAL for an empty volume key or UUID, or an error
 * of hkdf_sha256. */
int derive_member_key(const void *primary_vk, size_t vk_len,
		      const char *member_uuid,
		      unsigned char out[DERIVE_KEY_LEN]);

#endif
