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

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#if PG_VERSION_NUM >= 140000
#include "common/hmac.h"
#else
#include "common/sha2.h"
#endif

#include "schemakit.h"

PG_FUNCTION_INFO_V1(schemakit_code_hmac);
PG_FUNCTION_INFO_V1(schemakit_code_hash_keyed);
PG_FUNCTION_INFO_V1(schemakit_email_code_hash);

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
 * The server key wins over the per-database one, and is only trusted once
 * the library was preloaded: before that, any role could SHOW it.
 */
static bool
server_key(const uint8 **key, size_t *keylen)
{
	bool		setting = schemakit_code_hmac_key != NULL && schemakit_code_hmac_key[0] != '\0';

	if (schemakit_file_key != NULL)
	{
		if (setting)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("schemakit.code_hmac_key and schemakit.code_key_file are both set"),
					 errhint("Keep the key in the file only: remove schemakit.code_hmac_key.")));
		*key = (const uint8 *) schemakit_file_key;
		*keylen = strlen(schemakit_file_key);
		return true;
	}
	if (!setting)
		return false;
	if (!schemakit_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schemakit.code_hmac_key is set but schemakit is not preloaded"),
				 errdetail("Until the library is loaded in a session, any role can read the key with SHOW."),
				 errhint("Add schemakit to shared_preload_libraries and restart the server.")));
	*key = (const uint8 *) schemakit_code_hmac_key;
	*keylen = strlen(schemakit_code_hmac_key);
	return true;
}

/* A per-database key that is missing or short is never used silently. */
static void
check_database_key(const bytea *k, const uint8 **key, size_t *keylen)
{
	if (k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no key to hash email codes with"),
				 errdetail("schemakit.code_hmac_key is not set and the per-database key is missing."),
				 errhint("Set schemakit.code_hmac_key in postgresql.conf.")));
	*key = (const uint8 *) VARDATA_ANY(k);
	*keylen = VARSIZE_ANY_EXHDR(k);
	if (*keylen < SCHEMAKIT_MIN_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("schemakit per-database code key is too short")));
}

static bytea *
hmac_result(const uint8 *key, size_t keylen, const char *msg, size_t msglen)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + HMAC_SHA256_LEN);

	hmac_sha256(key, keylen, (const uint8 *) msg, msglen, (uint8 *) VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + HMAC_SHA256_LEN);
	return result;
}

/*
 * _code_hmac(message, fallback_key): HMAC-SHA256 of message under
 * schemakit.code_hmac_key when it is set, else under fallback_key (the
 * per-database key).  The key never leaves this function; SQL can read the
 * setting only as a superuser or a member of pg_read_all_settings.
 * (Called by the 1.3 _code_hash_keyed(); kept for every script that names it.)
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
	if (!server_key(&key, &keylen))
		check_database_key(PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1), &key, &keylen);
	PG_RETURN_BYTEA_P(hmac_result(key, keylen, VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg)));
}

/*
 * The per-database key, read only when no server key is set.  The query
 * names one fully qualified table and calls no function or operator, so no
 * search_path can redirect it; it runs with the caller's rights (issue and
 * verify are SECURITY DEFINER, and EXECUTE on this helper is not PUBLIC's).
 */
static bytea *
database_key(void)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext caller = CurrentMemoryContext;
	bytea	   *k = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT k.key FROM schemakit._code_key k", 0, NULL);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		plan = p;
	}
	if (SPI_execute_plan(plan, NULL, NULL, true, 2) != SPI_OK_SELECT)
		elog(ERROR, "reading schemakit._code_key failed");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			k = DatumGetByteaPCopy(d);
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();
	return k;
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

	if (!server_key(&key, &keylen))
	{
		bytea	   *k = database_key();

		check_database_key(k, &key, &keylen);
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
 * schemakit_code_hash_keyed: the 1.3 and 1.4 _code_hash_keyed(email, code),
 * kept for the scripts that name it.  It folds the address with lower() in
 * the caller's collation, which depends on the locale; 1.5 hashes under
 * email_key() instead (schemakit_email_code_hash below).
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
 * _code_hash_keyed(email, code) returns bytea, since 1.5: the stored form
 * of an email code, bound to the address's key (email_key(), the same for
 * every locale) and never to the code alone.
 */
Datum
schemakit_email_code_hash(PG_FUNCTION_ARGS)
{
	text	   *key = schemakit_address_key(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BYTEA_P(code_hash(VARDATA(key), VARSIZE(key) - VARHDRSZ, PG_GETARG_TEXT_PP(1)));
}
