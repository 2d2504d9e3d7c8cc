#include "passin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* What the terminal is told is cosmetic: a failed write changes nothing. */
static void tty_say(int fd, const char *text)
{
	ssize_t n = write(fd, text, strlen(text));
	(void)n;
}

static int read_tty(struct secret *pass, int fd)
{
	while (pass->len < SECRET_MAX) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || c == '\n' || c == '\r')
			return 0;
		pass->buf[pass->len++] = c;
	}
	return -E2BIG;
}

int passin_read(struct secret *pass, const char *keyfile, const char *prompt)
{
	if (keyfile) {
		int rc = secret_read_file(pass, keyfile);
		if (rc < 0)
			fprintf(stderr,
				"%s: cannot read the key file (a regular file of 1 to %d bytes): %s\n",
				keyfile, SECRET_MAX, strerror(-rc));
		return rc;
	}
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		fprintf(stderr,
			"no terminal to ask the passphrase on (%s); use --key-file FILE\n",
			strerror(-rc));
		return rc;
	}
	struct termios old, quiet;
	int rc = tcgetattr(fd, &old);
	if (rc == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		rc = tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (rc < 0) {
		rc = -errno;
		fprintf(stderr, "cannot turn off echo on the terminal: %s\n",
			strerror(-rc));
		close(fd);
		return rc;
	}
	tty_say(fd, prompt);
	rc = secret_alloc(pass);
	if (rc == 0)
		rc = read_tty(pass, fd);
	tcsetattr(fd, TCSAFLUSH, &old);
	tty_say(fd, "\n");
	close(fd);
	if (rc == 0 && pass->len == 0)
		rc = -ENODATA;
	if (rc < 0) {
		secret_free(pass);
		fprintf(stderr, "no passphrase read: %s\n",
			rc == -ENODATA ? "it was empty" : strerror(-rc));
	}
	return rc;
}
