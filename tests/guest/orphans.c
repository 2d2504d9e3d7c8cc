/*
 * Test helper, booted as rdinit=/orphans: leaves orphans for /init to reap.
 * It forks a child that starts a few grandchildren and exits at once; the
 * parent becomes /init (PID 1). The grandchildren, orphaned and so
 * children of PID 1, exit once /init is up, while it waits for the
 * passphrase. Any of them /init does not reap is a zombie that the real
 * init inherits (the test root's report counts them).
 */
#include <stdio.h>
#include <unistd.h>

#include "guest.h"

#define ORPHANS 5

static void child(void)
{
	for (int i = 0; i < ORPHANS; i++)
		if (fork() == 0) {
			wait_for_init();
			usleep(200000 * (useconds_t)(i + 1));
			/* The test types the passphrase after the last one. */
			say("ORPHAN %d exits", i);
			_exit(0);
		}
	say("ORPHANS started=%d", ORPHANS);
	_exit(0);
}

int main(void)
{
	return run_beside_init(child);
}
