/* What happens when boot fails: tell the user, then shell, retry or reboot. */
#ifndef LUKSINIT_EMERGENCY_H
#define LUKSINIT_EMERGENCY_H

#include <stdbool.h>

#include "base/failure.h"
#include "config/cmdline.h"
#include "loop/loop.h"

#define RESCUE_SHELL "/bin/sh"

/* Reports the failure (what, its error, the hint) on every console and in
 * kmsg, once, then, by policy:
 * panic=N reboots (never returns); a rescue shell, if there is one and
 * the command line allows it (cmdline_shell_allowed), runs until it
 * exits, and then every process it left is killed (loop/sweep.h);
 * otherwise the console asks to retry, reboot or power off. The loop
 * keeps serving firmware requests and children throughout. Returns when
 * the boot should be tried again: true if a rescue shell ran meanwhile
 * (whatever it did, resuming is no longer safe). */
bool emergency(const struct boot_config *cfg, struct loop *loop,
	       const struct failure *f);

#endif
