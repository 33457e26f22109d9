/*
 * support.h - what the unit tests and fuzzers need besides the core: an
 * entropy source, standard base64, and reference coders to check by (base64,
 * the inverse of base64url, UTF-8 character lengths).
 *
 * With PostgreSQL's static libraries available (the Makefile's default) the
 * test_* functions are the server's own pg_strong_random, pg_b64_encode and
 * pg_b64_decode, so the tests exercise exactly what the extension links.
 * Without them they fall back to getrandom(2) and the reference coder.
 */
#ifndef SK_TEST_SUPPORT_H
#define SK_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern bool test_strong_random(void *buf, size_t len);
extern int	test_b64_enc_len(int srclen);
extern int	test_b64_dec_len(int srclen);
extern int	test_b64_encode(const unsigned char *src, int len, char *dst,
							int dstlen);
extern int	test_b64_decode(const char *src, int len, unsigned char *dst,
							int dstlen);
extern const char *test_backend_name(void);

extern int	ref_b64_encode(const unsigned char *src, int len, char *dst,
						   int dstlen);
extern int	ref_b64_decode(const char *src, int len, unsigned char *dst,
						   int dstlen);
extern size_t ref_b64url_encoded_len(size_t nbytes);
extern bool ref_b64url_to_std(const char *in, size_t len, char *out,
							  size_t outsize, size_t *outlen);
extern int	ref_utf8_mblen(const char *s);
extern uint64_t ref_mix64(uint64_t x);
extern uint64_t ref_uuid7_key(const unsigned char u[16]);
extern uint64_t ref_uuid7_key_at(int64_t ns);

#endif							/* SK_TEST_SUPPORT_H */
