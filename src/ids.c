/*
 * ids.c - SQL glue for public_id(), random_code() and random_token().
 */
#include "postgres.h"

#include "common/base64.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "backend_random.h"
#include "core/sk_alphabet.h"
#include "core/sk_encode.h"

SK_SQL_FUNCTION(schemakit_public_id);
SK_SQL_FUNCTION(schemakit_public_id_take);
SK_SQL_FUNCTION(schemakit_random_code);
SK_SQL_FUNCTION(schemakit_random_token);

/*
 * A parsed alphabet cached in fn_extra, keyed by the alphabet's bytes: a
 * column default or a query calls public_id() once per row with the same
 * alphabet, and parsing (with its duplicate check) should happen once.
 */
typedef struct AlphabetCache
{
	int			srclen;
	char		src[SK_ALPHABET_MAX_SYMBOLS * SK_SYMBOL_MAX_BYTES];
	SkAlphabet	alphabet;
} AlphabetCache;

/*
 * The last ID this backend generated, until the snippets trigger takes it.
 * The trigger asks whether the ID of the row being inserted came from
 * public_id() (a collision then draws another) or from the caller (the
 * unique index then reports the conflict, as it should).
 */
static char last_id[SK_PUBLIC_ID_MAX_SIZE * SK_SYMBOL_MAX_BYTES];
static int	last_id_len = -1;

/* pg_mblen has the core's callback shape; the text is already validated. */
static int
server_mblen(const char *s)
{
	return pg_mblen(s);
}

/* Turns a parse failure into the documented 22023 error. */
static void
report_alphabet(SkAlphabetStatus st, const SkAlphabet *a, int dup_index)
{
	switch (st)
	{
		case SK_ALPHABET_OK:
			return;
		case SK_ALPHABET_TOO_FEW:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("alphabet must have at least %d symbols",
							SK_ALPHABET_MIN_SYMBOLS),
					 errdetail("The alphabet has %d.", a->nsymbols)));
			break;
		case SK_ALPHABET_TOO_MANY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("alphabet must have at most %d symbols",
							SK_ALPHABET_MAX_SYMBOLS)));
			break;
		case SK_ALPHABET_DUPLICATE:
			{
				int			l = a->off[dup_index + 1] - a->off[dup_index];

				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("alphabet must not repeat a symbol"),
						 errdetail("Symbol \"%.*s\" at position %d appears earlier.",
								   l, a->bytes + a->off[dup_index],
								   dup_index + 1)));
			}
			break;
		case SK_ALPHABET_BAD_ENCODING:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("alphabet has a character schemakit cannot use"),
					 errdetail("Characters longer than %d bytes are not supported.",
							   SK_SYMBOL_MAX_BYTES)));
			break;
	}
}

/* Parses the alphabet argument, reusing the cached parse when unchanged. */
static const SkAlphabet *
get_alphabet(FunctionCallInfo fcinfo, text *alpha)
{
	AlphabetCache *cache = (AlphabetCache *) fcinfo->flinfo->fn_extra;
	const char *src = VARDATA_ANY(alpha);
	int			len = VARSIZE_ANY_EXHDR(alpha);
	SkAlphabetStatus st;
	int			dup_index = 0;

	if (cache != NULL && cache->srclen == len &&
		memcmp(cache->src, src, len) == 0)
		return &cache->alphabet;

	/* Longer than 256 four-byte characters cannot be a valid alphabet. */
	if (len > (int) sizeof(cache->src))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alphabet must have at most %d symbols",
						SK_ALPHABET_MAX_SYMBOLS)));

	if (cache == NULL)
	{
		cache = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
								   sizeof(AlphabetCache));
		fcinfo->flinfo->fn_extra = cache;
	}
	cache->srclen = -1;			/* invalid until parsed successfully */
	st = sk_alphabet_parse(&cache->alphabet, src, len, server_mblen,
						   &dup_index);
	report_alphabet(st, &cache->alphabet, dup_index);
	memcpy(cache->src, src, len);
	cache->srclen = len;
	return &cache->alphabet;
}

