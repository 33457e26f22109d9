/*
 * fuzz_alphabet.c - libFuzzer target: sk_alphabet_parse, sk_public_id_fill
 * and sk_random_digits with the fuzz input as the alphabet.
 *
 * Input: one control byte, then the alphabet.  The control byte picks the
 * character length function (UTF-8 or single-byte, as the server's encoding
 * would) and the ID size.  The status is checked both ways against an
 * independent split of the input: every status the core returns must be
 * justified, and every well-formed alphabet must be accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sk_alphabet.h"
#include "sk_random.h"
#include "support.h"

/* Longest alphabet tried: a bit over what the server accepts (1024 bytes). */
#define MAX_INPUT 1100

/* Stops the run with a crash libFuzzer reports, input saved. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static uint64_t rng_state;

/*
 * Deterministic entropy derived from the input, so every crash reproduces
 * from its saved input alone (splitmix64).
 */
static bool
fuzz_fill(void *buf, size_t len)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
	{
		uint64_t	x = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

		x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
		x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
		p[i] = (unsigned char) (x ^ (x >> 31));
	}
	return true;
}

/* A single-byte server encoding: every byte is a character. */
static int
mblen_one(const char *s)
{
	(void) s;
	return 1;
}

/* A symbol as one sortable number: length, then up to 4 bytes. */
static uint64_t
symbol_key(const char *s, int len)
{
	uint64_t	k = (uint64_t) len << 32;

	for (int i = 0; i < len; i++)
		k |= (uint64_t) (unsigned char) s[i] << (8 * (3 - i));
	return k;
}

