/*
 * fuzz_encode.c - libFuzzer target: base64url tokens (sk_encode).
 *
 * The input is used twice: as token bytes, which must round-trip through
 * pg_b64_encode, sk_b64_to_url, ref_b64url_to_std and pg_b64_decode; and as
 * untrusted base64url text, which ref_b64url_to_std must accept exactly when
 * it is well-formed, without writing past an exactly sized buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sk_encode.h"
#include "support.h"

#define MAX_INPUT 4096

/* Stops the run with a crash libFuzzer reports, input saved. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Value of a base64url character, or -1. */
static int
url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* malloc that never returns the same pointer for size 0 as for size 1. */
static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n > 0 ? n : 1);

	CHECK(p != NULL);
	return p;
}

/*
 * Token bytes -> standard base64 -> base64url -> standard base64 -> bytes,
 * every buffer exactly as large as the length functions promise.
 */
static void
check_roundtrip(const uint8_t *data, size_t size)
{
	int			enclen = test_b64_enc_len((int) size);
	char	   *std = xmalloc((size_t) enclen);
	char	   *ref = xmalloc((size_t) enclen);
	char	   *back;
	unsigned char *dec;
	int			n;
	size_t		ulen;
	size_t		padded;
	size_t		stdlen = 0;

	/* pg_b64_enc_len is an upper bound ((n + 2) * 4 / 3), not the length */
	n = test_b64_encode(data, (int) size, std, enclen);
	CHECK(n >= 0 && n <= enclen && n == (int) ((size + 2) / 3 * 4));
	CHECK(ref_b64_encode(data, (int) size, ref, enclen) == n &&
		  memcmp(ref, std, (size_t) n) == 0);

	ulen = sk_b64_to_url(std, (size_t) n);
	CHECK(ulen == ref_b64url_encoded_len(size));
	for (size_t i = 0; i < ulen; i++)
		CHECK(url_value((unsigned char) std[i]) >= 0);

	padded = (ulen + 3) / 4 * 4;
	CHECK(padded == (size_t) n);
	back = xmalloc(padded);
	CHECK(ref_b64url_to_std(std, ulen, back, padded, &stdlen));
	CHECK(stdlen == (size_t) n && memcmp(back, ref, stdlen) == 0);

	dec = xmalloc((size_t) test_b64_dec_len((int) stdlen));
	CHECK(test_b64_decode(back, (int) stdlen, dec,
						  test_b64_dec_len((int) stdlen)) == (int) size);
	CHECK(memcmp(dec, data, size) == 0);

	free(std);
	free(ref);
	free(back);
	free(dec);
}

/*
 * Arbitrary text through ref_b64url_to_std, with an output buffer of exactly
 * outsize bytes.  Accepted iff every character is base64url, the length is
 * one an encoder can produce, and the padded form fits.  Accepted text must
 * decode and re-encode to itself, up to the unused low bits of the last
 * character (which standard decoders ignore).
 */
static void
check_untrusted(const uint8_t *data, size_t size, size_t outsize)
{
	const char *in = (const char *) data;
	size_t		padded = (size + 3) / 4 * 4;
	bool		chars_ok = true;
	bool		want;
	bool		got;
	char	   *out = xmalloc(outsize);
	size_t		outlen = 0;

	for (size_t i = 0; i < size; i++)
		if (url_value(data[i]) < 0)
			chars_ok = false;
	want = chars_ok && size % 4 != 1 && padded <= outsize;
	got = ref_b64url_to_std(in, size, out, outsize, &outlen);
	CHECK(got == want);

	if (got)
	{
		int			declen;
		int			cap = test_b64_dec_len((int) outlen);
		unsigned char *dec = xmalloc((size_t) cap);
		size_t		tlen = 0;
		char	   *again;
		int			enclen;
		int			n;

		CHECK(outlen == padded);
		for (size_t i = 0; i < size; i++)
		{
			char		c = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];

			CHECK(out[i] == c);
		}
		for (size_t i = size; i < padded; i++)
			CHECK(out[i] == '=');

		declen = test_b64_decode(out, (int) outlen, dec, cap);
		CHECK(declen == (int) (size * 3 / 4));

		enclen = test_b64_enc_len(declen);
		again = xmalloc((size_t) enclen);
		n = test_b64_encode(dec, declen, again, enclen);
		CHECK(n >= 0 && n <= enclen);
		tlen = sk_b64_to_url(again, (size_t) n);
		CHECK(tlen == size);
		if (size > 0)
		{
			/* last character: 2 or 4 significant bits in a partial group */
			int			mask = size % 4 == 2 ? 0x30 : size % 4 == 3 ? 0x3C : 0x3F;
			int			a = url_value(data[size - 1]);
			int			b = url_value((unsigned char) again[size - 1]);

			CHECK(memcmp(again, in, size - 1) == 0);
			CHECK((a & mask) == b);
		}
		free(dec);
		free(again);
	}
	free(out);
}

/* sk_b64_to_url on arbitrary text: strips trailing '=', maps + and / only. */
static void
check_to_url(const uint8_t *data, size_t size)
{
	char	   *s = xmalloc(size);
	size_t		keep = size;
	size_t		len;

	memcpy(s, data, size);
	while (keep > 0 && data[keep - 1] == '=')
		keep--;
	len = sk_b64_to_url(s, size);
	CHECK(len == keep);
	for (size_t i = 0; i < len; i++)
		CHECK(s[i] == (data[i] == '+' ? '-' : data[i] == '/' ? '_' : (char) data[i]));
	free(s);
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		padded = (size + 3) / 4 * 4;

	if (size > MAX_INPUT)
		return 0;
	check_roundtrip(data, size);
	check_untrusted(data, size, padded);
	if (padded > 0)
		check_untrusted(data, size, padded - 1);
	check_untrusted(data, size, padded + 3);
	check_to_url(data, size);
	return 0;
}
