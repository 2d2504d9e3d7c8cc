/* Detached LUKS headers: a member whose header is a file in the
 * initramfs and whose data device carries no signature. It is found by
 * its data device's spec (rd.luks.data=, or genkernel's crypt_root= with
 * root_header=) instead of by a LUKS UUID on the disk, and its header is
 * read from the file, which is checked first: the command line names it,
 * so it is hostile input too. */
#ifndef LUKSINIT_LUKSHDR_H
#define LUKSINIT_LUKSHDR_H

#include <stdbool.h>
#include <stddef.h>

#include "config/cmdline.h"
#include "config/devspec.h"

struct crypt_device;

/* The largest LUKS2 header: two 4 MiB metadata areas and a 128 MiB
 * keyslots area (libcryptsetup's LUKS2_HDR_MAX_MDA_SIZE); a LUKS1 header
 * is far smaller. Anything larger is no header. */
#define LUKSHDR_MAX_BYTES ((long long)(8 + 128) * 1024 * 1024)

/* m has a detached header (a complete one, or half of one). */
bool lukshdr_detached(const struct luks_member_cfg *m);
/* What finds m's device: its data device's spec if its header is
 * detached, else its own. */
const struct devspec *lukshdr_find_spec(const struct luks_member_cfg *m);
/* Why m cannot be opened whatever appears (a header without a data
 * device, or the other way round), or NULL. */
const char *lukshdr_config_problem(const struct luks_member_cfg *m);

/* The device found for m's data is refused (why filled) if it is
 * another LUKS volume; any other signature is warned about only. */
bool lukshdr_data_refused(const struct luks_member_cfg *m,
			  const struct dev_ids *ids, char *why, size_t size);
/* Why the header file cannot be m's header, or NULL ("" is no header:
 * NULL). It must be a regular file of the initramfs (the root's own
 * filesystem, not a mount over it, not a device node, not a symlink) of
 * at most LUKSHDR_MAX_BYTES. A stat in the initramfs: no disk is read. */
const char *lukshdr_file_problem(const char *header);
/* Reads the header file into a context for data_dev, in a worker (the
 * file is checked again). Returns 0 or -errno. */
int lukshdr_open(const char *header, const char *data_dev,
		 struct crypt_device **ret_cd);
/* The same without the file check, for a copy /init made itself
 * (hdrdev.h), or, data_dev NULL, for a disk carrying its own header. */
int lukshdr_load(const char *header, const char *data_dev,
		 struct crypt_device **ret_cd);

#endif
