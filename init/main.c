/*
 * /init for an initramfs whose root is a Btrfs filesystem (possibly spread
 * over several devices). Read top to bottom, this is the boot sequence.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assemble.h"
#include "base/clock.h"
#include "base/failure.h"
#include "base/file.h"
#include "base/knob.h"
#include "base/log.h"
#include "base/reaper.h"
#include "base/rundir.h"
#include "base/sysmounts.h"
#include "base/uevent.h"
#include "config/cmdline.h"
#include "console/consoles.h"
#include "console/vtkeymap.h"
#include "devices/identify.h"
#include "emergency.h"
#include "firmware/firmware.h"
#include "handover/resume.h"
#include "handover/rootmount.h"
#include "handover/switchroot.h"
#include "loop/loop.h"
#include "loop/sweep.h"
#include "luks/hdrdev.h"
#include "remote/client.h"
#include "sshunlock.h"

/* At hand-over, how long requests still arriving are answered before the
 * real init runs regardless (a driver asking in a tight loop). */
#define HANDOVER_MAX_MS 2000

#define DEVKMSG_KNOB "/proc/sys/kernel/printk_devkmsg"

struct boot {
	struct boot_config cfg;
	struct firmware fw;
	struct loop loop;      /* from the first millisecond to the exec */
	struct jobs jobs;      /* its children, stuck ones too */
	struct luks_set *luks; /* what is open survives a failed attempt */
	struct identify ident; /* so do jobs stuck on a disk */
	struct consoles consoles;
	struct keymap_status keymap; /* the layout the prompt is typed in */
	struct resume resume;	     /* a retry must not resume after a mount */
	struct sshunlock ssh;	     /* another console, from afar */
	int luks_rc;
	/* The root moved and the initramfs is gone, but the exec of the real
	 * init failed: a retry can only run it again. */
	bool in_new_root;
	int kmsg_fd;
	struct knob_saved devkmsg;
	char cmdline[CMDLINE_MAX];
};

static void read_cmdline(struct boot *b)
{
	b->cmdline[0] = '\0';
	ssize_t n = read_small_file(AT_FDCWD, "/proc/cmdline", b->cmdline,
				    sizeof(b->cmdline));
	if (n < 0) {
		log_err_errno((int)n, "cannot read /proc/cmdline");
		return;
	}
	if ((size_t)n == sizeof(b->cmdline) - 1)
		log_warn(
			"kernel command line longer than %d bytes; the rest is ignored",
			CMDLINE_MAX - 1);
}

static void report_cmdline_problems(const struct boot_config *cfg)
{
	for (int i = 0; i < cfg->nproblems; i++) {
		const struct cmdline_problem *p = &cfg->problems[i];
		char times[32] = "";
		if (p->times > 1)
			snprintf(times, sizeof(times), " (%d times)", p->times);
		if (p->item[0])
			log_warn("ignoring %s= %s: %s%s", p->param, p->item,
				 p->why, times);
		else
			log_warn("ignoring %s=: %s%s", p->param, p->why, times);
	}
	if (cfg->problems_dropped)
		log_warn("%d more command-line problems not shown",
			 cfg->problems_dropped);
}

/* /dev/kmsg rate-limits each writer to 10 lines per 5 s by default; our
 * messages during boot matter more than that, so lift it while we run. */
static void lift_kmsg_ratelimit(struct boot *b)
{
	knob_save_set(&b->devkmsg, DEVKMSG_KNOB, "on", "ratelimit");
}

static void kmsg_setup(struct boot *b)
{
	b->kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	lift_kmsg_ratelimit(b);

	int kernel_level = knob_console_level();
	log_set_fds(-1, b->kmsg_fd);
	log_set_kernel_console_level(kernel_level < 0 ? 0 : kernel_level);
	/* Every console of our own, non-blocking: a serial line held by flow
	 * control with nothing attached must not stop PID 1. fds 0-2 stay
	 * as they are for the shell and the real init. */
	consoles_open(&b->consoles);
	log_set_consoles(b->consoles.fd, b->consoles.n);
	b->loop.consoles = &b->consoles;
}

