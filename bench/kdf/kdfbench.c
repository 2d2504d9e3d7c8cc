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
 */
#include <errno.h>
#include <fcntl.h>
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
			char *nb = cap < (1u << 20) ? realloc(buf, cap *= 2) : NULL;
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	close(fd);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s HEADER_OR_IMAGE PASSFILE\n", argv[0]);
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

	struct crypt_device *cd = NULL;
	double t0 = now();
	int r = crypt_init(&cd, argv[1]);
	if (r < 0) {
		fprintf(stderr, "kdfbench: crypt_init %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	r = crypt_load(cd, CRYPT_LUKS, NULL);
	if (r < 0) {
		fprintf(stderr, "kdfbench: crypt_load %s: %s\n", argv[1], strerror(-r));
		crypt_free(cd);
		return 1;
	}
	r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, pass, len, 0);
	double t1 = now();
	crypt_free(cd);
	memset(pass, 0, len);
	free(pass);
	if (r < 0) {
		fprintf(stderr, "kdfbench: passphrase check: %s\n", strerror(-r));
		printf("kdfbench seconds=%.6f slot=none\n", t1 - t0);
		return r == -EPERM ? 2 : 1;
	}
	printf("kdfbench seconds=%.6f slot=%d\n", t1 - t0, r);
	return 0;
}
