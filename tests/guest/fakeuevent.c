/*
 * Test helper, booted as rdinit=/fakeuevent: a process in the initramfs
 * that forges uevents. It forks; the parent becomes /init, the child waits
 * until /init is up, then sends kernel-looking messages to the kernel's
 * uevent multicast group from userspace: a fake block device and a fake
 * firmware request. /init must ignore both (they are not from the kernel).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"

static void child(void)
{
	if (wait_for_init() < 0)
		_exit(1);
	int fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl me = {.nl_family = AF_NETLINK};
	bind(fd, (struct sockaddr *)&me, sizeof(me));
	int sent = 0;
	sent += forge_uevent(
			fd,
			"add@/devices/virtual/block/vdz|ACTION=add|"
			"DEVPATH=/devices/virtual/block/vdz|SUBSYSTEM=block|"
			"DEVNAME=vdz|DEVTYPE=disk|MAJOR=254|MINOR=99|SEQNUM=9000") ==
		0;
	sent += forge_uevent(
			fd,
			"add@/devices/virtual/misc/test_firmware/fake.bin|"
			"ACTION=add|DEVPATH=/devices/virtual/misc/test_firmware/fake.bin|"
			"SUBSYSTEM=firmware|FIRMWARE=luksinit-test/fake.bin|SEQNUM=9001") ==
		0;
	sent += forge_uevent(
			fd,
			"add@/devices/virtual/block/vdy|ACTION=add|"
			"DEVPATH=/devices/virtual/block/vdy|SUBSYSTEM=block|"
			"DEVNAME=../../etc/shadow|SEQNUM=9002") == 0;
	say("FAKEUEVENT sent=%d", sent);
	_exit(0);
}

int main(void)
{
	return run_beside_init(child);
}
