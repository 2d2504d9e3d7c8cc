#include "console/vtkeymap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kd.h>
#include <linux/keyboard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "common/io.h"
#include "console/keymap.h"

/* Reads a whole keymap file, bounded by the biggest well-formed one. */
static int read_keymap(const char *path, uint8_t **ret_buf, size_t *ret_len)
{
	int rc = 0;
	uint8_t *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEYMAP_FILE_MAX) {
		rc = -EFBIG;
		goto out;
	}
	size_t len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	ssize_t got = read_full(fd, buf, len);
	if (got < 0 || (size_t)got != len) {
		rc = got < 0 ? (int)got : -EIO;
		goto out;
	}
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* "de-latin1 fr jp106": what a person could name instead. */
static void list_embedded(char *out, size_t size)
{
	out[0] = '\0';
	DIR *d = opendir(KEYMAP_DIR);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name), s = strlen(KEYMAP_SUFFIX);
		if (n <= s || strcmp(e->d_name + n - s, KEYMAP_SUFFIX) != 0)
			continue;
		char name[KEYMAP_NAME_MAX];
		if (str_copy_n(name, sizeof(name), e->d_name, n - s) < 0)
			continue;
		if ((out[0] && str_append(out, size, " ") < 0) ||
		    str_append(out, size, name) < 0)
			break;
	}
	closedir(d);
}

/* Finds name, or the Debian name of a genkernel one; the file's contents
 * in *ret_buf, the name found in st->used. */
static int find_keymap(const struct boot_config *cfg, struct keymap_status *st,
		       uint8_t **ret_buf, size_t *ret_len)
{
	const char *names[2] = {cfg->keymap,
				keymap_genkernel_alias(cfg->keymap)};
	int rc = -ENOENT;
	for (int i = 0; i < 2 && names[i] && rc == -ENOENT; i++) {
		char path[sizeof(KEYMAP_DIR) + KEYMAP_NAME_MAX + 8];
		snprintf(path, sizeof(path), "%s/%s%s", KEYMAP_DIR, names[i],
			 KEYMAP_SUFFIX);
		rc = read_keymap(path, ret_buf, ret_len);
		if (rc == 0)
			str_copy(st->used, sizeof(st->used), names[i]);
	}
	return rc;
}

/* Counts what the kernel refused; the first refusal's errno is kept. */
struct apply {
	int fd, done, failed, first_err;
};

static void kd(struct apply *a, unsigned long req, void *arg)
{
	if (ioctl(a->fd, req, arg) == 0) {
		a->done++;
		return;
	}
	if (!a->failed++)
		a->first_err = errno;
}

static void apply_tables(struct apply *a, const struct keymap *km)
{
	int t = 0;
	for (int index = 0; index < MAX_NR_KEYMAPS; index++) {
		const struct keymap_table *tab = NULL;
		if (t < km->ntables && km->tables[t].index == index)
			tab = &km->tables[t++];
		if (!tab) {
			/* Not in the keymap: remove the kernel's table, as
			 * loadkeys does (table 0 cannot be removed). */
			struct kbentry e = {.kb_table = (unsigned char)index,
					    .kb_index = 0,
					    .kb_value = K_NOSUCHMAP};
			if (index)
				kd(a, KDSKBENT, &e);
			continue;
		}
		for (unsigned key = 0; key < NR_KEYS; key++) {
			struct kbentry e = {.kb_table = (unsigned char)index,
					    .kb_index = (unsigned char)key,
					    .kb_value = keymap_value(tab, key)};
			kd(a, KDSKBENT, &e);
		}
	}
}

static void apply_strings(struct apply *a, const struct keymap *km)
{
	for (int i = 0; i < km->nstrings; i++) {
		struct kbsentry s = {.kb_func = km->strings[i].func};
		memcpy(s.kb_string, km->strings[i].bytes, km->strings[i].len);
		kd(a, KDSKBSENT, &s);
	}
}

