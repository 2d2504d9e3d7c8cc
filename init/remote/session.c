#include "remote/session.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"

/* The console prompt's limit (cryptsetup's for typed passphrases). */
#define REMOTE_LINE_MAX 512

/* The log's tap has no context pointer: one PID 1, one set of sessions. */
static struct remote *tapped;

/* Never waits: a session that takes nothing now (its SSH window full)
 * misses the text, as a console held by flow control would. MSG_NOSIGNAL:
 * a session gone must not raise SIGPIPE. */
static void send_text(const struct remote_session *s, const char *text)
{
	if (send(s->fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return;
}

static void say_question(const struct remote *r, const struct remote_session *s)
{
	if (!r->question)
		return;
	send_text(s, "\n");
	send_text(s, r->question);
}

/* Every line the consoles get, and the question after it again, as the
 * consoles show it (base/log.h: log_set_prompt). */
static void tap(const char *text, size_t n)
{
	struct remote *r = tapped;
	for (int i = 0; r && i < REMOTE_SESSIONS_MAX; i++) {
		const struct remote_session *s = &r->s[i];
		if (s->fd < 0)
			continue;
		if (r->question)
			send_text(s, "\n");
		if (send(s->fd, text, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			continue;
		say_question(r, s);
	}
}

static void session_end(struct remote *r, struct remote_session *s,
			const char *why)
{
	if (why)
		send_text(s, why);
	loop_unwatch(r->loop, s->fd);
	close(s->fd);
	secret_free(&s->line);
	char name[REMOTE_NAME_MAX];
	memcpy(name, s->name, sizeof(name));
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	log_info("unlock session %s closed", name);
}

static void on_session_input(void *ctx, short revents);

static void session_watch(struct remote *r, struct remote_session *s)
{
	loop_unwatch(r->loop, s->fd);
	if (!s->ready &&
	    loop_watch(r->loop, s->fd, POLLIN, on_session_input, r) < 0)
		session_end(
			r, s,
			"luksinit: cannot serve this session now; try again\n");
}

static struct remote_session *session_of_fd(struct remote *r, int fd)
{
	for (int i = 0; i < REMOTE_SESSIONS_MAX; i++)
		if (r->s[i].fd == fd)
			return &r->s[i];
	return NULL;
}

/* A whole line: an answer if a passphrase is asked for, else dropped. */
static void line_ended(struct remote *r, struct remote_session *s)
{
	const char *refused = NULL;
	if (s->discarding)
		refused = "\nluksinit: longer than 512 bytes; ignored\n";
	else if (!r->question)
		refused =
			"\nluksinit: nothing is asked now; wait for the question\n";
	else if (!r->answerable)
		refused =
			"\nluksinit: only the machine's console answers this\n";
	s->discarding = false;
	if (refused) {
		explicit_bzero(s->line.buf, s->line.len);
		s->line.len = 0;
		send_text(s, refused);
		say_question(r, s);
		return;
	}
	s->ready = true;
	session_watch(r, s);
	send_text(s, "\n");
	if (r->on_answer)
		r->on_answer(r->answer_ctx, POLLIN);
}

/* Takes bytes up to the end of a line. Returns how many were used. */
static size_t take(struct remote_session *s, const char *chunk, size_t n,
		   bool *ended)
{
	for (size_t i = 0; i < n; i++) {
		char c = chunk[i];
		bool lf_after_cr = c == '\n' && s->after_cr;
		s->after_cr = c == '\r';
		if (lf_after_cr)
			continue;
		if (c == '\n' || c == '\r') {
			*ended = true;
			return i + 1;
		}
		if (s->discarding || !s->line.buf)
			continue;
		if (s->line.len >= REMOTE_LINE_MAX) {
			s->discarding = true;
			continue;
		}
		s->line.buf[s->line.len++] = c;
	}
	return n;
}

static void on_session_input(void *ctx, short revents)
{
	(void)revents;
	struct remote *r = ctx;
	for (int i = 0; i < REMOTE_SESSIONS_MAX; i++) {
		struct remote_session *s = &r->s[i];
		if (s->fd < 0 || s->ready)
			continue;
		char chunk[512];
		ssize_t n = recv(s->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			/* What it had typed is wiped with it. */
			session_end(r, s, NULL);
			continue;
		}
		size_t at = 0;
		/* The answer's owner may have ended the session meanwhile. */
		while (at < (size_t)n && !s->ready && s->fd >= 0) {
			bool ended = false;
			at += take(s, chunk + at, (size_t)n - at, &ended);
			if (ended)
				line_ended(r, s);
		}
		/* Typed ahead of an answer not yet taken: dropped. */
		explicit_bzero(chunk, sizeof(chunk));
	}
}

/* Only PID 1's own kind may connect: dropbear's sessions run as root. */
static bool peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	       cred.uid == 0;
}

static void session_start(struct remote *r, int fd)
{
	struct remote_session *s = session_of_fd(r, -1);
	if (!s) {
		send(fd,
		     "luksinit: too many unlock sessions; try again later\n",
		     52, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	snprintf(s->name, sizeof(s->name), "ssh-%d", ++r->next_id);
	/* Said on the consoles before the session joins the log's tap: the
	 * person at the machine sees that someone came in from afar. */
	log_info("unlock session %s opened", s->name);
	s->fd = fd;
	if (secret_alloc(&s->line) < 0) {
		session_end(r, s, "luksinit: cannot lock memory; try again\n");
		return;
	}
	char hello[64];
	snprintf(hello, sizeof(hello), "luksinit: unlock session %s\n",
		 s->name);
	send_text(s, hello);
	say_question(r, s);
	session_watch(r, s);
}

static void on_listen(void *ctx, short revents)
{
	(void)revents;
	struct remote *r = ctx;
	for (int k = 0; k < REMOTE_SESSIONS_MAX + 1; k++) {
		int fd = accept4(r->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!peer_is_root(fd)) {
			close(fd);
			continue;
		}
		session_start(r, fd);
	}
}

socklen_t remote_socket_addr(struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	size_t n = strlen(REMOTE_SOCKET_NAME);
	memcpy(a->sun_path + 1, REMOTE_SOCKET_NAME, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

int remote_listen(struct remote *r, struct loop *l)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < REMOTE_SESSIONS_MAX; i++)
		r->s[i].fd = -1;
	r->loop = l;
	r->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0)
		return -errno;
	struct sockaddr_un a;
	socklen_t len = remote_socket_addr(&a);
	int rc = 0;
	if (bind(r->listen_fd, (struct sockaddr *)&a, len) < 0 ||
	    listen(r->listen_fd, REMOTE_SESSIONS_MAX) < 0)
		rc = -errno;
	else
		rc = loop_watch(l, r->listen_fd, POLLIN, on_listen, r);
	if (rc < 0) {
		close(r->listen_fd);
		r->listen_fd = -1;
		return rc;
	}
	tapped = r;
	log_set_tap(tap);
	return 0;
}

bool remote_serving(const struct remote *r)
{
	return r && r->listen_fd >= 0;
}

void remote_close(struct remote *r, const char *why)
{
	if (!remote_serving(r))
		return;
	log_set_tap(NULL);
	tapped = NULL;
	loop_unwatch(r->loop, r->listen_fd);
	close(r->listen_fd);
	r->listen_fd = -1;
	for (int i = 0; i < REMOTE_SESSIONS_MAX; i++)
		if (r->s[i].fd >= 0)
			session_end(r, &r->s[i], why);
}

void remote_ask(struct remote *r, const char *text, bool answerable)
{
	if (!remote_serving(r))
		return;
	r->question = text;
	r->answerable = answerable;
	for (int i = 0; i < REMOTE_SESSIONS_MAX; i++)
		if (r->s[i].fd >= 0)
			say_question(r, &r->s[i]);
}

void remote_ask_end(struct remote *r)
{
	if (!remote_serving(r) || !r->question)
		return;
	r->question = NULL;
	r->answerable = false;
	remote_say(r, NULL, "\n");
	/* An answer not taken in time (a console's came first) is void, and
	 * so is what was half typed: it must not begin the next answer. */
	for (int i = 0; i < REMOTE_SESSIONS_MAX; i++) {
		struct remote_session *s = &r->s[i];
		if (s->fd < 0)
			continue;
		explicit_bzero(s->line.buf, s->line.len);
		s->line.len = 0;
		s->discarding = false;
		if (s->ready) {
			s->ready = false;
			session_watch(r, s);
		}
	}
}

void remote_on_answer(struct remote *r, loop_fd_fn fn, void *ctx)
{
	if (!remote_serving(r))
		return;
	r->on_answer = fn;
	r->answer_ctx = ctx;
}

bool remote_take(struct remote *r, struct secret *out, char *who, size_t size)
{
	for (int i = 0; remote_serving(r) && i < REMOTE_SESSIONS_MAX; i++) {
		struct remote_session *s = &r->s[i];
		if (s->fd < 0 || !s->ready)
			continue;
		secret_move(out, &s->line);
		str_copy(who, size, s->name);
		s->ready = false;
		if (secret_alloc(&s->line) < 0)
			session_end(r, s,
				    "luksinit: cannot lock memory; closing\n");
		else
			session_watch(r, s);
		return true;
	}
	return false;
}

void remote_say(struct remote *r, const char *except, const char *text)
{
	for (int i = 0; remote_serving(r) && i < REMOTE_SESSIONS_MAX; i++) {
		const struct remote_session *s = &r->s[i];
		if (s->fd >= 0 && !(except && strcmp(except, s->name) == 0))
			send_text(s, text);
	}
}
