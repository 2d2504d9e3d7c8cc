#include "base/strutil.h"
#include "base/uevent.h"
#include "fuzz.h"

static void check_fields(const struct uevent *ev, const char *buf, size_t len)
{
	const char *fields[] = {ev->action,  ev->devpath, ev->subsystem,
				ev->devname, ev->devtype, ev->firmware};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		INVARIANT(!fields[i] ||
			  (fields[i] >= buf && fields[i] <= buf + len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UEVENT_MSG_MAX + 16)
		return 0;
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	struct uevent ev;
	if (uevent_parse(&ev, buf, size) == 0) {
		check_fields(&ev, buf, size);
		INVARIANT(ev.devpath && ev.devpath[0] == '/');
		if (uevent_is_block_add(&ev)) {
			INVARIANT(uevent_devname_ok(ev.devname));
			INVARIANT(!path_has_dotdot(ev.devname));
			INVARIANT(ev.devname[0] != '/');
		}
	}
	memcpy(buf, data, size);
	if (uevent_parse_file(&ev, buf, size) == 0)
		check_fields(&ev, buf, size);
	free(buf);
	return 0;
}
