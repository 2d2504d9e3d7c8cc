/* The SSH server of the initramfs: dropbear, when the initramfs carries
 * it (ssh.list). It only ever runs the unlock client (client.h): public
 * keys only, no forwarding, no shell. */
#ifndef LUKSINIT_SSHD_H
#define LUKSINIT_SSHD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SSHD_PATH "/sbin/dropbear"
#define SSHD_HOST_KEY "/etc/dropbear/dropbear_ed25519_host_key"
#define SSHD_AUTHORIZED_KEYS "/root/.ssh/authorized_keys"
#define UNLOCK_CLIENT_PATH "/bin/luksinit-unlock"
#define SSHD_PORT 22

bool sshd_present(void);
/* What the initramfs lacks for SSH unlock, as a list for a warning
 * ("the host key /etc/..., ..."), or "" if nothing. */
void sshd_missing(char *what, size_t size);
/* Starts dropbear in the foreground of a session of its own, its output
 * to /dev/kmsg when debug (else nowhere). Mounts /dev/pts first (a
 * session asking for a terminal needs one). Returns its pid or -errno. */
pid_t sshd_start(bool debug);
/* Whether a process named dropbear is still running (a session's own
 * process ends a moment after its client does). */
bool sshd_any_left(void);
/* Unmounts /dev/pts again if sshd_start mounted it. */
void sshd_cleanup(void);

#endif
