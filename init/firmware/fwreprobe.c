#include "firmware/fwreprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/kmsg.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/sysroot.h"

static void add(struct fw_reprobe *r, const char *bus, const char *name)
{
	if (!fw_sysfs_name_ok(bus, FW_BUS_MAX) ||
	    !fw_sysfs_name_ok(name, FW_DEVNAME_MAX))
		return;
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->c[i].bus, bus) && !strcmp(r->c[i].name, name)) {
			r->c[i].done = false; /* asked again: look again */
			return;
		}
	if (r->n >= FW_REPROBE_MAX) {
		log_warn("firmware: too many devices to re-probe; %s:%s is not",
			 bus, name);
		return;
	}
	struct fw_candidate *c = &r->c[r->n++];
	memset(c, 0, sizeof(*c));
	str_copy(c->bus, sizeof(c->bus), bus);
	str_copy(c->name, sizeof(c->name), name);
	log_debug("firmware: %s:%s may need a new probe once the root is there",
		  bus, name);
}

void fw_reprobe_note_request(struct fw_reprobe *r, const char *fw_sysdir)
{
	/* <device>/firmware/<name>: the device is two levels up. */
	char dev[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	if (str_copy(dev, sizeof(dev), fw_sysdir) < 0)
		return;
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(dev, '/');
		if (!slash)
			return;
		*slash = '\0';
	}
	if (str_concat(link, sizeof(link), dev, "/subsystem") < 0)
		return;
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	/* Only a bus can probe again; a class device (virtual/firmware for a
	 * request without a device) cannot. */
	const char *bus = strrchr(target, '/');
	if (!bus || !strstr(target, "/bus/"))
		return;
	const char *name = strrchr(dev, '/');
	if (name)
		add(r, bus + 1, name + 1);
}

/* A driver's failed request before /init ran: its device may want a new
 * probe. */
static void on_record(const char *rec, size_t len, void *arg)
{
	char bus[FW_BUS_MAX], name[FW_DEVNAME_MAX];
	if (fw_kmsg_failed_load(rec, len, bus, name))
		add(arg, bus, name);
}

void fw_reprobe_scan_kmsg(struct fw_reprobe *r)
{
	char path[PATH_MAX];
	if (sysroot_path(path, sizeof(path), "/dev/kmsg") < 0)
		return;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	kmsg_read_records(fd, on_record, r);
	close(fd);
}

/* <prefix>/sys/bus/<bus>/<what>; false if it does not fit. */
static bool bus_path(char *dst, size_t size, const char *bus, const char *what)
{
	int n = snprintf(dst, size, "%s/sys/bus/%s/%s", sysroot_prefix(), bus,
			 what);
	return n > 0 && (size_t)n < size;
}

static bool dev_path(char *dst, size_t size, const struct fw_candidate *c,
		     const char *tail)
{
	char what[FW_DEVNAME_MAX + 32];
	int n = snprintf(what, sizeof(what), "devices/%s%s", c->name, tail);
	return n > 0 && (size_t)n < sizeof(what) &&
	       bus_path(dst, size, c->bus, what);
}

/* A path that does not fit counts as a driver: such a device is left
 * alone. */
static bool has_driver(const struct fw_candidate *c)
{
	char path[PATH_MAX];
	return !dev_path(path, sizeof(path), c, "/driver") ||
	       access(path, F_OK) == 0;
}

static bool exists(const struct fw_candidate *c)
{
	char path[PATH_MAX];
	return dev_path(path, sizeof(path), c, "") && access(path, F_OK) == 0;
}

/* In a child: the probe runs inside this write, and it may ask for
 * firmware that only the loop, in the parent, can answer. */
static pid_t spawn_probe(const struct fw_candidate *c)
{
	char path[PATH_MAX];
	if (!bus_path(path, sizeof(path), c->bus, "drivers_probe")) {
		errno = ENAMETOOLONG;
		return -1;
	}
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(2);
	ssize_t w = write(fd, c->name, strlen(c->name));
	_exit(w < 0 ? 1 : 0);
}

void fw_reprobe_start(struct fw_reprobe *r)
{
	long long now = clock_now_ms();
	for (int i = 0; i < r->n; i++) {
		struct fw_candidate *c = &r->c[i];
		if (c->done || c->pid > 0)
			continue;
		c->done = true;
		if (!exists(c))
			continue;
		if (has_driver(c)) {
			log_debug(
				"firmware: %s:%s has a driver; leaving it alone",
				c->bus, c->name);
			continue;
		}
		c->pid = spawn_probe(c);
		if (c->pid < 0) {
			log_warn_errno(errno, "firmware: cannot re-probe %s:%s",
				       c->bus, c->name);
			c->pid = 0;
			continue;
		}
		c->deadline = now + FW_REPROBE_BOUND_MS;
		log_notice(
			"firmware: probing %s:%s again, now that its firmware can be had",
			c->bus, c->name);
	}
}

bool fw_reprobe_running(const struct fw_reprobe *r)
{
	for (int i = 0; i < r->n; i++)
		if (r->c[i].pid > 0)
			return true;
	return false;
}

void fw_reprobe_child_exit(struct fw_reprobe *r, pid_t pid, int status)
{
	for (int i = 0; i < r->n; i++) {
		struct fw_candidate *c = &r->c[i];
		if (c->pid != pid)
			continue;
		c->pid = 0;
		bool bound = has_driver(c);
		if (bound)
			log_info("firmware: %s:%s has its driver again", c->bus,
				 c->name);
		else
			log_warn(
				"firmware: %s:%s is still without a driver after a new probe (%s)",
				c->bus, c->name,
				WIFEXITED(status) && WEXITSTATUS(status) == 0
					? "no driver took it"
					: "the probe failed");
		return;
	}
}

int fw_reprobe_next_timeout(const struct fw_reprobe *r, long long now)
{
	long long best = -1;
	for (int i = 0; i < r->n; i++)
		if (r->c[i].pid > 0 && (best < 0 || r->c[i].deadline < best))
			best = r->c[i].deadline;
	if (best < 0)
		return -1;
	return best <= now ? 0 : (int)(best - now);
}

void fw_reprobe_tick(struct fw_reprobe *r, long long now)
{
	for (int i = 0; i < r->n; i++) {
		struct fw_candidate *c = &r->c[i];
		if (c->pid <= 0 || now < c->deadline)
			continue;
		/* A wait for firmware is killable; anything else is left to
		 * itself (and reaped by whoever is PID 1 then). */
		log_warn(
			"firmware: the new probe of %s:%s takes longer than %d s; going on without it",
			c->bus, c->name, FW_REPROBE_BOUND_MS / 1000);
		kill(c->pid, SIGKILL);
		c->pid = 0;
	}
}
