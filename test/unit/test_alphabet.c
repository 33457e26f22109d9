/*
 * test_alphabet.c - unit tests of src/core/sk_alphabet.c: alphabets,
 * public IDs and decimal codes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sk_alphabet.h"
#include "sk_random.h"
#include "unit.h"

/* Every byte is one character: a single-byte server encoding (LATIN1). */
static int
mblen_one(const char *s)
{
	(void) s;
	return 1;
}

/* A broken character length function: zero. */
static int
mblen_zero(const char *s)
{
	(void) s;
	return 0;
}

/* A character longer than SK_SYMBOL_MAX_BYTES (GB18030 has none, but...). */
static int
mblen_five(const char *s)
{
	return (unsigned char) *s >= 0x80 ? 5 : 1;
}

/* Appends code point cp as UTF-8; returns the number of bytes. */
static int
put_utf8(unsigned int cp, char *out)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Strict check that s[0..len) is exactly one well-formed UTF-8 character
 * (no overlongs, surrogates or code points above U+10FFFF).
 */
static bool
is_one_utf8_char(const unsigned char *s, int len)
{
	unsigned int cp;
	int			need;

	if (len == 1)
		return s[0] < 0x80;
	if ((s[0] & 0xE0) == 0xC0)
		need = 2, cp = s[0] & 0x1F;
	else if ((s[0] & 0xF0) == 0xE0)
		need = 3, cp = s[0] & 0x0F;
	else if ((s[0] & 0xF8) == 0xF0)
		need = 4, cp = s[0] & 0x07;
	else
		return false;
	if (need != len)
		return false;
	for (int i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return false;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	return true;
}

/*
 * Structural invariants of a parsed alphabet against its source: symbols
 * tile the source exactly, each is one whole character of the mblen
 * function, maxlen and single_byte agree with the symbols.
 */
static bool
alphabet_tiles(const SkAlphabet *a, const char *s, size_t len,
			   sk_mblen_fn mblen, bool utf8)
{
	int			maxlen = 0;
	bool		single = true;

	if (a->off[0] != 0 || a->off[a->nsymbols] != len)
		return false;
	for (int i = 0; i < a->nsymbols; i++)
	{
		int			l = a->off[i + 1] - a->off[i];
		const char *sym = a->bytes + a->off[i];

		if (l < 1 || l > SK_SYMBOL_MAX_BYTES || l != mblen(sym) ||
			memcmp(sym, s + a->off[i], (size_t) l) != 0)
			return false;
		if (utf8 && !is_one_utf8_char((const unsigned char *) sym, l))
			return false;
		if (l > maxlen)
			maxlen = l;
		if (l > 1)
			single = false;
	}
	return a->maxlen == maxlen && a->single_byte == single;
}

/* Accepted alphabets, with their exact symbol structure. */
static void
test_alphabet_ok(void)
{
	static const char *const multi = "αβγ€😀";
	SkAlphabet	a;
	char		all[256];
	char		big[256 * 4];
	size_t		blen = 0;
	int			dup = -7;

	ok(sk_alphabet_parse(&a, DEFAULT_ALPHABET, 62, ref_utf8_mblen, &dup) ==
	   SK_ALPHABET_OK && a.nsymbols == 62 && a.single_byte && a.maxlen == 1 &&
	   alphabet_tiles(&a, DEFAULT_ALPHABET, 62, ref_utf8_mblen, true) &&
	   dup == -7,
	   "default 62-character alphabet: OK, 62 single-byte symbols");

	ok(sk_alphabet_parse(&a, "ab", 2, ref_utf8_mblen, NULL) == SK_ALPHABET_OK &&
	   a.nsymbols == 2 && a.bytes[0] == 'a' && a.bytes[1] == 'b' &&
	   a.off[2] == 2,
	   "'ab': OK, the smallest alphabet");

	for (int i = 0; i < 256; i++)
		all[i] = (char) (255 - i);
	ok(sk_alphabet_parse(&a, all, 256, mblen_one, NULL) == SK_ALPHABET_OK &&
	   a.nsymbols == 256 && a.single_byte &&
	   alphabet_tiles(&a, all, 256, mblen_one, false),
	   "256 distinct single bytes (single-byte encoding): OK, 256 symbols");

	ok(sk_alphabet_parse(&a, multi, strlen(multi), ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 5 && !a.single_byte && a.maxlen == 4 &&
	   a.off[1] == 2 && a.off[2] == 4 && a.off[3] == 6 && a.off[4] == 9 &&
	   a.off[5] == 13 &&
	   alphabet_tiles(&a, multi, strlen(multi), ref_utf8_mblen, true),
	   "'αβγ€😀': OK, 5 symbols of 2, 2, 2, 3 and 4 bytes");

	ok(sk_alphabet_parse(&a, "a\xC3\xA9" "e", 4, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 3 && !a.single_byte && a.maxlen == 2,
	   "'aée': 'é' and 'e' are different symbols");

	/* 256 four-byte characters: exactly fills SkAlphabet.bytes */
	for (unsigned int cp = 0x1F300; cp < 0x1F300 + 256; cp++)
		blen += (size_t) put_utf8(cp, big + blen);
	ok(sk_alphabet_parse(&a, big, blen, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 256 && a.maxlen == 4 &&
	   a.off[256] == 1024 &&
	   alphabet_tiles(&a, big, blen, ref_utf8_mblen, true),
	   "256 four-byte characters (1024 bytes): OK, 256 symbols");
}

/*
 * On DUPLICATE, off[dup_index..dup_index + 1] delimits the repeated symbol:
 * src/ids.c prints it in the error detail.  Checked on memory that holds a
 * previous, longer alphabet (the fn_extra cache) and on garbage (a fresh
 * allocation), for the single-byte and the multibyte duplicate paths.
 */
static void
test_alphabet_dup_symbol(void)
{
	static const struct
	{
		const char *s;
		const char *sym;
	}			cases[] =
	{
		{"aa", "a"}, {"abca", "a"}, {"xyαβγx", "x"}, {"αβα", "α"},
		{"a€b€", "€"}, {"😀x😀", "😀"},
	};
	SkAlphabet	a;
	bool		good = true;

	for (size_t i = 0; i < lengthof(cases); i++)
	{
		for (int garbage = 0; garbage < 2; garbage++)
		{
			int			dup = -1;
			int			l;

			if (garbage)
				memset(&a, 0xA5, sizeof(a));
			else
				sk_alphabet_parse(&a, "αβγδεζηθ", 16, ref_utf8_mblen, NULL);
			if (sk_alphabet_parse(&a, cases[i].s, strlen(cases[i].s),
								  ref_utf8_mblen, &dup) != SK_ALPHABET_DUPLICATE ||
				dup < 0 || dup >= SK_ALPHABET_MAX_SYMBOLS)
			{
				good = false;
				continue;
			}
			l = a.off[dup + 1] - a.off[dup];
			if (l != (int) strlen(cases[i].sym) ||
				memcmp(a.bytes + a.off[dup], cases[i].sym, (size_t) l) != 0)
			{
				diag("'%s' over %s: symbol %d spans off %d..%d",
					 cases[i].s, garbage ? "garbage" : "a stale alphabet", dup,
					 a.off[dup], a.off[dup + 1]);
				good = false;
			}
		}
	}
	ok(good, "DUPLICATE: off[dup_index..dup_index+1] is exactly the repeated "
	   "symbol (what src/ids.c prints)");
}

/* Every rejection status, with the value the server reports for it. */
static void
test_alphabet_errors(void)
{
	static const struct
	{
		const char *s;
		int			want_dup;
		const char *desc;
	}			dups[] =
	{
		{"aa", 1, "'aa'"},
		{"abca", 3, "'abca'"},
		{"0123456789a0", 11, "'0123456789a0'"},
		{"αβα", 2, "'αβα'"},
		{"a€b€", 3, "'a€b€'"},
		{"😀x😀", 2, "'😀x😀'"},
		{"xyαβγβ", 5, "'xyαβγβ'"},
	};
	static const struct
	{
		const char *s;
		size_t		len;
		const char *desc;
	}			bad[] =
	{
		{"a\xC3", 2, "'a' + lead byte of a 2-byte character"},
		{"ab\xE2\x82", 4, "3-byte character cut after 2 bytes"},
		{"ab\xF0\x9F\x98", 5, "4-byte character cut after 3 bytes"},
		{"\xF0", 1, "a lone 4-byte lead byte"},
	};
	SkAlphabet	a;
	char		many[257 * 2];
	size_t		mlen = 0;
	int			dup;

	ok(sk_alphabet_parse(&a, "", 0, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_FEW && a.nsymbols == 0,
	   "empty alphabet: TOO_FEW, 0 symbols");
	ok(sk_alphabet_parse(&a, "a", 1, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_FEW && a.nsymbols == 1,
	   "'a': TOO_FEW, 1 symbol");
	ok(sk_alphabet_parse(&a, "😀", 4, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_FEW && a.nsymbols == 1,
	   "'😀' (4 bytes, 1 character): TOO_FEW, 1 symbol");

	for (unsigned int cp = 0x100; cp < 0x100 + 257; cp++)
		mlen += (size_t) put_utf8(cp, many + mlen);
	ok(sk_alphabet_parse(&a, many, mlen, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_MANY,
	   "257 distinct 2-byte characters: TOO_MANY");
	ok(sk_alphabet_parse(&a, many, mlen - 2, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 256,
	   "the first 256 of them: OK");
	{
		char		mixed[128 + 129 * 2];
		size_t		l = 0;

		for (unsigned int cp = 0; cp < 128; cp++)
			l += (size_t) put_utf8(cp, mixed + l);
		for (unsigned int cp = 0x400; cp < 0x400 + 129; cp++)
			l += (size_t) put_utf8(cp, mixed + l);
		ok(sk_alphabet_parse(&a, mixed, l, ref_utf8_mblen, NULL) ==
		   SK_ALPHABET_TOO_MANY,
		   "128 ASCII + 129 Cyrillic characters: TOO_MANY");
	}
	{
		char		b257[257 * 4];
		size_t		l = 0;

		for (unsigned int cp = 0x1F300; cp < 0x1F300 + 257; cp++)
			l += (size_t) put_utf8(cp, b257 + l);
		ok(sk_alphabet_parse(&a, b257, l, ref_utf8_mblen, NULL) ==
		   SK_ALPHABET_TOO_MANY,
		   "257 four-byte characters (1028 bytes): TOO_MANY, no overflow");
	}

	for (size_t i = 0; i < lengthof(dups); i++)
	{
		dup = -1;
		if (!ok(sk_alphabet_parse(&a, dups[i].s, strlen(dups[i].s),
								  ref_utf8_mblen, &dup) ==
				SK_ALPHABET_DUPLICATE && dup == dups[i].want_dup,
				"%s: DUPLICATE at symbol index %d", dups[i].desc,
				dups[i].want_dup))
			diag("dup_index %d", dup);
	}
	ok(sk_alphabet_parse(&a, "abca", 4, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_DUPLICATE,
	   "DUPLICATE without a dup_index pointer");

	for (size_t i = 0; i < lengthof(bad); i++)
		ok(sk_alphabet_parse(&a, bad[i].s, bad[i].len, ref_utf8_mblen, NULL) ==
		   SK_ALPHABET_BAD_ENCODING, "%s: BAD_ENCODING", bad[i].desc);
	ok(sk_alphabet_parse(&a, "ab", 2, mblen_zero, NULL) ==
	   SK_ALPHABET_BAD_ENCODING,
	   "character length 0 from mblen: BAD_ENCODING, no endless loop");
	ok(sk_alphabet_parse(&a, "ab\xC3\xA9\xC3\xA9x", 7, mblen_five, NULL) ==
	   SK_ALPHABET_BAD_ENCODING,
	   "5-byte character (> SK_SYMBOL_MAX_BYTES): BAD_ENCODING");
}

/*
 * The split never cuts a character: for assorted valid UTF-8 alphabets,
 * every symbol is exactly one well-formed character and they tile the input.
 */
static void
test_alphabet_split(void)
{
	static const char *const samples[] = {
		"aé€😀", "😀€éa", "日本語テキスト", "ÀÁÂÃÄÅ", "a😀b😁c😂",
		"\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBD\xF4\x8F\xBF\xBF",
	};
	SkAlphabet	a;
	bool		good = true;

	for (size_t i = 0; i < lengthof(samples); i++)
	{
		size_t		len = strlen(samples[i]);

		if (sk_alphabet_parse(&a, samples[i], len, ref_utf8_mblen, NULL) !=
			SK_ALPHABET_OK ||
			!alphabet_tiles(&a, samples[i], len, ref_utf8_mblen, true))
		{
			diag("bad split of '%s'", samples[i]);
			good = false;
		}
	}
	ok(good, "UTF-8 alphabets split into whole characters (%zu samples)",
	   lengthof(samples));
}

/* Index of symbol sym[0..len) in a, or -1. */
static int
alphabet_find(const SkAlphabet *a, const char *sym, int len)
{
	for (int i = 0; i < a->nsymbols; i++)
		if (a->off[i + 1] - a->off[i] == len &&
			memcmp(a->bytes + a->off[i], sym, (size_t) len) == 0)
			return i;
	return -1;
}

/*
 * Splits an ID back into symbols; returns how many, or -1 if some piece is
 * not a symbol of a (a cut character or a foreign byte).  idx, if given,
 * receives the symbol indices.
 */
static int
id_symbols(const SkAlphabet *a, const char *id, size_t len, int *idx)
{
	int			n = 0;

	for (size_t p = 0; p < len;)
	{
		int			l = ref_utf8_mblen(id + p);
		int			k;

		if ((size_t) l > len - p || (k = alphabet_find(a, id + p, l)) < 0)
			return -1;
		if (idx)
			idx[n] = k;
		n++;
		p += (size_t) l;
	}
	return n;
}

/* ------------------------------------------------- sk_public_id_fill */

/* Exact output for scripted bytes, sizes, and the buffer size contract. */
static void
test_public_id_basic(void)
{
	static const unsigned char s1[] = {0, 1, 2, 255, 3};
	static const unsigned char s2[] = {5, 254, 255, 1};
	SkAlphabet	a;
	SkRandom	r;
	char	   *out;
	size_t		outlen = 0;

	sk_alphabet_parse(&a, "abc", 3, ref_utf8_mblen, NULL);
	script_set(s1, sizeof(s1));
	sk_random_init(&r, script_fill);
	out = malloc(sk_public_id_max_bytes(&a, 4));
	ok(sk_public_id_max_bytes(&a, 4) == 4 &&
	   sk_public_id_fill(&a, 4, &r, 100, out, &outlen) && outlen == 4 &&
	   memcmp(out, "abca", 4) == 0,
	   "alphabet 'abc', bytes 0 1 2 255 3: 'abca' (255 rejected)");
	free(out);

	sk_alphabet_parse(&a, "αβγ", 6, ref_utf8_mblen, NULL);
	script_set(s2, sizeof(s2));
	sk_random_init(&r, script_fill);
	out = malloc(sk_public_id_max_bytes(&a, 3));
	ok(sk_public_id_max_bytes(&a, 3) == 6 &&
	   sk_public_id_fill(&a, 3, &r, 100, out, &outlen) && outlen == 6 &&
	   memcmp(out, "γγβ", 6) == 0,
	   "alphabet 'αβγ', bytes 5 254 255 1: 'γγβ', 6 bytes");
	free(out);

	sk_random_init(&r, counting_strong);
	sk_alphabet_parse(&a, DEFAULT_ALPHABET, 62, ref_utf8_mblen, NULL);
	out = malloc(sk_public_id_max_bytes(&a, 21));
	ok(sk_public_id_fill(&a, 21, &r, getpid(), out, &outlen) &&
	   outlen == 21 && id_symbols(&a, out, outlen, NULL) == 21,
	   "size 21, default alphabet: 21 bytes, all from the alphabet");
	free(out);

	{
		char		dummy[1];

		outlen = 99;
		ok(sk_public_id_fill(&a, 0, &r, getpid(), dummy, &outlen) &&
		   outlen == 0, "size 0: empty output");
	}

	sk_alphabet_parse(&a, "αβγ€😀", 13, ref_utf8_mblen, NULL);
	out = malloc(sk_public_id_max_bytes(&a, SK_PUBLIC_ID_MAX_SIZE));
	ok(sk_public_id_max_bytes(&a, SK_PUBLIC_ID_MAX_SIZE) ==
	   4 * SK_PUBLIC_ID_MAX_SIZE &&
	   sk_public_id_fill(&a, SK_PUBLIC_ID_MAX_SIZE, &r, getpid(), out,
						 &outlen) &&
	   outlen <= 4 * SK_PUBLIC_ID_MAX_SIZE &&
	   id_symbols(&a, out, outlen, NULL) == SK_PUBLIC_ID_MAX_SIZE,
	   "size %d over 'αβγ€😀': %zu bytes, %d whole symbols, fits max_bytes",
	   SK_PUBLIC_ID_MAX_SIZE, outlen, SK_PUBLIC_ID_MAX_SIZE);
	free(out);
}

/*
 * Every position of an ID is uniform over the alphabet: a chi-square test
 * per position, for a single-byte and a multibyte alphabet.
 */
static void
test_public_id_positions(const char *alphabet, int size, int nids)
{
	SkAlphabet	a;
	SkRandom	r;
	uint64_t	(*counts)[257];
	char	   *out;
	int			idx[64];
	int			worst = 0;
	double		worst_x = -1;
	bool		good = true;

	sk_alphabet_parse(&a, alphabet, strlen(alphabet), ref_utf8_mblen, NULL);
	sk_random_init(&r, counting_strong);
	counts = calloc((size_t) size, sizeof(*counts));
	out = malloc(sk_public_id_max_bytes(&a, size));
	for (int i = 0; i < nids; i++)
	{
		size_t		outlen;

		if (!sk_public_id_fill(&a, size, &r, getpid(), out, &outlen) ||
			id_symbols(&a, out, outlen, idx) != size)
		{
			good = false;
			break;
		}
		for (int p = 0; p < size; p++)
			counts[p][idx[p]]++;
	}
	for (int p = 0; p < size && good; p++)
	{
		double		x = chi2_stat(counts[p], a.nsymbols);

		if (x > worst_x)
			worst_x = x, worst = p;
	}
	if (!ok(good && worst_x < chi2_critical(a.nsymbols - 1),
			"'%s', %d IDs of size %d: every position uniform "
			"(worst chi2 %.1f < %.1f)", alphabet, nids, size, worst_x,
			chi2_critical(a.nsymbols - 1)))
		diag("worst position %d, IDs well-formed: %s", worst,
			 good ? "yes" : "no");
	free(counts);
	free(out);
}

/* -------------------------------------------------- sk_random_digits */

/* Only digits, leading zeros kept, every digit and position uniform. */
static void
test_random_digits(void)
{
	const int	ncodes = 50000;
	const int	digits = 6;
	uint64_t	all[11] = {0};
	uint64_t	first[11] = {0};
	SkRandom	r;
	char	   *out = malloc(SK_CODE_MAX_DIGITS + 1);
	bool		only_digits = true;
	int			leading_zero = 0;

	sk_random_init(&r, counting_strong);
	for (int i = 0; i < ncodes; i++)
	{
		if (!sk_random_digits(digits, &r, getpid(), out))
			only_digits = false;
		for (int d = 0; d < digits; d++)
		{
			int			v = out[d] - '0';

			if (v < 0 || v > 9)
			{
				only_digits = false;
				v = 10;
			}
			all[v]++;
			if (d == 0)
				first[v]++;
		}
		if (out[0] == '0')
			leading_zero++;
	}
	ok(only_digits, "%d codes of %d digits: only '0'..'9'", ncodes, digits);
	ok(leading_zero > ncodes / 10 - 1000 && leading_zero < ncodes / 10 + 1000,
	   "leading zeros kept: %d of %d codes start with '0' (expected ~%d)",
	   leading_zero, ncodes, ncodes / 10);
	chi2_uniform_ok(all, 10, "sk_random_digits, all digits");
	chi2_uniform_ok(first, 10, "sk_random_digits, first digit");

	memset(out, 'x', SK_CODE_MAX_DIGITS);
	out[SK_CODE_MAX_DIGITS] = '\0';
	ok(sk_random_digits(SK_CODE_MAX_DIGITS, &r, getpid(), out) &&
	   strspn(out, "0123456789") == SK_CODE_MAX_DIGITS,
	   "%d digits fill exactly %d bytes", SK_CODE_MAX_DIGITS,
	   SK_CODE_MAX_DIGITS);
	memset(out, 'x', SK_CODE_MAX_DIGITS);
	ok(sk_random_digits(0, &r, getpid(), out) && out[0] == 'x',
	   "0 digits write nothing");
	free(out);
}

void
test_alphabet(void)
{
	test_alphabet_ok();
	test_alphabet_errors();
	test_alphabet_dup_symbol();
	test_alphabet_split();
	test_public_id_basic();
	test_public_id_positions("abcde", 8, 40000);
	test_public_id_positions("αβγ€😀", 6, 20000);
	test_public_id_positions(DEFAULT_ALPHABET, 4, 40000);
	test_random_digits();
}
