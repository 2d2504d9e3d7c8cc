/* The network the kernel configured from ip= (CONFIG_IP_PNP, before /init
 * ran): which address SSH unlock listens on, news when one appears, and
 * what is left of it for the real system. */
#ifndef LUKSINIT_NETIF_H
#define LUKSINIT_NETIF_H

#include <net/if.h>
#include <stdbool.h>

#define NETIF_ADDR_MAX 16 /* "255.255.255.255" */

/* The first interface that is up, not the loopback, with an IPv4
 * address. Returns 1 (name and addr filled), 0 if none, -errno. */
int netif_address(char name[IF_NAMESIZE], char addr[NETIF_ADDR_MAX]);
/* A socket the kernel tells about address and link changes (rtnetlink),
 * non-blocking; -errno on failure. */
int netif_watch_open(void);
/* Reads what is queued (the news itself is only a cue to look again). */
void netif_watch_drain(int fd);
/* Removes the IPv4 address of every interface but the loopback and sets
 * it down, each named in the log: the real system's network manager
 * starts from a clean state. Returns how many were released. */
int netif_release_all(void);

#endif
