#include "base/sysmounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

struct api_mount {
	const char *source, *target, *type, *data;
	unsigned long flags;
};

static const struct api_mount api_mounts[] = {
	{"proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
	{"sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
	{"devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID},
	{"tmpfs", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV},
};

/* 0, or -errno after saying why. */
static int mount_one(const struct api_mount *m)
{
	mkdir(m->target, 0755);
	if (mount(m->source, m->target, m->type, m->flags, m->data) == 0 ||
	    errno == EBUSY)
		return 0;
	return log_err_errno(errno, "cannot mount %s on %s", m->type,
			     m->target);
}

int sysmounts_proc(void)
{
	return mount_one(&api_mounts[0]);
}

int sysmounts_setup(void)
{
	int first_err = 0;
	/* Not proc again: a second proc would stack on the first, and stay
	 * behind in the initramfs at the switch. */
	for (size_t i = 1; i < ARRAY_SIZE(api_mounts); i++) {
		int rc = mount_one(&api_mounts[i]);
		if (!first_err)
			first_err = rc;
	}
	return first_err;
}

void console_setup(void)
{
	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 &&
	    fcntl(2, F_GETFD) >= 0)
		return;
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}
