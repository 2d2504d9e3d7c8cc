#include "console/consoles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/knob.h"
#include "base/log.h"
#include "base/strutil.h"

#define ACTIVE_FILE "/sys/class/tty/console/active"
#define VT_ACTIVE_FILE "/sys/class/tty/tty0/active"

/* A name that can only be a device under /dev: no '/', no "..". */
static bool plain_name(const char *s, size_t len)
{
	if (len == 0 || len >= CONSOLE_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			  c == '.';
		if (!ok)
			return false;
	}
	return true;
}

static bool listed(char names[][CONSOLE_NAME_MAX], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int consoles_parse(const char *active, const char *vt_active,
		   char names[][CONSOLE_NAME_MAX], int max)
{
	int n = 0;
	const char *p = active;
	while (*p && n < max) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (len == 0)
			break;
		char name[CONSOLE_NAME_MAX];
		if (len == 4 && strncmp(p, "tty0", 4) == 0 && vt_active &&
		    plain_name(vt_active, strlen(vt_active)))
			str_copy(name, sizeof(name), vt_active);
		else if (plain_name(p, len))
			snprintf(name, sizeof(name), "%.*s", (int)len, p);
		else
			name[0] = '\0';
		if (name[0] && !listed(names, n, name))
			str_copy(names[n++], CONSOLE_NAME_MAX, name);
		p += len;
	}
	return n;
}

static int open_tty(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && !isatty(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

void consoles_open(struct consoles *c)
{
	memset(c, 0, sizeof(*c));
	char active[256] = "";
	char names[CONSOLES_MAX][CONSOLE_NAME_MAX];
	int n = 0;
	if (knob_read(ACTIVE_FILE, active, sizeof(active)) == 0) {
		char vt[CONSOLE_NAME_MAX];
		if (knob_read(VT_ACTIVE_FILE, vt, sizeof(vt)) < 0)
			vt[0] = '\0';
		n = consoles_parse(active, vt, names, CONSOLES_MAX);
	}
	for (int i = 0; i < n; i++) {
		char path[CONSOLE_NAME_MAX + 8];
		snprintf(path, sizeof(path), "/dev/%.*s", CONSOLE_NAME_MAX - 1,
			 names[i]);
		int fd = open_tty(path);
		if (fd < 0) {
			log_warn_errno(errno, "cannot open console %s", path);
			continue;
		}
		c->fd[c->n] = fd;
		str_copy(c->name[c->n++], CONSOLE_NAME_MAX, names[i]);
	}
	if (c->n > 0)
		return;
	int fd = open_tty("/dev/console");
	if (fd >= 0) {
		c->fd[0] = fd;
		str_copy(c->name[0], CONSOLE_NAME_MAX, "console");
		c->n = 1;
	}
}

void consoles_reopen(struct consoles *c)
{
	struct remote *remote = c->remote;
	for (int i = 0; i < c->n; i++)
		close(c->fd[i]);
	/* The log must not write to the closed numbers meanwhile. */
	log_set_consoles(NULL, 0);
	consoles_open(c);
	c->remote = remote;
	log_set_consoles(c->fd, c->n);
}
