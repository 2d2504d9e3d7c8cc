#include "emergency.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/reaper.h"
#include "console/prompt.h"
#include "loop/loop.h"
#include "loop/sweep.h"

/* Used when the console gives no input at all (EOF): retry now and then
 * instead of spinning or giving up. */
#define NO_CONSOLE_RETRY_S 60

/* A person's time has no bound; the loop still serves meanwhile. */
#define FOREVER_MS (1LL << 60)

/* Waits, serving firmware requests and children all the while. */
static void wait_seconds(struct loop *loop, long s)
{
	loop_run_until(loop, clock_now_ms() + s * 1000LL, NULL, NULL);
}

static void reboot_now(int how)
{
	sync();
	reboot(how);
	/* reboot() only returns on failure; nothing left but to wait. */
	log_err_errno(errno, "reboot failed");
	for (;;)
		pause();
}

static int shell_available(const struct boot_config *cfg)
{
	if (!cmdline_shell_allowed(cfg))
		return 0;
	return access(RESCUE_SHELL, X_OK) == 0;
}

static bool child_exited(void *arg)
{
	return ((struct loop *)arg)->child_exited;
}

/* True if the shell was started. */
static bool run_shell(struct loop *loop)
{
	log_notice("starting rescue shell %s; exit it to try booting again",
		   RESCUE_SHELL);
	pid_t pid = fork();
	if (pid < 0) {
		log_err_errno(errno, "cannot start the rescue shell");
		return false;
	}
	if (pid == 0) {
		/* A session leader with the console as controlling tty, so
		 * that job control and ^C work in the shell. */
		reaper_reset_sigmask();
		setsid();
		ioctl(0, TIOCSCTTY, 1);
		char *const argv[] = {RESCUE_SHELL, "-i", NULL};
		char *const envp[] = {"HOME=/", "TERM=linux",
				      "PATH=/sbin:/bin:/usr/sbin:/usr/bin",
				      "PS1=(initramfs) # ", NULL};
		execve(RESCUE_SHELL, argv, envp);
		_exit(127);
	}
	/* The loop reaps it (and serves firmware the shell's commands may
	 * ask for) until it exits. */
	loop_adopt_child(loop, pid);
	loop_run_until(loop, FOREVER_MS, child_exited, loop);
	loop_adopt_child(loop, 0);
	log_notice("rescue shell exited; trying to boot again");
	/* What it left running (nohup, &) would see the next passphrase
	 * typed, and live on in the booted system. */
	loop_sweep(loop, "after the rescue shell");
	return true;
}

#define CHOICE_TEXT "Press r + Enter to retry, b to reboot, p to power off: "

struct choice {
	struct loop *loop;
	struct prompt prompt;
	int answer; /* 'r', 'b', 'p'; 0 on EOF/error; -1 while asking */
};

static void on_choice_input(void *arg, short revents)
{
	struct choice *c = arg;
	struct secret line = {0};
	(void)revents;
	switch (prompt_read(&c->prompt, &line)) {
	case PROMPT_MORE:
		/* A console that gave up (EOF after EOF) leaves the watch,
		 * or a hung-up line would wake the loop for ever. */
		prompt_watch(&c->prompt, c->loop, on_choice_input, c);
		return;
	case PROMPT_EOF:
		c->answer = 0;
		return;
	case PROMPT_ERROR:
		break;
	case PROMPT_DONE:
		if (line.len == 1 && strchr("rbp", line.buf[0]))
			c->answer = (unsigned char)line.buf[0];
		break;
	}
	secret_free(&line);
	if (c->answer >= 0)
		return;
	/* Anything else: the same question again, on every console. */
	if (prompt_start(&c->prompt, c->loop->consoles, CHOICE_TEXT, false) < 0)
		c->answer = 0;
	else
		prompt_watch(&c->prompt, c->loop, on_choice_input, c);
}

/* A disk plugged in while the question waits (the one that was missing,
 * perhaps): say so, and that a retry would see it. Only additions: a
 * "change" is no news to the person. (A mapping's "add" never comes here,
 * see loop.c: while the question waits nothing makes one; the person's
 * own in a rescue shell are made before it.) */
static void on_block(const struct uevent *ev, void *arg)
{
	(void)arg;
	if (uevent_is_block_add(ev) && strcmp(ev->action, "add") == 0)
		log_notice(
			"new block device /dev/%s; r retries the boot with it",
			ev->devname);
}

static bool answered(void *arg)
{
	return ((struct choice *)arg)->answer >= 0;
}

/* Returns 'r', 'b', 'p', or 0 on EOF/error. */
static int ask_choice(struct loop *loop)
{
	static struct choice c; /* holds a prompt: large for PID 1's stack */
	memset(&c, 0, sizeof(c));
	c.loop = loop;
	c.answer = -1;
	if (prompt_start(&c.prompt, loop->consoles, CHOICE_TEXT, false) < 0)
		return 0;
	prompt_watch(&c.prompt, loop, on_choice_input, &c);
	loop_subscribe_blocks(loop, on_block, NULL, &c);
	loop_run_until(loop, FOREVER_MS, answered, &c);
	loop_subscribe_blocks(loop, NULL, NULL, NULL);
	prompt_stop(&c.prompt);
	prompt_watch(&c.prompt, loop, NULL, NULL);
	return c.answer < 0 ? 0 : c.answer;
}

bool emergency(const struct boot_config *cfg, struct loop *loop,
	       const struct failure *f)
{
	failure_log(f, LOG_LVL_ERR, "boot failed");

	if (cfg->panic_set && cfg->panic_s != 0) {
		long s = cfg->panic_s > 0 ? cfg->panic_s : 0;
		log_err("rebooting in %ld s (panic=%ld on the command line)", s,
			cfg->panic_s);
		wait_seconds(loop, s);
		reboot_now(RB_AUTOBOOT);
	}
	if (shell_available(cfg))
		return run_shell(loop);
	switch (ask_choice(loop)) {
	case 'r':
		log_notice("retrying boot");
		return false;
	case 'b':
		reboot_now(RB_AUTOBOOT);
		return false;
	case 'p':
		reboot_now(RB_POWER_OFF);
		return false;
	default:
		log_err("no input on the console; retrying in %d s",
			NO_CONSOLE_RETRY_S);
		wait_seconds(loop, NO_CONSOLE_RETRY_S);
		return false;
	}
}
