#include "common/derive.h"

#include <errno.h>
#include <string.h>

/* FIPS 180-4 SHA-256: small and dependency-free, so /init and the host
 * tool derive with the same code, and the unit tests run it. */

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void compress(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], v[8];
	for (size_t i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^
			      (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^
			      (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, s->h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t s1 = ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25);
		uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
		uint32_t t1 = v[7] + s1 + ch + K[i] + w[i];
		uint32_t s0 = ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22);
		uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + s0 + maj;
	}
	for (int i = 0; i < 8; i++)
		s->h[i] += v[i];
	/* The schedule is derived from key material: leave none of it. */
	explicit_bzero(w, sizeof(w));
	explicit_bzero(v, sizeof(v));
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->used = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	s->len += len;
	while (len > 0) {
		size_t n = sizeof(s->buf) - s->used;
		if (n > len)
			n = len;
		memcpy(s->buf + s->used, p, n);
		s->used += n;
		p += n;
		len -= n;
		if (s->used == sizeof(s->buf)) {
			compress(s, s->buf);
			s->used = 0;
		}
	}
}

void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80;
	sha256_update(s, &pad, 1);
	pad = 0;
	while (s->used != 56)
		sha256_update(s, &pad, 1);
	unsigned char be[8];
	for (int i = 0; i < 8; i++)
		be[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, be, 8);
	for (size_t i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
	explicit_bzero(s, sizeof(*s));
}

void hmac_sha256(const void *key, size_t key_len, const void *msg,
		 size_t msg_len, unsigned char out[SHA256_LEN])
{
	unsigned char k[64] = {0}, pad[64], inner[SHA256_LEN];
	struct sha256 s;
	if (key_len > sizeof(k)) {
		sha256_init(&s);
		sha256_update(&s, key, key_len);
		sha256_final(&s, k);
	} else if (key_len > 0) {
		memcpy(k, key, key_len);
	}
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&s);
	sha256_update(&s, pad, sizeof(pad));
	sha256_update(&s, msg, msg_len);
	sha256_final(&s, inner);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&s);
	sha256_update(&s, pad, sizeof(pad));
	sha256_update(&s, inner, sizeof(inner));
	sha256_final(&s, out);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
}

int hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		size_t ikm_len, const void *info, size_t info_len,
		unsigned char *out, size_t out_len)
{
	if (out_len > (size_t)255 * SHA256_LEN || info_len > 1024)
		return -EINVAL;
	unsigned char prk[SHA256_LEN], t[SHA256_LEN] = {0};
	unsigned char msg[SHA256_LEN + 1024 + 1];
	hmac_sha256(salt, salt_len, ikm, ikm_len, prk);
	size_t tlen = 0, done = 0;
	for (unsigned char i = 1; done < out_len; i++) {
		/* T(i) = HMAC(PRK, T(i-1) | info | i) */
		memcpy(msg, t, tlen);
		if (info_len > 0)
			memcpy(msg + tlen, info, info_len);
		msg[tlen + info_len] = i;
		hmac_sha256(prk, sizeof(prk), msg, tlen + info_len + 1, t);
		tlen = sizeof(t);
		size_t n =
			out_len - done < sizeof(t) ? out_len - done : sizeof(t);
		memcpy(out + done, t, n);
		done += n;
	}
	explicit_bzero(prk, sizeof(prk));
	explicit_bzero(t, sizeof(t));
	explicit_bzero(msg, sizeof(msg));
	return 0;
}

int derive_member_key(const void *primary_vk, size_t vk_len,
		      const char *member_uuid,
		      unsigned char out[DERIVE_KEY_LEN])
{
	if (!primary_vk || vk_len == 0 || !member_uuid || !member_uuid[0])
		return -EINVAL;
	return hkdf_sha256(DERIVE_CONTEXT, strlen(DERIVE_CONTEXT), primary_vk,
			   vk_len, member_uuid, strlen(member_uuid), out,
			   DERIVE_KEY_LEN);
}
