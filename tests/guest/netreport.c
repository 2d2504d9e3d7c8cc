/*
 * Report lines for the SSH unlock tests: processes by name, the TCP ports
 * in LISTEN state and each interface's state and IPv4 addresses, as the
 * booted system's kernel shows them.
 */
#include "netreport.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Every process whose name (comm) is comm, zombies too: one that ended
 * but was never reaped was still left behind. */
void print_procs_named(const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char path[300], stat[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t len = fd >= 0 ? read(fd, stat, sizeof(stat) - 1) : -1;
		if (fd >= 0)
			close(fd);
		stat[len > 0 ? len : 0] = '\0';
		const char *open_paren = strchr(stat, '(');
		const char *close_paren = strrchr(stat, ')');
		if (open_paren && close_paren > open_paren &&
		    (size_t)(close_paren - open_paren - 1) == strlen(comm) &&
		    strncmp(open_paren + 1, comm, strlen(comm)) == 0)
			n++;
	}
	if (d)
		closedir(d);
	printf("RESULT procs-named %s=%d\n", comm, n);
}

/* " tcp:PORT" per listening socket of one /proc/net file; -1 if the file
 * cannot be read (a kernel without that protocol). */
static int list_listeners(const char *path, const char *tag, char *out,
			  size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned port, state;
		/* "sl: local:port remote:port st ..." (the header fails) */
		if (sscanf(line, " %*[0-9]: %*[0-9A-Fa-f]:%x %*s %x", &port,
			   &state) != 2 ||
		    state != 0x0A /* TCP_LISTEN */)
			continue;
		size_t len = strlen(out);
		snprintf(out + len, size - len, " %s:%u", tag, port);
	}
	fclose(f);
	return 0;
}

/* The TCP ports something listens on, IPv4 and IPv6. */
void print_tcp_listen(void)
{
	char list[1024] = "";
	int v4 = list_listeners("/proc/net/tcp", "tcp", list, sizeof(list));
	int v6 = list_listeners("/proc/net/tcp6", "tcp6", list, sizeof(list));
	if (v4 < 0 && v6 < 0)
		printf("RESULT tcp-listen=unreadable\n");
	else
		printf("RESULT tcp-listen=%s\n", list);
}

/* One interface: up (IFF_UP) and its IPv4 addresses, comma-separated. */
static void print_netif(const char *name, const struct ifaddrs *all, int sock)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int up = -1;
	if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0)
		up = (ifr.ifr_flags & IFF_UP) != 0;
	char addrs[512] = "";
	for (const struct ifaddrs *a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET ||
		    strcmp(a->ifa_name, name) != 0)
			continue;
		char text[INET_ADDRSTRLEN];
		const struct sockaddr_in *sin =
			(const struct sockaddr_in *)(const void *)a->ifa_addr;
		if (!inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)))
			continue;
		size_t len = strlen(addrs);
		snprintf(addrs + len, sizeof(addrs) - len, "%s%s",
			 len ? "," : "", text);
	}
	printf("RESULT netif %s up=%d addr=%s\n", name, up, addrs);
}

/* Every interface the kernel has (/sys/class/net), configured or not. */
void print_netifs(void)
{
	struct ifaddrs *all = NULL;
	if (getifaddrs(&all) < 0)
		all = NULL;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	DIR *d = opendir("/sys/class/net");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.')
			print_netif(de->d_name, all, sock);
	}
	if (!d)
		printf("RESULT netif unreadable\n");
	else
		closedir(d);
	if (sock >= 0)
		close(sock);
	freeifaddrs(all);
}
