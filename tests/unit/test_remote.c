/* Unlock sessions (remote/session.c) and the unlock client
 * (remote/client.c), over the real abstract socket, in a network
 * namespace of the test's own (the name is global per namespace). The
 * loop is driven here: poll its watches, call their handlers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "check.h"
#include "common/secret.h"
#include "console/prompt.h"
#include "loop/loop.h"
#include "remote/client.h"
#include "remote/session.h"

static struct loop l;
static int answers;

static void on_answer(void *ctx, short revents)
{
	(void)ctx;
	(void)revents;
	answers++;
}

static void setup(struct remote *r)
{
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < LOOP_WATCH_MAX; i++)
		l.watch[i].fd = -1;
	answers = 0;
	log_set_fds(-1, -1);
	CHECK(remote_listen(r, &l) == 0);
	remote_on_answer(r, on_answer, NULL);
}

/* One round of the loop's watches, waiting at most ms for the first. */
static void dispatch(int ms)
{
	struct pollfd p[LOOP_WATCH_MAX];
	for (int i = 0; i < LOOP_WATCH_MAX; i++)
		p[i] = (struct pollfd){.fd = l.watch[i].fd, .events = POLLIN};
	if (poll(p, LOOP_WATCH_MAX, ms) <= 0)
		return;
	for (int i = 0; i < LOOP_WATCH_MAX; i++) {
		struct loop_watch w = l.watch[i];
		if (w.fd >= 0 && w.fd == p[i].fd && p[i].revents)
			w.fn(w.ctx, p[i].revents);
	}
}

static int connect_session(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a;
	socklen_t len = remote_socket_addr(&a);
	CHECK(connect(fd, (struct sockaddr *)&a, len) == 0);
	dispatch(1000); /* accepted */
	return fd;
}

