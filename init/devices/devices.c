#include "devices/devices.h"

#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/sysroot.h"

static void copy_tag(blkid_probe pr, const char *tag, char *dst, size_t size)
{
	const char *v = NULL;
	dst[0] = '\0';
	if (blkid_probe_lookup_value(pr, tag, &v, NULL) == 0 && v)
		if (str_copy(dst, size, v) < 0)
			dst[0] = '\0';
}

static void read_mapper_name(const char *devname, struct dev_ids *ids)
{
	char path[128];
	ids->mapper_name[0] = '\0';
	if (snprintf(path, sizeof(path), "/sys/block/%s/dm/name", devname) >=
	    (int)sizeof(path))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, ids->mapper_name, sizeof(ids->mapper_name) - 1);
	close(fd);
	if (n <= 0) {
		ids->mapper_name[0] = '\0';
		return;
	}
	ids->mapper_name[n] = '\0';
	char *nl = strchr(ids->mapper_name, '\n');
	if (nl)
		*nl = '\0';
}

int device_identify(const char *devname, struct dev_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	if (!uevent_devname_ok(devname))
		return -EINVAL;
	if (snprintf(ids->devnode, sizeof(ids->devnode), "/dev/%s", devname) >=
	    (int)sizeof(ids->devnode))
		return -ENAMETOOLONG;
	read_mapper_name(devname, ids);

	blkid_probe pr = blkid_new_probe_from_filename(ids->devnode);
	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(
		pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	int rc = blkid_do_safeprobe(pr);
	if (rc == 0) {
		copy_tag(pr, "TYPE", ids->type, sizeof(ids->type));
		copy_tag(pr, "UUID", ids->uuid, sizeof(ids->uuid));
		copy_tag(pr, "UUID_SUB", ids->uuid_sub, sizeof(ids->uuid_sub));
		copy_tag(pr, "LABEL", ids->label, sizeof(ids->label));
		copy_tag(pr, "PART_ENTRY_UUID", ids->partuuid,
			 sizeof(ids->partuuid));
		copy_tag(pr, "PART_ENTRY_NAME", ids->partlabel,
			 sizeof(ids->partlabel));
	}
	blkid_free_probe(pr);
	/* rc 1: nothing found; -2: ambiguous (several signatures), which
	 * blkid refuses to guess about and so do we. Said by the caller:
	 * this runs in a job's child. */
	return rc == -2 ? 1 : 0;
}

int devices_coldplug(void (*fn)(const struct uevent *ev, void *arg), void *arg)
{
	char dir[PATH_MAX];
	if (sysroot_path(dir, sizeof(dir), "/sys/class/block") < 0)
		return -ENAMETOOLONG;
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int visited = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[300];
		char buf[UEVENT_MSG_MAX + 1];
		if (snprintf(path, sizeof(path), "%s/uevent", de->d_name) >=
		    (int)sizeof(path))
			continue;
		ssize_t n = read_small_file(dirfd(d), path, buf, sizeof(buf));
		if (n < 0)
			continue;
		struct uevent ev;
		uevent_parse_file(&ev, buf, (size_t)n);
		ev.action = "add";
		ev.subsystem = "block";
		if (!ev.devname)
			continue;
		fn(&ev, arg);
		visited++;
	}
	closedir(d);
	return visited;
}
