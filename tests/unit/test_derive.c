#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/derive.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void hkdf_matches_rfc5869(void)
{
	unsigned char ikm[22], salt[13], info[10], okm[42];
	char h[2 * sizeof(okm) + 1];
	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (unsigned char)i;
	for (int i = 0; i < 10; i++)
		info[i] = (unsigned char)(0xf0 + i);
	CHECK(hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info,
			  sizeof(info), okm, sizeof(okm)) == 0);
	hex(okm, sizeof(okm), h);
	CHECK_STR(
		h,
		"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
	/* Case 3: no salt, no info. */
	CHECK(hkdf_sha256("", 0, ikm, sizeof(ikm), "", 0, okm, sizeof(okm)) ==
	      0);
	hex(okm, sizeof(okm), h);
	CHECK_STR(
		h,
		"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
	CHECK(hkdf_sha256("", 0, ikm, 1, "", 0, okm, 255 * 32 + 1) == -EINVAL);
}

/* What OpenSSL would refuse, or RFC 5869 leaves undefined, is refused
 * before libcrypto is asked. */
static void hkdf_refuses_what_it_cannot_derive(void)
{
	unsigned char ikm[1] = {1}, info[1025] = {0}, okm[32];
	CHECK(hkdf_sha256("", 0, ikm, 0, "", 0, okm, sizeof(okm)) == -EINVAL);
	CHECK(hkdf_sha256("", 0, NULL, 1, "", 0, okm, sizeof(okm)) == -EINVAL);
	CHECK(hkdf_sha256("", 0, ikm, 1, "", 0, okm, 0) == -EINVAL);
	CHECK(hkdf_sha256("", 0, ikm, 1, info, sizeof(info), okm,
			  sizeof(okm)) == -EINVAL);
	/* The longest info and output there are. */
	static unsigned char big[255 * 32];
	CHECK(hkdf_sha256("", 0, ikm, 1, info, 1024, big, sizeof(big)) == 0);
}

/* RFC 5869 case 2: inputs longer than a SHA-256 block, three blocks out. */
static void hkdf_matches_rfc5869_long_inputs(void)
{
	unsigned char ikm[80], salt[80], info[80], okm[82];
	char h[2 * sizeof(okm) + 1];
	for (int i = 0; i < 80; i++) {
		ikm[i] = (unsigned char)i;
		salt[i] = (unsigned char)(0x60 + i);
		info[i] = (unsigned char)(0xb0 + i);
	}
	CHECK(hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info,
			  sizeof(info), okm, sizeof(okm)) == 0);
	hex(okm, sizeof(okm), h);
	CHECK_STR(
		h,
		"b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

static void member_key_is_hkdf_of_the_volume_key_and_uuid(void)
{
	unsigned char vk[64], k1[DERIVE_KEY_LEN], k2[DERIVE_KEY_LEN];
	char h[2 * DERIVE_KEY_LEN + 1];
	for (int i = 0; i < 64; i++)
		vk[i] = (unsigned char)i;
	/* Computed independently (Python's hmac): the format is fixed. */
	CHECK(derive_member_key(vk, sizeof(vk),
				"0ac0a545-24b4-4f0b-b072-bd74f1df29f0",
				k1) == 0);
	hex(k1, sizeof(k1), h);
	CHECK_STR(
		h,
		"b938791ef67f403bccd092c673b52b5d3cd3b10ea9fc843e1ff38b976b007c34");
	/* Another member, another key; another volume key, another key. */
	CHECK(derive_member_key(vk, sizeof(vk),
				"1b5af1bf-8ed8-419e-b73a-39a559b5018c",
				k2) == 0);
	CHECK(memcmp(k1, k2, sizeof(k1)) != 0);
	vk[0] ^= 1;
	CHECK(derive_member_key(vk, sizeof(vk),
				"0ac0a545-24b4-4f0b-b072-bd74f1df29f0",
				k2) == 0);
	CHECK(memcmp(k1, k2, sizeof(k1)) != 0);
	CHECK(derive_member_key(vk, 0, "x", k2) == -EINVAL);
	CHECK(derive_member_key(vk, sizeof(vk), "", k2) == -EINVAL);
}

/* Keys that enrolments made before derive.c used OpenSSL hold: computed by
 * the hand-written SHA-256/HMAC/HKDF of 6251c30 (and by Python's hmac), so
 * a member enrolled then keeps opening. A 256-bit volume key, and one
 * longer than a SHA-256 block. */
static void member_key_is_what_earlier_enrolments_hold(void)
{
	unsigned char vk[96], k[DERIVE_KEY_LEN];
	char h[2 * DERIVE_KEY_LEN + 1];
	for (int i = 0; i < 32; i++)
		vk[i] = (unsigned char)(0xa0 + i);
	CHECK(derive_member_key(vk, 32, "5d0c9d9e-2f4b-4a5e-9c77-0e1f2a3b4c5d",
				k) == 0);
	hex(k, sizeof(k), h);
	CHECK_STR(
		h,
		"be7e2600e6cc76d44274aa236a6cbbdb54d5d5ee8c6e36c7166a86bbe01fb985");
	for (int i = 0; i < 96; i++)
		vk[i] = (unsigned char)(255 - i);
	CHECK(derive_member_key(vk, sizeof(vk),
				"C0FFEE00-1234-4abc-8def-0123456789ab",
				k) == 0);
	hex(k, sizeof(k), h);
	CHECK_STR(
		h,
		"9d6310bd58d914a5240eb3079c1c86af5ba45c235841bda225d9535cd031fbe2");
}

void derive_tests(void)
{
	RUN(hkdf_matches_rfc5869);
	RUN(hkdf_matches_rfc5869_long_inputs);
	RUN(hkdf_refuses_what_it_cannot_derive);
	RUN(member_key_is_hkdf_of_the_volume_key_and_uuid);
	RUN(member_key_is_what_earlier_enrolments_hold);
}
