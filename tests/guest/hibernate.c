/*
 * A test root's init for the hibernation cycle (tests/boot/swap.py): it
 * turns the encrypted swap on, keeps a random marker in memory, and
 * hibernates. The write to /sys/power/state returns only in the resumed
 * system (or when hibernation failed): what it prints then proves that the
 * memory was restored, since the marker exists nowhere but in this
 * process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/swap.h>
#include <unistd.h>

/* /dev/dm-N of the device-mapper device named name, from sysfs. */
static int dm_node(const char *name, char *node, size_t size)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	int rc = -1;
	while (d && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		char path[300], buf[128] = "";
		snprintf(path, sizeof(path), "/sys/block/%s/dm/name",
			 de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, name) == 0) {
			snprintf(node, size, "/dev/%s", de->d_name);
			rc = 0;
			break;
		}
	}
	if (d)
		closedir(d);
	return rc;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int rc = n < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static void power_off(void)
{
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned char raw[8];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		printf("RESULT hibernate error=getrandom %s\n",
		       strerror(errno));
		power_off();
	}
	char marker[2 * sizeof(raw) + 1];
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(marker + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));

	char node[300];
	if (dm_node("swap", node, sizeof(node)) < 0) {
		printf("RESULT hibernate error=no dm device named swap\n");
		power_off();
	}
	if (swapon(node, 0) < 0) {
		printf("RESULT hibernate error=swapon %s: %s\n", node,
		       strerror(errno));
		power_off();
	}
	printf("RESULT swapon %s\n", node);
	/* shutdown: the image written, the machine powers off (QEMU exits). */
	int rc = write_file("/sys/power/disk", "shutdown");
	if (rc < 0)
		printf("RESULT hibernate warning=/sys/power/disk: %s\n",
		       strerror(-rc));
	printf("RESULT hibernating marker=%s\n", marker);
	fflush(stdout);
	sync();
	rc = write_file("/sys/power/state", "disk");
	if (rc < 0) {
		printf("RESULT hibernate error=/sys/power/state: %s\n",
		       strerror(-rc));
		power_off();
	}
	/* Only a restored image gets here. */
	printf("RESULT resumed marker=%s\n", marker);
	power_off();
}
