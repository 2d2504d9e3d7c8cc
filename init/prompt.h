/* Passphrase input on the console that never blocks the event loop. */
#ifndef LUKSINIT_PROMPT_H
#define LUKSINIT_PROMPT_H

#include <stdbool.h>

#include "secret.h"

enum prompt_status {
	PROMPT_MORE,  /* keep polling */
	PROMPT_DONE,  /* a line was entered; *out holds it */
	PROMPT_EOF,   /* the console has no input at all */
	PROMPT_ERROR, /* too long, or the buffer could not be locked */
};

struct prompt {
	int fd;
	bool active;
	bool echo_was_on;
	bool discarding; /* skipping the rest of an over-long line */
	struct secret line;
};

/* Shows text and starts reading a line with echo off. */
int prompt_start(struct prompt *p, int fd, const char *text);
/* Call when fd is readable. On PROMPT_DONE the line (without newline)
 * moves into *out, which the caller then owns. */
enum prompt_status prompt_read(struct prompt *p, struct secret *out);
/* Ends the prompt, restores echo, wipes partial input. Safe when idle. */
void prompt_stop(struct prompt *p);

#endif
