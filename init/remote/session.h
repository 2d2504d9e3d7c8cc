/* Unlock sessions from another machine. Every SSH session runs the unlock
 * client (client.h), which connects to PID 1 here. A session is one more
 * place where the person may be: it is shown the open question and every
 * line of /init's log, and its answer to a passphrase question counts as
 * a console's would. Only a passphrase may be given from afar: the
 * failure's choices (a shell, a reboot) are left to the machine's own
 * consoles. */
#ifndef LUKSINIT_SESSION_H
#define LUKSINIT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/secret.h"
#include "loop/loop.h"

/* At most this many sessions at once; one more is told so and closed. */
#define REMOTE_SESSIONS_MAX 4
/* The unlock socket, in the abstract namespace (the leading NUL): it
 * needs no file, and it is gone the moment PID 1 closes it. */
#define REMOTE_SOCKET_NAME "luksinit-unlock"
#define REMOTE_NAME_MAX 16

struct remote_session {
	int fd;		 /* -1: free */
	bool discarding; /* skipping the rest of an over-long line */
	bool after_cr;	 /* "\r\n" ends one line, not two */
	bool ready;	 /* a whole line waits in line, not read meanwhile */
	struct secret line;
	char name[REMOTE_NAME_MAX]; /* "ssh-1" */
};

struct remote {
	int listen_fd; /* -1 when not serving */
	struct loop *loop;
	int next_id;
	struct remote_session s[REMOTE_SESSIONS_MAX];
	/* The question open on the consoles (the prompt's own text), and
	 * whether a session may answer it. */
	const char *question;
	bool answerable;
	/* The prompt's owner, told when a session has an answer. */
	loop_fd_fn on_answer;
	void *answer_ctx;
};

/* Fills a with the unlock socket's address; returns its length (an
 * abstract name is counted, not NUL-terminated). For PID 1 and the
 * client alike. */
socklen_t remote_socket_addr(struct sockaddr_un *a);

/* Listens on the unlock socket and serves it from the loop; sessions see
 * the log from now on. Returns 0 or -errno (nothing listens then). */
int remote_listen(struct remote *r, struct loop *l);
/* Says why to every session, closes them and the socket. Safe when idle. */
void remote_close(struct remote *r, const char *why);
bool remote_serving(const struct remote *r);

/* For the prompt (console/prompt.h). text stays alive until ask_end. */
void remote_ask(struct remote *r, const char *text, bool answerable);
void remote_ask_end(struct remote *r);
/* fn(ctx) when a session has a whole answer; NULL: nobody listens. */
void remote_on_answer(struct remote *r, loop_fd_fn fn, void *ctx);
/* Moves a session's answer into *out (the caller owns it) and names the
 * session in who. Returns true if there was one. */
bool remote_take(struct remote *r, struct secret *out, char *who, size_t size);
/* text to every session but the one named except (NULL: all). */
void remote_say(struct remote *r, const char *except, const char *text);

#endif