static void early_setup(struct boot *b, int argc, char **argv)
{
	umask(022);
	/* /proc, the firmware fallback forced, only then /sys: a driver that
	 * asks the moment /sys appears must find the fallback on. */
	sysmounts_proc();
	firmware_init(&b->fw);
	sysmounts_setup();
	console_setup();
	kmsg_setup(b);

	read_cmdline(b);
	boot_config_init(&b->cfg);
	cmdline_parse(&b->cfg, b->cmdline);
	cmdline_kernel_args(&b->cfg, argc, (const char *const *)argv);
	resume_init(&b->resume, &b->cfg);
	log_set_debug(b->cfg.debug);
	log_set_console_level(b->cfg.quiet ? LOG_LVL_WARNING : LOG_LVL_INFO);
	log_info("starting");
	report_cmdline_problems(&b->cfg);
	resume_warn_unchecked(&b->cfg);
	/* Before any prompt: the passphrase is typed in this layout. */
	vtkeymap_setup(&b->cfg, &b->keymap);
	firmware_start(&b->fw, &b->cfg);
	b->luks_rc = luks_init(&b->luks, &b->cfg);
	luks_attach_jobs(b->luks, &b->jobs);
	identify_init(&b->ident, &b->jobs);
	sshunlock_start(&b->ssh, &b->cfg, &b->loop, &b->consoles);
}

static void restore_kernel_knobs(struct boot *b)
{
	knob_restore(&b->devkmsg, DEVKMSG_KNOB);
}

/* What /init cost the machine at its peak (firmware is streamed, never
 * held whole; KDF memory shows here too). */
static void log_peak_memory(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		log_info("peak memory %ld KiB", ru.ru_maxrss);
}

static bool firmware_settled(void *arg)
{
	return !firmware_reprobing(arg);
}

/* Until no firmware request arrived for a moment (or HANDOVER_MAX_MS):
 * the loop waits exactly as long as that moment lasts, not a whole slice. */
static void drain_firmware_requests(struct boot *b)
{
	long long deadline = clock_now_ms() + HANDOVER_MAX_MS;
	for (;;) {
		long long now = clock_now_ms();
		int quiet_in = firmware_quiet_in(&b->fw, now);
		if (quiet_in == 0 || now >= deadline)
			return;
		long long left = deadline - now;
		loop_wait_at_most(&b->loop,
				  left < quiet_in ? (int)left : quiet_in);
	}
}

/* Drivers left without firmware get it now, before the real init runs:
 * their new probes ask, and the loop answers from the new root. */
static void serve_firmware_from(struct boot *b, const char *root)
{
	firmware_root_mounted(&b->fw, root);
	loop_run_until(&b->loop, clock_now_ms() + FW_REPROBE_BOUND_MS + 1000,
		       firmware_settled, &b->fw);
}

/* Returns only if the real init could not be run. */
static int exec_real_init(struct boot *b, struct failure *f)
{
	const struct boot_config *cfg = &b->cfg;
	char *argv[CFG_INIT_ARGS_MAX + 2];
	int argc = 0;
	argv[argc++] = (char *)cfg->init;
	for (int i = 0; i < cfg->init_argc; i++)
		argv[argc++] = (char *)cfg->init_args[i];
	argv[argc] = NULL;
	/* What the kernel itself gives init: nothing of ours leaks. */
	char *envp[] = {"HOME=/", "TERM=linux", NULL};

	/* A request made right up to the exec is still answered: the kernel's
	 * own loader takes over from here, and what is already waiting in
	 * sysfs is served before the exec. */
	firmware_in_new_root(&b->fw);
	drain_firmware_requests(b);
	/* The SSH sessions see the hand-over, then the server and they end
	 * and the network is left as the documentation says. */
	sshunlock_stop(&b->ssh, cfg->neednet);
	/* Every job's owner is told first (JOB_CANCELLED), then nothing of
	 * the initramfs runs on into the real system: a job's child, a
	 * firmware helper, anything a process left. One stuck on a disk is
	 * waited for at most SWEEP_BOUND_MS; the real init reaps it. */
	jobs_cancel_all(&b->jobs);
	loop_sweep(&b->loop, "before the real init runs");
	firmware_finish(&b->fw);
	log_peak_memory();
	restore_kernel_knobs(b);
	loop_close(&b->loop);
	reaper_reset_sigmask();
	luks_hand_on(b->luks);
	int rc = switch_root_exec(cfg->init, argv, envp, f);
	/* Still PID 1, now inside the new root: keep serving. */
	loop_open(&b->loop, &b->fw, &b->jobs);
	b->loop.consoles = &b->consoles;
	lift_kmsg_ratelimit(b);
	firmware_exec_failed(&b->fw);
	return rc;
}

