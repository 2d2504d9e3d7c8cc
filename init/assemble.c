#include "assemble.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/uevent.h"
#include "console/prompt.h"
#include "devices/btrfsscan.h"
#include "devices/devices.h"
#include "devices/identify.h"
#include "handover/resume.h"
#include "luks/luks.h"
#include "rootguard.h"
#include "waitpolicy.h"

#define SEEN_MAX 16
#define PROGRESS_EVERY_MS 10000
#define OPENED_MAX 16

struct assembly {
	const struct boot_config *cfg;
	const struct keymap_status *keymap;
	struct loop *loop;
	struct luks_set *luks;
	struct identify *ident;
	struct resume *resume;
	/* The disks there at boot are still being identified: no KDF starts
	 * and no prompt shows before all have been seen (luksderived.h). */
	bool coldplugging;
	int nfailed_seen;
	struct root_guard guard;
	struct btrfs_scans scans;
	struct prompt prompt;
	int prompt_member;
	bool console_gone;
	long long asked_at; /* when the open question was put, or 0 */

	struct dev_ids root;
	bool matched;
	bool complete;
	bool degraded; /* decided to boot degraded; the swap's wait may go on */
	/* Remembered only to tell the user what was there instead. */
	char seen[SEEN_MAX][96];
	int nseen;

	/* Time counts only while we wait for devices, not for a person or a
	 * KDF: typing a passphrase slowly must not expire rootwait. */
	long long waited_ms;
	long long last_tick;
	long long next_progress;
};

static void remember(struct assembly *a, const struct dev_ids *ids)
{
	for (int i = 0; i < a->nseen; i++)
		if (str_starts_with(a->seen[i], ids->devnode) &&
		    a->seen[i][strlen(ids->devnode)] == ' ')
			return;
	if (a->nseen >= SEEN_MAX)
		return;
	char *line = a->seen[a->nseen++];
	int n = snprintf(line, sizeof(a->seen[0]), "%s %s%s%s", ids->devnode,
			 ids->type[0] ? ids->type : "(no filesystem)",
			 ids->uuid[0] ? " UUID=" : "", ids->uuid);
	if (n >= (int)sizeof(a->seen[0])) /* only shown; mark the cut */
		memcpy(line + sizeof(a->seen[0]) - 4, "...", 4);
}

static void check_complete(struct assembly *a)
{
	if (!a->matched)
		return;
	a->complete = strcmp(a->root.type, "btrfs") != 0 ||
		      btrfs_scans_complete(&a->scans, &a->root);
}

/* A device that may be part of the root: registered with Btrfs (a job:
 * the kernel reads its superblock), matched against root=. */
static void admit(struct assembly *a, const struct dev_ids *ids)
{
	if (strcmp(ids->type, "btrfs") == 0)
		btrfs_scan(&a->scans, ids);
	if (!a->matched && devspec_matches(&a->cfg->root, ids)) {
		a->root = *ids;
		a->matched = true;
		log_info("root device %s found (%s)", ids->devnode,
			 ids->type[0] ? ids->type : "no filesystem recognised");
	}
	check_complete(a);
}

/* Plain Btrfs devices held back while members were unlocked: now that
 * they are, decide which may join. */
static void admit_held(struct assembly *a, bool now)
{
	/* Not before the members' own mappings have been identified and
	 * registered (Btrfs answers in a job): whether the root is ours and
	 * complete decides what a held device may be. */
	if (!now &&
	    (identify_pending(a->ident) || btrfs_scans_pending(&a->scans)))
		return;
	struct dev_ids ok[ROOTGUARD_HELD_MAX];
	int n = rootguard_release(&a->guard, a->luks, a->complete, a->matched,
				  ok, ROOTGUARD_HELD_MAX);
	for (int i = 0; i < n; i++)
		admit(a, &ok[i]);
}

