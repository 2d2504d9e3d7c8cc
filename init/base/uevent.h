/* Kernel uevents: the netlink socket, and a pure parser for messages. */
#ifndef LUKSINIT_UEVENT_H
#define LUKSINIT_UEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Largest uevent the kernel sends is UEVENT_BUFFER_SIZE (2048) plus the
 * "action@devpath" header; anything bigger is not from the kernel. */
#define UEVENT_MSG_MAX 8192

struct uevent {
	const char *action; /* "add", "remove", "change", ... */
	const char *devpath;
	const char *subsystem;
	const char *devname;
	const char *devtype;
	const char *firmware;
	int async; /* firmware: ASYNC=1 request_firmware_nowait; -1 absent */
	int major; /* -1 if absent or malformed */
	int minor;
};

/* Parses a kernel netlink message "action@devpath\0KEY=VAL\0..." of len
 * bytes in buf, which must hold len+1 bytes (a NUL is written at buf[len]).
 * Pointers in ev point into buf. Returns 0, or -EINVAL if the message is
 * not a well-formed kernel uevent (e.g. a libudev message). */
int uevent_parse(struct uevent *ev, char *buf, size_t len);

/* Same KEY=VAL grammar, newline-separated, as in /sys/.../uevent files;
 * no header. buf must hold len+1 bytes. */
int uevent_parse_file(struct uevent *ev, char *buf, size_t len);

/* Is a uevent DEVNAME safe to put under /dev? Rejects empty, absolute and
 * over-long names, "." and ".." components, spaces and control chars. */
bool uevent_devname_ok(const char *devname);

/* Is this uevent a block device (disk or partition) appearing or changing? */
bool uevent_is_block_add(const struct uevent *ev);

/* Is this device-mapper's "add", sent as the device is created, before it
 * has a table? What it will hold can be read only once it is resumed,
 * which always sends a "change": that one is the event to act on. */
bool uevent_is_dm_created(const struct uevent *ev);

/* Opens the NETLINK_KOBJECT_UEVENT socket, non-blocking, close-on-exec,
 * with credentials passing on. Returns the fd or -errno. */
int uevent_open(void);

/* Receives one message into buf (size >= UEVENT_MSG_MAX + 1). Returns its
 * length; -EPERM for a message not from the kernel (sender port or
 * credentials) and -EMSGSIZE for an oversized one, both dropped; -EAGAIN
 * when nothing is queued; other -errno on failure. */
ssize_t uevent_recv(int fd, char *buf, size_t size);

#endif
