#include "prompt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"

/* The longest passphrase accepted at the prompt: cryptsetup's own limit
 * for typed passphrases. The tty's line buffer (4095 bytes in canonical
 * mode) is longer, so a longer line really reaches us and is refused, not
 * cut short and tried. */
#define PROMPT_LINE_MAX 512

static void set_echo(int fd, bool on, bool *was_on)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return;
	if (was_on)
		*was_on = (t.c_lflag & ECHO) != 0;
	if (on)
		t.c_lflag |= ECHO;
	else
		t.c_lflag &= ~(tcflag_t)ECHO;
	/* Canonical mode stays on: the tty does line editing (backspace)
	 * and poll() wakes us only for a whole line. */
	t.c_lflag |= ICANON;
	tcsetattr(fd, TCSAFLUSH, &t);
}

int prompt_start(struct prompt *p, int fd, const char *text)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	int rc = secret_alloc(&p->line);
	if (rc < 0)
		return rc;
	set_echo(fd, false, &p->echo_was_on);
	/* Straight to the console: a prompt is not a log record. */
	dprintf(fd == 0 ? 1 : fd, "\n%s", text);
	p->active = true;
	return 0;
}

void prompt_stop(struct prompt *p)
{
	if (!p->active)
		return;
	if (p->echo_was_on)
		set_echo(p->fd, true, NULL);
	dprintf(p->fd == 0 ? 1 : p->fd, "\n");
	secret_free(&p->line);
	p->active = false;
}

/* Takes bytes from chunk up to a newline. Returns 1 when the line ended. */
static int take(struct prompt *p, const char *chunk, size_t n, bool *too_long)
{
	for (size_t i = 0; i < n; i++) {
		char c = chunk[i];
		if (c == '\n' || c == '\r')
			return 1;
		if (p->discarding)
			continue;
		if (p->line.len >= PROMPT_LINE_MAX) {
			p->discarding = true;
			*too_long = true;
			continue;
		}
		p->line.buf[p->line.len++] = c;
	}
	return 0;
}

enum prompt_status prompt_read(struct prompt *p, struct secret *out)
{
	char chunk[512];
	ssize_t n = read(p->fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? PROMPT_MORE
							 : PROMPT_EOF;
	if (n == 0)
		return PROMPT_EOF;
	bool too_long = p->discarding;
	int ended = take(p, chunk, (size_t)n, &too_long);
	explicit_bzero(chunk, sizeof(chunk));
	if (!ended)
		return PROMPT_MORE;
	if (too_long) {
		log_err("passphrase longer than %d bytes; ignored, asking again",
			PROMPT_LINE_MAX);
		p->line.len = 0;
		p->discarding = false;
		return PROMPT_ERROR;
	}
	*out = p->line;
	p->line.buf = NULL;
	p->line.len = 0;
	prompt_stop(p);
	return PROMPT_DONE;
}
