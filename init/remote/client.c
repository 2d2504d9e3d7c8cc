#include "remote/client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "remote/session.h"

static struct termios saved;
static bool echo_off;

bool unlock_client_called(const char *argv0)
{
	if (!argv0)
		return false;
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (base[0] == '-')
		base++;
	return strcmp(base, "luksinit-unlock") == 0;
}

static void say(const char *text)
{
	if (write(STDOUT_FILENO, text, strlen(text)) < 0)
		return;
}

/* What is typed is a passphrase: never shown on the remote screen. */
static void terminal_quiet(void)
{
	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	struct termios t = saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ICANON;
	echo_off = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
}

static void terminal_restore(void)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	echo_off = false;
}

static void on_signal(int sig)
{
	terminal_restore();
	_exit(128 + sig);
}

static int connect_pid1(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un a;
	socklen_t len = remote_socket_addr(&a);
	if (connect(fd, (struct sockaddr *)&a, len) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Copies what one read gives from one fd to the other. Returns false at
 * the end of the input (or an error). */
static bool relay(int from, int to, char *buf, size_t size)
{
	ssize_t n = read(from, buf, size);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	for (ssize_t done = 0; done < n;) {
		ssize_t w = write(to, buf + done, (size_t)(n - done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		done += w;
	}
	return true;
}

/* Relays until PID 1 closes the session (the hand-over), or the person's
 * side is gone: output nobody reads (the connection dropped). Input that
 * ends early (a script's one line) leaves the session open, to show the
 * progress. What was typed without a newline is never an answer: PID 1
 * wipes it when the session ends. */
static void serve(int sock)
{
	char buf[1024];
	bool typing = true;
	for (;;) {
		struct pollfd p[3] = {
			{.fd = sock, .events = POLLIN},
			{.fd = typing ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = STDOUT_FILENO, .events = 0},
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents &&
		    !relay(sock, STDOUT_FILENO, buf, sizeof(buf)))
			break;
		if (p[1].revents &&
		    !relay(STDIN_FILENO, sock, buf, sizeof(buf)))
			typing = false;
		explicit_bzero(buf, sizeof(buf));
		if (p[2].revents & (POLLERR | POLLHUP))
			break;
	}
}

int unlock_client_main(void)
{
	/* What passes through here is a passphrase: never to swap. */
	mlockall(MCL_CURRENT | MCL_FUTURE);
	signal(SIGPIPE, SIG_IGN);
	int sock = connect_pid1();
	if (sock < 0) {
		say("luksinit: nothing to unlock here: the boot is not waiting for a passphrase\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	terminal_quiet();
	serve(sock);
	terminal_restore();
	close(sock);
	return 0;
}
