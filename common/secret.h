/* Buffers for passphrases and key files: locked in RAM, wiped on free,
 * never in a core dump, never in a child process (MADV_DONTFORK: a child
 * that needs a secret gets it passed explicitly). */
#ifndef LUKSINIT_SECRET_H
#define LUKSINIT_SECRET_H

#include <stddef.h>

#define SECRET_MAX 8192 /* passphrase or key file, bytes */

struct secret {
	char *buf; /* SECRET_MAX + 1 bytes, mlocked; NULL when unset */
	size_t len;
};

/* Allocates a locked, zeroed buffer. Returns 0 or -errno. */
int secret_alloc(struct secret *s);
/* Wipes with explicit_bzero and releases; safe on an unset secret. */
void secret_free(struct secret *s);
/* Allocates dst and copies src into it. */
int secret_dup(struct secret *dst, const struct secret *src);
/* Hands src's buffer to dst, which wipes and frees what it held first;
 * src is left unset. The one way a secret changes owner: no copy of the
 * pointer is left behind to be freed twice or wiped too early. */
void secret_move(struct secret *dst, struct secret *src);
/* Reads a whole key file (at most SECRET_MAX bytes) into a new secret. */
int secret_read_file(struct secret *s, const char *path);

#endif
