/* Btrfs registration in jobs (init/devices/btrfsscan.h): the owner's
 * bookkeeping, and a registration that fails ends without holding up
 * the wait. */
#include <poll.h>
#include <string.h>
#include <sys/wait.h>

#include "base/clock.h"
#include "check.h"
#include "devices/btrfsscan.h"

static void serve(struct jobs *js, int timeout_ms)
{
	long long end = clock_now_ms() + timeout_ms;
	while (jobs_pending(js) && clock_now_ms() < end) {
		struct pollfd pfd[JOBS_RUNNING_MAX];
		int n = jobs_pollfds(js, pfd, JOBS_RUNNING_MAX);
		int rc = poll(pfd, n, 50);
		pid_t pid;
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			jobs_child_exited(js, pid);
		jobs_run(js, pfd, rc > 0 ? n : 0);
	}
}

static struct dev_ids btrfs_dev(const char *node, const char *uuid)
{
	struct dev_ids ids;
	memset(&ids, 0, sizeof(ids));
	strcpy(ids.devnode, node);
	strcpy(ids.type, "btrfs");
	strcpy(ids.uuid, uuid);
	return ids;
}

/* A device that cannot be registered (here: not there) is waited for
 * until its job ends, then left out: the filesystem is not complete. */
static void btrfs_scan_that_fails_ends_and_completes_nothing(void)
{
	static struct jobs js;
	static struct btrfs_scans s;
	jobs_init(&js);
	btrfs_scans_begin(&s, &js);
	struct dev_ids ids = btrfs_dev("/nonexistent/vdz", "fs-a");
	btrfs_scan(&s, &ids);
	CHECK(btrfs_scans_pending(&s));
	serve(&js, 5000);
	CHECK(!btrfs_scans_pending(&s));
	CHECK(!btrfs_scans_complete(&s, &ids));
	CHECK(s.warned); /* said, once */
	btrfs_scans_end(&s);
}

/* Only an answer about the root's own filesystem makes it complete. */
static void btrfs_scans_complete_only_for_the_roots_filesystem(void)
{
	static struct btrfs_scans s;
	btrfs_scans_begin(&s, NULL);
	struct dev_ids other = btrfs_dev("/dev/dm-1", "fs-b");
	struct dev_ids root = btrfs_dev("/dev/dm-0", "fs-a");
	struct dev_ids by_node = btrfs_dev("/dev/dm-0", "");
	s.n = 2;
	strcpy(s.scan[0].node, "/dev/dm-1");
	strcpy(s.scan[0].uuid, "fs-b");
	s.scan[0].answered = s.scan[0].ready = true;
	strcpy(s.scan[1].node, "/dev/dm-0");
	strcpy(s.scan[1].uuid, "fs-a");
	s.scan[1].answered = true;
	CHECK(btrfs_scans_complete(&s, &other));
	CHECK(!btrfs_scans_complete(&s, &root)); /* answered: not all there */
	CHECK(!btrfs_scans_complete(&s, &by_node));
	s.scan[1].ready = true;
	CHECK(btrfs_scans_complete(&s, &root));
	CHECK(btrfs_scans_complete(&s, &by_node));
	s.scan[1].answered = false; /* asked again: no answer yet */
	CHECK(!btrfs_scans_complete(&s, &root));
}

void btrfsscan_tests(void)
{
	RUN(btrfs_scan_that_fails_ends_and_completes_nothing);
	RUN(btrfs_scans_complete_only_for_the_roots_filesystem);
}
