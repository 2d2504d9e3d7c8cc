#include "firmware/firmware.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/sysroot.h"
#include "firmware/fwpolicy.h"
#include "firmware/fwreader.h"

#define TIMEOUT_KNOB "/sys/class/firmware/timeout"
#define FORCE_KNOB "/proc/sys/kernel/firmware_config/force_sysfs_fallback"
#define COPY_CHUNK (64 * 1024)
/* How long a held (asynchronous) request may wait for the real root: a
 * person types within minutes. Past it the driver's own failure path runs
 * (some unbind themselves, and are probed again once the root is there). */
#define HOLD_TIMEOUT_S "300"
/* At hand-over: no new request for this long means none is on its way.
 * Once the forced fallback is lifted, a request takes the kernel's own
 * loader; only one that read the knob just before, and has yet to show
 * in sysfs, is still ours: microseconds in the kernel, a bounded moment. */
#define QUIET_MS 25
/* The first few requests for a name are logged, then only counted. */
#define LOG_REPEATS 5

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int err = errno;
	close(fd);
	return n < 0 ? -err : 0;
}

/* <prefix>/sys<devpath>: the directory of a request or a device. */
static int sysdir_of(char *dst, size_t size, const char *devpath)
{
	if (sysroot_path(dst, size, "/sys") < 0 ||
	    str_append(dst, size, devpath) < 0) {
		dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

static int write_attr(const char *sysdir, const char *attr, const char *val)
{
	char path[FW_SYSDIR_LEN + 16];
	if (str_concat(path, sizeof(path), sysdir, "/") < 0 ||
	    str_append(path, sizeof(path), attr) < 0)
		return -ENAMETOOLONG;
	return write_file(path, val);
}

/* The slot counting requests for a name (a hash table without chains: a
 * collision only resets a count). */
static int logged_slot(struct firmware *fw, const char *name)
{
	unsigned h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	int slot = (int)(h % FW_LOGGED_MAX);
	if (fw->logged[slot].hash != h) {
		fw->logged[slot].hash = h;
		fw->logged[slot].count = 0;
	}
	return slot;
}

static void count_request(struct firmware *fw, const char *name)
{
	int slot = logged_slot(fw, name);
	if (++fw->logged[slot].count == LOG_REPEATS + 1)
		log_info(
			"firmware %s: asked for again and again; further requests for it are logged in debug only",
			name);
}

/* How loudly to speak about a request: a driver that asks again and again
 * is told about a few times, then only in debug. Errors always show. */
static enum log_level level_for(struct firmware *fw, const char *name,
				enum log_level lvl)
{
	int slot = logged_slot(fw, name);
	if (fw->logged[slot].count > LOG_REPEATS && lvl > LOG_LVL_ERR)
		return LOG_LVL_DEBUG;
	return lvl;
}

/* The path of an open fd as /init sees it. */
static int fd_path(int fd, char *out, size_t size)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, out, size - 1);
	if (n <= 0 || (size_t)n >= size - 1)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

/* The firmware directories as they really are in the root: on a merged
 * /usr, /lib/firmware is /usr/lib/firmware. Empty where absent. */
static void resolve_dirs(const struct firmware *fw, char dirs[][FW_DIR_LEN],
			 int ndirs, char real[][PATH_MAX])
{
	for (int i = 0; i < ndirs; i++) {
		real[i][0] = '\0';
		int fd = open_in_root(fw->root_fd, dirs[i],
				      O_PATH | O_DIRECTORY, LINKS_IN_ROOT);
		if (fd < 0)
			continue;
		if (fd_path(fd, real[i], PATH_MAX) < 0)
			real[i][0] = '\0';
		close(fd);
	}
}

/* Opens dir/file inside the root (absolute symlinks are read as the root
 * sees them, as the kernel's own loader does), and accepts it only if it
 * is a regular file that ends up inside one of the firmware directories:
 * Debian's regulatory.db -> /etc/alternatives/... -> /lib/firmware/... is
 * fine, a link to /etc/shadow is not. O_NONBLOCK: a FIFO planted in the
 * tree must not block PID 1 in open(). */
static int open_firmware(const struct firmware *fw, const char *dir,
			 const char *file, char real[][PATH_MAX], int ndirs)
{
	char rel[FW_DIR_LEN + FW_NAME_MAX + 8];
	if (str_concat(rel, sizeof(rel), dir, "/") < 0 ||
	    str_append(rel, sizeof(rel), file) < 0)
		return -ENAMETOOLONG;
	int fd = open_in_root(fw->root_fd, rel,
			      O_RDONLY | O_NONBLOCK | O_NOCTTY, LINKS_IN_ROOT);
	if (fd < 0)
		return fd;
	struct stat st;
	static char path[PATH_MAX];
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fd_path(fd, path, sizeof(path)) < 0) {
		close(fd);
		return -EINVAL;
	}
	for (int i = 0; i < ndirs; i++) {
		size_t dl = strlen(real[i]);
		if (dl && strncmp(path, real[i], dl) == 0 &&
		    (path[dl] == '/' || dl == 1))
			return fd;
	}
	log_warn(
		"firmware %s: refused, it leads outside the firmware directories (to %s)",
		file, path);
	close(fd);
	return -EXDEV;
}