/* qsort comparator for symbol keys. */
static int
cmp_key(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

/* True if key k is in the sorted array keys[0..n). */
static bool
has_key(const uint64_t *keys, int n, uint64_t k)
{
	return bsearch(&k, keys, (size_t) n, sizeof(uint64_t), cmp_key) != NULL;
}

/*
 * Generates an ID and a code from an accepted alphabet: the ID must have
 * exactly size symbols of the alphabet, cut at character boundaries, and
 * fit the buffer size sk_public_id_max_bytes promises.
 */
static void
check_generation(const SkAlphabet *a, sk_mblen_fn mblen, const uint64_t *keys,
				 int size, int digits)
{
	SkRandom	r;
	size_t		max = sk_public_id_max_bytes(a, size);
	char	   *out = malloc(max);
	char		code[SK_CODE_MAX_DIGITS];
	size_t		outlen = 0;
	int			count = 0;

	CHECK(max == (size_t) size * (size_t) a->maxlen);
	sk_random_init(&r, fuzz_fill);
	CHECK(sk_public_id_fill(a, size, &r, 1, out, &outlen));
	CHECK(outlen <= max && outlen >= (size_t) size);
	for (size_t p = 0; p < outlen; count++)
	{
		int			l = mblen(out + p);

		CHECK(l >= 1 && (size_t) l <= outlen - p);
		CHECK(has_key(keys, a->nsymbols, symbol_key(out + p, l)));
		p += (size_t) l;
	}
	CHECK(count == size);
	free(out);

	CHECK(sk_random_digits(digits, &r, 1, code));
	for (int i = 0; i < digits; i++)
		CHECK(code[i] >= '0' && code[i] <= '9');
}

/*
 * Parses s with mblen and checks the result against an independent split:
 * sym[] holds the offsets of the whole characters before the first bad one.
 */
static void
check_parse(const char *s, size_t len, sk_mblen_fn mblen, int size, int digits)
{
	static SkAlphabet a;
	size_t		off[MAX_INPUT + 1];
	uint64_t	keys[MAX_INPUT];
	int			n = 0;
	bool		bad = false;
	bool		dup = false;
	int			dup_index = -1;
	SkAlphabetStatus st;

	/* independent split */
	off[0] = 0;
	for (size_t p = 0; p < len;)
	{
		int			l = mblen(s + p);

		if (l < 1 || l > SK_SYMBOL_MAX_BYTES || (size_t) l > len - p)
		{
			bad = true;
			break;
		}
		p += (size_t) l;
		off[++n] = p;
	}
	for (int i = 0; i < n; i++)
		keys[i] = symbol_key(s + off[i], (int) (off[i + 1] - off[i]));
	if (n <= SK_ALPHABET_MAX_SYMBOLS)
	{
		uint64_t	sorted[SK_ALPHABET_MAX_SYMBOLS];

		memcpy(sorted, keys, sizeof(uint64_t) * (size_t) n);
		qsort(sorted, (size_t) n, sizeof(uint64_t), cmp_key);
		for (int i = 1; i < n; i++)
			if (sorted[i] == sorted[i - 1])
				dup = true;
	}

	memset(&a, 0x5A, sizeof(a));
	st = sk_alphabet_parse(&a, s, len, mblen, &dup_index);
	switch (st)
	{
		case SK_ALPHABET_OK:
			CHECK(!bad && !dup);
			CHECK(n >= SK_ALPHABET_MIN_SYMBOLS && n <= SK_ALPHABET_MAX_SYMBOLS);
			CHECK(a.nsymbols == n);
			{
				int			maxlen = 0;
				bool		single = true;
				uint64_t	sorted[SK_ALPHABET_MAX_SYMBOLS];

				for (int i = 0; i < n; i++)
				{
					int			l = a.off[i + 1] - a.off[i];

					/* the parse tiles the input exactly, whole characters */
					CHECK(a.off[i] == off[i] && a.off[i + 1] == off[i + 1]);
					CHECK(memcmp(a.bytes + a.off[i], s + off[i], (size_t) l) == 0);
					if (l > maxlen)
						maxlen = l;
					if (l > 1)
						single = false;
					sorted[i] = keys[i];
				}
				CHECK(a.maxlen == maxlen && a.single_byte == single);
				qsort(sorted, (size_t) n, sizeof(uint64_t), cmp_key);
				for (int i = 1; i < n; i++)
					CHECK(sorted[i] != sorted[i - 1]);	/* distinct */
				check_generation(&a, mblen, sorted, size, digits);
			}
			break;
		case SK_ALPHABET_TOO_FEW:
			CHECK(!bad && n < SK_ALPHABET_MIN_SYMBOLS && a.nsymbols == n);
			break;
		case SK_ALPHABET_TOO_MANY:
			/* 257 whole characters precede any bad one */
			CHECK(n > SK_ALPHABET_MAX_SYMBOLS);
			break;
		case SK_ALPHABET_DUPLICATE:
			CHECK(dup_index >= 1 && dup_index < n &&
				  dup_index < SK_ALPHABET_MAX_SYMBOLS);
			CHECK(a.off[dup_index] == off[dup_index]);
			{
				bool		earlier = false;

				for (int j = 0; j < dup_index; j++)
					if (keys[j] == keys[dup_index])
						earlier = true;
				CHECK(earlier);
			}
			/* src/ids.c prints the symbol from off[dup_index .. + 1] */
			CHECK(a.off[dup_index + 1] == off[dup_index + 1]);
			CHECK(memcmp(a.bytes + a.off[dup_index], s + off[dup_index],
						 off[dup_index + 1] - off[dup_index]) == 0);
			break;
		case SK_ALPHABET_BAD_ENCODING:
			CHECK(bad);
			break;
		default:
			CHECK(false);
	}

	/* completeness: a well-formed alphabet is never refused */
	if (!bad && n >= SK_ALPHABET_MIN_SYMBOLS && n <= SK_ALPHABET_MAX_SYMBOLS)
		CHECK(st == (dup ? SK_ALPHABET_DUPLICATE : SK_ALPHABET_OK));
	if (!bad && n > SK_ALPHABET_MAX_SYMBOLS)
		CHECK(st == SK_ALPHABET_TOO_MANY || st == SK_ALPHABET_DUPLICATE);
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t	h = UINT64_C(0xCBF29CE484222325);
	unsigned char ctl;
	int			idsize;
	char	   *alpha;

	if (size < 1 || size > MAX_INPUT + 1)
		return 0;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * UINT64_C(0x100000001B3);
	rng_state = h;

	ctl = data[0];
	idsize = (ctl & 0x40) ? 1 + (ctl & 0x1F) * 33 : (ctl & 0x3F);
	/* an exact-size copy: ASan catches any read past the alphabet */
	alpha = malloc(size - 1 > 0 ? size - 1 : 1);
	memcpy(alpha, data + 1, size - 1);
	check_parse(alpha, size - 1, (ctl & 0x80) ? mblen_one : ref_utf8_mblen,
				idsize, ctl % (SK_CODE_MAX_DIGITS + 1));
	free(alpha);
	return 0;
}
