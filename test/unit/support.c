/*
 * support.c - reference base64 and base64url, a UTF-8 character length,
 * and the fallback entropy source.
 */
#include "support.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static const char ref_std[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Padded standard base64 (RFC 4648 section 4), written independently of
 * PostgreSQL's coder so the tests can check pg_b64_encode against it and
 * still run where libpgcommon is missing.  Returns the length, or -1 when
 * dst is too small.
 */
int
ref_b64_encode(const unsigned char *src, int len, char *dst, int dstlen)
{
	int			o = 0;

	if (len < 0 || dstlen < (len + 2) / 3 * 4)
		return -1;
	for (int i = 0; i < len; i += 3)
	{
		unsigned int v = (unsigned int) src[i] << 16;
		int			rest = len - i;

		if (rest > 1)
			v |= (unsigned int) src[i + 1] << 8;
		if (rest > 2)
			v |= src[i + 2];
		dst[o++] = ref_std[(v >> 18) & 63];
		dst[o++] = ref_std[(v >> 12) & 63];
		dst[o++] = rest > 1 ? ref_std[(v >> 6) & 63] : '=';
		dst[o++] = rest > 2 ? ref_std[v & 63] : '=';
	}
	return o;
}

/* Value of one standard base64 character, or -1. */
static int
ref_b64_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(ref_std, c);
	return p ? (int) (p - ref_std) : -1;
}

/*
 * Decodes padded standard base64: length a multiple of 4, '=' only as one
 * or two final characters.  Like pg_b64_decode it ignores the unused low
 * bits of the last group.  Returns the length, or -1 on bad input or a
 * too-small dst.
 */
int
ref_b64_decode(const char *src, int len, unsigned char *dst, int dstlen)
{
	int			o = 0;

	if (len < 0 || len % 4 != 0)
		return -1;
	for (int i = 0; i < len; i += 4)
	{
		int			pad = 0;
		unsigned int v = 0;

		for (int j = 0; j < 4; j++)
		{
			int			d;

			if (src[i + j] == '=' && i + 4 == len && j >= 2)
			{
				pad++;
				d = 0;
			}
			else if (pad > 0 || (d = ref_b64_value(src[i + j])) < 0)
				return -1;
			v = (v << 6) | (unsigned int) d;
		}
		if (o + 3 - pad > dstlen)
			return -1;
		dst[o++] = (unsigned char) (v >> 16);
		if (pad < 2)
			dst[o++] = (unsigned char) (v >> 8);
		if (pad < 1)
			dst[o++] = (unsigned char) v;
	}
	return o;
}

/* Unpadded length: 4 characters per 3 bytes, 2 or 3 for a partial group. */
size_t
ref_b64url_encoded_len(size_t nbytes)
{
	return (nbytes / 3) * 4 + (nbytes % 3 == 0 ? 0 : nbytes % 3 + 1);
}

/*
 * The inverse of sk_b64_to_url, padded again so a standard base64 decoder
 * accepts it: proves tokens round-trip.  Rejects characters outside the
 * URL-safe alphabet and lengths no encoder produces.
 */
bool
ref_b64url_to_std(const char *in, size_t len, char *out, size_t outsize,
				 size_t *outlen)
{
	size_t		padded = (len + 3) / 4 * 4;
	size_t		i;

	if (len % 4 == 1 || padded > outsize)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = in[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9')))
			return false;
		out[i] = c;
	}
	for (; i < padded; i++)
		out[i] = '=';
	*outlen = padded;
	return true;
}

/* splitmix64 finalizer: a fixed, well-mixed function of its argument. */
uint64_t
ref_mix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* The 60-bit time key of a UUIDv7: 48-bit ms, then 12-bit fraction. */
uint64_t
ref_uuid7_key(const unsigned char u[16])
{
	uint64_t	ms = 0;

	for (int i = 0; i < 6; i++)
		ms = (ms << 8) | u[i];
	return (ms << 12) | ((uint64_t) (u[6] & 0x0F) << 8) | u[7];
}

/* The key the generator must write for timestamp ns (RFC 9562 method 3). */
uint64_t
ref_uuid7_key_at(int64_t ns)
{
	const int64_t ns_per_ms = INT64_C(1000000);

	return ((uint64_t) (ns / ns_per_ms) << 12) |
		(uint64_t) ((ns % ns_per_ms) * 4096 / ns_per_ms);
}

/*
 * Length of a UTF-8 character from its lead byte, in place of the server's
 * pg_mblen; a stray continuation or invalid lead byte counts as one byte,
 * so every input makes progress.
 */
int
ref_utf8_mblen(const char *s)
{
	unsigned char c = (unsigned char) *s;

	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	if ((c & 0xF8) == 0xF0)
		return 4;
	return 1;
}

#ifndef SK_TEST_WITH_PG

/* getrandom(2) until len bytes arrived: the kernel CSPRNG. */
bool
test_strong_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0)
	{
		ssize_t		got = getrandom(p, len, 0);

		if (got < 0)
		{
			if (errno == EINTR)
				continue;
			return false;
		}
		p += got;
		len -= (size_t) got;
	}
	return true;
}

/* Padded length, as pg_b64_enc_len computes it. */
int
test_b64_enc_len(int srclen)
{
	return (srclen + 2) / 3 * 4;
}

/* Upper bound of the decoded length, as pg_b64_dec_len computes it. */
int
test_b64_dec_len(int srclen)
{
	return (srclen * 3) >> 2;
}

/* Without libpgcommon the reference coder stands in for PostgreSQL's. */
int
test_b64_encode(const unsigned char *src, int len, char *dst, int dstlen)
{
	return ref_b64_encode(src, len, dst, dstlen);
}

/* See test_b64_encode. */
int
test_b64_decode(const char *src, int len, unsigned char *dst, int dstlen)
{
	return ref_b64_decode(src, len, dst, dstlen);
}

/* For the TAP header: which implementations the run used. */
const char *
test_backend_name(void)
{
	return "getrandom(2) and the reference base64 coder";
}

#endif							/* !SK_TEST_WITH_PG */
