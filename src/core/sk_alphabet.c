/*
 * sk_alphabet.c - alphabets of whole characters and random strings over them.
 */
#include "sk_alphabet.h"

#include <string.h>

/*
 * Splits s into symbols and checks the rules an unbiased generator needs:
 * 2..256 distinct symbols.  Distinctness matters because a repeated symbol
 * would be drawn twice as often as the others.  On SK_ALPHABET_DUPLICATE,
 * *dup_index (if given) is the 0-based index of the second occurrence, and
 * off[] is valid up to and including that symbol, so it can be printed.
 */
SkAlphabetStatus
sk_alphabet_parse(SkAlphabet *a, const char *s, size_t len, sk_mblen_fn mblen,
				  int *dup_index)
{
	size_t		pos = 0;
	size_t		out = 0;
	int			n = 0;
	unsigned char seen[256 / 8];

	memset(seen, 0, sizeof(seen));
	a->maxlen = 0;
	a->single_byte = true;

	while (pos < len)
	{
		int			clen = mblen(s + pos);

		a->nsymbols = n;
		if (clen < 1 || clen > SK_SYMBOL_MAX_BYTES || (size_t) clen > len - pos)
			return SK_ALPHABET_BAD_ENCODING;
		if (n == SK_ALPHABET_MAX_SYMBOLS)
			return SK_ALPHABET_TOO_MANY;

		a->off[n] = (unsigned short) out;
		memcpy(a->bytes + out, s + pos, (size_t) clen);
		if (clen > a->maxlen)
			a->maxlen = clen;
		if (clen > 1)
			a->single_byte = false;
		else
		{
			unsigned char c = (unsigned char) s[pos];

			if (seen[c >> 3] & (1 << (c & 7)))
			{
				/* callers print the duplicate: its end must be set */
				a->off[n + 1] = (unsigned short) (out + 1);
				a->nsymbols = n + 1;
				if (dup_index)
					*dup_index = n;
				return SK_ALPHABET_DUPLICATE;
			}
			seen[c >> 3] |= (unsigned char) (1 << (c & 7));
		}
		out += (size_t) clen;
		pos += (size_t) clen;
		n++;
	}
	a->off[n] = (unsigned short) out;
	a->nsymbols = n;

	if (n < SK_ALPHABET_MIN_SYMBOLS)
		return SK_ALPHABET_TOO_FEW;

	/*
	 * Multibyte symbols: pairwise comparison.  At most 256 symbols, and the
	 * server caches a parsed alphabet for the whole query, so this quadratic
	 * pass runs once per distinct alphabet, not once per row.
	 */
	if (!a->single_byte)
	{
		for (int i = 1; i < n; i++)
		{
			int			li = a->off[i + 1] - a->off[i];

			if (li == 1)
				continue;		/* single bytes were checked above */
			for (int j = 0; j < i; j++)
			{
				int			lj = a->off[j + 1] - a->off[j];

				if (li == lj &&
					memcmp(a->bytes + a->off[i], a->bytes + a->off[j],
						   (size_t) li) == 0)
				{
					if (dup_index)
						*dup_index = i;
					return SK_ALPHABET_DUPLICATE;
				}
			}
		}
	}
	return SK_ALPHABET_OK;
}

/* Output buffer size a caller must provide for sk_public_id_fill. */
size_t
sk_public_id_max_bytes(const SkAlphabet *a, int size)
{
	return (size_t) size * (size_t) a->maxlen;
}

/*
 * Draws size symbols, each uniformly from the alphabet, into out, so the
 * result is uniform over all nsymbols^size strings.
 */
bool
sk_public_id_fill(const SkAlphabet *a, int size, SkRandom *r, long pid,
				  char *out, size_t *outlen)
{
	size_t		o = 0;

	for (int done = 0; done < size;)
	{
		unsigned int k[64];
		int			batch = size - done < 64 ? size - done : 64;

		if (!sk_random_below(r, pid, (unsigned int) a->nsymbols, (size_t) batch, k))
			return false;
		for (int i = 0; i < batch; i++)
		{
			if (a->single_byte)
				out[o++] = a->bytes[k[i]];
			else
			{
				size_t		l = (size_t) (a->off[k[i] + 1] - a->off[k[i]]);

				memcpy(out + o, a->bytes + a->off[k[i]], l);
				o += l;
			}
		}
		done += batch;
	}
	*outlen = o;
	return true;
}

/*
 * Decimal one-time code with leading zeros kept: each digit is a uniform
 * draw from 0..9, so all 10^digits codes are equally likely.
 */
bool
sk_random_digits(int digits, SkRandom *r, long pid, char *out)
{
	unsigned int k[SK_CODE_MAX_DIGITS];

	if (digits < 0 || digits > SK_CODE_MAX_DIGITS ||
		!sk_random_below(r, pid, 10, (size_t) digits, k))
		return false;
	for (int i = 0; i < digits; i++)
		out[i] = (char) ('0' + k[i]);
	return true;
}