static void hand_over(struct boot *b, struct failure *f)
{
	const char *init = b->cfg.init;
	int rc = 0;
	if (!b->in_new_root) {
		hdrdev_remove_copies(&b->cfg);
		rundir_remove();
		log_info("switching to the new root, running %s", init);
		rc = switch_root_enter(NEWROOT, init, f);
		if (rc < 0 && access("/proc/self", F_OK) == 0) {
			/* Still in the initramfs: unmount, so a retry does
			 * not stack a second root on this one. */
			firmware_root_gone(&b->fw);
			umount2(NEWROOT, MNT_DETACH);
		}
		b->in_new_root = rc == 0;
	} else {
		log_info("running %s again", init);
	}
	if (rc == 0)
		exec_real_init(b, f);
	else
		failure_context(f, "switching to the new root for %s failed",
				init);
	f->hint =
		b->in_new_root
			? "the initramfs is gone; a rescue shell is the root's own /bin/sh, if it has one; r runs the init again"
			: "the new root is mounted but could not take over";
}

/* What no retry changes: the command line, and what was set up once for
 * it. Returns false with the reason filled in if no attempt can succeed. */
static bool check_config(const struct boot *b, struct failure *f)
{
	const struct boot_config *cfg = &b->cfg;
	if (cfg->root.kind == DEVSPEC_NONE) {
		failure_say(f, -EINVAL,
			    "no usable root= on the kernel command line");
		f->hint =
			"add root=UUID=<filesystem UUID> (or LABEL=, PARTUUID=, /dev/...)";
		return false;
	}
	if (cfg->members_dropped) {
		failure_say(
			f, -E2BIG,
			"%d LUKS devices on the command line; luksinit opens at most %d",
			cfg->nmembers + cfg->members_dropped, LUKS_MEMBERS_MAX);
		f->hint =
			"an array mounted without some of its members would be degraded; list at most 16";
		return false;
	}
	if (b->luks_rc < 0) {
		failure_errno(f, b->luks_rc, "cannot set up LUKS unlocking");
		return false;
	}
	return true;
}

/* Returns only on failure, with the reason filled in. */
static void try_boot(struct boot *b, struct failure *f)
{
	const struct boot_config *cfg = &b->cfg;
	if (b->loop.uevent_fd < 0)
		b->loop.uevent_fd = uevent_open();
	if (b->loop.uevent_fd < 0) {
		failure_errno(f, b->loop.uevent_fd,
			      "cannot open the uevent socket");
		f->hint = "the kernel needs CONFIG_NET";
		return;
	}
	if (b->in_new_root) {
		hand_over(b, f);
		return;
	}
	/* Before any job may mount or copy below it (base/rundir.h). */
	rundir_create();
	struct assembled_root root;
	if (assemble_root(cfg, &b->keymap, &b->loop, b->luks, &b->ident,
			  &b->resume, &root, f) < 0)
		return;
	/* Before anything is mounted: with an image the kernel restores it
	 * and this boot ends here. */
	resume_attempt(&b->resume);
	/* Even a mount that fails may have written (a log replayed): from
	 * here on, resuming is never safe again. */
	resume_forbid(&b->resume, RESUME_ROOT_MOUNTED);
	if (mount_root(cfg, &root.dev, root.degraded, f) < 0)
		return;
	if (switchroot_check_init(NEWROOT, cfg->init, f) < 0) {
		failure_context(f, "%s on the new root is not usable",
				cfg->init);
		f->hint =
			"check init= and rootflags=subvol=; the initramfs is left intact";
		umount2(NEWROOT, MNT_DETACH);
		return;
	}
	serve_firmware_from(b, NEWROOT);
	hand_over(b, f);
}

int main(int argc, char **argv)
{
	/* The same binary is every SSH session's unlock client. */
	if (getpid() != 1 && argc > 0 && unlock_client_called(argv[0]))
		return unlock_client_main();
	/* Static: the firmware queue is large for PID 1's stack. */
	static struct boot b = {.kmsg_fd = -1};
	/* The uevent socket first, so no event is missed. */
	jobs_init(&b.jobs);
	loop_open(&b.loop, &b.fw, &b.jobs);
	early_setup(&b, argc, argv);
	/* Static: a failure is a kilobyte, and PID 1's stack stays small. */
	static struct failure config, f;
	bool config_ok = check_config(&b, &config);
	for (;;) {
		f = config;
		if (config_ok)
			try_boot(&b, &f);
		/* A shell may have mounted a filesystem (and unmounted it
		 * again): never resume in this boot after it. Its exit hung
		 * up the consoles we opened by name. */
		if (emergency(&b.cfg, &b.loop, &f)) {
			resume_forbid(&b.resume, RESUME_SHELL_RAN);
			consoles_reopen(&b.consoles);
		}
	}
}
