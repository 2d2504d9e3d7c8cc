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

#include "log.h"
#include "reaper.h"

/* Used when the console gives no input at all (EOF): retry now and then
 * instead of spinning or giving up. */
#define NO_CONSOLE_RETRY_S 60

static void sleep_seconds(long s)
{
	struct timespec ts = {.tv_sec = s, .tv_nsec = 0};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void reboot_now(int how)
{
	sync();
	reboot(how);
	/* reboot() only returns on failure; nothing left but to wait. */
	log_err("reboot failed: %m");
	for (;;)
		pause();
}

static int shell_available(const struct boot_config *cfg)
{
	if (cfg->shell == 0)
		return 0;
	return access(RESCUE_SHELL, X_OK) == 0;
}

static void run_shell(void)
{
	log_notice("starting rescue shell %s; exit it to try booting again",
		   RESCUE_SHELL);
	pid_t pid = fork();
	if (pid < 0) {
		log_err("cannot start the rescue shell: %m");
		return;
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
	for (;;) {
		int status;
		pid_t w = waitpid(-1, &status, 0);
		if (w == pid || (w < 0 && errno == ECHILD))
			break;
	}
	log_notice("rescue shell exited; trying to boot again");
}

/* Returns 'r', 'b', 'p', or 0 on EOF/error. */
static int ask_choice(void)
{
	for (;;) {
		dprintf(1,
			"\nPress r + Enter to retry, b to reboot, p to power off: ");
		char line[64];
		ssize_t n = read(0, line, sizeof(line) - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		line[n] = '\0';
		if (line[0] == 'r' || line[0] == 'b' || line[0] == 'p')
			return line[0];
	}
}

void emergency(const struct boot_config *cfg, const char *reason,
	       const char *hint)
{
	log_err("boot failed: %s", reason);
	if (hint && *hint)
		log_err("hint: %s", hint);

	if (cfg->panic_set && cfg->panic_s != 0) {
		long s = cfg->panic_s > 0 ? cfg->panic_s : 0;
		log_err("rebooting in %ld s (panic=%ld on the command line)", s,
			cfg->panic_s);
		sleep_seconds(s);
		reboot_now(RB_AUTOBOOT);
	}
	if (shell_available(cfg)) {
		run_shell();
		return;
	}
	switch (ask_choice()) {
	case 'r':
		log_notice("retrying boot");
		return;
	case 'b':
		reboot_now(RB_AUTOBOOT);
		return;
	case 'p':
		reboot_now(RB_POWER_OFF);
		return;
	default:
		log_err("no input on the console; retrying in %d s",
			NO_CONSOLE_RETRY_S);
		sleep_seconds(NO_CONSOLE_RETRY_S);
		return;
	}
}
