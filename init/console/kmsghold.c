#include "console/kmsghold.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/kmsg.h"
#include "base/knob.h"
#include "base/log.h"

/* Only KERN_EMERG (level 0) still reaches the consoles at once. */
#define HOLD_LEVEL 1
/* Shown after the prompt at most; a flood is counted, dmesg has it all. */
#define REPLAY_MAX 100

/* Our own lines follow what the kernel really echoes: only when the
 * knob took the level do we write what it no longer shows. */
static bool set_console_level(int level)
{
	char text[16];
	snprintf(text, sizeof(text), "%d", level);
	if (knob_write(KNOB_PRINTK, text) < 0)
		return false;
	log_set_kernel_console_level(level);
	return true;
}

void kmsg_hold_start(struct kmsg_hold *h)
{
	if (h->holding)
		return;
	int level = knob_console_level();
	if (level <= HOLD_LEVEL)
		return;
	h->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (h->fd >= 0 && lseek(h->fd, 0, SEEK_END) < 0) {
		close(h->fd);
		h->fd = -1;
	}
	h->saved_level = level;
	h->holding = set_console_level(HOLD_LEVEL);
	if (!h->holding && h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
}

/* A decimal number followed by ','; advances *p past both. */
static bool field(const char **p, const char *end, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *s = *p;
	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (s >= end || *s != ',')
		return false;
	*p = s + 1;
	*out = v;
	return true;
}

bool kmsg_record_parse(const char *rec, size_t len, int *level,
		       unsigned long long *usec, const char **text,
		       size_t *text_len)
{
	const char *semi = memchr(rec, ';', len);
	if (!semi)
		return false;
	const char *p = rec;
	unsigned long long pri, seq, ts;
	if (!field(&p, semi, &pri) || !field(&p, semi, &seq) ||
	    !field(&p, semi, &ts))
		return false;
	*level = (int)(pri & 7);
	*usec = ts;
	*text = semi + 1;
	size_t rest = len - (size_t)(*text - rec);
	const char *nl = memchr(*text, '\n', rest);
	*text_len = nl ? (size_t)(nl - *text) : rest;
	return true;
}

/* The kernel's own console format, so held lines look as they would have. */
static void show_record(const char *rec, size_t len, int shown_below,
			unsigned *shown, unsigned *more)
{
	int level;
	unsigned long long us;
	const char *text;
	size_t n;
	/* Below HOLD_LEVEL the kernel showed it at once already. */
	if (!kmsg_record_parse(rec, len, &level, &us, &text, &n) ||
	    level >= shown_below || level < HOLD_LEVEL)
		return;
	/* Ours were printed already, while the prompt was open. */
	if (n >= 10 && memcmp(text, "luksinit: ", 10) == 0)
		return;
	if (*shown >= REPLAY_MAX) {
		(*more)++;
		return;
	}
	char line[1100];
	snprintf(line, sizeof(line), "[%5llu.%06llu] %.*s\n", us / 1000000,
		 us % 1000000, (int)(n > 1024 ? 1024 : n), text);
	log_console_text(line);
	(*shown)++;
}

struct replay {
	int shown_below;
	unsigned shown, more;
};

static void on_record(const char *rec, size_t len, void *arg)
{
	struct replay *r = arg;
	show_record(rec, len, r->shown_below, &r->shown, &r->more);
}

static void replay(struct kmsg_hold *h)
{
	struct replay r = {.shown_below = h->saved_level};
	kmsg_read_records(h->fd, on_record, &r);
	if (r.more)
		log_notice(
			"%u more kernel messages came while the prompt was open; see dmesg",
			r.more);
}

void kmsg_hold_end(struct kmsg_hold *h)
{
	if (!h->holding)
		return;
	set_console_level(h->saved_level);
	h->holding = false;
	if (h->fd < 0)
		return;
	replay(h);
	close(h->fd);
	h->fd = -1;
}
