/*
 * Test helper, booted as rdinit=/nobtrfsctl: takes /dev/btrfs-control away
 * (devtmpfs is one instance, so /init's own mount of it sees the same),
 * as on a kernel without Btrfs, then becomes /init.
 */
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "guest.h"

int main(void)
{
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) == 0) {
		if (unlink("/dev/btrfs-control") == 0)
			say("NOBTRFSCTL removed");
		umount("/dev");
	}
	char *const argv[] = {"/init", NULL};
	char *const envp[] = {"HOME=/", "TERM=linux", NULL};
	execve("/init", argv, envp);
	return 1;
}
