/*
 * encrypt-extents VOLUME-KEY PLAIN LUKS-IMAGE DATA-OFFSET
 *
 * Writes PLAIN's content, encrypted as dm-crypt would (aes-xts-plain64,
 * 512-byte sectors), into LUKS-IMAGE at DATA-OFFSET. Only PLAIN's data
 * extents are read and written: its holes stay holes in LUKS-IMAGE.
 *
 * Why: the host that builds the test disks has no device-mapper, and
 * `cryptsetup reencrypt --encrypt` encrypts every sector of a member,
 * empty space included, so each 288 MiB disk took 288 MiB. A disk made
 * this way takes its LUKS header and what its filesystem holds. What the guest reads outside
 * the written extents decrypts to noise, as on a real disk formatted with
 * luksFormat and no wipe; no filesystem reads space it never wrote.
 *
 * The volume key comes from `cryptsetup luksDump --dump-volume-key`; it
 * opens nothing but the test images.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SECTOR = 512, CHUNK = 1 << 20 };

static void die(const char *what)
{
	fprintf(stderr, "encrypt-extents: %s: %s\n", what,
		errno ? strerror(errno) : "failed");
	exit(1);
}

static size_t read_key(const char *path, unsigned char *key, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	ssize_t n = read(fd, key, cap);
	close(fd);
	if (n != 32 && n != 64) {
		errno = 0;
		die("the volume key is not 32 or 64 bytes (aes-xts)");
	}
	return (size_t)n;
}

/* plain64: the sector number from the segment's start, little-endian. */
static void encrypt_sector(EVP_CIPHER_CTX *ctx, const unsigned char *key,
			   uint64_t sector, const unsigned char *in,
			   unsigned char *out)
{
	unsigned char iv[16] = {0};
	for (int i = 0; i < 8; i++)
		iv[i] = (unsigned char)(sector >> (8 * i));
	int len = 0;
	if (!EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) ||
	    !EVP_EncryptUpdate(ctx, out, &len, in, SECTOR) || len != SECTOR) {
		errno = 0;
		die("aes-xts");
	}
}

static void copy_extent(int in, int out, off_t start, off_t end, off_t offset,
			EVP_CIPHER_CTX *ctx, const unsigned char *key)
{
	static unsigned char plain[CHUNK], cipher[CHUNK];
	start -= start % SECTOR;
	while (start < end) {
		size_t want = (size_t)(end - start) < CHUNK
				      ? (size_t)(end - start)
				      : CHUNK;
		want += (SECTOR - want % SECTOR) % SECTOR;
		memset(plain, 0, want);
		for (size_t got = 0; got < want;) {
			ssize_t n = pread(in, plain + got, want - got,
					  start + (off_t)got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("reading the plain image");
			if (n == 0)
				break; /* the end of the file: zeros */
			got += (size_t)n;
		}
		for (size_t s = 0; s < want; s += SECTOR)
			encrypt_sector(ctx, key,
				       (uint64_t)(start + (off_t)s) / SECTOR,
				       plain + s, cipher + s);
		if (pwrite(out, cipher, want, offset + start) != (ssize_t)want)
			die("writing the LUKS image");
		start += (off_t)want;
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr,
			"usage: %s VOLUME-KEY PLAIN LUKS-IMAGE "
			"DATA-OFFSET\n",
			argv[0]);
		return 2;
	}
	unsigned char key[64];
	size_t keylen = read_key(argv[1], key, sizeof key);
	char *end = NULL;
	errno = 0;
	long long offset = strtoll(argv[4], &end, 10);
	if (errno || end == argv[4] || *end || offset < 0 || offset % SECTOR) {
		errno = 0;
		die("DATA-OFFSET is not a whole number of sectors");
	}
	int in = open(argv[2], O_RDONLY | O_CLOEXEC);
	int out = open(argv[3], O_WRONLY | O_CLOEXEC);
	if (in < 0 || out < 0)
		die("opening the images");
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx || !EVP_EncryptInit_ex(ctx,
					keylen == 64 ? EVP_aes_256_xts()
						     : EVP_aes_128_xts(),
					NULL, NULL, NULL)) {
		errno = 0;
		die("aes-xts setup");
	}
	off_t size = lseek(in, 0, SEEK_END);
	for (off_t pos = 0; pos < size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (data < 0 || hole < 0)
			die("walking the plain image's extents");
		copy_extent(in, out, data, hole, offset, ctx, key);
		pos = hole;
	}
	EVP_CIPHER_CTX_free(ctx);
	memset(key, 0, sizeof key);
	if (close(out) != 0)
		die("closing the LUKS image");
	close(in);
	return 0;
}
