#include "vkdigest.h"

#include <errno.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int copy_string(struct json_object *o, const char *key, char *out,
		       size_t size)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	if (!s[0] || strlen(s) >= size)
		return -EINVAL;
	snprintf(out, size, "%s", s);
	return 0;
}

static bool names_keyslot(struct json_object *digest, int keyslot)
{
	struct json_object *slots;
	if (!json_object_object_get_ex(digest, "keyslots", &slots) ||
	    !json_object_is_type(slots, json_type_array))
		return false;
	char want[16];
	snprintf(want, sizeof(want), "%d", keyslot);
	for (size_t i = 0; i < json_object_array_length(slots); i++) {
		const char *s = json_object_get_string(
			json_object_array_get_idx(slots, i));
		if (s && strcmp(s, want) == 0)
			return true;
	}
	return false;
}

/* The whole header's JSON, parsed: put it with json_object_put. */
static struct json_object *header_json(struct crypt_device *cd)
{
	const char *json = NULL;
	if (crypt_dump_json(cd, &json, 0) < 0 || !json)
		return NULL;
	return json_tokener_parse(json);
}

/* keyslot < 0: matches the digest string want instead. */
static int find_digest(struct crypt_device *cd, int keyslot, const char *want,
		       char *out, size_t size)
{
	struct json_object *hdr = header_json(cd), *digests;
	if (!hdr)
		return -EINVAL;
	int rc = -ENOENT;
	if (json_object_object_get_ex(hdr, "digests", &digests) &&
	    json_object_is_type(digests, json_type_object)) {
		json_object_object_foreach(digests, id, d)
		{
			(void)id;
			char value[VKDIGEST_MAX];
			if (copy_string(d, "digest", value, sizeof(value)) < 0)
				continue;
			if (keyslot >= 0 ? names_keyslot(d, keyslot)
					 : strcmp(value, want) == 0) {
				rc = out ? copy_string(d, "digest", out, size)
					 : 0;
				break;
			}
		}
	}
	json_object_put(hdr);
	return rc;
}

int vkdigest_of_keyslot(struct crypt_device *cd, int keyslot, char *out,
			size_t size)
{
	return find_digest(cd, keyslot, NULL, out, size);
}

int vkdigest_present(struct crypt_device *cd, const char *digest)
{
	int rc = find_digest(cd, -1, digest, NULL, 0);
	return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

int vkdigest_token_add(const char *json, const char *digest, char *out,
		       size_t size)
{
	struct json_object *o = json_tokener_parse(json);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	json_object_object_add(o, VKDIGEST_FIELD,
			       json_object_new_string(digest));
	int n = snprintf(
		out, size, "%s",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int vkdigest_token_get(const char *json, char *out, size_t size)
{
	struct json_object *o = json_tokener_parse(json);
	int rc = o && json_object_is_type(o, json_type_object)
			 ? copy_string(o, VKDIGEST_FIELD, out, size)
			 : -EINVAL;
	json_object_put(o);
	return rc;
}