/* What the session was sent so far (waits up to 1 s for something). */
static const char *heard(int fd)
{
	static char buf[8192];
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (n < sizeof(buf) - 1 && poll(&p, 1, n ? 50 : 1000) > 0) {
		ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return buf;
}

static void in_own_network(void)
{
	static bool done;
	if (!done)
		CHECK(unshare(CLONE_NEWNET) == 0);
	done = true;
}

static void session_answers_a_passphrase_question(void)
{
	in_own_network();
	static struct remote r;
	setup(&r);
	int s = connect_session();
	CHECK(strstr(heard(s), "unlock session ssh-1") != NULL);
	remote_ask(&r, "Passphrase for 3 encrypted disks: ", true);
	CHECK(strstr(heard(s), "Passphrase for 3 encrypted disks: ") != NULL);
	/* Two lines in one write, the first ended by "\r\n": one answer,
	 * the rest is not read while it waits. */
	CHECK(write(s, "sesame\r\nmore\n", 13) == 13);
	dispatch(1000);
	CHECK(answers == 1);
	struct secret out = {0};
	char who[REMOTE_NAME_MAX];
	CHECK(remote_take(&r, &out, who, sizeof(who)));
	CHECK(out.len == 6 && memcmp(out.buf, "sesame", 6) == 0);
	CHECK_STR(who, "ssh-1");
	secret_free(&out);
	CHECK(!remote_take(&r, &out, who, sizeof(who)));
	/* The log reaches the session, the question shown again after it. */
	log_info("luks-a unlocked");
	const char *t = heard(s);
	CHECK(strstr(t, "luks-a unlocked") != NULL);
	CHECK(strstr(strstr(t, "luks-a unlocked"), "Passphrase for 3") != NULL);
	remote_close(&r, "bye\n");
	CHECK(strstr(heard(s), "bye") != NULL);
	char c;
	CHECK(read(s, &c, 1) == 0); /* closed */
	close(s);
}

static void session_lines_refused_but_never_taken(void)
{
	in_own_network();
	static struct remote r;
	setup(&r);
	int s = connect_session();
	heard(s);
	CHECK(write(s, "early\n", 6) == 6);
	dispatch(1000);
	CHECK(strstr(heard(s), "nothing is asked now") != NULL);
	remote_ask(&r, "Press r + Enter to retry: ", false);
	heard(s);
	CHECK(write(s, "s\n", 2) == 2);
	dispatch(1000);
	CHECK(strstr(heard(s), "only the machine's console answers") != NULL);
	remote_ask_end(&r);
	remote_ask(&r, "Passphrase: ", true);
	heard(s);
	char longline[700];
	memset(longline, 'x', sizeof(longline));
	longline[sizeof(longline) - 1] = '\n';
	CHECK(write(s, longline, sizeof(longline)) == sizeof(longline));
	dispatch(1000);
	dispatch(50);
	CHECK(strstr(heard(s), "longer than 512 bytes; ignored") != NULL);
	struct secret out = {0};
	char who[REMOTE_NAME_MAX];
	CHECK(answers == 0 && !remote_take(&r, &out, who, sizeof(who)));
	/* Typed without Enter, then gone: never an answer. */
	CHECK(write(s, "half", 4) == 4);
	close(s);
	dispatch(1000);
	dispatch(50);
	CHECK(answers == 0 && !remote_take(&r, &out, who, sizeof(who)));
	CHECK(r.s[0].fd == -1);
	remote_close(&r, NULL);
}

static void fifth_session_turned_away(void)
{
	in_own_network();
	static struct remote r;
	setup(&r);
	int s[REMOTE_SESSIONS_MAX + 1];
	for (int i = 0; i < REMOTE_SESSIONS_MAX + 1; i++)
		s[i] = connect_session();
	CHECK(strstr(heard(s[REMOTE_SESSIONS_MAX]),
		     "too many unlock sessions"));
	char c;
	CHECK(read(s[REMOTE_SESSIONS_MAX], &c, 1) == 0);
	CHECK(strstr(heard(s[0]), "ssh-1") != NULL);
	for (int i = 0; i < REMOTE_SESSIONS_MAX + 1; i++)
		close(s[i]);
	remote_close(&r, NULL);
}

/* The client run as dropbear runs it: stdin and stdout are pipes, and
 * a command the other machine asked for comes as arguments, ignored. */
static void client_relays_until_closed(void)
{
	in_own_network();
	static struct remote r;
	setup(&r);
	remote_ask(&r, "Passphrase: ", true);
	int in[2], out[2];
	CHECK(pipe(in) == 0 && pipe(out) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		_exit(unlock_client_main());
	}
	close(in[0]);
	close(out[1]);
	dispatch(2000); /* accepted */
	CHECK(strstr(heard(out[0]), "Passphrase: ") != NULL);
	CHECK(write(in[1], "pw\n", 3) == 3);
	close(in[1]); /* input ends; the session stays for the progress */
	for (int i = 0; i < 20 && !answers; i++)
		dispatch(100);
	struct secret got = {0};
	char who[REMOTE_NAME_MAX];
	CHECK(remote_take(&r, &got, who, sizeof(who)));
	CHECK(got.len == 2 && memcmp(got.buf, "pw", 2) == 0);
	secret_free(&got);
	remote_ask_end(&r);
	log_info("root mounted");
	CHECK(strstr(heard(out[0]), "root mounted") != NULL);
	remote_close(&r, "closing this session\n");
	CHECK(strstr(heard(out[0]), "closing this session") != NULL);
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(out[0]);
}

/* Half typed when the question ended (a console answered): wiped, not
 * the start of the next answer. */
static void half_typed_line_void_when_the_question_ends(void)
{
	in_own_network();
	static struct remote r;
	setup(&r);
	int s = connect_session();
	remote_ask(&r, "Passphrase: ", true);
	heard(s);
	CHECK(write(s, "stale", 5) == 5);
	dispatch(1000);
	remote_ask_end(&r);
	remote_ask(&r, "Passphrase: ", true);
	CHECK(write(s, "new\n", 4) == 4);
	dispatch(1000);
	struct secret out = {0};
	char who[REMOTE_NAME_MAX];
	CHECK(remote_take(&r, &out, who, sizeof(who)));
	CHECK(out.len == 3 && memcmp(out.buf, "new", 3) == 0);
	secret_free(&out);
	close(s);
	remote_close(&r, NULL);
}

/* Only root's processes may connect: another user's is closed unheard. */
static void session_from_another_user_refused(void)
{
	in_own_network();
	static struct remote r;
	setup(&r);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un a;
		socklen_t len = remote_socket_addr(&a);
		if (connect(fd, (struct sockaddr *)&a, len) < 0)
			_exit(3);
		char buf[64];
		ssize_t n = read(fd, buf, sizeof(buf));
		_exit(n == 0 ? 0 : 1); /* closed without a word */
	}
	close(sv[1]);
	for (int i = 0; i < 20; i++)
		dispatch(100);
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(r.s[0].fd == -1 && r.next_id == 0);
	close(sv[0]);
	remote_close(&r, NULL);
}

/* With no console, sessions are asked for a passphrase, but the failure's
 * choices have nobody to answer them: the prompt says so at once (the
 * emergency path then retries on its own) instead of waiting for ever. */
static void no_console_only_a_passphrase_goes_to_sessions(void)
{
	in_own_network();
	static struct remote r;
	setup(&r);
	struct consoles none = {.n = 0, .remote = &r};
	static struct prompt p;
	CHECK(prompt_start(&p, &none, "Press r + Enter to retry: ", false) ==
	      -ENOTTY);
	CHECK(prompt_start(&p, &none, "Passphrase: ", true) == 0);
	struct secret line = {0};
	CHECK(prompt_read(&p, &line) == PROMPT_MORE); /* not given up */
	prompt_stop(&p);
	remote_close(&r, NULL);
}

static void client_known_by_its_name(void)
{
	CHECK(unlock_client_called("/bin/luksinit-unlock"));
	CHECK(unlock_client_called("-luksinit-unlock"));
	CHECK(unlock_client_called("luksinit-unlock"));
	CHECK(!unlock_client_called("/init"));
	CHECK(!unlock_client_called("luksinit-unlocked"));
	CHECK(!unlock_client_called(NULL));
}

void remote_tests(void)
{
	RUN(session_answers_a_passphrase_question);
	RUN(session_lines_refused_but_never_taken);
	RUN(fifth_session_turned_away);
	RUN(client_relays_until_closed);
	RUN(half_typed_line_void_when_the_question_ends);
	RUN(session_from_another_user_refused);
	RUN(no_console_only_a_passphrase_goes_to_sessions);
	RUN(client_known_by_its_name);
}
