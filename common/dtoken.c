#include "common/dtoken.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/derive.h"

#define KEYSLOTS_MAX 32 /* LUKS2 */

/* A LUKS UUID as libcryptsetup writes it; anything else is refused, so a
 * token can never name something that is not a UUID. */
static bool uuid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= DTOKEN_UUID_MAX)
		return false;
	return strspn(s, "0123456789abcdefABCDEF-") == n;
}

int dtoken_format(char *buf, size_t size, const char *primary_uuid, int keyslot)
{
	if (keyslot < 0 || keyslot >= KEYSLOTS_MAX || !uuid_ok(primary_uuid))
		return -EINVAL;
	char slot[8];
	snprintf(slot, sizeof(slot), "%d", keyslot);
	int n = snprintf(
		buf, size,
		"{\"type\":\"%s\",\"keyslots\":[\"%s\"],"
		"\"version\":%d,\"primary\":\"%s\",\"context\":\"%s\"}",
		DTOKEN_TYPE, slot, DERIVE_VERSION, primary_uuid,
		DERIVE_CONTEXT);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static const char *get_string(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int luks2_token_keyslot(struct json_object *o)
{
	struct json_object *arr;
	if (!json_object_object_get_ex(o, "keyslots", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) != 1)
		return -EINVAL;
	struct json_object *v = json_object_array_get_idx(arr, 0);
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	char *end = NULL;
	errno = 0;
	long slot = strtol(s, &end, 10);
	if (!s[0] || *end || errno || slot < 0 || slot >= KEYSLOTS_MAX)
		return -EINVAL;
	return (int)slot;
}

static int parse_object(struct json_object *o, struct dtoken *out)
{
	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	const char *type = get_string(o, "type");
	if (!type)
		return -EINVAL;
	if (strcmp(type, DTOKEN_TYPE) != 0)
		return -ENOENT;
	struct json_object *v;
	if (!json_object_object_get_ex(o, "version", &v) ||
	    !json_object_is_type(v, json_type_int))
		return -EINVAL;
	out->version = json_object_get_int(v);
	const char *context = get_string(o, "context");
	if (out->version != DERIVE_VERSION || !context ||
	    strcmp(context, DERIVE_CONTEXT) != 0)
		return -EPROTONOSUPPORT;
	const char *primary = get_string(o, "primary");
	if (!primary || !uuid_ok(primary))
		return -EINVAL;
	snprintf(out->primary, sizeof(out->primary), "%s", primary);
	int slot = luks2_token_keyslot(o);
	if (slot < 0)
		return slot;
	out->keyslot = slot;
	return 0;
}

int dtoken_parse(const char *json, struct dtoken *out)
{
	memset(out, 0, sizeof(*out));
	out->keyslot = -1;
	struct json_object *o = json_tokener_parse(json);
	if (!o)
		return -EINVAL;
	int rc = parse_object(o, out);
	json_object_put(o);
	return rc;
}
