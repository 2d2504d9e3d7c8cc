/*
 * Test helper, booted as rdinit=/execblock: it makes the exec of the real
 * init fail after /init has switched to the new root. It forks; the parent
 * becomes /init, the child waits for the real root to be mounted (rw) and
 * holds its /sbin/init open for writing, so execve() fails with ETXTBSY,
 * then lets go after a few seconds: a retry from the emergency prompt must
 * then run it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "guest.h"

#define TARGET "/newroot/sbin/init"
#define HOLD_S 4

static void child(void)
{
	/* 120 s at 5 ms: the passphrase comes first. */
	for (int i = 0; i < 24000; i++) {
		int fd = open(TARGET, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			dprintf(2, "EXECBLOCK holding %s\n", TARGET);
			sleep(HOLD_S);
			close(fd);
			dprintf(2, "EXECBLOCK released\n");
			_exit(0);
		}
		usleep(5000);
	}
	dprintf(2, "EXECBLOCK never saw %s\n", TARGET);
	_exit(1);
}

int main(void)
{
	return run_beside_init(child);
}
