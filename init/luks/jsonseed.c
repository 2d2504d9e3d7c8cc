/* json-c's hash seed, without waiting for the kernel's RNG.
 *
 * libcryptsetup parses every LUKS2 header with json-c, whose hash tables
 * are seeded once, at the first one, by json_c_get_random_seed(). json-c
 * 0.16 asks getrandom(GRND_NONBLOCK) first; before the kernel's RNG is
 * initialised that fails with EAGAIN and json-c falls back to reading
 * /dev/urandom, which since Linux 5.18 (and in 6.1) runs the jitter
 * entropy generator until the RNG is initialised: on a machine without an
 * RNG device or RDRAND the first header was read only after "random: crng
 * init done", about 1.2 s later under emulation, on every boot.
 *
 * This definition replaces json-c's (the static link takes ours, so its
 * random_seed.o is never pulled in). The seed only spreads the keys of a
 * hash table against collision flooding; it is no key and protects no
 * secret. Opening a LUKS device creates no key either: nothing /init does
 * needs the RNG initialised. So we take what getrandom() has: initialised
 * bytes if there are any, else GRND_INSECURE's best effort (never
 * blocking), still better than json-c's own last resort, the time. */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004 /* Linux 5.6 */
#endif

int json_c_get_random_seed(void);

static int seed_from(unsigned flags, int *seed)
{
	ssize_t n;
	do
		n = getrandom(seed, sizeof(*seed), flags);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*seed) ? 0 : -1;
}

int json_c_get_random_seed(void)
{
	int seed = 0;
	if (seed_from(GRND_NONBLOCK, &seed) == 0 ||
	    seed_from(GRND_INSECURE, &seed) == 0)
		return seed;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int)(ts.tv_nsec ^ ts.tv_sec);
}
