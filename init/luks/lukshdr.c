#include "luks/lukshdr.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/log.h"

bool lukshdr_detached(const struct luks_member_cfg *m)
{
	return m->header[0] || m->data.kind != DEVSPEC_NONE;
}

const struct devspec *lukshdr_find_spec(const struct luks_member_cfg *m)
{
	return m->data.kind != DEVSPEC_NONE ? &m->data : &m->spec;
}

const char *lukshdr_config_problem(const struct luks_member_cfg *m)
{
	if (m->header[0] && m->data.kind == DEVSPEC_NONE)
		return "a detached header but no data device: give rd.luks.data=UUID=DEVICE";
	if (!m->header[0] && m->data.kind != DEVSPEC_NONE)
		return "a data device (rd.luks.data=) but no header: give rd.luks.header=UUID=PATH or header=PATH in rd.luks.options=";
	return NULL;
}

bool lukshdr_data_refused(const struct luks_member_cfg *m,
			  const struct dev_ids *ids, char *why, size_t size)
{
	if (strcmp(ids->type, "crypto_LUKS") == 0) {
		/* Its own header, of which the file is a copy: the same
		 * volume, the same offsets. */
		if (m->spec.kind == DEVSPEC_UUID &&
		    strcasecmp(ids->uuid, m->spec.value) == 0)
			return false;
		snprintf(
			why, size,
			"its data device %s is another LUKS volume (UUID %s), not this one's data: the wrong disk?",
			ids->devnode, ids->uuid);
		return true;
	}
	/* Opening writes nothing, and an in-place encryption
	 * (cryptsetup reencrypt --encrypt --header) still shows the old
	 * signature until it is done: said loudly, not refused. */
	if (ids->type[0])
		log_warn(
			"WARNING: the data device %s of a detached header carries a %s signature; a data device carries none, so this is likely the wrong disk (what is unlocked would be garbage) unless it is being encrypted in place",
			ids->devnode, ids->type);
	return false;
}

/* Only a file of the initramfs itself: the root's st_dev. A path into
 * /dev, /proc, /sys or /run (or through a symlink into them) is another
 * filesystem, a device node is no regular file, and a symlink at the end
 * is refused outright. The initramfs is /init's own: nothing else
 * changes it between this check and libcryptsetup's open. */
static int check_file(const char *header)
{
	struct stat st, root;
	if (lstat(header, &st) < 0 || stat("/", &root) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_dev != root.st_dev)
		return -EXDEV;
	if (st.st_size > LUKSHDR_MAX_BYTES)
		return -EFBIG;
	return 0;
}

const char *lukshdr_file_problem(const char *header)
{
	if (!header[0])
		return NULL;
	switch (check_file(header)) {
	case 0:
		return NULL;
	case -ENOENT:
		return "its header file is not in the initramfs";
	case -EINVAL:
		return "its header file is not a regular file (a symlink, a device?)";
	case -EXDEV:
		return "its header file is not in the initramfs itself (another filesystem is mounted there)";
	case -EFBIG:
		return "its header file is larger than any LUKS header";
	default:
		return "its header file cannot be read";
	}
}

int lukshdr_open(const char *header, const char *data_dev,
		 struct crypt_device **ret_cd)
{
	int rc = check_file(header);
	return rc < 0 ? rc : lukshdr_load(header, data_dev, ret_cd);
}

int lukshdr_load(const char *header, const char *data_dev,
		 struct crypt_device **ret_cd)
{
	struct crypt_device *cd = NULL;
	int rc = crypt_init_data_device(&cd, header, data_dev);
	if (rc < 0)
		return rc;
	rc = crypt_load(cd, CRYPT_LUKS, NULL);
	if (rc < 0) {
		crypt_free(cd);
		return rc;
	}
	*ret_cd = cd;
	return 0;
}
