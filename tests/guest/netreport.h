/* The report's lines on processes and the network (tests/guest/report.c):
 * what a remote unlock (issue 27) may leave behind in the booted system. */
#ifndef LUKSINIT_TEST_NETREPORT_H
#define LUKSINIT_TEST_NETREPORT_H

void print_procs_named(const char *comm);
void print_tcp_listen(void);
void print_netifs(void);

#endif
