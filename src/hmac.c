/*
 * hmac.c - SQL glue for _code_hmac(): keyed hashes of one-time codes.
 *
 * A 6-digit code has only 10^6 values, so any unkeyed hash of it is
 * reversed by trying them all.  Stored codes are therefore HMAC-SHA256
 * under a key that is not in the database dump: schemakit.code_hmac_key
 * from the server configuration, or else a per-database random key kept in
 * a table pg_dump does not copy.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#if PG_VERSION_NUM >= 140000
#include "common/hmac.h"
#else
#include "common/sha2.h"
#endif

#include "schemakit.h"

PG_FUNCTION_INFO_V1(schemakit_code_hmac);

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

/*
 * _code_hmac(message, fallback_key): HMAC-SHA256 of message under
 * schemakit.code_hmac_key when it is set, else under fallback_key (the
 * per-database key).  The key never leaves this function; SQL can read the
 * setting only as a superuser or a member of pg_read_all_settings.
 */
Datum
schemakit_code_hmac(PG_FUNCTION_ARGS)
{
	text	   *msg;
	const uint8 *key;
	size_t		keylen;
	bytea	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	msg = PG_GETARG_TEXT_PP(0);

	if (schemakit_code_hmac_key != NULL && schemakit_code_hmac_key[0] != '\0')
	{
		if (!schemakit_preloaded)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("schemakit.code_hmac_key is set but schemakit is not preloaded"),
					 errdetail("Until the library is loaded in a session, any role can read the key with SHOW."),
					 errhint("Add schemakit to shared_preload_libraries and restart the server.")));
		key = (const uint8 *) schemakit_code_hmac_key;
		keylen = strlen(schemakit_code_hmac_key);
	}
	else if (!PG_ARGISNULL(1))
	{
		bytea	   *fallback = PG_GETARG_BYTEA_PP(1);

		key = (const uint8 *) VARDATA_ANY(fallback);
		keylen = VARSIZE_ANY_EXHDR(fallback);
		if (keylen < SCHEMAKIT_MIN_KEY_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("schemakit per-database code key is too short")));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no key to hash email codes with"),
				 errdetail("schemakit.code_hmac_key is not set and the per-database key is missing."),
				 errhint("Set schemakit.code_hmac_key in postgresql.conf.")));

	result = (bytea *) palloc(VARHDRSZ + HMAC_SHA256_LEN);
	hmac_sha256(key, keylen, (const uint8 *) VARDATA_ANY(msg),
				VARSIZE_ANY_EXHDR(msg), (uint8 *) VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + HMAC_SHA256_LEN);
	PG_RETURN_BYTEA_P(result);
}
