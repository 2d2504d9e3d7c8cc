#include "base/uevent.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/strutil.h"

static int parse_small_int(const char *s)
{
	unsigned long v;
	if (parse_uint(s, 0, 0xfffff, &v) < 0)
		return -1;
	return (int)v;
}

/* Matches the whole key: "DEVNAME=" must not match "DEVNAMEX=". */
static const char *key_value(const char *field, const char *key)
{
	size_t n = strlen(key);
	if (strncmp(field, key, n) == 0 && field[n] == '=')
		return field + n + 1;
	return NULL;
}

static void take_field(struct uevent *ev, const char *field)
{
	const char *v;
	if ((v = key_value(field, "ACTION")))
		ev->action = v;
	else if ((v = key_value(field, "DEVPATH")))
		ev->devpath = v;
	else if ((v = key_value(field, "SUBSYSTEM")))
		ev->subsystem = v;
	else if ((v = key_value(field, "DEVNAME")))
		ev->devname = v;
	else if ((v = key_value(field, "DEVTYPE")))
		ev->devtype = v;
	else if ((v = key_value(field, "FIRMWARE")))
		ev->firmware = v;
	else if ((v = key_value(field, "ASYNC")))
		ev->async = parse_small_int(v) == 1 ? 1 : 0;
	else if ((v = key_value(field, "MAJOR")))
		ev->major = parse_small_int(v);
	else if ((v = key_value(field, "MINOR")))
		ev->minor = parse_small_int(v);
}

static void uevent_clear(struct uevent *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->async = -1;
	ev->major = -1;
	ev->minor = -1;
}

/* Walks fields separated by sep in buf[start, len). */
static void parse_fields(struct uevent *ev, char *buf, size_t start, size_t len,
			 char sep)
{
	size_t i = start;
	while (i < len) {
		char *field = buf + i;
		char *end = memchr(field, sep, len - i);
		size_t flen = end ? (size_t)(end - field) : len - i;
		field[flen] = '\0';
		take_field(ev, field);
		i += flen + 1;
	}
}

static int check_required(const struct uevent *ev)
{
	if (!ev->action || !ev->devpath || !ev->subsystem)
		return -EINVAL;
	if (ev->devpath[0] != '/')
		return -EINVAL;
	return 0;
}

int uevent_parse(struct uevent *ev, char *buf, size_t len)
{
	uevent_clear(ev);
	if (len == 0 || len > UEVENT_MSG_MAX)
		return -EINVAL;
	buf[len] = '\0';
	/* The header is "action@devpath"; libudev messages start with
	 * "libudev\0" and fail here. */
	size_t hlen = strnlen(buf, len);
	if (hlen == len || !memchr(buf, '@', hlen))
		return -EINVAL;
	parse_fields(ev, buf, hlen + 1, len, '\0');
	return check_required(ev);
}

int uevent_parse_file(struct uevent *ev, char *buf, size_t len)
{
	uevent_clear(ev);
	if (len > UEVENT_MSG_MAX)
		return -EINVAL;
	buf[len] = '\0';
	parse_fields(ev, buf, 0, len, '\n');
	return 0;
}

bool uevent_devname_ok(const char *devname)
{
	if (!devname || !devname[0] || devname[0] == '/')
		return false;
	size_t len = strnlen(devname, 64);
	if (len >= 64)
		return false;
	const char *p = devname;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.') ||
		    (n == 1 && p[0] == '.'))
			return false;
		p += n + (slash ? 1 : 0);
	}
	for (p = devname; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

bool uevent_is_block_add(const struct uevent *ev)
{
	if (!ev->subsystem || strcmp(ev->subsystem, "block") != 0)
		return false;
	if (!ev->action || (strcmp(ev->action, "add") != 0 &&
			    strcmp(ev->action, "change") != 0))
		return false;
	return uevent_devname_ok(ev->devname);
}

bool uevent_is_dm_created(const struct uevent *ev)
{
	return ev->action && strcmp(ev->action, "add") == 0 && ev->devname &&
	       strncmp(ev->devname, "dm-", 3) == 0;
}

int uevent_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	int on = 1;
	/* A boot with many disks and firmware requests can burst events;
	 * a bigger queue avoids ENOBUFS. Best effort. */
	int rcvbuf = 4 * 1024 * 1024;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		goto fail;
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1, /* the kernel's own broadcast group */
	};
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	return fd;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

static int sender_is_kernel(const struct msghdr *msg,
			    const struct sockaddr_nl *from)
{
	if (msg->msg_namelen != sizeof(*from) || from->nl_pid != 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_CREDENTIALS)
			continue;
		struct ucred cred;
		memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		return cred.pid == 0 && cred.uid == 0;
	}
	return 0;
}

ssize_t uevent_recv(int fd, char *buf, size_t size)
{
	struct sockaddr_nl from;
	char control[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)n > UEVENT_MSG_MAX)
		return -EMSGSIZE;
	if (!sender_is_kernel(&msg, &from))
		return -EPERM;
	buf[n] = '\0';
	return n;
}
