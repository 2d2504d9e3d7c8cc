#include "firmware.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "fwreader.h"
#include "log.h"
#include "strutil.h"
#include "sysmounts.h"

#define TIMEOUT_KNOB "/sys/class/firmware/timeout"
#define FORCE_KNOB "/proc/sys/kernel/firmware_config/force_sysfs_fallback"
#define COPY_CHUNK (64 * 1024)

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static int write_attr(const char *sysdir, const char *attr, const char *val)
{
	char path[FW_SYSDIR_LEN + 16];
	if (str_concat(path, sizeof(path), sysdir, "/") < 0 ||
	    str_append(path, sizeof(path), attr) < 0)
		return -ENAMETOOLONG;
	return write_file(path, val);
}

/* Opens name below dirfd and nowhere else: symlinks inside the firmware
 * tree are fine (linux-firmware has many), escapes are not. */
static int open_beneath(int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* "/" is the initramfs itself: paths under it need no prefix. */
static const char *root_prefix(const char *root)
{
	return strcmp(root, "/") == 0 ? "" : root;
}

struct fw_found {
	int fd;
	enum fw_format format;
	char where[FW_DIR_LEN + 72];
};

static const struct {
	const char *suffix;
	enum fw_format format;
} fw_suffixes[] = {{"", FW_PLAIN}, {".zst", FW_ZSTD}, {".xz", FW_XZ}};

/* Looks for name under root (the initramfs "/" or the new root) in the
 * kernel's order: each suffix over all directories, as the kernel does. */
static int find_firmware(const struct firmware *fw, const char *root,
			 const char *name, struct fw_found *found)
{
	char dirs[FW_DIRS_MAX][FW_DIR_LEN];
	int ndirs = fw_search_dirs(fw->custom_path, fw->release, dirs);
	int dirfds[FW_DIRS_MAX];
	for (int i = 0; i < ndirs; i++) {
		char path[FW_DIR_LEN + 64];
		dirfds[i] = -1;
		if (str_concat(path, sizeof(path), root_prefix(root),
			       dirs[i]) == 0)
			dirfds[i] =
				open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	int rc = -ENOENT;
	for (size_t s = 0; s < 3 && rc == -ENOENT; s++) {
		char file[FW_NAME_MAX + 8];
		if (str_concat(file, sizeof(file), name,
			       fw_suffixes[s].suffix) < 0)
			break;
		for (int i = 0; i < ndirs && rc == -ENOENT; i++) {
			if (dirfds[i] < 0)
				continue;
			int fd = open_beneath(dirfds[i], file);
			if (fd < 0)
				continue;
			found->fd = fd;
			found->format = fw_suffixes[s].format;
			if (str_concat(found->where, sizeof(found->where),
				       root_prefix(root), dirs[i]) < 0 ||
			    str_append(found->where, sizeof(found->where),
				       "/") < 0 ||
			    str_append(found->where, sizeof(found->where),
				       file) < 0)
				str_copy(found->where, sizeof(found->where),
					 file);
			rc = 0;
		}
	}
	for (int i = 0; i < ndirs; i++)
		if (dirfds[i] >= 0)
			close(dirfds[i]);
	return rc;
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
				close(fd);
				return w < 0 ? -errno : -EIO;
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

static void abort_request(const struct fw_request *rq, const char *why)
{
	write_attr(rq->sysdir, "loading", "-1");
	log_warn("firmware %s: aborted (%s); the driver waited %lld ms",
		 rq->name, why, now_ms() - rq->seen_ms);
}

/* Returns 1 served, 0 not found under root, -errno failed (aborted). */
static int try_serve(struct firmware *fw, const struct fw_request *rq,
		     const char *root)
{
	struct fw_found found;
	if (find_firmware(fw, root, rq->name, &found) < 0)
		return 0;
	struct fw_reader *r = fw_reader_open(found.fd, found.format);
	if (!r) {
		abort_request(rq, "out of memory");
		return -ENOMEM;
	}
	size_t bytes = 0;
	int rc = load_into(rq->sysdir, r, &bytes);
	fw_reader_close(r);
	if (rc < 0) {
		write_attr(rq->sysdir, "loading", "-1");
		log_err("firmware %s: loading from %s failed: %s", rq->name,
			found.where, strerror(-rc));
		return rc;
	}
	log_info(
		"firmware %s: served from %s, %zu bytes; the driver waited %lld ms%s",
		rq->name, found.where, bytes, now_ms() - rq->seen_ms,
		rq->early ? " (or more: it asked before /init ran)" : "");
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

/* Names are logged only when harmless; a hostile one could be anything. */
static const char *printable(const char *name)
{
	return fw_name_ok(name) || name[0] == '/' ? name : "(unprintable name)";
}

static void take_request(struct firmware *fw, const char *name,
			 const char *devpath, bool early)
{
	struct fw_request rq = {.seen_ms = now_ms(), .early = early};
	if (!devpath || devpath[0] != '/' || path_has_dotdot(devpath) ||
	    str_concat(rq.sysdir, sizeof(rq.sysdir), "/sys", devpath) < 0)
		return;
	if (find_held(fw, rq.sysdir) >= 0 || !request_pending(rq.sysdir))
		return; /* already known, or already answered */
	if (!name || str_copy(rq.name, sizeof(rq.name), name) < 0 ||
	    !fw_name_ok(rq.name)) {
		write_attr(rq.sysdir, "loading", "-1");
		log_warn("firmware request refused: unsafe name %s",
			 name && strnlen(name, FW_NAME_MAX) < FW_NAME_MAX
				 ? printable(name)
				 : "(too long)");
		return;
	}
	log_info("firmware %s: requested", rq.name);
	const char *root = fw->newroot ? fw->newroot : "/";
	int rc = try_serve(fw, &rq, root);
	if (rc != 0)
		return;
	if (fw->newroot) {
		abort_request(&rq, "not on the real root either");
		return;
	}
	if (fw->nheld >= FW_HELD_MAX) {
		abort_request(&rq, "too many requests held");
		return;
	}
	fw->held[fw->nheld++] = rq;
	log_info(
		"firmware %s: not in the initramfs; held until the root is mounted",
		rq.name);
}

/* The device that asked: the request lives at <device>/firmware/<name>. */
static void remember_expired(struct firmware *fw, const char *sysdir)
{
	if (fw->nexpired >= FW_HELD_MAX)
		return;
	char *dev = fw->expired[fw->nexpired];
	str_copy(dev, FW_SYSDIR_LEN, sysdir);
	char *slash = strrchr(dev, '/');
	if (slash)
		*slash = '\0';
	size_t len = strlen(dev);
	if (len > 9 && strcmp(dev + len - 9, "/firmware") == 0)
		dev[len - 9] = '\0';
	for (int i = 0; i < fw->nexpired; i++)
		if (strcmp(fw->expired[i], dev) == 0)
			return;
	fw->nexpired++;
}

void firmware_on_uevent(struct firmware *fw, const struct uevent *ev)
{
	if (!ev->subsystem || strcmp(ev->subsystem, "firmware") != 0)
		return;
	if (strcmp(ev->action, "add") == 0) {
		take_request(fw, ev->firmware, ev->devpath, false);
		return;
	}
	if (strcmp(ev->action, "remove") != 0 || !ev->devpath)
		return;
	char sysdir[FW_SYSDIR_LEN];
	if (str_concat(sysdir, sizeof(sysdir), "/sys", ev->devpath) < 0)
		return;
	int i = find_held(fw, sysdir);
	if (i < 0)
		return;
	/* The kernel gave up on it: its timeout was fixed when it asked. */
	log_warn(
		"firmware %s: the request expired after %lld ms, before the root was mounted; its device will be re-probed then",
		fw->held[i].name, now_ms() - fw->held[i].seen_ms);
	remember_expired(fw, sysdir);
	drop_held(fw, i);
}

/* Requests that are pending right now, as /sys/class/firmware lists them
 * (they were made before our socket existed, or while nobody listened). */
static void scan_pending(struct firmware *fw, bool early)
{
	DIR *d = opendir("/sys/class/firmware");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "timeout") == 0)
			continue;
		char link[FW_SYSDIR_LEN], target[FW_SYSDIR_LEN];
		if (str_concat(link, sizeof(link), "/sys/class/firmware/",
			       de->d_name) < 0 ||
		    !realpath(link, target) ||
		    !str_starts_with(target, "/sys/"))
			continue;
		char name[FW_NAME_MAX];
		if (str_copy(name, sizeof(name), de->d_name) < 0)
			continue;
		fw_name_from_sysfs(name);
		take_request(fw, name, target + 4, early);
	}
	closedir(d);
}

/* A request made before /init ran expired with the timeout the kernel
 * fixed then. Binding the device's driver again makes it ask again, now
 * that the firmware can be had (a real bus driver, such as iwlwifi). */
static void reprobe(const char *dev)
{
	const char *name = strrchr(dev, '/');
	if (!name)
		return;
	name++;
	char path[FW_SYSDIR_LEN + 32], drv[FW_SYSDIR_LEN];
	if (str_concat(path, sizeof(path), dev, "/driver") == 0 &&
	    realpath(path, drv)) {
		char unbind[FW_SYSDIR_LEN + 16], bind[FW_SYSDIR_LEN + 16];
		int rc = str_concat(unbind, sizeof(unbind), drv, "/unbind");
		if (rc == 0)
			rc = str_concat(bind, sizeof(bind), drv, "/bind");
		if (rc == 0)
			rc = write_file(unbind, name);
		if (rc == 0)
			rc = write_file(bind, name);
		if (rc == 0)
			log_notice(
				"firmware: re-probed %s so that its driver asks again",
				dev);
		else
			log_warn("firmware: re-probing %s failed: %s", dev,
				 strerror(-rc));
		return;
	}
	if (str_concat(path, sizeof(path), dev, "/subsystem/drivers_probe") ==
		    0 &&
	    access(path, W_OK) == 0 && write_file(path, name) == 0) {
		log_notice("firmware: asked the bus to probe %s again", dev);
		return;
	}
	log_warn(
		"firmware: %s asked before /init ran and its request expired; it has no driver or bus to re-probe, so it stays without firmware",
		dev);
}

void firmware_root_mounted(struct firmware *fw, const char *newroot)
{
	fw->newroot = newroot;
	while (fw->nheld > 0) {
		struct fw_request rq = fw->held[--fw->nheld];
		if (!request_pending(rq.sysdir))
			continue;
		if (try_serve(fw, &rq, newroot) == 0)
			abort_request(&rq, "not on the real root either");
	}
	for (int i = 0; i < fw->nexpired; i++)
		reprobe(fw->expired[i]);
	fw->nexpired = 0;
}

void firmware_root_gone(struct firmware *fw)
{
	fw->newroot = NULL;
}

static void save_and_set(const char *knob, char *saved, size_t size,
			 const char *want)
{
	saved[0] = '\0';
	char cur[16];
	if (sysctl_read(knob, cur, sizeof(cur)) < 0 || strcmp(cur, want) == 0)
		return;
	if (sysctl_write(knob, want) == 0)
		str_copy(saved, size, cur);
}

static void restore(const char *knob, char *saved)
{
	if (saved[0])
		sysctl_write(knob, saved);
	saved[0] = '\0';
}

void firmware_start(struct firmware *fw, const struct boot_config *cfg)
{
	memset(fw, 0, sizeof(*fw));
	struct utsname u;
	if (uname(&u) == 0)
		str_copy(fw->release, sizeof(fw->release), u.release);
	str_copy(fw->custom_path, sizeof(fw->custom_path), cfg->fw_path);
	/* The kernel fixes a request's timeout when it is made; with 0 no
	 * request made from now on expires while someone types slowly. We
	 * answer every one of them before switching root. */
	save_and_set(TIMEOUT_KNOB, fw->saved_timeout, sizeof(fw->saved_timeout),
		     "0");
	/* Without CONFIG_FW_LOADER_USER_HELPER_FALLBACK, plain
	 * request_firmware() never asks userspace unless forced. */
	save_and_set(FORCE_KNOB, fw->saved_force, sizeof(fw->saved_force), "1");
	if (fw->saved_force[0])
		log_info(
			"firmware: forcing the sysfs fallback while in the initramfs (the kernel lacks CONFIG_FW_LOADER_USER_HELPER_FALLBACK)");
	scan_pending(fw, true);
}

void firmware_finish(struct firmware *fw)
{
	/* Restore first: a request made after the last scan then gets the
	 * normal timeout and not an endless wait nobody will answer. */
	restore(TIMEOUT_KNOB, fw->saved_timeout);
	restore(FORCE_KNOB, fw->saved_force);
	scan_pending(fw, false);
	while (fw->nheld > 0)
		abort_request(&fw->held[--fw->nheld],
			      "no root to serve it from");
}