/* Identified by a job (identify.h): what it is decides where it goes. */
static void on_identified(const struct identify_result *res, void *arg)
{
	struct assembly *a = arg;
	const struct dev_ids *ids = res->ids;
	if (res->rc < 0) {
		log_debug_errno(res->rc, "/dev/%s: cannot identify",
				res->devname);
		return;
	}
	if (res->rc == 1)
		log_warn("%s: several filesystem signatures, ignoring it",
			 ids->devnode);
	log_debug("%s: type=%s uuid=%s label=%s partuuid=%s", ids->devnode,
		  ids->type, ids->uuid, ids->label, ids->partuuid);
	remember(a, ids);
	resume_on_device(a->resume, ids,
			 luks_owns_mapping(a->luks, ids->mapper_name));
	/* Swap is never a Btrfs member nor the root. */
	if (luks_is_swap_mapping(a->luks, ids->mapper_name))
		return;
	/* Late or early, a member gets the key that is there now: in this
	 * pass (step). */
	if (luks_consider(a->luks, ids))
		return;
	if (rootguard_hold(&a->guard, a->luks, &a->cfg->root, ids)) {
		admit_held(a, false);
		return;
	}
	admit(a, ids);
}

static void consider_device(struct assembly *a, const char *devname)
{
	identify_submit(a->ident, devname);
}

static void on_block_uevent(const struct uevent *ev, void *arg)
{
	if (uevent_is_block_add(ev))
		consider_device(arg, ev->devname);
}

static void rescan_devices(void *arg)
{
	devices_coldplug(on_block_uevent, arg);
}

/* Once per pass, after the handlers: LUKS acts on what they noted. */
static void schedule_luks(struct assembly *a)
{
	char opened[OPENED_MAX][32];
	int n = luks_schedule(a->luks, opened, OPENED_MAX);
	/* Don't wait for the dm uevent: the device is usable now. Its
	 * "change" may have come already: one identification, not two. */
	for (int i = 0; i < n; i++)
		identify_ensure(a->ident, opened[i]);
}

static void update_prompt(struct assembly *a)
{
	if (a->prompt.active || a->console_gone || a->coldplugging)
		return;
	char text[PROMPT_TEXT_MAX];
	int member = -1;
	if (luks_needs(a->luks, &member, text, sizeof(text)) == NEED_NOTHING)
		return;
	keymap_prompt_note(text, sizeof(text), a->keymap->outcome,
			   a->keymap->used);
	int rc = prompt_start(&a->prompt, a->loop->consoles, text, true);
	if (rc == -ENOTTY) {
		log_err("no console to ask for the passphrase on");
		a->console_gone = true;
		return;
	}
	if (rc < 0) {
		log_err("cannot lock memory for the passphrase");
		a->console_gone = true;
		return;
	}
	a->prompt_member = member;
}

static void on_console(struct assembly *a)
{
	struct secret pass = {0};
	switch (prompt_read(&a->prompt, &pass)) {
	case PROMPT_MORE:
		return;
	case PROMPT_DONE:
		if (pass.len == 0) {
			/* Enter alone is no attempt: no KDF, no try spent. */
			secret_free(&pass);
			log_notice("empty passphrase; asking again");
			return;
		}
		luks_offer(a->luks, &pass, a->prompt_member);
		return;
	case PROMPT_ERROR:
		return;
	case PROMPT_EOF:
		prompt_stop(&a->prompt);
		log_err("no console gives input; cannot ask for the passphrase");
		a->console_gone = true;
		return;
	}
}

static void on_console_ready(void *arg, short revents)
{
	if (revents & (POLLIN | POLLHUP | POLLERR))
		on_console(arg);
}

static bool kdfs_ended(void *arg)
{
	return !luks_jobs_running(arg);
}

/* A key device's wait is bounded on its own (keyfile-timeout=): the root
 * deadline must not end it first. */
static bool waiting_on_person_or_kdf(struct assembly *a)
{
	return a->prompt.active || luks_jobs_running(a->luks) ||
	       luks_keydev_ms(a->luks) >= 0;
}

static void tick(struct assembly *a, bool paused)
{
	long long now = clock_now_ms();
	if (!paused)
		a->waited_ms += now - a->last_tick;
	a->last_tick = now;
}

static bool degraded_permitted(const struct boot_config *cfg)
{
	return wait_degraded_permitted(cfg->rootflags_degraded,
				       cfg->degraded_after_s);
}

static struct wait_state wait_state(struct assembly *a)
{
	return (struct wait_state){
		.matched = a->matched,
		.complete = a->complete,
		.btrfs = strcmp(a->root.type, "btrfs") == 0,
		/* A member just opened is identified off the loop's thread:
		 * until that result is in, the array may look incomplete
		 * while it is not, so no degraded mount is decided. */
		.person_or_kdf = waiting_on_person_or_kdf(a) ||
				 identify_pending(a->ident) ||
				 btrfs_scans_pending(&a->scans) ||
				 rootguard_busy(&a->guard, a->luks),
		.awaits_key = luks_awaits_key(a->luks),
		.degraded_flag = a->cfg->rootflags_degraded,
		.degraded_after_s = a->cfg->degraded_after_s,
		.root_wait_s = a->cfg->root_wait_s,
		.waited_ms = a->waited_ms,
		.progress_in_ms = a->next_progress - a->last_tick,
	};
}

