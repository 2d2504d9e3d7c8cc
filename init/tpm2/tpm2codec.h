/* The text encodings of the systemd-tpm2 token: base64 (RFC 4648, the
 * standard alphabet with padding, as systemd writes the sealed blob and
 * as it turns the unsealed secret into the keyslot's passphrase) and hex
 * (the policy hash). Strict: no whitespace, no missing padding. Pure. */
#ifndef LUKSINIT_TPM2CODEC_H
#define LUKSINIT_TPM2CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the NUL-terminated s into out (at most max bytes). Returns the
 * byte count, -EINVAL if s is no such encoding, -E2BIG if it does not fit. */
long tpm2_unbase64(const char *s, uint8_t *out, size_t max);
long tpm2_unhex(const char *s, uint8_t *out, size_t max);
/* The base64 of in[0..n) and a NUL into out (size bytes). Returns the
 * length, or -E2BIG if out is too small. */
long tpm2_base64(const uint8_t *in, size_t n, char *out, size_t size);

#endif
