/* Messages to the console and to /dev/kmsg, with kernel log levels. */
#ifndef LUKSINIT_LOG_H
#define LUKSINIT_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_EMERG = 0,
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

#define LOG_CONSOLES_MAX 8

/* Sinks are plain fds so that tests can point them at pipes. -1 = absent.
 * Console fds should be non-blocking: a line one cannot take at once is
 * dropped (and counted), never waited for. */
void log_set_fds(int console_fd, int kmsg_fd);
/* Every console the person may be looking at (replaces the one above). */
void log_set_consoles(const int *fds, int n);
/* Lines dropped, over all consoles, since each last took one. */
unsigned log_console_dropped(void);
/* While text is set (a question open on the consoles), every line printed
 * starts on a new line and is followed by text again. The caller keeps
 * text alive until it sets NULL. */
void log_set_prompt(const char *text);
/* Text as is (no tag, not in kmsg) to every console: kernel messages held
 * back while a prompt was open. */
void log_console_text(const char *text);
/* Also hands every line up to info (debug too with debug on) to fn (text
 * without the level, newline included), even one the kernel echoes
 * itself or quiet keeps off the consoles: a sink that is no kernel
 * console (an SSH session) sees the progress only this way. NULL: none. */
void log_set_tap(void (*fn)(const char *text, size_t n));
/* Highest level still shown on the console (kmsg gets everything but debug
 * unless debug is on). */
void log_set_console_level(enum log_level max);
void log_set_debug(int on);
/* The kernel echoes kmsg records below its console_loglevel to the console
 * itself; we only write what it would not, so nothing shows twice. */
void log_set_kernel_console_level(int level);

/* Formats one record; errno is preserved across the call. */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Pure: renders "<lvl>luksinit: text\n" into buf (truncating with "..."),
 * returns the length written. Exposed for unit tests. */
size_t log_format_kmsg(char *buf, size_t size, enum log_level lvl,
		       const char *fmt, va_list ap);

/* log_msg with ": <strerror(err)>" after the text (err is an errno,
 * either sign); returns -|err|, so that "return log_err_errno(rc, ...)"
 * logs and fails in one line. errno is preserved. */
int log_msg_errno(enum log_level lvl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_err_errno(err, ...) log_msg_errno(LOG_LVL_ERR, err, __VA_ARGS__)
#define log_warn_errno(err, ...) \
	log_msg_errno(LOG_LVL_WARNING, err, __VA_ARGS__)
#define log_notice_errno(err, ...) \
	log_msg_errno(LOG_LVL_NOTICE, err, __VA_ARGS__)
#define log_info_errno(err, ...) log_msg_errno(LOG_LVL_INFO, err, __VA_ARGS__)
#define log_debug_errno(err, ...) log_msg_errno(LOG_LVL_DEBUG, err, __VA_ARGS__)

#endif