/* A member that cannot be opened (a dying disk) fails the boot, unless a
 * degraded mount is allowed: then it is left out like a missing disk, and
 * Btrfs decides whether the rest can mount. */
static int check_member_failures(struct assembly *a, struct failure *f)
{
	const struct failure *failed;
	if (degraded_permitted(a->cfg)) {
		luks_tell_failure(a->luks);
	} else if ((failed = luks_take_failure(a->luks))) {
		*f = *failed;
		f->hint =
			"check the passphrase / key file; the console prompt allows rd.luks.tries= attempts";
		return -EACCES;
	}
	if (a->nfailed_seen != luks_nfailed(a->luks)) {
		a->nfailed_seen = luks_nfailed(a->luks);
		log_warn(
			"leaving the failed LUKS member out; a degraded mount was allowed");
	}
	return 0;
}

static void warn_degraded(struct assembly *a)
{
	char missing[256];
	luks_describe_missing(a->luks, missing, sizeof(missing));
	log_err("WARNING: mounting Btrfs on %s DEGRADED: not all of its devices are present%s%s",
		a->root.devnode, missing[0] ? "; missing LUKS devices: " : "",
		missing);
	log_err("WARNING: writing to a degraded array while the missing device is used elsewhere can split it; re-add the device and run a balance/scrub");
}

/* The wait for the root ran out: fills f, returns -ETIMEDOUT. */
static int describe_failure(struct assembly *a, struct failure *f)
{
	const struct devspec *r = &a->cfg->root;
	char missing[256];
	luks_describe_missing(a->luks, missing, sizeof(missing));
	if (a->matched) {
		failure_say(
			f, -ETIMEDOUT,
			"root=%s%s is Btrfs on %s but not all devices of that filesystem appeared%s%s",
			devspec_kind_name(r->kind), r->value, a->root.devnode,
			missing[0] ? "; LUKS devices missing: " : "", missing);
		f->hint =
			"rootflags=degraded (now) or rd.btrfs.degraded=SECONDS (after a wait) mounts without them";
		return -ETIMEDOUT;
	}
	if (missing[0]) {
		failure_say(f, -ETIMEDOUT, "LUKS devices missing or failed: %s",
			    missing);
		f->hint =
			"check crypt_roots= / rd.luks.uuid= and that the disks are attached";
		return -ETIMEDOUT;
	}
	failure_say(f, -ETIMEDOUT,
		    "root=%s%s did not appear; block devices seen:",
		    devspec_kind_name(r->kind), r->value);
	if (a->nseen == 0)
		str_append(f->what, sizeof(f->what), " none");
	for (int i = 0; i < a->nseen; i++) {
		str_append(f->what, sizeof(f->what), " [");
		str_append(f->what, sizeof(f->what), a->seen[i]);
		str_append(f->what, sizeof(f->what), "]");
	}
	f->hint =
		"check root= and that the disk's driver is built in; rootwait=SECONDS waits longer";
	return -ETIMEDOUT;
}

static void progress(struct assembly *a)
{
	if (a->last_tick < a->next_progress)
		return;
	char missing[256];
	luks_describe_missing(a->luks, missing, sizeof(missing));
	log_notice("still waiting for root=%s%s%s%s",
		   devspec_kind_name(a->cfg->root.kind), a->cfg->root.value,
		   missing[0] ? "; LUKS devices missing: " : "", missing);
	a->next_progress = a->last_tick + PROGRESS_EVERY_MS;
}

/* rd.luks.timeout= / gk.prompt.timeout=: how long one question waits for
 * its answer. -ETIMEDOUT once it has waited that long; else 0, and
 * *wait_ms lowered so that the loop wakes at the deadline. */
