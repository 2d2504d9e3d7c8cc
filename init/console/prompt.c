#include "console/prompt.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "remote/session.h"

/* The longest passphrase accepted at the prompt: cryptsetup's own limit
 * for typed passphrases. The tty's line buffer (4095 bytes in canonical
 * mode) is longer, so a longer line really reaches us and is refused, not
 * cut short and tried. */
#define PROMPT_LINE_MAX 512
/* Ctrl-D asks again; a console that only ever says EOF (a hung-up line)
 * is left out after this many, so it cannot spin. */
#define PROMPT_EOFS_MAX 5

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
	 * and poll() wakes us only for a whole line. TCSANOW: TCSAFLUSH
	 * would first wait, without a bound, for output a console held by
	 * flow control never sends; typed-ahead input goes all the same. */
	t.c_lflag |= ICANON;
	tcsetattr(fd, TCSANOW, &t);
	tcflush(fd, TCIFLUSH);
}

static void say(const struct prompt *p, int i, const char *text)
{
	/* Straight to the console: a prompt is not a log record. A console
	 * that takes nothing now (flow control) must not stop PID 1. */
	if (write(p->cons->fd[i], text, strlen(text)) < 0)
		return;
}

static void tty_stop(struct prompt *p, int i)
{
	struct prompt_tty *t = &p->tty[i];
	if (p->secret && t->echo_was_on)
		set_echo(p->cons->fd[i], true, NULL);
	secret_free(&t->line);
}

int prompt_start(struct prompt *p, const struct consoles *cons,
		 const char *text, bool secret)
{
	memset(p, 0, sizeof(*p));
	/* A machine without a console may still be given a passphrase over
	 * SSH; nothing else (remote/session.h). */
	if (!cons ||
	    (cons->n == 0 && !(secret && remote_serving(cons->remote))))
		return -ENOTTY;
	p->cons = cons;
	p->secret = secret;
	p->answered_on = -1;
	p->hold.fd = -1;
	/* Names in the question come from devices (a LUKS UUID): no
	 * escape sequence of theirs may reach a terminal. */
	str_escape_controls(p->text, sizeof(p->text), text);
	for (int i = 0; i < cons->n; i++) {
		int rc = secret_alloc(&p->tty[i].line);
		if (rc < 0) {
			for (int j = 0; j < i; j++)
				secret_free(&p->tty[j].line);
			return rc;
		}
	}
	for (int i = 0; i < cons->n; i++) {
		if (secret)
			set_echo(cons->fd[i], false, &p->tty[i].echo_was_on);
		else
			set_echo(cons->fd[i], true, NULL);
	}
	kmsg_hold_start(&p->hold);
	for (int i = 0; i < cons->n; i++) {
		say(p, i, "\n");
		say(p, i, p->text);
	}
	log_set_prompt(p->text);
	/* Only a passphrase may be given from afar (remote/session.h). */
	remote_ask(cons->remote, p->text, secret);
	p->active = true;
	return 0;
}

void prompt_stop(struct prompt *p)
{
	if (!p->active)
		return;
	log_set_prompt(NULL);
	for (int i = 0; i < p->cons->n; i++) {
		tty_stop(p, i);
		say(p, i, "\n");
	}
	remote_ask_end(p->cons->remote);
	p->active = false;
	kmsg_hold_end(&p->hold);
}

void prompt_watch(const struct prompt *p, struct loop *l, loop_fd_fn fn,
		  void *ctx)
{
	const struct consoles *c = l->consoles;
	for (int i = 0; c && i < c->n; i++) {
		loop_unwatch(l, c->fd[i]);
		if (fn && p->active && p->cons == c && !p->tty[i].gone)
			loop_watch(l, c->fd[i], POLLIN, fn, ctx);
	}
	if (c) {
		bool asked = fn && p->active && p->cons == c;
		remote_on_answer(c->remote, asked ? fn : NULL, ctx);
	}
}

