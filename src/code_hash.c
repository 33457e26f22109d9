/*
 * code_hash.c - the stored form of one-time email codes: _email_code_hash()
 * (schemakit_email_code_hash), and the entries older scripts name
 * (schemakit_code_hash_keyed of 1.3 and 1.4, schemakit_code_hmac of 1.3).
 *
 * A 6-digit code has only 10^6 values, so any unkeyed hash of it is
 * reversed by trying them all.  Stored codes are therefore HMAC-SHA256
 * under a key that is not in the database dump (code_key.c).
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#if PG_VERSION_NUM >= 140000
#include "common/hmac.h"
#else
#include "common/sha2.h"
#endif

#include "address.h"
#include "code_key.h"

SK_SQL_FUNCTION(schemakit_code_hmac);
SK_SQL_FUNCTION(schemakit_code_hash_keyed);
SK_SQL_FUNCTION(schemakit_email_code_hash);

#define HMAC_SHA256_LEN 32

#if PG_VERSION_NUM >= 140000
/* PostgreSQL 14+ ships HMAC (common/hmac.h, OpenSSL when built with it). */
static void
hmac_sha256(const uint8 *key, size_t keylen, const uint8 *msg, size_t msglen,
			uint8 *out)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL ||
		pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, msg, msglen) < 0 ||
		pg_hmac_final(ctx, out, HMAC_SHA256_LEN) < 0)
	{
		if (ctx)
			pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute HMAC-SHA256")));
	}
	pg_hmac_free(ctx);
}
#else
/*
 * PostgreSQL 13 has SHA-256 (common/sha2.h) but no HMAC helper: the RFC 2104
 * construction over it, H((K ^ opad) || H((K ^ ipad) || m)).
 */
static void
hmac_sha256(const uint8 *key, size_t keylen, const uint8 *msg, size_t msglen,
			uint8 *out)
{
	uint8		k[PG_SHA256_BLOCK_LENGTH];
	uint8		pad[PG_SHA256_BLOCK_LENGTH];
	uint8		inner[PG_SHA256_DIGEST_LENGTH];
	pg_sha256_ctx ctx;

	memset(k, 0, sizeof(k));
	if (keylen > PG_SHA256_BLOCK_LENGTH)
	{
		pg_sha256_init(&ctx);
		pg_sha256_update(&ctx, key, keylen);
		pg_sha256_final(&ctx, k);
	}
	else
		memcpy(k, key, keylen);

	for (int i = 0; i < PG_SHA256_BLOCK_LENGTH; i++)
		pad[i] = k[i] ^ 0x36;
	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, pad, sizeof(pad));
	pg_sha256_update(&ctx, msg, msglen);
	pg_sha256_final(&ctx, inner);

	for (int i = 0; i < PG_SHA256_BLOCK_LENGTH; i++)
		pad[i] = k[i] ^ 0x5c;
	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, pad, sizeof(pad));
	pg_sha256_update(&ctx, inner, sizeof(inner));
	pg_sha256_final(&ctx, out);

	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
}
#endif

static bytea *
hmac_result(const uint8 *key, size_t keylen, const char *msg, size_t msglen)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + HMAC_SHA256_LEN);

	hmac_sha256(key, keylen, (const uint8 *) msg, msglen, (uint8 *) VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + HMAC_SHA256_LEN);
	return result;
}

/*
 * _code_hmac(message, fallback_key): HMAC-SHA256 of message under the
 * server key when there is one (the key file, else schemakit.code_hmac_key),
 * else under fallback_key (the per-database key).  The key never leaves this
 * function.  The current script does not call it; it stays because older
 * scripts name it (sql/schemakit--1.2--1.3.sql, the downgrade
 * sql/schemakit--1.5--1.4.sql), and one library serves every version.
 */
Datum
schemakit_code_hmac(PG_FUNCTION_ARGS)
{
	text	   *msg;
	const uint8 *key;
	size_t		keylen;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	msg = PG_GETARG_TEXT_PP(0);
	if (!code_key_from_server(&key, &keylen))
		code_key_check_database(PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1), &key, &keylen);
	PG_RETURN_BYTEA_P(hmac_result(key, keylen, VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg)));
}

/*
 * HMAC-SHA256 of 'schemakit/email-code/' || address || '/' || code under the
 * server key, else the per-database key.  The message holds the code, and
 * the per-database key is copied out of the table: neither is left in freed
 * memory.
 */
static bytea *
code_hash(const char *address, int addrlen, const text *code)
{
	StringInfoData msg;
	const uint8 *key;
	size_t		keylen;
	bytea	   *result;

	initStringInfo(&msg);
	appendStringInfoString(&msg, "schemakit/email-code/");
	appendBinaryStringInfo(&msg, address, addrlen);
	appendStringInfoChar(&msg, '/');
	appendBinaryStringInfo(&msg, VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code));

	if (!code_key_from_server(&key, &keylen))
	{
		bytea	   *k = code_key_read_database();

		code_key_check_database(k, &key, &keylen);
		result = hmac_result(key, keylen, msg.data, msg.len);
		explicit_bzero(VARDATA_ANY(k), VARSIZE_ANY_EXHDR(k));
		pfree(k);
	}
	else
		result = hmac_result(key, keylen, msg.data, msg.len);

	explicit_bzero(msg.data, msg.len);
	pfree(msg.data);
	return result;
}

/*
 * _code_hash_keyed(email, code) as the older scripts define it
 * (sql/schemakit--1.3--1.4.sql, the downgrade sql/schemakit--1.5--1.4.sql),
 * kept because they name it.  It folds the address with lower() in the
 * caller's collation, which depends on the locale; the current
 * _code_hash_keyed is schemakit_email_code_hash below, under email_key().
 */
Datum
schemakit_code_hash_keyed(PG_FUNCTION_ARGS)
{
	text	   *email = PG_GETARG_TEXT_PP(0);
	text	   *code = PG_GETARG_TEXT_PP(1);
	text	   *lowered;

	lowered = DatumGetTextPP(DirectFunctionCall1Coll(lower, PG_GET_COLLATION(),
													 PointerGetDatum(email)));
	PG_RETURN_BYTEA_P(code_hash(VARDATA_ANY(lowered), VARSIZE_ANY_EXHDR(lowered), code));
}

/*
 * _code_hash_keyed(email, code) returns bytea: the stored form of an email
 * code, bound to the address's key (email_key(), the same for every locale)
 * and never to the code alone.
 */
Datum
schemakit_email_code_hash(PG_FUNCTION_ARGS)
{
	text	   *key = address_key_text(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BYTEA_P(code_hash(VARDATA(key), VARSIZE(key) - VARHDRSZ, PG_GETARG_TEXT_PP(1)));
}