struct fw_found {
	int fd;
	enum fw_format format;
	char where[FW_DIR_LEN + FW_NAME_MAX + 16];
};

static const struct {
	const char *suffix;
	enum fw_format format;
} fw_suffixes[] = {{"", FW_PLAIN}, {".zst", FW_ZSTD}, {".xz", FW_XZ}};

/* The kernel's order: each suffix over all directories. */
static int find_firmware(const struct firmware *fw, const char *name,
			 struct fw_found *found)
{
	char dirs[FW_DIRS_MAX][FW_DIR_LEN];
	static char real[FW_DIRS_MAX][PATH_MAX];
	int ndirs = fw_search_dirs(fw->custom_path, fw->release, dirs);
	resolve_dirs(fw, dirs, ndirs, real);
	for (size_t s = 0; s < 3; s++) {
		char file[FW_NAME_MAX + 8];
		if (str_concat(file, sizeof(file), name,
			       fw_suffixes[s].suffix) < 0)
			return -ENAMETOOLONG;
		for (int i = 0; i < ndirs; i++) {
			if (!real[i][0])
				continue;
			int fd = open_firmware(fw, dirs[i], file, real, ndirs);
			if (fd < 0)
				continue;
			found->fd = fd;
			found->format = fw_suffixes[s].format;
			/* Only shown: a cut is harmless. */
			char *w = found->where;
			size_t ws = sizeof(found->where);
			if (str_copy(w, ws,
				     strcmp(fw->root, "/") ? fw->root : "") <
				    0 ||
			    str_append(w, ws, dirs[i]) < 0 ||
			    str_append(w, ws, "/") < 0 ||
			    str_append(w, ws, file) < 0)
				str_copy(w, ws, file);
			return 0;
		}
	}
	return -ENOENT;
}

