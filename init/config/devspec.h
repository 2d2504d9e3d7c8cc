/* Device specifications as users write them: /dev/..., UUID=, LABEL=, ... */
#ifndef LUKSINIT_DEVSPEC_H
#define LUKSINIT_DEVSPEC_H

#include <stdbool.h>

#define DEVSPEC_VALUE_MAX 128

enum devspec_kind {
	DEVSPEC_NONE = 0,
	DEVSPEC_PATH,
	DEVSPEC_UUID,
	DEVSPEC_LABEL,
	DEVSPEC_PARTUUID,
	DEVSPEC_PARTLABEL,
};

struct devspec {
	enum devspec_kind kind;
	char value[DEVSPEC_VALUE_MAX];
};

/* What identification found on one block device; empty strings if absent. */
struct dev_ids {
	char devnode[64];		     /* /dev/vda, /dev/dm-0 */
	char mapper_name[DEVSPEC_VALUE_MAX]; /* dm name, for /dev/mapper/ */
	char type[32];
	char uuid[DEVSPEC_VALUE_MAX];
	char uuid_sub[DEVSPEC_VALUE_MAX];
	char label[DEVSPEC_VALUE_MAX];
	char partuuid[DEVSPEC_VALUE_MAX];
	char partlabel[DEVSPEC_VALUE_MAX];
};

/* Parses text into spec. Accepts /dev/disk/by-{uuid,label,partuuid,
 * partlabel}/X as the tag form, since no udev creates those links here.
 * Returns 0, or -EINVAL for an empty, unknown or over-long value. */
int devspec_parse(struct devspec *spec, const char *text);

bool devspec_matches(const struct devspec *spec, const struct dev_ids *ids);

/* Renders spec back into "UUID=..." form for messages. */
const char *devspec_kind_name(enum devspec_kind kind);

#endif
