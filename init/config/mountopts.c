#include "config/mountopts.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#include "base/strutil.h"
#include "base/util.h"

struct flag_opt {
	const char *name;
	unsigned long set;
	unsigned long clear;
};

static const struct flag_opt flag_opts[] = {
	{"ro", MS_RDONLY, 0},
	{"rw", 0, MS_RDONLY},
	{"nosuid", MS_NOSUID, 0},
	{"suid", 0, MS_NOSUID},
	{"nodev", MS_NODEV, 0},
	{"dev", 0, MS_NODEV},
	{"noexec", MS_NOEXEC, 0},
	{"exec", 0, MS_NOEXEC},
	{"sync", MS_SYNCHRONOUS, 0},
	{"async", 0, MS_SYNCHRONOUS},
	{"dirsync", MS_DIRSYNC, 0},
	{"noatime", MS_NOATIME, 0},
	{"atime", 0, MS_NOATIME},
	{"nodiratime", MS_NODIRATIME, 0},
	{"diratime", 0, MS_NODIRATIME},
	{"relatime", MS_RELATIME, 0},
	{"norelatime", 0, MS_RELATIME},
	{"strictatime", MS_STRICTATIME, 0},
	{"lazytime", MS_LAZYTIME, 0},
	{"nolazytime", 0, MS_LAZYTIME},
	{"silent", MS_SILENT, 0},
	{"loud", 0, MS_SILENT},
	/* Meaningful in fstab only; harmless to accept and drop here. */
	{"defaults", 0, 0},
};

static const struct flag_opt *find_flag(const char *opt, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_opts); i++)
		if (strlen(flag_opts[i].name) == len &&
		    memcmp(flag_opts[i].name, opt, len) == 0)
			return &flag_opts[i];
	return NULL;
}

static int append_data(struct mount_opts *out, const char *opt, size_t len)
{
	size_t have = strlen(out->data);
	size_t need = have + (have ? 1 : 0) + len;
	if (need >= sizeof(out->data))
		return -ENAMETOOLONG;
	if (have)
		out->data[have++] = ',';
	memcpy(out->data + have, opt, len);
	out->data[have + len] = '\0';
	return 0;
}

int mountopts_parse(struct mount_opts *out, const char *opts, bool read_write)
{
	memset(out, 0, sizeof(*out));
	out->flags = read_write ? 0 : MS_RDONLY;
	if (!opts || !*opts)
		return 0;

	const char *p = opts;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			return -EINVAL;
		if (str_has_controls_n(p, len))
			return -EINVAL;
		const struct flag_opt *f = find_flag(p, len);
		if (f) {
			out->flags = (out->flags & ~f->clear) | f->set;
		} else {
			int rc = append_data(out, p, len);
			if (rc < 0)
				return rc;
			if (len == 8 && memcmp(p, "degraded", 8) == 0)
				out->degraded = true;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}
