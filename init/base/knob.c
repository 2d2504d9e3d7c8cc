#include "base/knob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strutil.h"

int knob_read(const char *path, char *buf, size_t size)
{
	ssize_t n = read_small_file(AT_FDCWD, path, buf, size);
	if (n < 0)
		return (int)n;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

int knob_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Some handlers (printk_devkmsg) insist on the trailing newline that
	 * "echo" would write, and reject the value without it. */
	char line[128];
	int len = snprintf(line, sizeof(line), "%s\n", value);
	if (len < 0 || (size_t)len >= sizeof(line)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	ssize_t n = write(fd, line, (size_t)len);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return n == len ? 0 : -EIO;
}

int knob_console_level(void)
{
	char printk[64];
	if (knob_read(KNOB_PRINTK, printk, sizeof(printk)) < 0)
		return -1;
	return (int)strtol(printk, NULL, 10);
}

int knob_save_set(struct knob_saved *saved, const char *path, const char *want,
		  const char *only_from)
{
	char cur[KNOB_VALUE_MAX];
	saved->value[0] = '\0';
	int rc = knob_read(path, cur, sizeof(cur));
	if (rc < 0)
		return rc;
	if (strcmp(cur, want) == 0 ||
	    (only_from && strcmp(cur, only_from) != 0))
		return 0;
	rc = knob_write(path, want);
	if (rc < 0)
		return rc;
	str_copy(saved->value, sizeof(saved->value), cur);
	return 1;
}

void knob_restore(struct knob_saved *saved, const char *path)
{
	if (saved->value[0])
		knob_write(path, saved->value);
	saved->value[0] = '\0';
}
