#include "base/rundir.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

int rundir_create(void)
{
	if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void rundir_remove(void)
{
	if (rmdir(RUN_DIR) < 0 && errno != ENOENT)
		log_warn_errno(errno, "cannot remove %s before the switch",
			       RUN_DIR);
}
