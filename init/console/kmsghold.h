/* Kernel messages held back while a question is open on the consoles, so
 * that they do not bury it, and shown once it is answered. */
#ifndef LUKSINIT_KMSGHOLD_H
#define LUKSINIT_KMSGHOLD_H

#include <stdbool.h>
#include <stddef.h>

struct kmsg_hold {
	bool holding;
	int saved_level; /* the console log level to restore */
	int fd;		 /* /dev/kmsg, read from where the hold began */
};

/* Lowers the console log level to emergencies only and marks the place
 * in kmsg. Does nothing when already holding or without /proc. */
void kmsg_hold_start(struct kmsg_hold *h);
/* Restores the level, then prints what the kernel would have shown
 * meanwhile (at most a screenful; the rest is counted). Safe when idle. */
void kmsg_hold_end(struct kmsg_hold *h);

/* Pure: one /dev/kmsg record "pri,seq,usec,flags;text\n[ KEY=value\n...]".
 * Returns false when it is not one. *text is not NUL-terminated. */
bool kmsg_record_parse(const char *rec, size_t len, int *level,
		       unsigned long long *usec, const char **text,
		       size_t *text_len);

#endif