/* Takes bytes from chunk up to a newline. Returns 1 when the line ended. */
static int take(struct prompt_tty *t, const char *chunk, size_t n,
		bool *too_long)
{
	for (size_t i = 0; i < n; i++) {
		char c = chunk[i];
		if (c == '\n' || c == '\r')
			return 1;
		if (t->discarding)
			continue;
		if (t->line.len >= PROMPT_LINE_MAX) {
			t->discarding = true;
			*too_long = true;
			continue;
		}
		t->line.buf[t->line.len++] = c;
	}
	return 0;
}

static bool all_gone(const struct prompt *p)
{
	if (p->secret && remote_serving(p->cons->remote))
		return false;
	for (int i = 0; i < p->cons->n; i++)
		if (!p->tty[i].gone)
			return false;
	return true;
}

/* EOF on one console: Ctrl-D on a terminal asks again there; a console
 * that keeps saying it is left out. */
static void on_eof(struct prompt *p, int i)
{
	struct prompt_tty *t = &p->tty[i];
	t->line.len = 0;
	t->discarding = false;
	if (++t->eofs >= PROMPT_EOFS_MAX) {
		t->gone = true;
		log_warn("console %s gives no input; no longer asking there",
			 p->cons->name[i]);
		return;
	}
	log_notice("empty input (Ctrl-D); asking again");
}

/* winner: a console's index, or -1 for the session named who. */
static void tell_others(struct prompt *p, int winner, const char *who)
{
	char note[CONSOLE_NAME_MAX + REMOTE_NAME_MAX + 32];
	snprintf(note, sizeof(note), "\n(answered on %s)",
		 winner >= 0 ? p->cons->name[winner] : who);
	for (int i = 0; i < p->cons->n; i++)
		if (i != winner && !p->tty[i].gone)
			say(p, i, note);
	remote_say(p->cons->remote, winner >= 0 ? NULL : who, note);
}

/* One console's input. Returns PROMPT_DONE with the line in *out. */
static enum prompt_status read_tty(struct prompt *p, int i, struct secret *out)
{
	struct prompt_tty *t = &p->tty[i];
	char chunk[512];
	ssize_t n = read(p->cons->fd[i], chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return PROMPT_MORE;
	if (n <= 0) {
		on_eof(p, i);
		return PROMPT_MORE;
	}
	bool too_long = t->discarding;
	int ended = take(t, chunk, (size_t)n, &too_long);
	explicit_bzero(chunk, sizeof(chunk));
	if (!ended)
		return PROMPT_MORE;
	if (too_long) {
		t->line.len = 0;
		t->discarding = false;
		return PROMPT_ERROR;
	}
	secret_move(out, &t->line);
	return PROMPT_DONE;
}

enum prompt_status prompt_read(struct prompt *p, struct secret *out)
{
	for (int i = 0; p->active && i < p->cons->n; i++) {
		if (p->tty[i].gone)
			continue;
		switch (read_tty(p, i, out)) {
		case PROMPT_MORE:
			break;
		case PROMPT_DONE:
			p->answered_on = i;
			tell_others(p, i, NULL);
			prompt_stop(p);
			return PROMPT_DONE;
		case PROMPT_ERROR:
			/* Stopped first: the message must not show the
			 * question again just before it is closed. */
			prompt_stop(p);
			log_err("%s longer than %d bytes; ignored, asking again",
				p->secret ? "passphrase" : "answer",
				PROMPT_LINE_MAX);
			return PROMPT_ERROR;
		case PROMPT_EOF:
			break;
		}
	}
	char who[REMOTE_NAME_MAX];
	if (p->active && p->secret &&
	    remote_take(p->cons->remote, out, who, sizeof(who))) {
		p->answered_on = -1;
		tell_others(p, -1, who);
		prompt_stop(p);
		return PROMPT_DONE;
	}
	return p->active && all_gone(p) ? PROMPT_EOF : PROMPT_MORE;
}
