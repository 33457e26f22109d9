/*
 * sk_alphabet.h - alphabets of whole characters and random strings over them.
 *
 * Pure C.  An alphabet is split into symbols by a caller-supplied character
 * length function (the server passes its encoding's pg_mblen; the unit
 * tests pass a UTF-8 one), so a multibyte character is always one symbol and
 * is never split.
 */
#ifndef SK_ALPHABET_H
#define SK_ALPHABET_H

#include <stdbool.h>
#include <stddef.h>

#include "sk_random.h"

#define SK_ALPHABET_MIN_SYMBOLS 2
#define SK_ALPHABET_MAX_SYMBOLS 256
#define SK_SYMBOL_MAX_BYTES 4
#define SK_PUBLIC_ID_MAX_SIZE 1024
#define SK_CODE_MIN_DIGITS 1
#define SK_CODE_MAX_DIGITS 12

typedef enum SkAlphabetStatus
{
	SK_ALPHABET_OK = 0,
	SK_ALPHABET_TOO_FEW,		/* fewer than 2 symbols */
	SK_ALPHABET_TOO_MANY,		/* more than 256 symbols */
	SK_ALPHABET_DUPLICATE,		/* a symbol appears twice */
	SK_ALPHABET_BAD_ENCODING	/* a character runs past the end, or is too long */
} SkAlphabetStatus;

/* Returns the byte length (>= 1) of the character starting at s. */
typedef int (*sk_mblen_fn) (const char *s);

typedef struct SkAlphabet
{
	int			nsymbols;
	int			maxlen;			/* longest symbol, in bytes */
	bool		single_byte;	/* every symbol is one byte */
	unsigned short off[SK_ALPHABET_MAX_SYMBOLS + 1];	/* symbol i is
														 * bytes[off[i]..off[i+1]) */
	char		bytes[SK_ALPHABET_MAX_SYMBOLS * SK_SYMBOL_MAX_BYTES];
} SkAlphabet;

extern SkAlphabetStatus sk_alphabet_parse(SkAlphabet *a, const char *s,
										  size_t len, sk_mblen_fn mblen,
										  int *dup_index);
extern size_t sk_public_id_max_bytes(const SkAlphabet *a, int size);
extern bool sk_public_id_fill(const SkAlphabet *a, int size, SkRandom *r,
							  long pid, char *out, size_t *outlen);
extern bool sk_random_digits(int digits, SkRandom *r, long pid, char *out);

#endif							/* SK_ALPHABET_H */
