/* Btrfs registration in jobs (init/devices/btrfsscan.h): the owner's
 * bookkeeping, and a registration that fails ends without holding up
 * the wait. */
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "check.h"
#include "devices/btrfsscan.h"
#include "fakesys.h"
#include "jobserve.h"

/* reap false: a child killed stays unreaped (stuck in the disk). */
static void serve_as(struct jobs *js, int timeout_ms, bool reap)
{
	long long end = clock_now_ms() + timeout_ms;
	while (jobs_pending(js) && clock_now_ms() < end)
		jobs_serve_once(js, reap);
}

static void serve(struct jobs *js, int timeout_ms)
{
	serve_as(js, timeout_ms, true);
}

static void reap_all(struct jobs *js)
{
	long long end = clock_now_ms() + 3000;
	while (jobs_children(js) && clock_now_ms() < end) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);
		if (pid > 0)
			jobs_child_exited(js, pid);
		else
			usleep(10000);
	}
}

/* The kernel, by the device's name: "hang" never answers, "eio" and
 * "notty" fail so, any other is registered and complete. */
static int fake_kernel(unsigned long req, const char *devnode)
{
	(void)req;
	if (strstr(devnode, "hang"))
		for (;;)
			pause();
	if (strstr(devnode, "eio") || strstr(devnode, "notty")) {
		errno = strstr(devnode, "eio") ? EIO : ENOTTY;
		return -1;
	}
	return 0;
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

/* A phase of scans on jobs of their own, the kernel faked. */
static void begin_faked(struct jobs *js, struct btrfs_scans *s)
{
	jobs_init(js);
	btrfs_scans_begin(s, js);
	fake_btrfs_ioctl = fake_kernel;
}

/* The kernel holds one lock while it reads a device for these calls:
 * one scan runs at a time, the next when it has answered. */
static void btrfs_scans_run_one_at_a_time(void)
{
	static struct jobs js;
	static struct btrfs_scans s;
	begin_faked(&js, &s);
	struct dev_ids a = btrfs_dev("/dev/fake-a", "fs-a");
	struct dev_ids b = btrfs_dev("/dev/fake-b", "fs-b");
	btrfs_scan(&s, &a);
	btrfs_scan(&s, &b);
	CHECK(s.scan[0].job > 0);
	CHECK(s.scan[1].job == 0); /* waits its turn */
	CHECK(btrfs_scans_pending(&s));
	serve(&js, 5000);
	CHECK(!btrfs_scans_pending(&s));
	CHECK(btrfs_scans_complete(&s, &a) && btrfs_scans_complete(&s, &b));
	fake_btrfs_ioctl = NULL;
	btrfs_scans_end(&s);
	reap_all(&js);
}

/* A device identified twice (a mapping, as its unlock reports it and on
 * its uevent) is registered once; one whose filesystem changed, or whose
 * registration failed, is registered again. */
static void a_device_seen_again_is_registered_once(void)
{
	static struct jobs js;
	static struct btrfs_scans s;
	begin_faked(&js, &s);
	struct dev_ids a = btrfs_dev("/dev/fake-a", "fs-a");
	btrfs_scan(&s, &a);
	serve(&js, 5000);
	CHECK(s.scan[0].answered);
	btrfs_scan(&s, &a);
	CHECK(s.scan[0].job == 0 && !btrfs_scans_pending(&s));
	CHECK(btrfs_scans_complete(&s, &a));
	struct dev_ids changed = btrfs_dev("/dev/fake-a", "fs-c");
	btrfs_scan(&s, &changed);
	CHECK(s.scan[0].job > 0);
	serve(&js, 5000);
	CHECK(btrfs_scans_complete(&s, &changed));
	struct dev_ids failing = btrfs_dev("/dev/fake-eio", "fs-a");
	btrfs_scan(&s, &failing);
	serve(&js, 5000);
	CHECK(s.scan[1].answered && !s.scan[1].registered);
	btrfs_scan(&s, &failing);
	CHECK(s.scan[1].job > 0); /* tried again */
	serve(&js, 5000);
	fake_btrfs_ioctl = NULL;
	btrfs_scans_end(&s);
	reap_all(&js);
}

/* A scan that does not answer (its child stuck, holding the kernel's
 * lock): no other scan starts, in this phase or the next, and the
 * attempt fails naming the device, until the child is gone. */
static void btrfs_scan_stuck_stops_scans_and_fails_the_mount(void)
{
	static struct jobs js;
	static struct btrfs_scans s;
	jobs_init(&js);
	btrfs_scans_begin(&s, &js);
	s.timeout_ms = 300;
	fake_btrfs_ioctl = fake_kernel;
	struct dev_ids hung = btrfs_dev("/dev/fake-hang", "fs-a");
	struct dev_ids ok = btrfs_dev("/dev/fake-ok", "fs-b");
	btrfs_scan(&s, &hung);
	btrfs_scan(&s, &ok);
	struct failure f;
	failure_clear(&f);
	CHECK(btrfs_scans_failed(&s, &f) == 0);
	serve_as(&js, 5000, false);
	CHECK(s.scan[1].job == 0 && !s.scan[1].answered);
	CHECK(!btrfs_scans_pending(&s)); /* nothing more can come */
	CHECK(btrfs_scans_failed(&s, &f) == -ETIMEDOUT);
	CHECK(strstr(f.what, "/dev/fake-hang did not answer within"));
	CHECK(strstr(f.what, "a mount would hang"));
	CHECK(f.hint != NULL);
	btrfs_scans_end(&s);
	btrfs_scans_begin(&s, &js); /* a retry: still stuck */
	btrfs_scan(&s, &ok);
	CHECK(s.scan[0].job == 0);
	CHECK(btrfs_scans_failed(&s, &f) == -ETIMEDOUT);
	reap_all(&js); /* the read returned: the child is gone */
	CHECK(btrfs_scans_failed(&s, &f) == 0);
	btrfs_scans_tick(&s);
	CHECK(s.scan[0].job > 0);
	serve(&js, 5000);
	CHECK(btrfs_scans_complete(&s, &ok));
	fake_btrfs_ioctl = NULL;
	btrfs_scans_end(&s);
	reap_all(&js);
}

/* Reads what the log sent to kmsg since the last call. */
static void read_log(int fd, char *buf, size_t size)
{
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* Every device's failure is named; only "no Btrfs in the kernel", which
 * every device would say, is said once. */
static void btrfs_scan_errors_named_for_each_device(void)
{
	static struct jobs js;
	static struct btrfs_scans s;
	int kmsg[2];
	CHECK(pipe(kmsg) == 0);
	fcntl(kmsg[0], F_SETFL, O_NONBLOCK);
	log_set_fds(-1, kmsg[1]);
	jobs_init(&js);
	btrfs_scans_begin(&s, &js);
	fake_btrfs_ioctl = fake_kernel;
	struct dev_ids ids[4] = {
		btrfs_dev("/dev/fake-eio1", "fs-a"),
		btrfs_dev("/dev/fake-eio2", "fs-a"),
		btrfs_dev("/dev/fake-notty1", "fs-b"),
		btrfs_dev("/dev/fake-notty2", "fs-b"),
	};
	for (int i = 0; i < 4; i++)
		btrfs_scan(&s, &ids[i]);
	serve(&js, 5000);
	char buf[2048];
	read_log(kmsg[0], buf, sizeof(buf));
	CHECK(strstr(buf, "/dev/fake-eio1: Btrfs registration failed"));
	CHECK(strstr(buf, "/dev/fake-eio2: Btrfs registration failed"));
	CHECK(strstr(buf, "/dev/fake-notty1: Btrfs registration failed"));
	CHECK(!strstr(buf, "/dev/fake-notty2"));
	fake_btrfs_ioctl = NULL;
	log_set_fds(2, -1);
	close(kmsg[0]);
	close(kmsg[1]);
	btrfs_scans_end(&s);
	reap_all(&js);
}

void btrfsscan_tests(void)
{
	RUN(btrfs_scan_that_fails_ends_and_completes_nothing);
	RUN(btrfs_scans_complete_only_for_the_roots_filesystem);
	RUN(btrfs_scans_run_one_at_a_time);
	RUN(a_device_seen_again_is_registered_once);
	RUN(btrfs_scan_stuck_stops_scans_and_fails_the_mount);
	RUN(btrfs_scan_errors_named_for_each_device);
}
