/* When the wait for the root's devices ends, and how: the device-wait and
 * degraded-mount policies as pure functions of what the loop knows. */
#ifndef LUKSINIT_WAITPOLICY_H
#define LUKSINIT_WAITPOLICY_H

#include <stdbool.h>

struct wait_state {
	bool matched;	      /* a device matching root= was seen */
	bool complete;	      /* and all of its filesystem's devices */
	bool btrfs;	      /* the root is Btrfs (can be degraded) */
	bool person_or_kdf;   /* a prompt waits or a KDF runs */
	bool awaits_key;      /* a present LUKS member still has no key */
	bool degraded_flag;   /* rootflags= has degraded */
	int degraded_after_s; /* rd.btrfs.degraded=, -1 if absent */
	int root_wait_s;      /* rootwait=, ROOT_WAIT_FOREVER for none */
	long long waited_ms;  /* device time only: not a person's or a KDF's */
	long long progress_in_ms; /* until the next "still waiting" line */
};

/* The person allowed a degraded mount at all (now or after a wait). */
bool wait_degraded_permitted(bool degraded_flag, int degraded_after_s);
/* Mount degraded now: never instead of asking (a present member that
 * waits for its key is not missing), never for a complete array. */
bool wait_degraded_now(const struct wait_state *s);
/* rootwait= has passed. */
bool wait_expired(const struct wait_state *s);
/* How long the loop may sleep before the policy must look again; -1 while
 * a person or a KDF has the floor (their time does not count). */
int wait_timeout_ms(const struct wait_state *s);

#endif
