/*
 * kdfbench: do what `cryptsetup open --test-passphrase --key-file F IMG` does,
 * with the static musl libcryptsetup /init links against, and time it.
 *
 *   kdfbench HEADER_OR_IMAGE PASSFILE
 *
 * crypt_init + crypt_load(CRYPT_LUKS) + crypt_activate_by_passphrase(cd,
 * NULL, CRYPT_ANY_SLOT, pass, len, 0), i.e. verify the passphrase against
 * every keyslot without activating anything. The whole key file is the
 * passphrase (as with cryptsetup --key-file, newline included).
 *
 * Prints "kdfbench seconds=S slot=N" on stdout (S: CLOCK_MONOTONIC around
 * the three calls, process startup excluded); exit status 0 if the
 * passphrase matched, 2 if it did not, 1 on other errors.
 *
 * KDFBENCH_SLOT=N tries only keyslot N (a derived keyslot, say) instead
 * of every keyslot.
 *
 * KDFBENCH_KEEP_KEY=1 (with KDFBENCH_SLOT) gets the volume key and checks
 * it as an activation by volume key does, the way /init opens a member
 * whose key others derive theirs from: two digest checks instead of one.
 *
 * KDFBENCH_PARALLEL=N (default 1) runs N such verifications at once, each
 * in its own thread with its own crypt_device, the way /init runs the KDFs
 * of several members in worker threads (init/luks/luks.c); S then covers all.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libcryptsetup.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			char *nb = cap < (1u << 20) ? realloc(buf, cap *= 2)
						    : NULL;
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	close(fd);
	*len = n;
	return buf;
}

struct job {
	int slot;
	const char *path;
	const char *pass;
	size_t len;
	int r;
	const char *what;
	int keep_key; /* KDFBENCH_KEEP_KEY */
};

/* What /init does for a member whose volume key it keeps (others derive
 * theirs from it): the key from the keyslot, then the check an activation
 * by volume key makes (a second digest check). */
static int keep_key(struct crypt_device *cd, const struct job *j)
{
	char vk[256];
	size_t vk_len = sizeof(vk);
	int r = crypt_volume_key_get(cd, j->slot, vk, &vk_len, j->pass, j->len);
	if (r >= 0)
		r = crypt_activate_by_volume_key(cd, NULL, vk, vk_len, 0);
	memset(vk, 0, sizeof(vk));
	return r;
}

/* crypt_init + crypt_load + passphrase check, as cryptsetup open
 * --test-passphrase does. */
static void *verify(void *arg)
{
	struct job *j = arg;
	struct crypt_device *cd = NULL;
	j->what = "crypt_init";
	j->r = crypt_init(&cd, j->path);
	if (j->r < 0)
		return NULL;
	j->what = "crypt_load";
	j->r = crypt_load(cd, CRYPT_LUKS, NULL);
	if (j->r >= 0) {
		j->what = "passphrase check";
		j->r = j->keep_key
			       ? keep_key(cd, j)
			       : crypt_activate_by_passphrase(
					 cd, NULL, j->slot, j->pass, j->len, 0);
	}
	crypt_free(cd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s HEADER_OR_IMAGE PASSFILE\n",
			argv[0]);
		return 1;
	}
	size_t len = 0;
	char *pass = read_file(argv[2], &len);
	if (!pass) {
		fprintf(stderr, "kdfbench: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (getenv("KDFBENCH_DEBUG"))
		crypt_set_debug_level(CRYPT_DEBUG_ALL);

	const char *par = getenv("KDFBENCH_PARALLEL");
	int n = par ? atoi(par) : 1;
	if (n < 1 || n > 64) {
		fprintf(stderr, "kdfbench: KDFBENCH_PARALLEL must be 1..64\n");
		return 1;
	}
	const char *slot_env = getenv("KDFBENCH_SLOT");
	int slot = slot_env ? atoi(slot_env) : CRYPT_ANY_SLOT;
	struct job jobs[64];
	pthread_t tids[64];
	for (int i = 0; i < n; i++)
		jobs[i] = (struct job){
			.keep_key = getenv("KDFBENCH_KEEP_KEY") != NULL,
			.slot = slot,
			.path = argv[1],
			.pass = pass,
			.len = len};

	double t0 = now();
	if (n == 1) {
		verify(&jobs[0]);
	} else {
		for (int i = 0; i < n; i++) {
			int e = pthread_create(&tids[i], NULL, verify,
					       &jobs[i]);
			if (e) {
				fprintf(stderr,
					"kdfbench: pthread_create: %s\n",
					strerror(e));
				return 1;
			}
		}
		for (int i = 0; i < n; i++)
			pthread_join(tids[i], NULL);
	}
	double t1 = now();
	memset(pass, 0, len);
	free(pass);

	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (jobs[i].r >= 0)
			continue;
		fprintf(stderr, "kdfbench: %s %s: %s\n", jobs[i].what, argv[1],
			strerror(-jobs[i].r));
		if (rc == 0)
			rc = jobs[i].r == -EPERM ? 2 : 1;
	}
	if (rc) {
		printf("kdfbench seconds=%.6f slot=none\n", t1 - t0);
		return rc;
	}
	printf("kdfbench seconds=%.6f slot=%d\n", t1 - t0, jobs[0].r);
	return 0;
}
