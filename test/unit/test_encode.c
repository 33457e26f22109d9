/*
 * test_encode.c - unit tests of src/core/sk_encode.c: base64url tokens.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_encode.h"
#include "unit.h"

/* True when s[0..len) uses only the base64url alphabet, without padding. */
static bool
url_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/*
 * What src/ids.c does: standard base64 by PostgreSQL, then in place to
 * base64url.  Returns a malloc'ed string of exactly the result's length
 * (at least 1 byte), or NULL if the encoder failed.
 */
static char *
token_encode(const unsigned char *raw, int n, size_t *len)
{
	int			enclen = test_b64_enc_len(n);
	char	   *buf = malloc((size_t) enclen + 1);
	int			got = test_b64_encode(raw, n, buf, enclen);

	if (got < 0)
	{
		free(buf);
		return NULL;
	}
	*len = sk_b64_to_url(buf, (size_t) got);
	return buf;
}

/* Unpadded lengths, against the encoder for 0..100 bytes and known values. */
static void
test_b64_lengths(void)
{
	static const struct
	{
		size_t		n;
		size_t		len;
	}			known[] =
	{
		{0, 0}, {1, 2}, {2, 3}, {3, 4}, {4, 6}, {16, 22}, {32, 43},
		{64, 86}, {1024, 1366},
	};
	unsigned char raw[SK_TOKEN_MAX_BYTES];
	bool		good = true;
	int			bad_n = -1;

	for (size_t i = 0; i < lengthof(known); i++)
		ok(ref_b64url_encoded_len(known[i].n) == known[i].len,
		   "ref_b64url_encoded_len(%zu) == %zu", known[i].n, known[i].len);

	test_strong_random(raw, sizeof(raw));
	for (int n = 0; n <= 100 && good; n++)
	{
		size_t		len = 0;
		char	   *t = token_encode(raw, n, &len);

		if (t == NULL || len != ref_b64url_encoded_len((size_t) n) ||
			!url_safe(t, len))
			good = false, bad_n = n;
		free(t);
	}
	if (!ok(good, "ref_b64url_encoded_len(n) is the real unpadded length, "
			"n = 0..100"))
		diag("first mismatch at n = %d", bad_n);
}

