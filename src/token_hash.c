/*
 * token_hash.c - the stored form of session, reset and invitation tokens:
 * _token_hash(), and token_digest() for session.c.
 *
 * These tokens carry 256 random bits, so a plain SHA-256 is enough to store
 * them: nobody can invert it or try all tokens.  The hash is of the token's
 * UTF-8 bytes, sha256(convert_to(token, 'UTF8')) in SQL terms, which is what
 * every stored hash was made with.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#endif
#include "common/sha2.h"

#include "token_hash.h"

SK_SQL_FUNCTION(schemakit_token_hash);

StaticAssertDecl(TOKEN_HASH_LEN == PG_SHA256_DIGEST_LENGTH,
				 "a token hash is a SHA-256");

/*
 * PostgreSQL's own SHA-256 (OpenSSL when the server is built with it); on 13
 * the older common/sha2 interface, which has no failure path.
 */
static void
sha256_bytes(const char *data, size_t len, uint8 *out)
{
#if PG_VERSION_NUM >= 140000
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, out, PG_SHA256_DIGEST_LENGTH) < 0)
	{
		if (ctx)
			pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256")));
	}
	pg_cryptohash_free(ctx);
#else
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, (const uint8 *) data, len);
	pg_sha256_final(&ctx, out);
#endif
}

/*
 * Hashes the token's UTF-8 form, converting from the database encoding as
 * convert_to() did: a database in another encoding stores the same hash for
 * the same token, and a character with no UTF-8 form is an error, not a
 * silent mismatch.  (In a non-UTF-8 database the conversion function is
 * found through the caller's search_path, as for convert_to();
 * PostgreSQL only accepts C conversion functions for a matching encoding
 * pair, so no caller can change the bytes hashed.)
 */
void
token_digest(const text *token, uint8 *out)
{
	const char *src = VARDATA_ANY(token);
	int			len = VARSIZE_ANY_EXHDR(token);
	char	   *utf8 = pg_server_to_any(src, len, PG_UTF8);

	if (utf8 == src)
		sha256_bytes(src, len, out);
	else
	{
		sha256_bytes(utf8, strlen(utf8), out);
		pfree(utf8);
	}
}

/*
 * _token_hash(token) returns bytea.  In C because a SQL function with a
 * pinned search_path cannot be inlined: every session lookup, reset and
 * revoke would parse and plan its one-line body again.
 */
Datum
schemakit_token_hash(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	bytea	   *result = (bytea *) palloc(VARHDRSZ + TOKEN_HASH_LEN);

	token_digest(token, (uint8 *) VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + TOKEN_HASH_LEN);
	PG_RETURN_BYTEA_P(result);
}
