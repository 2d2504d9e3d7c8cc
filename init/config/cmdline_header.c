/* Detached LUKS headers and data devices on the command line. */
#include "config/cmdline_params.h"

#include <string.h>

#include "base/strutil.h"
#include "base/util.h"
#include "config/cmdline.h"

/* A header file: absolute, no ".." that could climb. In the initramfs,
 * or on a device (set_header_ref splits PATH:DEVICE first). */
static const char *set_header_path(char *dst, size_t size, const char *path)
{
	static const char *const not_initramfs[] = {"/dev", "/proc", "/sys",
						    "/run"};
	if (strchr(path, ':'))
		return "header path must not contain ':' (PATH:DEVICE names the device holding it)";
	if (path[0] != '/' || path[1] == '\0')
		return "header must be the absolute path of a file in the initramfs";
	/* booster's rd.luks.header=UUID=/dev/sdb, or a file the kernel
	 * makes: no file of the initramfs (checked again when opened). */
	for (size_t i = 0; i < ARRAY_SIZE(not_initramfs); i++) {
		size_t n = strlen(not_initramfs[i]);
		if (strncmp(path, not_initramfs[i], n) == 0 &&
		    (path[n] == '/' || path[n] == '\0'))
			return "a header on a device (or in /dev, /proc, /sys, /run) is not supported; only a file in the initramfs";
	}
	if (path_has_dotdot(path))
		return "header path must not contain ..";
	if (str_has_controls(path))
		return "control characters in header path";
	if (str_copy(dst, size, path) < 0)
		return "header path too long";
	return NULL;
}

/* PATH[:DEVICE] (systemd's and booster's form): the header file on
 * DEVICE, mounted read-only to copy it (hdrdev.h), else in the
 * initramfs. */
static const char *set_header_ref(char *dst, size_t size, struct devspec *dev,
				  const char *val)
{
	char path[CFG_PATH_MAX];
	const char *colon = strchr(val, ':');
	if (!colon) {
		memset(dev, 0, sizeof(*dev));
		return set_header_path(dst, size, val);
	}
	if (str_copy_n(path, sizeof(path), val, (size_t)(colon - val)) < 0)
		return "header path too long";
	struct devspec d;
	if (devspec_parse(&d, colon + 1) < 0)
		return "expected the header device as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	const char *why = set_header_path(dst, size, path);
	if (!why)
		*dev = d;
	return why;
}

/* rd.luks.header=UUID=PATH: UUID is the header's (the data device has
 * none). It names a volume to open, as rd.luks.uuid= does. */
const char *set_luks_header(struct boot_config *cfg, const char *val)
{
	char spec_text[DEVSPEC_VALUE_MAX + 8], path[CFG_PATH_MAX];
	const char *rest;
	struct devspec spec, hdev;
	const char *why =
		cfg_split_uuid_pair(val, spec_text, sizeof(spec_text), &rest);
	if (why || (why = set_header_ref(path, sizeof(path), &hdev, rest)))
		return why;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	struct luks_member_cfg *m =
		cfg_list_member(cfg, &spec, "rd.luks.header");
	if (!m)
		return "too many LUKS devices (at most 16)";
	str_copy(m->header, sizeof(m->header), path);
	m->headerdev = hdev;
	return NULL;
}

/* The data device carries no signature: only a name or a partition's
 * own tag can find it, never a filesystem's UUID= or LABEL=. */
static const char *check_data_spec(const struct devspec *data)
{
	if (data->kind == DEVSPEC_UUID || data->kind == DEVSPEC_LABEL)
		return "a data device has no filesystem, so no UUID= or LABEL=: use /dev/..., PARTUUID= or PARTLABEL=";
	/* devspec turns by-partuuid/ and by-partlabel/ into tags; the other
	 * links (by-id/, by-path/) are udev's, and no udev runs here. */
	if (data->kind == DEVSPEC_PATH &&
	    strncmp(data->value, "/dev/disk/", 10) == 0)
		return "/dev/disk/by-id/ and by-path/ links are made by udev, which luksinit does not run: use the kernel's name (/dev/sdb), PARTUUID= or PARTLABEL=";
	return NULL;
}

/* rd.luks.data=UUID=DEVICE (systemd): where the data of the volume whose
 * header has that UUID is. Lists it, as rd.luks.uuid= does. */
const char *set_luks_data(struct boot_config *cfg, const char *val)
{
	char spec_text[DEVSPEC_VALUE_MAX + 8];
	const char *rest;
	struct devspec spec, data;
	const char *why =
		cfg_split_uuid_pair(val, spec_text, sizeof(spec_text), &rest);
	if (why)
		return why;
	if (devspec_parse(&data, rest) < 0)
		return "expected UUID=DEVICE, DEVICE as /dev/..., PARTUUID= or PARTLABEL=";
	if ((why = check_data_spec(&data)))
		return why;
	if (devspec_parse(&spec, spec_text) < 0)
		return "malformed UUID";
	struct luks_member_cfg *m = cfg_list_member(cfg, &spec, "rd.luks.data");
	if (!m)
		return "too many LUKS devices (at most 16)";
	m->data = data;
	return NULL;
}

/* systemd's header=PATH in rd.luks.options=UUID=...: for that device. */
void cfg_header_option(struct boot_config *cfg, struct luks_member_cfg *m,
		       const char *opt)
{
	const char *why =
		m ? set_header_ref(m->header, sizeof(m->header), &m->headerdev,
				   opt + 7)
		  : "header= needs a device: rd.luks.options=UUID=header=PATH";
	if (why)
		cfg_problem_item(cfg, "rd.luks.options", opt, why);
}

/* genkernel's root_header=PATH: in the initramfs, or on root_headerdev=
 * if given; applied once the line is read. */
const char *set_root_header(struct boot_config *cfg, const char *val)
{
	return set_header_path(cfg->root_header, sizeof(cfg->root_header), val);
}

/* genkernel's root_headerdev=: root_header= is on that device. */
const char *set_root_headerdev(struct boot_config *cfg, const char *val)
{
	if (devspec_parse(&cfg->root_headerdev, val) < 0)
		return "expected the device holding root_header= as UUID=, LABEL=, PARTUUID=, PARTLABEL= or /dev/...";
	return NULL;
}

/* genkernel opens each crypt_root(s)= device with root_header=: that
 * device is the data device. One header describes one volume, so with
 * several devices it cannot be meant for all of them. */
void cfg_apply_root_header(struct boot_config *cfg)
{
	if (!cfg->root_header[0])
		return;
	struct luks_member_cfg *one = NULL;
	int n = 0;
	for (int i = 0; i < cfg->nmembers; i++) {
		struct luks_member_cfg *m = &cfg->members[i];
		if (m->listed && m->set_by &&
		    str_starts_with(m->set_by, "crypt_root")) {
			one = m;
			n++;
		}
	}
	if (n != 1) {
		cfg_problem(
			cfg, "root_header",
			n ? "several crypt_root(s)= devices, but one header describes one volume: give each its own with rd.luks.header=UUID=PATH and rd.luks.data=UUID=DEVICE"
			  : "no crypt_root= device to open with it");
		return;
	}
	const char *why = check_data_spec(&one->spec);
	if (why) {
		cfg_problem(cfg, "crypt_root", why);
		return;
	}
	if (!one->header[0]) {
		str_copy(one->header, sizeof(one->header), cfg->root_header);
		one->headerdev = cfg->root_headerdev;
	}
	if (one->data.kind == DEVSPEC_NONE)
		one->data = one->spec;
}
