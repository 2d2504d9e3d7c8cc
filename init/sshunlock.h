/* Unlocking from another machine over SSH: the SSH server, the network
 * address it listens on, and the sessions its clients open, from the
 * start of the boot to the hand-over. Nothing of it holds the boot: the
 * address is waited for in the loop (the kernel configures it from ip=),
 * and what a session answers is taken like a console's answer. */
#ifndef LUKSINIT_SSHUNLOCK_H
#define LUKSINIT_SSHUNLOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/cmdline.h"
#include "console/consoles.h"
#include "loop/loop.h"
#include "remote/session.h"

struct sshunlock {
	bool on;
	struct loop *loop;
	struct consoles *cons;
	pid_t sshd; /* 0 when not running */
	int restarts;
	long long started_ms;
	bool debug;
	bool quiet;
	int nl_fd; /* address news, until one is known; -1 */
	struct remote sessions;
};

/* Starts SSH unlock if the initramfs has it and ip= asks for a network;
 * says why not when the initramfs has it but something is missing. */
void sshunlock_start(struct sshunlock *u, const struct boot_config *cfg,
		     struct loop *l, struct consoles *cons);
/* Before the real init runs: every session is told and closed, the
 * server and its sessions end (waited for a moment, then the sweep
 * kills what is left), and the interfaces are released unless keep_net
 * (rd.neednet=1). */
void sshunlock_stop(struct sshunlock *u, bool keep_net);

#endif
