/* A question on every console at once that never blocks the event loop:
 * each console reads its own line, the first complete answer wins. */
#ifndef LUKSINIT_PROMPT_H
#define LUKSINIT_PROMPT_H

#include <stdbool.h>

#include "common/secret.h"
#include "console/consoles.h"
#include "console/kmsghold.h"
#include "loop/loop.h"

#define PROMPT_TEXT_MAX 1280

enum prompt_status {
	PROMPT_MORE,  /* keep polling */
	PROMPT_DONE,  /* a line was entered; *out holds it */
	PROMPT_EOF,   /* no console gives input any more */
	PROMPT_ERROR, /* too long; the prompt was stopped */
};

struct prompt_tty {
	bool echo_was_on;
	bool discarding; /* skipping the rest of an over-long line */
	bool gone;	 /* gave EOF too often, or cannot be read */
	int eofs;
	struct secret line;
};

struct prompt {
	const struct consoles *cons;
	bool active;
	bool secret; /* echo off */
	struct prompt_tty tty[CONSOLES_MAX];
	int answered_on; /* the console of the last answer */
	char text[PROMPT_TEXT_MAX];
	struct kmsg_hold hold;
};

/* Shows text on every console and starts reading a line on each (echo
 * off when secret). Kernel messages are held back until it stops.
 * Returns 0, or -errno when no buffer could be locked. */
int prompt_start(struct prompt *p, const struct consoles *cons,
		 const char *text, bool secret);
/* Call when a console is readable. On PROMPT_DONE the line (without
 * newline) moves into *out, which the caller then owns, the prompt has
 * stopped and the other consoles were told where it was answered. */
enum prompt_status prompt_read(struct prompt *p, struct secret *out);
/* Ends the prompt, restores echo, wipes partial input. Safe when idle. */
void prompt_stop(struct prompt *p);
/* Has the loop watch every console still asked (fn(ctx) when one is
 * readable), and no other console. fn NULL: none. */
void prompt_watch(const struct prompt *p, struct loop *l, loop_fd_fn fn,
		  void *ctx);

#endif