static int check_prompt_timeout(struct assembly *a, int *wait_ms,
				struct failure *f)
{
	int limit_s = a->cfg->prompt_timeout_s;
	if (!a->prompt.active || limit_s <= 0) {
		a->asked_at = 0;
		return 0;
	}
	long long now = clock_now_ms();
	if (!a->asked_at)
		a->asked_at = now;
	long long left = a->asked_at + limit_s * 1000LL - now;
	if (left > 0) {
		if (*wait_ms < 0 || left < *wait_ms)
			*wait_ms = (int)left;
		return 0;
	}
	failure_say(
		f, -ETIMEDOUT,
		"no passphrase was typed within %d s (rd.luks.timeout=, gk.prompt.timeout=)",
		limit_s);
	f->hint =
		"r at the prompt asks again; without rd.luks.timeout= the question waits for an answer";
	return -ETIMEDOUT;
}

/* The root is ready. Swap members and the resume device are not needed
 * to boot, but resuming needs them (and the system its swap): they get a
 * bounded wait of their own (resume_wait_ms), then are named in a
 * warning. Returns 1 when the wait is over, 0 to go on, -errno on error. */
static int wait_for_swap(struct assembly *a, int ident_ms)
{
	if (luks_swaps_settled(a->luks) && !resume_device_missing(a->resume))
		return 1;
	bool paused = waiting_on_person_or_kdf(a) || identify_pending(a->ident);
	long long wait = resume_wait_ms(a->resume, clock_now_ms(), paused);
	if (wait < 0) {
		char swaps[512];
		luks_describe_swaps(a->luks, swaps, sizeof(swaps));
		resume_wait_ended(a->resume, swaps);
		return 1;
	}
	update_prompt(a);
	prompt_watch(&a->prompt, a->loop, on_console_ready, a);
	if (ident_ms >= 0 && ident_ms < wait)
		wait = ident_ms;
	int rc = loop_wait(a->loop, (int)wait);
	return rc < 0 ? rc : 0;
}

/* The root is ready (degraded or not): the swap's wait, then done. */
static int finish(struct assembly *a, struct assembled_root *out, int ident_ms,
		  struct failure *f)
{
	/* Every device admitted is registered (or named) before the mount;
	 * each scan has a deadline, which wakes the loop. */
	int rc = btrfs_scans_pending(&a->scans) ? loop_wait(a->loop, ident_ms)
						: wait_for_swap(a, ident_ms);
	if (rc == 1) {
		out->dev = a->root;
		out->degraded = a->degraded;
	}
	if (rc < 0)
		failure_errno(f, rc, "poll failed");
	return rc;
}

/* The array is whole and every member settled; held devices are decided
 * first (their superblocks may still be being read). */
static bool whole(struct assembly *a)
{
	return a->complete &&
	       luks_all_open(a->luks, degraded_permitted(a->cfg)) &&
	       !rootguard_busy(&a->guard, a->luks);
}

/* First in each pass: the jobs' deadlines (a disk named as slow holds
 * nothing up from here on), the end of coldplugging, then the LUKS pass
 * on what the handlers noted. Returns milliseconds until a job's or a
 * worker's next deadline, or -1. */
static int tick_workers(struct assembly *a)
{
	btrfs_scans_tick(&a->scans);
	check_complete(a); /* the scans' answers that came in */
	int ident_ms = identify_tick(a->ident);
	int luks_ms = luks_tick(a->luks);
	if (luks_ms >= 0 && (ident_ms < 0 || luks_ms < ident_ms))
		ident_ms = luks_ms;
	if (a->coldplugging && !identify_pending(a->ident) &&
	    !luks_loading(a->luks)) {
		a->coldplugging = false;
		luks_hold(a->luks, false);
	}
	schedule_luks(a);
	return ident_ms;
}

/* What this pass decides: 1 the root is ready (complete, or degraded as
 * allowed), 0 wait on (ws filled for the wait), -errno the attempt
 * failed, with f filled. */
static int outcome(struct assembly *a, struct wait_state *ws, struct failure *f)
{
	/* First: a member failing after the degraded mount was decided is
	 * said too. */
	int rc = check_member_failures(a, f);
	if (rc < 0)
		return rc;
	/* A registration stuck in the kernel holds Btrfs's lock: a mount
	 * would hang PID 1. */
	if ((!a->matched || strcmp(a->root.type, "btrfs") == 0) &&
	    (rc = btrfs_scans_failed(&a->scans, f)) < 0)
		return rc;
	if (a->degraded) /* decided: only the swap's wait is left */
		return 1;
	admit_held(a, false);
	if (whole(a)) {
		admit_held(a, true); /* decided (and named) before going on */
		return 1;
	}
	*ws = wait_state(a);
	if (wait_degraded_now(ws)) {
		admit_held(a, true);
		warn_degraded(a);
		a->degraded = true;
		return 1;
	}
	update_prompt(a);
	if (a->console_gone && !waiting_on_person_or_kdf(a) &&
	    luks_needs(a->luks, &(int){0}, (char[256]){0}, 256) !=
		    NEED_NOTHING) {
		failure_say(
			f, -ENOTTY,
			"a passphrase is needed but the console gives no input");
		f->hint =
			"boot with a console, or give a key file (rd.luks.key=, root_key=)";
		return -ENOTTY;
	}
	if (wait_expired(ws))
		return describe_failure(a, f);
	return 0;
}