/*
 * public_id(size, alphabet): a random string of size symbols, each drawn
 * uniformly from alphabet.
 */
Datum
schemakit_public_id(PG_FUNCTION_ARGS)
{
	int32		size = PG_GETARG_INT32(0);
	text	   *alpha = PG_GETARG_TEXT_PP(1);
	const SkAlphabet *a;
	text	   *result;
	size_t		outlen;

	if (size < 1 || size > SK_PUBLIC_ID_MAX_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("public_id size must be between 1 and %d",
						SK_PUBLIC_ID_MAX_SIZE),
				 errdetail("The size given was %d.", size)));

	a = get_alphabet(fcinfo, alpha);
	result = (text *) palloc(VARHDRSZ + sk_public_id_max_bytes(a, size));
	if (!sk_public_id_fill(a, size, backend_rng(), MyProcPid,
						   VARDATA(result), &outlen))
		backend_random_failed();
	SET_VARSIZE(result, VARHDRSZ + outlen);

	memcpy(last_id, VARDATA(result), outlen);
	last_id_len = (int) outlen;

	PG_RETURN_TEXT_P(result);
}

/*
 * _public_id_take(id): true when id is exactly the value public_id() most
 * recently returned in this backend, and forgets that value, so one
 * generated ID vouches for one insert only: inserting the same value again
 * explicitly is the caller's own ID and must conflict, not be replaced.
 */
Datum
schemakit_public_id_take(PG_FUNCTION_ARGS)
{
	text	   *id = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(id);
	bool		match;

	match = last_id_len >= 0 && len == last_id_len &&
		memcmp(VARDATA_ANY(id), last_id, len) == 0;
	last_id_len = -1;
	PG_RETURN_BOOL(match);
}

/* random_code(digits): a uniform decimal code, leading zeros kept. */
Datum
schemakit_random_code(PG_FUNCTION_ARGS)
{
	int32		digits = PG_GETARG_INT32(0);
	text	   *result;

	if (digits < SK_CODE_MIN_DIGITS || digits > SK_CODE_MAX_DIGITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("random_code digits must be between %d and %d",
						SK_CODE_MIN_DIGITS, SK_CODE_MAX_DIGITS),
				 errdetail("The number of digits given was %d.", digits)));

	result = (text *) palloc(VARHDRSZ + digits);
	if (!sk_random_digits(digits, backend_rng(), MyProcPid,
						  VARDATA(result)))
		backend_random_failed();
	SET_VARSIZE(result, VARHDRSZ + digits);
	PG_RETURN_TEXT_P(result);
}

/* random_token(nbytes): nbytes CSPRNG bytes as unpadded base64url. */
Datum
schemakit_random_token(PG_FUNCTION_ARGS)
{
	int32		nbytes = PG_GETARG_INT32(0);
	unsigned char raw[SK_TOKEN_MAX_BYTES];
	int			enclen;
	int			n;
	text	   *result;

	if (nbytes < SK_TOKEN_MIN_BYTES || nbytes > SK_TOKEN_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("random_token nbytes must be between %d and %d",
						SK_TOKEN_MIN_BYTES, SK_TOKEN_MAX_BYTES),
				 errdetail("The number of bytes given was %d.", nbytes)));

	backend_random_bytes(raw, nbytes);
	enclen = pg_b64_enc_len(nbytes);
	result = (text *) palloc(VARHDRSZ + enclen);
#if PG_VERSION_NUM >= 180000
	n = pg_b64_encode(raw, nbytes, VARDATA(result), enclen);
#else
	n = pg_b64_encode((const char *) raw, nbytes, VARDATA(result), enclen);
#endif
	explicit_bzero(raw, nbytes);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encode random token")));
	SET_VARSIZE(result, VARHDRSZ + sk_b64_to_url(VARDATA(result), n));
	PG_RETURN_TEXT_P(result);
}
