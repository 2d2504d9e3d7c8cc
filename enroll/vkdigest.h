/* The primary's volume-key digest as its LUKS2 header stores it: a PBKDF2
 * check value of the key beside its salt, public like the rest of the
 * header. Enrolment records it in each member's token; once the primary is
 * re-keyed (cryptsetup reencrypt) its header holds another one, and --list
 * can tell, without any secret, that the member's derived keyslot is
 * stale: the primary's old volume key still opens it. */
#ifndef LUKSINIT_ENROLL_VKDIGEST_H
#define LUKSINIT_ENROLL_VKDIGEST_H

#include <stddef.h>

struct crypt_device;

#define VKDIGEST_MAX 256
/* The token's field (ignored by /init and by every dtoken_parse). */
#define VKDIGEST_FIELD "primary_digest"

/* Into out, the digest of the volume key that keyslot opens. Returns 0 or
 * -errno. */
int vkdigest_of_keyslot(struct crypt_device *cd, int keyslot, char *out,
			size_t size);
/* 1 if cd's header holds digest (its volume key is still the one
 * recorded), 0 if not, -errno if the header cannot be read. */
int vkdigest_present(struct crypt_device *cd, const char *digest);
/* json, a token's JSON object, with the field set to digest, into out.
 * Returns 0, -EINVAL or -ENAMETOOLONG. */
int vkdigest_token_add(const char *json, const char *digest, char *out,
		       size_t size);
/* The field of a token's JSON into out: 0, -ENOENT if it has none (made
 * by an older luksinit-enroll), -EINVAL if it is not a short string. */
int vkdigest_token_get(const char *json, char *out, size_t size);

#endif
