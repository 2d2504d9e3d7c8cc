/*
 * Memory probe for the boot benchmark, booted as rdinit=/memsampler in an
 * initramfs overlay (ours or dracut's). It forks; the parent becomes /init.
 * The child samples every 20 ms while the initramfs runs: the system's
 * used memory (MemTotal - MemAvailable) and PID 1's peak RSS (VmHWM), and
 * prints the peaks once the switch to the real root has happened.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long field_kb(const char *path, const char *key)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* True while PID 1 is still the initramfs's init. Once /proc was there,
 * losing it means it moved into the new root: the switch happened. */
static int still_initramfs(void)
{
	static int seen_proc;
	char exe[256];
	ssize_t n = readlink("/proc/1/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return !seen_proc;
	seen_proc = 1;
	exe[n] = '\0';
	return strstr(exe, "/sbin/init") == NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (fork() != 0) {
		char *const a[] = {"/init", NULL};
		char *const e[] = {"HOME=/", "TERM=linux", NULL};
		execve("/init", a, e);
		return 1;
	}
	/* systemd spares processes whose argv[0] starts with '@' when it
	 * kills everything before switching root. */
	argv[0][0] = '@';
	long peak_used = 0, peak_hwm = 0, samples = 0;
	while (still_initramfs()) {
		long total = field_kb("/proc/meminfo", "MemTotal:");
		long avail = field_kb("/proc/meminfo", "MemAvailable:");
		long hwm = field_kb("/proc/1/status", "VmHWM:");
		if (total > 0 && avail > 0 && total - avail > peak_used)
			peak_used = total - avail;
		if (hwm > peak_hwm)
			peak_hwm = hwm;
		samples++;
		usleep(20000);
	}
	dprintf(1,
		"\nBENCHMEM peak_used_kb=%ld init_peak_rss_kb=%ld samples=%ld\n",
		peak_used, peak_hwm, samples);
	return 0;
}
