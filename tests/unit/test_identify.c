/* Identification in jobs (init/devices/identify.h): how often a device
 * is read when it is asked for twice. Devices that do not exist: each run
 * ends at once, and each run is one delivery. */
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "check.h"
#include "devices/identify.h"
#include "jobserve.h"

#define DEV "luksinit-unit-no-such-device"

struct seen {
	int runs;
	int rc;
};

static void count(const struct identify_result *res, void *ctx)
{
	struct seen *s = ctx;
	if (strcmp(res->devname, DEV) == 0)
		s->runs++;
	s->rc = res->rc;
}

static void serve(struct identify *id)
{
	struct jobs *js = id->jobs;
	long long end = clock_now_ms() + 5000;
	while (jobs_pending(js) && clock_now_ms() < end) {
		jobs_serve_once(js, true);
		identify_tick(id);
	}
	while (jobs_children(js) && clock_now_ms() < end) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);
		if (pid > 0)
			jobs_child_exited(js, pid);
		else
			usleep(5000);
	}
}

/* A fresh mechanism, in its first phase, results counted into s. */
static struct identify *fresh(struct seen *s)
{
	static struct jobs js;
	static struct identify id;
	jobs_init(&js);
	identify_init(&id, &js);
	identify_begin(&id, count, s);
	return &id;
}

/* Asked for twice in a phase, through the uevent path: what it finds
 * may be out of date, so it runs once more. */
static void test_submit_twice_runs_again(void)
{
	struct seen s = {0};
	struct identify *id = fresh(&s);
	identify_submit(id, DEV);
	identify_submit(id, DEV);
	serve(id);
	CHECK(s.runs == 2);
	CHECK(s.rc < 0);
	identify_end(id);
}

/* A mapping /init made: its "change" started a run already; ensuring it
 * is identified adds none. */
static void test_ensure_after_submit_runs_once(void)
{
	struct seen s = {0};
	struct identify *id = fresh(&s);
	identify_submit(id, DEV);
	CHECK(id->working == 1); /* running, not only queued */
	identify_ensure(id, DEV);
	serve(id);
	CHECK(s.runs == 1);
	/* Nothing asked for it now: ensure runs it. */
	identify_ensure(id, DEV);
	serve(id);
	CHECK(s.runs == 2);
	identify_end(id);
}

/* A run of an earlier phase (before a rescue shell, say) does not count
 * for this one: ensure asks again, and this phase gets a fresh result. */
static void test_ensure_ignores_an_earlier_phase(void)
{
	struct seen old = {0}, now = {0};
	struct identify *id = fresh(&old);
	identify_submit(id, DEV);
	identify_end(id);
	identify_begin(id, count, &now);
	identify_ensure(id, DEV);
	serve(id);
	CHECK(old.runs == 0);
	CHECK(now.runs == 1);
	identify_end(id);
}

void identify_tests(void)
{
	RUN(test_submit_twice_runs_again);
	RUN(test_ensure_after_submit_runs_once);
	RUN(test_ensure_ignores_an_earlier_phase);
}
