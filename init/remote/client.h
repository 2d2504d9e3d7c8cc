/* The unlock client: what every SSH session runs instead of a shell. It
 * is /init itself, run by another name (UNLOCK_CLIENT_PATH links to it),
 * and only relays: PID 1's words to the session, the session's lines to
 * PID 1 (remote/session.h), until PID 1 closes the session. */
#ifndef LUKSINIT_CLIENT_H
#define LUKSINIT_CLIENT_H

#include <stdbool.h>

/* Pure: argv[0] names the client ("luksinit-unlock", or "-luksinit-unlock"
 * as a login shell, with any directory). */
bool unlock_client_called(const char *argv0);
/* Runs the client; every argument is ignored (dropbear passes the
 * command a client asked for: it is never run). Returns the exit code:
 * 0 once PID 1 closed the session, 1 if it could not be reached. */
int unlock_client_main(void);

#endif