/* RFC 4648 section 10 vectors, plus the two URL-specific characters. */
static void
test_b64_vectors(void)
{
	static const struct
	{
		const char *raw;
		size_t		n;
		const char *url;
	}			vec[] =
	{
		{"", 0, ""}, {"f", 1, "Zg"}, {"fo", 2, "Zm8"}, {"foo", 3, "Zm9v"},
		{"foob", 4, "Zm9vYg"}, {"fooba", 5, "Zm9vYmE"},
		{"foobar", 6, "Zm9vYmFy"},
		{"\xFB\xFF", 2, "-_8"}, {"\xFF\xFF\xFE", 3, "___-"},
		{"\x00\x10\x83\x10\x51\x87\x20\x92\x8B\x30\xD3\x8F\x41\x14\x93\x51"
		 "\x55\x97\x61\x96\x9B\x71\xD7\x9F\x82\x18\xA3\x92\x59\xA7\xA2\x9A"
		 "\xAB\xB2\xDB\xAF\xC3\x1C\xB3\xD3\x5D\xB7\xE3\x9E\xBB\xF3\xDF\xBF",
		 48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"},
	};

	for (size_t i = 0; i < lengthof(vec); i++)
	{
		size_t		len = 0;
		char	   *t = token_encode((const unsigned char *) vec[i].raw,
									 (int) vec[i].n, &len);

		if (!ok(t != NULL && len == strlen(vec[i].url) &&
				memcmp(t, vec[i].url, len) == 0,
				"%zu bytes encode to '%s'", vec[i].n, vec[i].url))
			diag("got '%.*s'", t ? (int) len : 0, t ? t : "");
		free(t);
	}

	{
		char		s1[] = "ab+/==";
		char		s2[] = "====";
		char		s3[] = "a=b+";

		ok(sk_b64_to_url(s1, 6) == 4 && memcmp(s1, "ab-_", 4) == 0,
		   "sk_b64_to_url('ab+/==') == 'ab-_'");
		ok(sk_b64_to_url(s2, 4) == 0, "sk_b64_to_url('====') is empty");
		ok(sk_b64_to_url(s3, 4) == 4 && memcmp(s3, "a=b-", 4) == 0,
		   "sk_b64_to_url only strips trailing '='");
	}
}

/*
 * Random tokens round-trip: bytes -> pg_b64_encode -> base64url ->
 * ref_b64url_to_std -> the same standard text -> pg_b64_decode -> the same
 * bytes.  And PostgreSQL's encoder agrees with the reference encoder.
 */
static void
test_b64_roundtrip(void)
{
	unsigned char raw[1100];
	unsigned char back[1100];
	const int	iterations = 3000;
	int			failures = 0;
	int			ref_mismatch = 0;

	for (int it = 0; it < iterations; it++)
	{
		unsigned short pick;
		int			n;
		size_t		len = 0;
		size_t		stdlen = 0;
		char	   *url;
		char	   *std;
		char	   *ref;
		int			reflen;
		int			declen;

		test_strong_random(&pick, sizeof(pick));
		n = it < 200 ? it : pick % (int) sizeof(raw);
		test_strong_random(raw, (size_t) n);

		ref = malloc((size_t) test_b64_enc_len(n) + 1);
		reflen = ref_b64_encode(raw, n, ref, test_b64_enc_len(n));
		url = token_encode(raw, n, &len);
		/* exactly the padded size: ASan sees any write past it */
		std = malloc(len > 0 ? (len + 3) / 4 * 4 : 1);
		if (url == NULL || !url_safe(url, len) ||
			len != ref_b64url_encoded_len((size_t) n) ||
			!ref_b64url_to_std(url, len, std, (len + 3) / 4 * 4, &stdlen) ||
			stdlen != (size_t) reflen || memcmp(std, ref, stdlen) != 0 ||
			(declen = test_b64_decode(std, (int) stdlen, back,
									  (int) sizeof(back))) != n ||
			memcmp(back, raw, (size_t) n) != 0)
		{
			if (failures++ == 0)
				diag("round trip failed for %d bytes %s", n, hex(raw, (size_t) n));
		}

		/* PostgreSQL's padded output is what the reference coder writes */
		{
			char	   *pg = malloc((size_t) test_b64_enc_len(n) + 1);
			int			pglen = test_b64_encode(raw, n, pg, test_b64_enc_len(n));

			if (pglen != reflen || memcmp(pg, ref, (size_t) reflen) != 0)
				ref_mismatch++;
			free(pg);
		}
		free(ref);
		free(url);
		free(std);
	}
	ok(failures == 0, "%d random tokens (0..%zu bytes) round-trip through "
	   "base64url", iterations, sizeof(raw) - 1);
	ok(ref_mismatch == 0, "the base64 encoder in use agrees with the reference "
	   "encoder on %d inputs", iterations);
}

/* ref_b64url_to_std rejects what no encoder produces and never overflows. */
static void
test_b64_to_std_rejects(void)
{
	static const char url_chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char		out[16];
	size_t		outlen = 0;
	int			wrong_accept = 0;
	int			wrong_reject = 0;
	bool		good = true;

	for (int c = 0; c < 256; c++)
	{
		bool		valid = c != 0 && strchr(url_chars, c) != NULL;

		for (int p = 0; p < 4; p++)
		{
			char		in[4] = {'A', 'B', 'C', 'D'};
			bool		got;

			in[p] = (char) c;
			got = ref_b64url_to_std(in, 4, out, sizeof(out), &outlen);
			if (got && !valid)
				wrong_accept++;
			if (!got && valid)
				wrong_reject++;
		}
	}
	ok(wrong_accept == 0 && wrong_reject == 0,
	   "ref_b64url_to_std accepts exactly the 64 base64url characters "
	   "(%d wrongly accepted, %d wrongly rejected)", wrong_accept,
	   wrong_reject);

	for (size_t len = 1; len <= 13; len += 4)
		if (ref_b64url_to_std("AAAAAAAAAAAAAAAA", len, out, sizeof(out), &outlen))
			good = false;
	ok(good, "lengths 1, 5, 9, 13 (len %% 4 == 1) rejected");

	ok(ref_b64url_to_std("", 0, out, 0, &outlen) && outlen == 0,
	   "empty input: empty output");
	ok(ref_b64url_to_std("Zg", 2, out, 4, &outlen) && outlen == 4 &&
	   memcmp(out, "Zg==", 4) == 0, "'Zg' -> 'Zg=='");
	ok(ref_b64url_to_std("-_8", 3, out, 4, &outlen) && outlen == 4 &&
	   memcmp(out, "+/8=", 4) == 0, "'-_8' -> '+/8='");

	{
		char	   *exact = malloc(4);

		ok(!ref_b64url_to_std("Zg", 2, exact, 3, &outlen) &&
		   !ref_b64url_to_std("Zm9vYg", 6, exact, 4, &outlen),
		   "output buffer smaller than the padded length: rejected");
		free(exact);
	}
}

void
test_encode(void)
{
	test_b64_lengths();
	test_b64_vectors();
	test_b64_roundtrip();
	test_b64_to_std_rejects();
}
