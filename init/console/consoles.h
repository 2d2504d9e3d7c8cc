/* The consoles the kernel writes to (console= on the command line, every one
 * of them, not only the last, which is all /dev/console reaches): where the
 * person at the machine may be looking, and typing. */
#ifndef LUKSINIT_CONSOLES_H
#define LUKSINIT_CONSOLES_H

#include "base/log.h"

struct remote;

/* One number for both: the log writes to every console opened here. */
#define CONSOLES_MAX LOG_CONSOLES_MAX
#define CONSOLE_NAME_MAX 32

struct consoles {
	int n;
	int fd[CONSOLES_MAX]; /* O_RDWR | O_NONBLOCK, each a tty */
	char name[CONSOLES_MAX][CONSOLE_NAME_MAX];
	/* Unlock sessions from another machine (remote/session.h), when
	 * SSH unlock serves: asked too. Kept across consoles_reopen. */
	struct remote *remote;
};

/* Pure: the names in /sys/class/tty/console/active ("tty0 ttyS0"), with
 * "tty0" (the VT in front) replaced by vt_active ("tty1", from
 * /sys/class/tty/tty0/active; NULL or "" = unknown, then "tty0" stays).
 * Names that are not plain device names are skipped, duplicates dropped.
 * Returns how many were written to names. */
int consoles_parse(const char *active, const char *vt_active,
		   char names[][CONSOLE_NAME_MAX], int max);

/* Opens every active console; /dev/console alone when none can be found
 * or opened. Never fails: c->n may be 0 when there is no console at all. */
void consoles_open(struct consoles *c);
/* Closes them and opens them again, and gives the log the new ones. A
 * rescue shell that ends as a session leader hangs up its controlling
 * tty (not through /dev/console): every fd opened on it by name reads
 * only end-of-file from then on. */
void consoles_reopen(struct consoles *c);

#endif
