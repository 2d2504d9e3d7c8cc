/* The LUKS2 token that marks a derived keyslot (issue 14), e.g.
 *   {"type":"luksinit-derived","keyslots":["2"],"version":1,
 *    "primary":"0ac0a545-24b4-4f0b-b072-bd74f1df29f0",
 *    "context":"luksinit-derived-key v1"}
 * keyslots: the one keyslot whose key derive_member_key() makes from the
 * volume key of the LUKS2 device with UUID primary. Shared by /init and
 * luksinit-enroll; pure (json-c only, no I/O). */
#ifndef LUKSINIT_DTOKEN_H
#define LUKSINIT_DTOKEN_H

#include <stddef.h>

#define DTOKEN_TYPE "luksinit-derived"
#define DTOKEN_UUID_MAX 40 /* a LUKS UUID is 36 characters */

struct dtoken {
	int keyslot;
	int version;
	char primary[DTOKEN_UUID_MAX];
};

/* The token's JSON into buf. Returns 0, -EINVAL for a keyslot out of range
 * or a primary that is no UUID, -ENAMETOOLONG if buf is too small. */
int dtoken_format(char *buf, size_t size, const char *primary_uuid,
		  int keyslot);
/* Parses a token's JSON. Returns 0 for a usable token, -ENOENT if it is
 * another type of token, -EPROTONOSUPPORT for a luksinit-derived token of
 * another version or context (made by a newer tool), -EINVAL if malformed. */
int dtoken_parse(const char *json, struct dtoken *out);

struct json_object;
/* The one keyslot a LUKS2 token's "keyslots" names (["N"], N below
 * 32: a LUKS2 keyslot), or -EINVAL: luksinit's token and systemd's alike. */
int luks2_token_keyslot(struct json_object *token);

#endif
