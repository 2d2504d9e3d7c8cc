#include "backupdir.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

static bool in_memory(const char *dir)
{
	struct statfs st;
	return statfs(dir, &st) == 0 &&
	       (st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC);
}

int backupdir_make(char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	const char *bases[] = {tmp && tmp[0] ? tmp : "/tmp", "/run",
			       "/dev/shm"};
	int rc = -ENOENT;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (!in_memory(bases[i]))
			continue;
		snprintf(dir, size, "%s/luksinit-enroll.XXXXXX", bases[i]);
		if (mkdtemp(dir))
			return 0;
		rc = -errno;
		fprintf(stderr,
			"cannot make a directory for header backups in %s: %s\n",
			bases[i], strerror(errno));
	}
	if (rc == -ENOENT)
		fprintf(stderr,
			"none of %s, /run and /dev/shm is a tmpfs: the header backups (they hold every keyslot) would stay in a disk's freed blocks; set TMPDIR to a tmpfs directory\n",
			bases[0]);
	return rc;
}
