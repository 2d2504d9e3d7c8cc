#include "tpm2/tpm2codec.h"

#include <errno.h>
#include <string.h>

static const char B64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;
	return p ? (int)(p - B64) : -1;
}

/* One group of four characters (pad: how many '=' end it) into 1-3 bytes. */
static int b64_group(const char *s, int pad, uint8_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int d = i < 4 - pad ? b64_value(s[i]) : 0;
		if (d < 0 || (i >= 4 - pad && s[i] != '='))
			return -EINVAL;
		v = v << 6 | (uint32_t)d;
	}
	/* The bits a padded group leaves unused must be zero (canonical). */
	if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
		return -EINVAL;
	out[0] = (uint8_t)(v >> 16);
	out[1] = (uint8_t)(v >> 8);
	out[2] = (uint8_t)v;
	return 3 - pad;
}

long tpm2_unbase64(const char *s, uint8_t *out, size_t max)
{
	size_t len = strlen(s);
	if (len % 4)
		return -EINVAL;
	size_t n = 0;
	for (size_t i = 0; i < len; i += 4) {
		int pad = 0;
		if (i + 4 == len)
			pad = s[i + 3] != '=' ? 0 : s[i + 2] == '=' ? 2 : 1;
		uint8_t b[3];
		int got = b64_group(s + i, pad, b);
		if (got < 0)
			return got;
		if (n + (size_t)got > max)
			return -E2BIG;
		memcpy(out + n, b, (size_t)got);
		n += (size_t)got;
	}
	return (long)n;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long tpm2_unhex(const char *s, uint8_t *out, size_t max)
{
	size_t len = strlen(s);
	if (len % 2)
		return -EINVAL;
	if (len / 2 > max)
		return -E2BIG;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

long tpm2_base64(const uint8_t *in, size_t n, char *out, size_t size)
{
	size_t need = (n + 2) / 3 * 4;
	if (need >= size)
		return -E2BIG;
	char *o = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = B64[v >> 18 & 63];
		*o++ = B64[v >> 12 & 63];
		*o++ = (char)(i + 1 < n ? B64[v >> 6 & 63] : '=');
		*o++ = (char)(i + 2 < n ? B64[v & 63] : '=');
	}
	*o = '\0';
	return (long)need;
}