/* The kernel's protocol: 1 > loading, bytes > data, 0 > loading. */
static int load_into(const char *sysdir, struct fw_reader *r, size_t *bytes)
{
	static char buf[COPY_CHUNK];
	char path[FW_SYSDIR_LEN + 16];
	int rc = write_attr(sysdir, "loading", "1");
	if (rc < 0)
		return rc;
	if (str_concat(path, sizeof(path), sysdir, "/data") < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*bytes = 0;
	ssize_t n;
	while ((n = fw_reader_read(r, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				/* Before close(), which may set errno. */
				int err = w < 0 ? -errno : -EIO;
				close(fd);
				return err;
			}
			off += w;
		}
		*bytes += (size_t)n;
	}
	close(fd);
	if (n < 0)
		return (int)n;
	return write_attr(sysdir, "loading", "0");
}

static void abort_request(struct firmware *fw, const struct fw_request *rq,
			  const char *why)
{
	write_attr(rq->sysdir, "loading", "-1");
	log_msg(level_for(fw, rq->name, LOG_LVL_WARNING),
		"firmware %s: aborted (%s); the driver waited %lld ms",
		rq->name, why, clock_now_ms() - rq->seen_ms);
}

/* Returns 1 served, 0 not found, -errno failed (then aborted). */
static int try_serve(struct firmware *fw, const struct fw_request *rq)
{
	struct fw_found found;
	if (fw->root_fd < 0 || find_firmware(fw, rq->name, &found) < 0)
		return 0;
	struct fw_reader *r = fw_reader_open(found.fd, found.format);
	if (!r) {
		abort_request(fw, rq, "out of memory");
		return -ENOMEM;
	}
	size_t bytes = 0;
	int rc = load_into(rq->sysdir, r, &bytes);
	fw_reader_close(r);
	if (rc < 0) {
		write_attr(rq->sysdir, "loading", "-1");
		log_err_errno(rc, "firmware %s: loading from %s failed",
			      rq->name, found.where);
		return rc;
	}
	log_msg(level_for(fw, rq->name, LOG_LVL_INFO),
		"firmware %s: served from %s, %zu bytes; the driver waited %lld ms%s",
		rq->name, found.where, bytes, clock_now_ms() - rq->seen_ms,
		rq->early ? " (or more: it asked before /init was up)" : "");
	return 1;
}

static bool request_pending(const char *sysdir)
{
	char path[FW_SYSDIR_LEN + 16];
	return str_concat(path, sizeof(path), sysdir, "/loading") == 0 &&
	       access(path, W_OK) == 0;
}

static int find_held(const struct firmware *fw, const char *sysdir)
{
	for (int i = 0; i < fw->nheld; i++)
		if (strcmp(fw->held[i].sysdir, sysdir) == 0)
			return i;
	return -1;
}

static void drop_held(struct firmware *fw, int i)
{
	fw->held[i] = fw->held[--fw->nheld];
}

/* A hostile name could be anything: its control bytes are shown as \xNN,
 * never sent to the terminal. */
static const char *printable(const char *name, char *buf, size_t size)
{
	if (fw_name_ok(name))
		return name;
	str_escape_controls(buf, size, name);
	return buf;
}

static unsigned long long path_hash(const char *s, size_t n)
{
	unsigned long long h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* A device the kernel announced as bound while we listened: its probe is
 * over. Forgotten on unbind; the oldest is dropped when full. */
static void track_binding(struct firmware *fw, const struct uevent *ev)
{
	unsigned long long h = path_hash(ev->devpath, strlen(ev->devpath));
	for (int i = 0; i < FW_BOUND_MAX; i++)
		if (fw->bound[i] == h)
			fw->bound[i] = 0;
	if (strcmp(ev->action, "bind") == 0)
		fw->bound[fw->nbound++ % FW_BOUND_MAX] = h;
}

/* The requester of /sys<devpath>/firmware/<name> finished its probe. */
static bool requester_bound(const struct firmware *fw, const char *sysdir)
{
	sysdir += strlen(sysroot_prefix());
	const char *name = strrchr(sysdir, '/');
	if (!name || !str_starts_with(sysdir, "/sys/"))
		return false;
	size_t len = (size_t)(name - sysdir); /* "/sys<device>/firmware" */
	if (len < 4 + 1 + 9 || strncmp(name - 9, "/firmware", 9) != 0)
		return false;
	unsigned long long h = path_hash(sysdir + 4, len - 9 - 4);
	for (int i = 0; i < FW_BOUND_MAX; i++)
		if (fw->bound[i] == h)
			return true;
	return false;
}

static void answer(struct firmware *fw, struct fw_request *rq)
{
	int rc = try_serve(fw, rq);
	if (rc != 0)
		return;
	switch (fw_decide(false, fw->root_is_real, rq->async,
			  requester_bound(fw, rq->sysdir),
			  fw->nheld < FW_HELD_MAX)) {
	case FW_HOLD:
		fw->held[fw->nheld++] = *rq;
		log_msg(level_for(fw, rq->name, LOG_LVL_INFO),
			"firmware %s: not in the initramfs; held until the root is mounted",
			rq->name);
		return;
	case FW_ABORT_REPROBE:
		fw_reprobe_note_request(&fw->reprobe, rq->sysdir);
		abort_request(
			fw, rq,
			"not in the initramfs; the requester waits for it, so it is not held: its device is probed again once the root is mounted");
		return;
	case FW_ABORT:
	case FW_SERVE:
		abort_request(fw, rq, "not on the real root either");
		return;
	}
}

static void take_request(struct firmware *fw, const char *name,
			 const char *devpath, int async, bool early)
{
	struct fw_request rq = {
		.seen_ms = clock_now_ms(), .async = async, .early = early};
	if (!devpath || devpath[0] != '/' || path_has_dotdot(devpath))
		return;
	if (sysdir_of(rq.sysdir, sizeof(rq.sysdir), devpath) < 0) {
		log_warn(
			"firmware request with a path too long to answer: %.64s...",
			devpath);
		return;
	}
	if (find_held(fw, rq.sysdir) >= 0 || !request_pending(rq.sysdir))
		return; /* already known, or already answered */
	fw->last_request_ms = rq.seen_ms;
	if (!name || str_copy(rq.name, sizeof(rq.name), name) < 0 ||
	    !fw_name_ok(rq.name)) {
		write_attr(rq.sysdir, "loading", "-1");
		char shown[FW_NAME_MAX];
		log_warn("firmware request refused: unsafe name %s",
			 name && strnlen(name, FW_NAME_MAX) < FW_NAME_MAX
				 ? printable(name, shown, sizeof(shown))
				 : "(too long)");
		return;
	}
	count_request(fw, rq.name);
	log_msg(level_for(fw, rq.name, LOG_LVL_INFO),
		"firmware %s: requested%s", rq.name,
		async == 1 ? "" : " (the requester waits)");
	answer(fw, &rq);
}

void firmware_on_uevent(struct firmware *fw, const struct uevent *ev)
{
	if (ev->action && ev->devpath &&
	    (strcmp(ev->action, "bind") == 0 ||
	     strcmp(ev->action, "unbind") == 0)) {
		track_binding(fw, ev);
		return;
	}
	if (!ev->action || !ev->subsystem ||
	    strcmp(ev->subsystem, "firmware") != 0)
		return;
	if (strcmp(ev->action, "add") == 0) {
		take_request(fw, ev->firmware, ev->devpath, ev->async, false);
		return;
	}
	if (strcmp(ev->action, "remove") != 0 || !ev->devpath)
		return;
	char sysdir[FW_SYSDIR_LEN];
	if (sysdir_of(sysdir, sizeof(sysdir), ev->devpath) < 0)
		return;
	int i = find_held(fw, sysdir);
	if (i < 0)
		return;
	/* The kernel gave up on it: its timeout was fixed when it asked. */
	log_warn(
		"firmware %s: the request expired after %lld ms, before the root was mounted; if its device is left without a driver, it is probed again then",
		fw->held[i].name, clock_now_ms() - fw->held[i].seen_ms);
	fw_reprobe_note_request(&fw->reprobe, sysdir);
	drop_held(fw, i);
}

/* ASYNC= of a pending request, from its uevent file (-1 if unreadable). */
static int read_async(const char *sysdir)
{
	char path[PATH_MAX], buf[UEVENT_MSG_MAX + 1];
	if (str_concat(path, sizeof(path), sysdir, "/uevent") < 0)
		return -1;
	ssize_t n = read_small_file(AT_FDCWD, path, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	struct uevent ev;
	uevent_parse_file(&ev, buf, (size_t)n);
	return ev.async;
}

/* Requests pending right now, as /sys/class/firmware lists them (made
 * before our socket existed, or while events were lost). */
static void scan_pending(struct firmware *fw, bool early)
{
	char dir[PATH_MAX], sys[PATH_MAX];
	if (sysroot_path(dir, sizeof(dir), "/sys/class/firmware/") < 0 ||
	    sysroot_path(sys, sizeof(sys), "/sys") < 0)
		return;
	size_t slen = strlen(sys);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		/* Not every name starting with '.' is "." or "..": a request
		 * for "../x" is listed as "..!x", and must be refused. */
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "timeout") == 0)
			continue;
		/* realpath() may write PATH_MAX bytes. */
		char link[PATH_MAX], target[PATH_MAX];
		if (str_concat(link, sizeof(link), dir, de->d_name) < 0 ||
		    !realpath(link, target) ||
		    !(str_starts_with(target, sys) && target[slen] == '/') ||
		    strlen(target) >= FW_SYSDIR_LEN)
			continue;
		char name[FW_NAME_MAX];
		if (str_copy(name, sizeof(name), de->d_name) < 0)
			continue;
		fw_name_from_sysfs(name);
		take_request(fw, name, target + slen, read_async(target),
			     early);
	}
	closedir(d);
}

