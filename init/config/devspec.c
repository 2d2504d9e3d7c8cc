#include "config/devspec.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "base/strutil.h"
#include "base/util.h"

struct tag_form {
	const char *prefix;
	enum devspec_kind kind;
};

static const struct tag_form tag_forms[] = {
	{"UUID=", DEVSPEC_UUID},
	{"LABEL=", DEVSPEC_LABEL},
	{"PARTUUID=", DEVSPEC_PARTUUID},
	{"PARTLABEL=", DEVSPEC_PARTLABEL},
	{"/dev/disk/by-uuid/", DEVSPEC_UUID},
	{"/dev/disk/by-label/", DEVSPEC_LABEL},
	{"/dev/disk/by-partuuid/", DEVSPEC_PARTUUID},
	{"/dev/disk/by-partlabel/", DEVSPEC_PARTLABEL},
};

int devspec_parse(struct devspec *spec, const char *text)
{
	spec->kind = DEVSPEC_NONE;
	spec->value[0] = '\0';
	if (!text || str_has_controls(text))
		return -EINVAL;

	const char *value = NULL;
	enum devspec_kind kind = DEVSPEC_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(tag_forms); i++) {
		size_t n = strlen(tag_forms[i].prefix);
		if (strncmp(text, tag_forms[i].prefix, n) == 0) {
			value = text + n;
			kind = tag_forms[i].kind;
			break;
		}
	}
	if (!value && strncmp(text, "/dev/", 5) == 0 && text[5] != '\0') {
		value = text;
		kind = DEVSPEC_PATH;
	}
	if (!value)
		return -EINVAL;
	/* LABEL="my root" as in fstab: blkid strips one pair of quotes. */
	size_t vlen = strlen(value);
	if (kind != DEVSPEC_PATH && vlen >= 2 && value[0] == '"' &&
	    value[vlen - 1] == '"') {
		value++;
		vlen -= 2;
	}
	if (vlen == 0)
		return -EINVAL;
	/* A path must not climb out of /dev. */
	if (kind == DEVSPEC_PATH && path_has_dotdot(value))
		return -EINVAL;
	if (str_copy_n(spec->value, sizeof(spec->value), value, vlen) < 0)
		return -EINVAL;
	spec->kind = kind;
	return 0;
}

static bool path_matches(const char *path, const struct dev_ids *ids)
{
	if (strcmp(path, ids->devnode) == 0)
		return true;
	if (strncmp(path, "/dev/mapper/", 12) == 0 && ids->mapper_name[0])
		return strcmp(path + 12, ids->mapper_name) == 0;
	return false;
}

bool devspec_matches(const struct devspec *spec, const struct dev_ids *ids)
{
	switch (spec->kind) {
	case DEVSPEC_PATH:
		return path_matches(spec->value, ids);
	case DEVSPEC_UUID:
		/* blkid prints UUIDs lower-case; users may paste upper case. */
		return ids->uuid[0] && strcasecmp(spec->value, ids->uuid) == 0;
	case DEVSPEC_LABEL:
		return ids->label[0] && strcmp(spec->value, ids->label) == 0;
	case DEVSPEC_PARTUUID:
		return ids->partuuid[0] &&
		       strcasecmp(spec->value, ids->partuuid) == 0;
	case DEVSPEC_PARTLABEL:
		return ids->partlabel[0] &&
		       strcmp(spec->value, ids->partlabel) == 0;
	case DEVSPEC_NONE:
		break;
	}
	return false;
}

const char *devspec_kind_name(enum devspec_kind kind)
{
	switch (kind) {
	case DEVSPEC_PATH:
		return "";
	case DEVSPEC_UUID:
		return "UUID=";
	case DEVSPEC_LABEL:
		return "LABEL=";
	case DEVSPEC_PARTUUID:
		return "PARTUUID=";
	case DEVSPEC_PARTLABEL:
		return "PARTLABEL=";
	case DEVSPEC_NONE:
		break;
	}
	return "?";
}