static void apply_diacr(struct apply *a, const struct keymap *km)
{
	if (km->ndiacr == 0)
		return; /* the kernel's compose table stays, as with loadkeys */
	static struct kbdiacrsuc d;
	d.kb_cnt = (unsigned)km->ndiacr;
	for (int i = 0; i < km->ndiacr; i++)
		keymap_diacr(km, i, &d.kbdiacruc[i].diacr, &d.kbdiacruc[i].base,
			     &d.kbdiacruc[i].result);
	kd(a, KDSKBDIACRUC, &d);
}

/* The keymaps are compiled with Unicode keysyms: the kernel takes those
 * only while the keyboard is in Unicode mode, and then a key gives the
 * same UTF-8 bytes as on the installed system's terminals (for ASCII both
 * modes give the same bytes). The mode is per VT; the tables are shared. */
static void ensure_unicode(struct apply *a)
{
	int mode;
	if (ioctl(a->fd, KDGKBMODE, &mode) == 0 && mode == K_XLATE &&
	    ioctl(a->fd, KDSKBMODE, K_UNICODE) == 0)
		log_info("keyboard switched to Unicode mode");
}

static int open_vt(void)
{
	/* tty0 is the VT in front, where a person types. */
	int fd = open("/dev/tty0", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/dev/tty1", O_RDWR | O_NOCTTY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static enum keymap_outcome apply(const char *name, const struct keymap *km)
{
	struct apply a = {.fd = open_vt()};
	if (a.fd < 0) {
		log_warn_errno(
			a.fd,
			"keymap %s not applied: no virtual terminal (/dev/tty0)",
			name);
		return KEYMAP_FAILED;
	}
	ensure_unicode(&a);
	apply_tables(&a, km);
	apply_strings(&a, km);
	apply_diacr(&a, km);
	close(a.fd);
	if (a.failed == 0)
		return KEYMAP_APPLIED;
	log_warn_errno(
		a.first_err,
		"keymap %s: the kernel refused %d of %d settings, the first",
		name, a.failed, a.failed + a.done);
	return a.done ? KEYMAP_PARTIAL : KEYMAP_FAILED;
}

void vtkeymap_setup(const struct boot_config *cfg, struct keymap_status *st)
{
	st->outcome = KEYMAP_NOT_ASKED;
	st->used[0] = '\0';
	if (cfg->keymap[0] == '\0') {
		if (cfg->dokeymap)
			log_warn(
				"dokeymap without keymap=: genkernel would ask which layout; luksinit does not ask, the kernel's US layout stays");
		return;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = find_keymap(cfg, st, &buf, &len);
	if (rc == -ENOENT) {
		char have[256];
		list_embedded(have, sizeof(have));
		log_warn(
			"keymap %s (%s=) is not in this initramfs (it has: %s); the passphrase is read in the kernel's US layout",
			cfg->keymap, cfg->keymap_param,
			have[0] ? have : "none");
		str_copy(st->used, sizeof(st->used), cfg->keymap);
		st->outcome = KEYMAP_MISSING;
		return;
	}
	static struct keymap km; /* 8 KiB: not on PID 1's stack */
	if (rc == 0 && keymap_parse(&km, buf, len) < 0)
		rc = -EINVAL;
	if (rc < 0) {
		log_warn(
			"keymap %s: %s/%s%s is unusable (%s); the passphrase is read in the kernel's US layout",
			cfg->keymap, KEYMAP_DIR,
			st->used[0] ? st->used : cfg->keymap, KEYMAP_SUFFIX,
			rc == -EINVAL ? "malformed" : strerror(-rc));
		if (!st->used[0])
			str_copy(st->used, sizeof(st->used), cfg->keymap);
		st->outcome = KEYMAP_FAILED;
		free(buf);
		return;
	}
	st->outcome = apply(st->used, &km);
	if (st->outcome == KEYMAP_APPLIED)
		log_info("keyboard layout %s (%s=%s)", st->used,
			 cfg->keymap_param, cfg->keymap);
	free(buf);
}
