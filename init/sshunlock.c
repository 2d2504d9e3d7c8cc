#include "sshunlock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "remote/netif.h"
#include "remote/sshd.h"

/* How long the sessions get to end cleanly at the hand-over (their
 * clients' last words reach the other machine) before the sweep. */
#define SSHUNLOCK_END_MS 2000
/* A server that dies after running this long is started again, at most
 * SSHUNLOCK_RESTARTS times; one that dies sooner is misconfigured. */
#define SSHUNLOCK_RUN_MS 5000
#define SSHUNLOCK_RESTARTS 3

static void say_address(struct sshunlock *u)
{
	char name[IF_NAMESIZE], addr[NETIF_ADDR_MAX];
	if (netif_address(name, addr) != 1)
		return;
	log_notice("SSH unlock: listening on %s port %d (%s)", addr, SSHD_PORT,
		   name);
	/* quiet shows only warnings, but the person must learn where to
	 * connect: on every console all the same. */
	if (u->quiet) {
		char text[128];
		snprintf(text, sizeof(text),
			 "luksinit: SSH unlock: listening on %s port %d (%s)\n",
			 addr, SSHD_PORT, name);
		log_console_text(text);
	}
	if (u->nl_fd >= 0) {
		loop_unwatch(u->loop, u->nl_fd);
		close(u->nl_fd);
		u->nl_fd = -1;
	}
}

static void on_net_news(void *ctx, short revents)
{
	(void)revents;
	struct sshunlock *u = ctx;
	netif_watch_drain(u->nl_fd);
	say_address(u);
}

/* The kernel configured the interface before /init ran, or it gives up:
 * the address is known now, or news of it is watched for (never waited
 * on: the boot goes on, and the prompt is answered at the console). */
static void find_address(struct sshunlock *u)
{
	u->nl_fd = netif_watch_open();
	say_address(u);
	if (u->nl_fd < 0)
		return;
	if (loop_watch(u->loop, u->nl_fd, POLLIN, on_net_news, u) < 0) {
		close(u->nl_fd);
		u->nl_fd = -1;
		return;
	}
	log_warn("SSH unlock: no network address yet (ip=); the kernel did not "
		 "configure an interface: is its driver built in?");
}

static void start_server(struct sshunlock *u)
{
	pid_t pid = sshd_start(u->debug);
	if (pid < 0) {
		log_warn_errno(pid, "cannot start the SSH server");
		return;
	}
	u->sshd = pid;
	u->started_ms = clock_now_ms();
}

static void sshd_exited(void *ctx, pid_t pid, int status)
{
	struct sshunlock *u = ctx;
	if (pid != u->sshd || !u->on)
		return;
	u->sshd = 0;
	bool ran = clock_now_ms() - u->started_ms >= SSHUNLOCK_RUN_MS;
	log_warn(
		"the SSH server stopped (%s %d)%s",
		WIFSIGNALED(status) ? "signal" : "status",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		ran && u->restarts < SSHUNLOCK_RESTARTS
			? "; starting it again"
			: "; SSH unlock is not available (rd.debug shows why)");
	if (ran && u->restarts++ < SSHUNLOCK_RESTARTS)
		start_server(u);
}

void sshunlock_start(struct sshunlock *u, const struct boot_config *cfg,
		     struct loop *l, struct consoles *cons)
{
	memset(u, 0, sizeof(*u));
	u->nl_fd = -1;
	u->sessions.listen_fd = -1;
	if (!cfg->net || !sshd_present())
		return;
	char missing[256];
	sshd_missing(missing, sizeof(missing));
	if (missing[0]) {
		log_warn("SSH unlock: the initramfs lacks %s", missing);
		return;
	}
	u->loop = l;
	u->cons = cons;
	u->debug = cfg->debug;
	u->quiet = cfg->quiet;
	int rc = remote_listen(&u->sessions, l);
	if (rc < 0) {
		log_warn_errno(rc, "SSH unlock: cannot open the unlock socket");
		return;
	}
	u->on = true;
	cons->remote = &u->sessions;
	loop_subscribe_exits(l, sshd_exited, u);
	start_server(u);
	find_address(u);
}

static bool sessions_ended(void *arg)
{
	(void)arg;
	return !sshd_any_left();
}

void sshunlock_stop(struct sshunlock *u, bool keep_net)
{
	if (!u->on)
		return;
	u->on = false;
	loop_subscribe_exits(u->loop, NULL, NULL);
	/* The port closes first: no new session while the others end. */
	if (u->sshd > 0)
		kill(u->sshd, SIGTERM);
	u->cons->remote = NULL;
	remote_close(
		&u->sessions,
		"luksinit: handing over to the real init; closing this session\n");
	loop_run_until(u->loop, clock_now_ms() + SSHUNLOCK_END_MS,
		       sessions_ended, NULL);
	if (u->nl_fd >= 0) {
		loop_unwatch(u->loop, u->nl_fd);
		close(u->nl_fd);
		u->nl_fd = -1;
	}
	sshd_cleanup();
	if (!keep_net)
		netif_release_all();
}
