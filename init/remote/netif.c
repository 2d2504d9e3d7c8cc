#include "remote/netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"

/* More interfaces than an initramfs ever configures. */
#define NETIF_MAX 32

/* The interfaces with an IPv4 address (SIOCGIFCONF lists only those).
 * Returns how many, or -errno; fd: an AF_INET datagram socket. */
static int list_configured(int fd, struct ifreq *ifr, int max)
{
	struct ifconf ifc = {.ifc_len = (int)(max * sizeof(*ifr)),
			     .ifc_req = ifr};
	if (ioctl(fd, SIOCGIFCONF, &ifc) < 0)
		return -errno;
	return ifc.ifc_len / (int)sizeof(*ifr);
}

static bool is_up_not_loopback(int fd, const char *name)
{
	struct ifreq q = {0};
	str_copy(q.ifr_name, sizeof(q.ifr_name), name);
	if (ioctl(fd, SIOCGIFFLAGS, &q) < 0)
		return false;
	return (q.ifr_flags & IFF_UP) && !(q.ifr_flags & IFF_LOOPBACK);
}

int netif_address(char name[IF_NAMESIZE], char addr[NETIF_ADDR_MAX])
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr[NETIF_MAX];
	int n = list_configured(fd, ifr, NETIF_MAX);
	int found = n < 0 ? n : 0;
	for (int i = 0; i < n && !found; i++) {
		if (!is_up_not_loopback(fd, ifr[i].ifr_name))
			continue;
		const struct sockaddr_in *in =
			(const struct sockaddr_in *)&ifr[i].ifr_addr;
		if (!inet_ntop(AF_INET, &in->sin_addr, addr, NETIF_ADDR_MAX))
			continue;
		str_copy(name, IF_NAMESIZE, ifr[i].ifr_name);
		found = 1;
	}
	close(fd);
	return found;
}

int netif_watch_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl a = {.nl_family = AF_NETLINK,
				.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR};
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

void netif_watch_drain(int fd)
{
	char buf[4096];
	/* Bounded: a flood of link news must not hold the loop. */
	for (int i = 0; i < 64; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			return;
}

/* Address 0.0.0.0 deletes the interface's address (devinet_ioctl). */
static int release(int fd, const char *name)
{
	struct ifreq q = {0};
	str_copy(q.ifr_name, sizeof(q.ifr_name), name);
	struct sockaddr_in *in = (struct sockaddr_in *)&q.ifr_addr;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_ANY);
	if (ioctl(fd, SIOCSIFADDR, &q) < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &q) < 0)
		return -errno;
	q.ifr_flags &= ~IFF_UP;
	return ioctl(fd, SIOCSIFFLAGS, &q) < 0 ? -errno : 0;
}

int netif_release_all(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_warn_errno(errno, "cannot release the network");
	struct ifreq ifr[NETIF_MAX];
	int n = list_configured(fd, ifr, NETIF_MAX);
	int done = 0;
	for (int i = 0; i < n; i++) {
		const char *name = ifr[i].ifr_name;
		if (!is_up_not_loopback(fd, name))
			continue;
		int rc = release(fd, name);
		if (rc < 0)
			log_warn_errno(rc, "cannot release %s", name);
		else
			log_info("%s released: address removed, link down",
				 name);
		done += rc == 0;
	}
	close(fd);
	return done;
}
