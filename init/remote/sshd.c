#include "remote/sshd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "base/reaper.h"

static bool pts_mounted;

bool sshd_present(void)
{
	return access(SSHD_PATH, X_OK) == 0;
}

static void need(char *what, size_t size, const char *path, const char *name)
{
	if (access(path, F_OK) == 0)
		return;
	size_t used = strlen(what);
	snprintf(what + used, size - used, "%s%s %s", used ? ", " : "", name,
		 path);
}

void sshd_missing(char *what, size_t size)
{
	what[0] = '\0';
	need(what, size, SSHD_HOST_KEY, "the host key");
	need(what, size, SSHD_AUTHORIZED_KEYS, "the authorized keys");
	need(what, size, UNLOCK_CLIENT_PATH, "the unlock client");
	need(what, size, "/etc/passwd", "the user list");
	need(what, size, "/etc/shells", "the shell list");
}

static void mount_pts(void)
{
	/* A restarted server must not stack a second instance on it. */
	if (pts_mounted)
		return;
	mkdir("/dev/pts", 0755);
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "mode=0620,ptmxmode=0666") == 0)
		pts_mounted = true;
	else if (errno != EBUSY)
		log_warn_errno(
			errno,
			"cannot mount /dev/pts; SSH sessions get no terminal");
}

void sshd_cleanup(void)
{
	if (pts_mounted && umount2("/dev/pts", MNT_DETACH) < 0)
		log_warn_errno(errno, "cannot unmount /dev/pts");
	pts_mounted = false;
}

static void exec_sshd(bool debug)
{
	reaper_reset_sigmask();
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int err = debug ? open("/dev/kmsg", O_WRONLY | O_CLOEXEC) : -1;
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(err >= 0 ? err : null, 2);
	}
	/* -F: in the foreground, our child; -E: its messages to stderr (the
	 * kernel log with rd.debug); -c: whatever a client asks to run, the
	 * unlock client runs (and ignores what was asked). Password logins
	 * and forwarding are not built in at all (scripts/build-deps.sh), so
	 * neither are their options (-s, -j, -k). No pid file: its default
	 * place, /var/run, is not in the initramfs. argv[0] is the full
	 * path: dropbear runs itself again from it for each connection. */
	char port[8];
	snprintf(port, sizeof(port), "%d", SSHD_PORT);
	/* -K 10: a keepalive every 10 s; a connection that vanished without
	 * a word (a laptop's lid shut) is closed after 3 unanswered ones, and
	 * its unlock session with it: it does not hold a place for ever. */
	char *const argv[] = {SSHD_PATH,
			      "-F",
			      "-E",
			      "-K",
			      "10",
			      "-p",
			      port,
			      "-r",
			      SSHD_HOST_KEY,
			      "-c",
			      UNLOCK_CLIENT_PATH,
			      NULL};
	char *const envp[] = {"PATH=/sbin:/bin", "HOME=/root", NULL};
	execve(SSHD_PATH, argv, envp);
	_exit(127);
}

pid_t sshd_start(bool debug)
{
	mount_pts();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_sshd(debug);
	return pid;
}

bool sshd_any_left(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[64], comm[32];
		snprintf(path, sizeof(path), "/proc/%.16s/comm", e->d_name);
		if (read_small_file(AT_FDCWD, path, comm, sizeof(comm)) > 0 &&
		    strncmp(comm, "dropbear", 8) == 0)
			found = true;
	}
	closedir(d);
	return found;
}
