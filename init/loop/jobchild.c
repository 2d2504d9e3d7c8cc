#include "loop/jobchild.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The child's input, read into locked memory of its own (in->buf, whose
 * mapping is SECRET_MAX + 1 bytes). 0 or -errno. */
static int read_input(int fd, struct secret *in)
{
	uint32_t len = 0;
	size_t got = 0;
	in->buf = mmap(NULL, SECRET_MAX + 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (in->buf == MAP_FAILED || mlock(in->buf, SECRET_MAX + 1) < 0) {
		in->buf = NULL;
		return -ENOMEM;
	}
	while (got < sizeof(len) + len) {
		char *dst = got < sizeof(len) ? (char *)&len + got
					      : in->buf + got - sizeof(len);
		size_t want = got < sizeof(len) ? sizeof(len) - got
						: sizeof(len) + len - got;
		ssize_t n = read(fd, dst, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len > SECRET_MAX)
			return -EPIPE;
		got += (size_t)n;
	}
	in->len = len;
	return 0;
}

/* What the child has run on a CPU so far (user and system). */
static uint32_t child_cpu_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* What a job does before its input comes (job_spec.before) only uses a
 * CPU nothing else wants: the input is being made meanwhile (a KDF), and
 * must not wait for it. */
static void work_before_input(const struct job_spec *spec, int infd)
{
	struct sched_param none = {0};
	(void)sched_setscheduler(0, SCHED_IDLE, &none);
	/* Given already: no reason to wait behind others. The loop sets the
	 * child back itself once it has sent the input; idle first, then
	 * this look, so that either order ends with the child working as
	 * any job does. */
	int queued = 0;
	if (ioctl(infd, FIONREAD, &queued) == 0 && queued > 0)
		job_child_priority(0);
	if (spec->before)
		spec->before(spec->arg);
}

void job_child_priority(pid_t pid)
{
	struct sched_param none = {0};
	(void)sched_setscheduler(pid, SCHED_OTHER, &none);
	(void)setpriority(PRIO_PROCESS, (id_t)pid, JOB_NICE);
}

/* The child's work: the result in a buffer of its own (locked for a
 * secret), sent, and wiped (with its input) before _exit. */
void job_child_run(const struct job_spec *spec, int wfd, int infd)
{
	size_t map = spec->max ? spec->max : 1;
	unsigned char *buf = mmap(NULL, map, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t len = 0;
	int32_t rc = -ENOMEM;
	struct secret in = {0};
	if (spec->input_later)
		work_before_input(spec, infd);
	if (buf == MAP_FAILED || (spec->secret && mlock(buf, map) < 0)) {
		buf = NULL;
	} else if (infd >= 0 && (rc = read_input(infd, &in)) < 0) {
		; /* rc says why */
	} else {
		if (spec->input_later)
			job_child_priority(0);
		rc = infd >= 0 ? spec->fn_in(spec->arg, in.buf, in.len, buf,
					     spec->max, &len)
			       : spec->fn(spec->arg, buf, spec->max, &len);
		if (len > spec->max)
			len = spec->max;
	}
	if (in.buf)
		explicit_bzero(in.buf, SECRET_MAX + 1);
	uint32_t len32 = (uint32_t)len;
	uint32_t cpu_ms = child_cpu_ms();
	unsigned char head[JOB_HEAD_LEN];
	memcpy(head, &rc, 4);
	memcpy(head + 4, &len32, 4);
	memcpy(head + 8, &cpu_ms, 4);
	if (write_all(wfd, head, sizeof(head)) == 0 && len)
		write_all(wfd, buf, len);
	/* A secret may sit anywhere in its buffer, even on failure. */
	if (buf)
		explicit_bzero(buf, spec->secret ? map : len);
	_exit(0);
}

/* Reads exactly n bytes before deadline_ms: 0, -ETIMEDOUT, -EPIPE (the
 * child ended first) or -errno. */
static int read_by(int fd, void *buf, size_t n, long long deadline_ms)
{
	size_t got = 0;
	while (got < n) {
		long long left = deadline_ms - clock_now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0)
			return -ETIMEDOUT;
		int rc = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

static void kill_by_pidfd(int pidfd, pid_t pid)
{
	if (pidfd < 0 ||
	    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
		kill(pid, SIGKILL); /* no pidfd (before Linux 5.3) */
}

/* The frame: rc, length and CPU time, then the bytes. */
static int read_frame(int fd, void *buf, size_t max, long long deadline_ms,
		      struct job_result *ret)
{
	unsigned char head[JOB_HEAD_LEN];
	int rc = read_by(fd, head, sizeof(head), deadline_ms);
	if (rc < 0)
		return rc;
	int32_t fn_rc;
	uint32_t len, cpu_ms;
	memcpy(&fn_rc, head, 4);
	memcpy(&len, head + 4, 4);
	memcpy(&cpu_ms, head + 8, 4);
	if (len > max)
		return -EPROTO;
	rc = read_by(fd, buf, len, deadline_ms);
	if (rc < 0)
		return rc;
	ret->rc = fn_rc;
	ret->len = len;
	ret->cpu_ms = cpu_ms;
	return 0;
}

void job_run_here(const struct job_spec *spec, void *buf,
		  struct job_result *ret)
{
	*ret = (struct job_result){
		.end = JOB_NOT_RUN, .rc = -EINVAL, .cpu_ms = -1};
	if (!spec->fn || spec->secret || spec->input || spec->timeout_ms <= 0 ||
	    spec->max > JOB_RESULT_MAX)
		return;
	long long t0 = clock_now_ms();
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		ret->rc = -errno;
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* Asked for from a job's child, it dies with that child (killed
		 * at its own deadline): nothing of it outlives the bound. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		job_child_run(spec, p[1], -1);
	}
	ret->rc = -errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return;
	}
	/* Before the loop's reaper can have collected it: its pid is ours. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int rc = read_frame(p[0], buf, spec->max, t0 + spec->timeout_ms, ret);
	if (rc == -ETIMEDOUT)
		kill_by_pidfd(pidfd, pid);
	if (pidfd >= 0)
		close(pidfd);
	close(p[0]);
	ret->end = rc == 0	      ? JOB_DONE
		   : rc == -ETIMEDOUT ? JOB_TIMED_OUT
				      : JOB_NO_RESULT;
	if (rc < 0)
		ret->rc = rc;
	ret->data = rc == 0 ? buf : NULL;
	ret->ran_ms = clock_now_ms() - t0;
}