/* Sleeps in the loop until the first deadline (the wait's, the prompt's,
 * a worker's, a key device's) or an event, whose handlers run. Returns 0,
 * or -errno with f filled. */
static int wait_and_dispatch(struct assembly *a, const struct wait_state *ws,
			     int worker_ms, struct failure *f)
{
	int wait_ms = wait_timeout_ms(ws);
	int rc = check_prompt_timeout(a, &wait_ms, f);
	if (rc < 0)
		return rc;
	prompt_watch(&a->prompt, a->loop, on_console_ready, a);
	bool paused = waiting_on_person_or_kdf(a);
	if (worker_ms >= 0 && (wait_ms < 0 || worker_ms < wait_ms))
		wait_ms = worker_ms;
	int key_ms = luks_keydev_ms(a->luks);
	if (key_ms >= 0 && (wait_ms < 0 || key_ms < wait_ms))
		wait_ms = key_ms;
	rc = loop_wait(a->loop, wait_ms);
	tick(a, paused);
	if (rc < 0)
		return failure_errno(f, rc, "poll failed");
	if (!paused)
		progress(a);
	return 0;
}

/* One pass of the loop: returns 1 when done, 0 to go on, -errno on error. */
static int step(struct assembly *a, struct assembled_root *out,
		struct failure *f)
{
	int worker_ms = tick_workers(a);
	struct wait_state ws;
	int rc = outcome(a, &ws, f);
	if (rc == 1)
		return finish(a, out, worker_ms, f);
	if (rc < 0)
		return rc;
	return wait_and_dispatch(a, &ws, worker_ms, f);
}

int assemble_root(const struct boot_config *cfg,
		  const struct keymap_status *keymap, struct loop *loop,
		  struct luks_set *luks, struct identify *ident,
		  struct resume *resume, struct assembled_root *out,
		  struct failure *f)
{
	static struct assembly a; /* large; PID 1's stack stays small */
	memset(&a, 0, sizeof(a));
	memset(out, 0, sizeof(*out));
	a.cfg = cfg;
	a.keymap = keymap;
	a.loop = loop;
	a.luks = luks;
	a.ident = ident;
	a.resume = resume;
	resume_begin_attempt(resume);
	luks_begin_attempt(luks);
	identify_begin(ident, on_identified, &a);
	rootguard_begin(&a.guard, loop->jobs);
	btrfs_scans_begin(&a.scans, loop->jobs);
	int rc;
	long long start = clock_now_ms();
	a.last_tick = start;
	a.next_progress = start + PROGRESS_EVERY_MS;

	loop_subscribe_blocks(loop, on_block_uevent, rescan_devices, &a);
	/* Every disk there at boot first: a member must not start a costly
	 * KDF before its primary has been seen (luksderived.h). Held until
	 * the jobs have identified them all (or given up on some). */
	luks_hold(luks, true);
	a.coldplugging = true;
	devices_coldplug(on_block_uevent, &a);
	while ((rc = step(&a, out, f)) == 0)
		;
	prompt_stop(&a.prompt);
	prompt_watch(&a.prompt, loop, NULL, NULL);
	identify_end(ident);
	rootguard_end(&a.guard);
	btrfs_scans_end(&a.scans);
	loop_subscribe_blocks(loop, NULL, NULL, NULL);
	/* KDFs still running end first, the loop serving meanwhile; one
	 * stuck on a disk that does not answer is left (luks_end_attempt). */
	luks_stop(luks);
	loop_run_until(loop, clock_now_ms() + LUKS_JOIN_WAIT_MS, kdfs_ended,
		       luks);
	luks_hold(luks, false);
	luks_end_attempt(luks);
	if (rc < 0)
		return rc;
	log_info("root device %s ready after %lld ms", out->dev.devnode,
		 clock_now_ms() - start);
	return 0;
}
