#include "base/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/strutil.h"

#define LOG_LINE_MAX 1024
#define LOG_TAG "luksinit: "

struct log_console {
	int fd;
	/* Lines this console could not take (a serial line held by flow
	 * control): PID 1 must not block on it. */
	unsigned dropped;
};

struct log_sinks {
	struct log_console console[LOG_CONSOLES_MAX];
	int nconsoles;
	int kmsg_fd;
	enum log_level console_max;
	void (*tap)(const char *text, size_t n);
	int kernel_console_level;
	int debug;
	/* The question open on every console, shown again below each line
	 * we print, so that it stays the last thing there. */
	const char *prompt;
};

/* The one piece of file-scope state: logging must work from every layer,
 * including before the configuration is parsed. */
static struct log_sinks sinks = {
	.console = {{.fd = 2}},
	.nconsoles = 1,
	.kmsg_fd = -1,
	.console_max = LOG_LVL_INFO,
	.kernel_console_level = 0,
	.debug = 0,
};

void log_set_fds(int console_fd, int kmsg_fd)
{
	log_set_consoles(&console_fd, console_fd >= 0 ? 1 : 0);
	sinks.kmsg_fd = kmsg_fd;
}

void log_set_consoles(const int *fds, int n)
{
	if (n > LOG_CONSOLES_MAX)
		n = LOG_CONSOLES_MAX;
	memset(sinks.console, 0, sizeof(sinks.console));
	for (int i = 0; i < n; i++)
		sinks.console[i].fd = fds[i];
	sinks.nconsoles = n;
}

void log_set_prompt(const char *text)
{
	sinks.prompt = text;
}

void log_set_tap(void (*fn)(const char *text, size_t n))
{
	sinks.tap = fn;
}

void log_set_console_level(enum log_level max)
{
	sinks.console_max = max;
}

void log_set_kernel_console_level(int level)
{
	sinks.kernel_console_level = level;
}

void log_set_debug(int on)
{
	sinks.debug = on;
}

size_t log_format_kmsg(char *buf, size_t size, enum log_level lvl,
		       const char *fmt, va_list ap)
{
	if (size < 16)
		return 0;
	int head = snprintf(buf, size, "<%d>" LOG_TAG, (int)lvl);
	if (head < 0 || (size_t)head >= size)
		return 0;
	/* The analyzer of clang 14 loses track of a va_list started by the
	 * caller. */
	char body[LOG_LINE_MAX];
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	int n = vsnprintf(body, sizeof(body), fmt, ap);
	if (n < 0)
		body[0] = '\0';
	/* One record per line: a newline inside a message would forge a
	 * second record in kmsg, so flatten it. Other control bytes (from a
	 * LUKS header, a device, a firmware name) could drive the terminal:
	 * they are escaped. The newline and the NUL stay outside room. */
	for (char *p = body; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	size_t room = size - (size_t)head - 1;
	bool whole = str_escape_controls(buf + head, room, body) && n >= 0 &&
		     (size_t)n < sizeof(body);
	size_t len = strlen(buf);
	if (!whole && room > 4) {
		if (len + 3 > size - 2)
			len = size - 2 - 3;
		memcpy(buf + len, "...", 3);
		len += 3;
	}
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Console fds are non-blocking: a line one cannot take now is dropped
 * (kmsg has it), and the next line that gets through says how many. */
static void console_write(struct log_console *c, const char *text, size_t n)
{
	if (c->dropped) {
		char note[96];
		int k = snprintf(note, sizeof(note),
				 LOG_TAG "(%u lines not shown: the console "
					 "took no output)\n",
				 c->dropped);
		if (k > 0 && write_all(c->fd, note, (size_t)k) < 0)
			goto dropped;
		c->dropped = 0;
	}
	if (write_all(c->fd, text, n) == 0)
		return;
dropped:
	c->dropped++;
}

/* The prompt line is left open (the cursor after the question): a line
 * printed now starts below it, and the question follows again. */
static void consoles_write(const char *text, size_t n)
{
	for (int i = 0; i < sinks.nconsoles; i++) {
		struct log_console *c = &sinks.console[i];
		if (sinks.prompt)
			write_all(c->fd, "\n", 1);
		console_write(c, text, n);
		if (sinks.prompt)
			write_all(c->fd, sinks.prompt, strlen(sinks.prompt));
	}
}

void log_console_text(const char *text)
{
	consoles_write(text, strlen(text));
}

unsigned log_console_dropped(void)
{
	unsigned n = 0;
	for (int i = 0; i < sinks.nconsoles; i++)
		n += sinks.console[i].dropped;
	return n;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	int saved = errno;
	if (lvl == LOG_LVL_DEBUG && !sinks.debug) {
		errno = saved;
		return;
	}
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	size_t len = log_format_kmsg(line, sizeof(line), lvl, fmt, ap);
	va_end(ap);
	if (len == 0) {
		errno = saved;
		return;
	}
	/* PID 1 has one thread (work that blocks runs in children that do
	 * not log, loop/job.h): lines never interleave. kmsg takes one record per write(), so the whole line at once. */
	int in_kmsg = sinks.kmsg_fd >= 0 &&
		      write(sinks.kmsg_fd, line, len) == (ssize_t)len;
	int kernel_echoed = in_kmsg && (int)lvl < sinks.kernel_console_level;
	int wanted = lvl <= sinks.console_max || sinks.debug;
	/* The consoles get the text without the "<N>" prefix. */
	const char *text = strchr(line, '>') + 1;
	size_t n = len - (size_t)(text - line);
	if (wanted && !kernel_echoed)
		consoles_write(text, n);
	/* A session asked to see the progress: quiet is the screen's. */
	if ((lvl <= LOG_LVL_INFO || sinks.debug) && sinks.tap)
		sinks.tap(text, n);
	errno = saved;
}

int log_msg_errno(enum log_level lvl, int err, const char *fmt, ...)
{
	int saved = errno;
	if (err < 0)
		err = -err;
	char text[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		text[0] = '\0';
	va_end(ap);
	log_msg(lvl, "%s: %s", text, strerror(err));
	errno = saved;
	return -err;
}
