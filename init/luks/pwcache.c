#include "luks/pwcache.h"

#include <errno.h>
#include <linux/keyctl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Whether pass is one of the NUL-separated entries of list. */
static int pwcache_has(const struct secret *list, const char *pass, size_t len)
{
	const char *p = list->buf, *end = list->buf + list->len;
	while (p < end) {
		const char *e = memchr(p, '\0', (size_t)(end - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
		if (n == len && memcmp(p, pass, len) == 0)
			return 1;
		p += n + 1;
	}
	return 0;
}

int pwcache_add(struct secret *list, const char *pass, size_t len)
{
	if (len == 0 || memchr(pass, '\0', len))
		return -EINVAL;
	if (!list->buf) {
		int rc = secret_alloc(list);
		if (rc < 0 || !list->buf)
			return rc < 0 ? rc : -ENOMEM;
	}
	if (pwcache_has(list, pass, len))
		return 0;
	size_t sep = list->len > 0;
	if (len > SECRET_MAX || list->len + sep + len > SECRET_MAX)
		return -ENOSPC;
	if (sep)
		list->buf[list->len++] = '\0';
	memcpy(list->buf + list->len, pass, len);
	list->len += len;
	return 1;
}

static int count_entries(const struct secret *list)
{
	int n = list->len > 0;
	for (size_t i = 0; i < list->len; i++)
		n += list->buf[i] == '\0';
	return n;
}

int pwcache_hand_on(struct secret *list)
{
	if (!list->buf || list->len == 0) {
		secret_free(list);
		return 0;
	}
	int n = count_entries(list);
	/* add_key replaces a "user" key of that name in the keyring, as
	 * systemd's does (it merges an earlier list first: before the
	 * initramfs there is none). */
	long serial = syscall(SYS_add_key, "user", PWCACHE_KEY, list->buf,
			      list->len, KEY_SPEC_USER_KEYRING);
	int rc = serial < 0 ? -errno : 0;
	secret_free(list);
	if (rc < 0)
		return rc;
	if (syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, serial,
		    (unsigned long)PWCACHE_TIMEOUT_S) < 0) {
		/* Never left without its end: gone now rather than kept. */
		rc = -errno;
		syscall(SYS_keyctl, KEYCTL_INVALIDATE, serial);
		return rc;
	}
	return n;
}
