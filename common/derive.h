/* Derived keys (issue 14): a member's key for its derived keyslot, made
 * from the primary member's volume key and the member's LUKS UUID, so the
 * member opens without a costly KDF once the primary is open. Shared by
 * /init and luksinit-enroll; pure (no I/O). */
#ifndef LUKSINIT_DERIVE_H
#define LUKSINIT_DERIVE_H

#include <stddef.h>
#include <stdint.h>

#define DERIVE_KEY_LEN 32
/* The HKDF salt: names the scheme and its version. A new version means a
 * new string, never new meaning for this one. */
#define DERIVE_CONTEXT "luksinit-derived-key v1"
#define DERIVE_VERSION 1

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes so far */
	unsigned char buf[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes the digest and wipes the state. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);

void hmac_sha256(const void *key, size_t key_len, const void *msg,
		 size_t msg_len, unsigned char out[SHA256_LEN]);

/* RFC 5869 HKDF-SHA256. Returns 0, or -EINVAL if out_len > 255 * 32. */
int hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		size_t ikm_len, const void *info, size_t info_len,
		unsigned char *out, size_t out_len);

/* The key of member_uuid's derived keyslot: HKDF-SHA256 with salt
 * DERIVE_CONTEXT, the primary's volume key as input keying material and
 * the member's LUKS UUID (as its header stores it) as
 * info. Returns 0, or -EINVAL for an empty volume key or UUID. */
int derive_member_key(const void *primary_vk, size_t vk_len,
		      const char *member_uuid,
		      unsigned char out[DERIVE_KEY_LEN]);

#endif