void firmware_rescan(struct firmware *fw)
{
	scan_pending(fw, false);
}

static void set_root(struct firmware *fw, const char *root, bool real)
{
	if (fw->root_fd >= 0)
		close(fw->root_fd);
	fw->root = root;
	fw->root_is_real = real;
	fw->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

void firmware_root_mounted(struct firmware *fw, const char *newroot)
{
	set_root(fw, newroot, true);
	while (fw->nheld > 0) {
		struct fw_request rq = fw->held[--fw->nheld];
		if (!request_pending(rq.sysdir)) {
			/* Expired, its remove event not read yet. */
			fw_reprobe_note_request(&fw->reprobe, rq.sysdir);
			continue;
		}
		if (try_serve(fw, &rq) == 0)
			abort_request(fw, &rq, "not on the real root either");
	}
	fw_reprobe_start(&fw->reprobe);
}

void firmware_root_gone(struct firmware *fw)
{
	set_root(fw, "/", false);
}

bool firmware_reprobing(const struct firmware *fw)
{
	return fw_reprobe_running(&fw->reprobe);
}

static void save_and_set(const char *knob, struct knob_saved *saved,
			 const char *want)
{
	char path[PATH_MAX];
	saved->value[0] = '\0';
	if (sysroot_path(path, sizeof(path), knob) == 0)
		knob_save_set(saved, path, want, NULL);
}

static void restore(const char *knob, struct knob_saved *saved)
{
	char path[PATH_MAX];
	if (sysroot_path(path, sizeof(path), knob) == 0)
		knob_restore(saved, path);
	saved->value[0] = '\0';
}

void firmware_init(struct firmware *fw)
{
	memset(fw, 0, sizeof(*fw));
	fw->root_fd = -1;
	/* Without CONFIG_FW_LOADER_USER_HELPER_FALLBACK, plain
	 * request_firmware() never asks userspace unless forced. Before /sys
	 * is there: a driver asking the moment it appears (bound by a uevent,
	 * a USB device) would otherwise fail at once, for good. */
	save_and_set(FORCE_KNOB, &fw->saved_force, "1");
}

void firmware_start(struct firmware *fw, const struct boot_config *cfg)
{
	set_root(fw, "/", false);
	struct utsname u;
	if (uname(&u) == 0)
		str_copy(fw->release, sizeof(fw->release), u.release);
	str_copy(fw->custom_path, sizeof(fw->custom_path), cfg->fw_path);
	/* The kernel fixes a request's timeout when it is made; the fallback
	 * is forced already (firmware_init): a request that sees our timeout
	 * sees it too. */
	save_and_set(TIMEOUT_KNOB, &fw->saved_timeout, HOLD_TIMEOUT_S);
	if (fw->saved_force.value[0])
		log_info(
			"firmware: forcing the sysfs fallback while in the initramfs (the kernel lacks CONFIG_FW_LOADER_USER_HELPER_FALLBACK)");
	/* Before /init ran, nobody answered: those requests failed (and
	 * their probes with them) or are still pending. */
	fw_reprobe_scan_kmsg(&fw->reprobe);
	scan_pending(fw, true);
}

void firmware_in_new_root(struct firmware *fw)
{
	set_root(fw, "/", true);
	/* From now on the kernel loads from the new root by itself (its
	 * direct loader reads init's root); a request already in sysfs is
	 * ours to answer. */
	restore(TIMEOUT_KNOB, &fw->saved_timeout);
	restore(FORCE_KNOB, &fw->saved_force);
	fw->last_request_ms = clock_now_ms();
}

void firmware_exec_failed(struct firmware *fw)
{
	set_root(fw, "/", true);
	save_and_set(FORCE_KNOB, &fw->saved_force, "1");
	save_and_set(TIMEOUT_KNOB, &fw->saved_timeout, HOLD_TIMEOUT_S);
	scan_pending(fw, false);
}

int firmware_quiet_in(const struct firmware *fw, long long now)
{
	long long since = now - fw->last_request_ms;
	if (fw->nheld > 0 || since < 0)
		return QUIET_MS;
	return since >= QUIET_MS ? 0 : (int)(QUIET_MS - since);
}

void firmware_finish(struct firmware *fw)
{
	scan_pending(fw, false);
	while (fw->nheld > 0) {
		struct fw_request rq = fw->held[--fw->nheld];
		if (request_pending(rq.sysdir) && try_serve(fw, &rq) == 0)
			abort_request(fw, &rq, "no root to serve it from");
	}
	if (fw->root_fd >= 0)
		close(fw->root_fd);
	fw->root_fd = -1;
}

void firmware_on_child_exit(struct firmware *fw, pid_t pid, int status)
{
	fw_reprobe_child_exit(&fw->reprobe, pid, status);
}

int firmware_next_timeout(const struct firmware *fw)
{
	return fw_reprobe_next_timeout(&fw->reprobe, clock_now_ms());
}

void firmware_tick(struct firmware *fw)
{
	fw_reprobe_tick(&fw->reprobe, clock_now_ms());
}
