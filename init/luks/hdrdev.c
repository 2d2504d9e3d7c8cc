#include "luks/hdrdev.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "base/util.h"
#include "loop/job.h"
#include "luks/keydev.h"
#include "luks/lukshdr.h"
#include "luks/stickmount.h"

#define COPY_CHUNK ((size_t)64 * 1024)

int hdrdev_copy_path(const struct luks_member_cfg *m, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/hdr-%s", RUN_DIR, m->spec.value);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* The spec is the command line's: no '/' may climb out. */
	for (char *p = buf + strlen(RUN_DIR) + 1; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_.",
			    *p))
			*p = '_';
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Streams exactly size bytes: a header is up to 136 MiB, never held in
 * memory whole. */
static int stream(int in, int out, long long size)
{
	char *buf = malloc(COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	int rc = 0;
	long long done = 0;
	while (rc == 0 && done < size) {
		size_t want = size - done < (long long)COPY_CHUNK
				      ? (size_t)(size - done)
				      : COPY_CHUNK;
		ssize_t r = read(in, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		else if (r == 0)
			rc = -EIO; /* shrank under us */
		else if ((rc = write_all(out, buf, (size_t)r)) == 0)
			done += r;
	}
	free(buf);
	return rc;
}

struct copy_job {
	const char *dst;
	const char *step;
};

static int copy_open_file(int fd, void *arg)
{
	struct copy_job *c = arg;
	size_t size = 0;
	int rc = keydev_file_size(fd, LUKSHDR_MAX_BYTES, &size);
	if (rc < 0)
		return rc;
	c->step = "copy";
	unlink(c->dst); /* an earlier attempt's */
	int out = open(c->dst,
		       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0600);
	if (out < 0)
		return -errno;
	rc = stream(fd, out, (long long)size);
	if (close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlink(c->dst); /* never half a header */
	return rc;
}

struct copy_req {
	const char *devnode, *fstype, *path, *dst;
};

/* In the child: mounts, copies, unmounts; the step that failed is the
 * result. */
static int copy_in_child(void *arg, void *buf, size_t max, size_t *ret_len)
{
	const struct copy_req *q = arg;
	struct copy_job c = {q->dst, NULL};
	const char *step = "mount";
	int rc = keydev_with_file(q->devnode, q->fstype, q->path,
				  copy_open_file, &c, &step);
	if (c.step && rc < 0)
		step = c.step;
	*ret_len = strlen(step) < max ? strlen(step) : 0;
	memcpy(buf, step, *ret_len);
	return rc;
}

/* The step's name as a string that outlives the call. */
static const char *step_name(const char *text, size_t len)
{
	static const char *const steps[] = {"mount", "open", "read", "copy"};
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (strlen(steps[i]) == len && memcmp(steps[i], text, len) == 0)
			return steps[i];
	return "run";
}

int hdrdev_copy(const char *devnode, const char *fstype, const char *path,
		const char *dst, const char **ret_step)
{
	struct copy_req q = {devnode, fstype, path, dst};
	char step[8];
	struct job_spec spec = {
		.what = "copying a detached header",
		.fn = copy_in_child,
		.arg = &q,
		.max = sizeof(step),
		.timeout_ms = HDRDEV_COPY_TIMEOUT_MS,
	};
	struct job_result res;
	job_run_here(&spec, step, &res);
	*ret_step = res.end == JOB_DONE ? step_name(step, res.len) : "copy";
	if (res.end != JOB_DONE && res.rc != -ETIMEDOUT)
		*ret_step = "run";
	return res.rc;
}

void hdrdev_describe(char *buf, size_t size, const char *path,
		     const char *devnode, int rc, const char *step)
{
	if (rc == -ENOENT)
		snprintf(buf, size, "header file %s is not on %s", path,
			 devnode);
	else if (rc == -ELOOP)
		snprintf(
			buf, size,
			"header file %s on %s is a symbolic link, or lies under one: not followed",
			path, devnode);
	else if (rc == -EFBIG)
		snprintf(buf, size,
			 "header file %s on %s is larger than any LUKS header",
			 path, devnode);
	else if (rc == -EMEDIUMTYPE)
		snprintf(
			buf, size,
			"header device %s carries a filesystem that is not mounted to read a header (only " STICK_FSTYPES
			" are)",
			devnode);
	else if (rc == -EROFS || rc == -EPERM)
		snprintf(buf, size, "header device %s %s", devnode,
			 keydev_unwritable_why(rc));
	else if (rc == -EINVAL || rc == -ENODATA)
		snprintf(buf, size,
			 "header file %s on %s is not a regular file with data",
			 path, devnode);
	else
		snprintf(buf, size, "header file %s on %s: %s failed: %s", path,
			 devnode, step ? step : "read", strerror(-rc));
}

void hdrdev_remove_copies(const struct boot_config *cfg)
{
	for (int i = 0; i < cfg->nmembers; i++) {
		char copy[PATH_MAX];
		if (cfg->members[i].headerdev.kind != DEVSPEC_NONE &&
		    hdrdev_copy_path(&cfg->members[i], copy, sizeof(copy)) ==
			    0 &&
		    unlink(copy) < 0 && errno != ENOENT)
			log_warn_errno(errno,
				       "cannot remove the header copy %s",
				       copy);
	}
}
