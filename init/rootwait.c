#include "rootwait.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "btrfs.h"
#include "devices.h"
#include "log.h"
#include "strutil.h"
#include "uevent.h"

#define SEEN_MAX 16
#define PROGRESS_EVERY_MS 10000

struct root_search {
	const struct boot_config *cfg;
	struct dev_ids root;
	bool matched;
	bool complete;
	/* Remembered only to tell the user what was there instead. */
	char seen[SEEN_MAX][96];
	int nseen;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remember(struct root_search *s, const struct dev_ids *ids)
{
	for (int i = 0; i < s->nseen; i++)
		if (str_starts_with(s->seen[i], ids->devnode) &&
		    s->seen[i][strlen(ids->devnode)] == ' ')
			return;
	if (s->nseen >= SEEN_MAX)
		return;
	snprintf(s->seen[s->nseen++], sizeof(s->seen[0]), "%s %s%s%s",
		 ids->devnode, ids->type[0] ? ids->type : "(no filesystem)",
		 ids->uuid[0] ? " UUID=" : "", ids->uuid);
}

static void check_complete(struct root_search *s)
{
	if (!s->matched)
		return;
	if (strcmp(s->root.type, "btrfs") != 0) {
		s->complete = true;
		return;
	}
	int rc = btrfs_devices_ready(s->root.devnode);
	if (rc < 0)
		log_warn("%s: cannot ask Btrfs whether all devices are present: %s",
			 s->root.devnode, strerror(-rc));
	s->complete = rc == 1;
}

static void consider_block(const struct uevent *ev, void *arg)
{
	struct root_search *s = arg;
	if (!uevent_is_block_add(ev))
		return;
	struct dev_ids ids;
	int rc = device_identify(ev->devname, &ids);
	if (rc < 0) {
		log_debug("/dev/%s: cannot identify: %s", ev->devname,
			  strerror(-rc));
		return;
	}
	log_debug("%s: type=%s uuid=%s label=%s partuuid=%s", ids.devnode,
		  ids.type, ids.uuid, ids.label, ids.partuuid);
	remember(s, &ids);
	if (strcmp(ids.type, "btrfs") == 0) {
		rc = btrfs_register(ids.devnode);
		if (rc < 0)
			log_warn("%s: Btrfs registration failed: %s",
				 ids.devnode, strerror(-rc));
	}
	if (!s->matched && devspec_matches(&s->cfg->root, &ids)) {
		s->root = ids;
		s->matched = true;
		log_info("root device %s found (%s)", ids.devnode,
			 ids.type[0] ? ids.type : "no filesystem recognised");
	}
	check_complete(s);
}

static void drain_uevents(struct root_search *s, int fd)
{
	char buf[UEVENT_MSG_MAX + 1];
	for (;;) {
		ssize_t n = uevent_recv(fd, buf, sizeof(buf));
		if (n == -EAGAIN)
			return;
		if (n == -ENOBUFS) {
			/* Events were lost: look at what is there now. */
			log_warn("uevent queue overflowed; rescanning devices");
			devices_coldplug(consider_block, s);
			continue;
		}
		if (n < 0) {
			log_warn("reading uevents failed: %s", strerror((int)-n));
			return;
		}
		struct uevent ev;
		if (n == 0 || uevent_parse(&ev, buf, (size_t)n) < 0)
			continue;
		consider_block(&ev, s);
	}
}

static void describe_failure(const struct root_search *s, char *why,
			     size_t size)
{
	const struct devspec *r = &s->cfg->root;
	if (s->matched) {
		snprintf(why, size,
			 "root=%s%s is Btrfs on %s but not all devices of that filesystem appeared",
			 devspec_kind_name(r->kind), r->value, s->root.devnode);
		return;
	}
	int off = snprintf(why, size, "root=%s%s did not appear; block devices seen:",
			   devspec_kind_name(r->kind), r->value);
	if (s->nseen == 0)
		str_append(why, size, " none");
	for (int i = 0; i < s->nseen && off > 0 && (size_t)off < size; i++) {
		str_append(why, size, " [");
		str_append(why, size, s->seen[i]);
		str_append(why, size, "]");
	}
}

int wait_for_root(const struct boot_config *cfg, int uevent_fd,
		  struct dev_ids *root, char *why, size_t why_size)
{
	struct root_search s = { .cfg = cfg };
	long long start = now_ms();
	long long deadline = cfg->root_wait_s == ROOT_WAIT_FOREVER
				     ? -1
				     : start + (long long)cfg->root_wait_s * 1000;
	long long next_progress = start + PROGRESS_EVERY_MS;

	devices_coldplug(consider_block, &s);
	while (!s.complete) {
		long long now = now_ms();
		if (deadline >= 0 && now >= deadline)
			break;
		if (now >= next_progress) {
			log_notice("still waiting for root=%s%s%s",
				   devspec_kind_name(cfg->root.kind),
				   cfg->root.value,
				   s.matched ? " (Btrfs devices missing)" : "");
			next_progress = now + PROGRESS_EVERY_MS;
		}
		long long until = next_progress;
		if (deadline >= 0 && deadline < until)
			until = deadline;
		struct pollfd pfd = { .fd = uevent_fd, .events = POLLIN };
		int rc = poll(&pfd, 1, (int)(until - now));
		if (rc < 0 && errno != EINTR) {
			snprintf(why, why_size, "poll on uevents failed: %s",
				 strerror(errno));
			return -errno;
		}
		if (rc > 0)
			drain_uevents(&s, uevent_fd);
	}
	if (!s.complete) {
		describe_failure(&s, why, why_size);
		return -ETIMEDOUT;
	}
	*root = s.root;
	log_info("root device ready after %lld ms", now_ms() - start);
	return 0;
}
