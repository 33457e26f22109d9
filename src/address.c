/*
 * address.c - email_key(): the one key under which addresses are compared.
 *
 * users.email_key, email_codes.email_key, the code hash, the per-address
 * limits and their lock all use it (sql/schemakit--1.4--1.5.sql).  The rule
 * is in src/core/sk_address.h.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "address.h"
#include "core/sk_address.h"

SK_SQL_FUNCTION(schemakit_email_key);

/* The key of an address as a palloc'd text. */
text *
address_key_text(const text *email)
{
	int			len = VARSIZE_ANY_EXHDR(email);
	text	   *key = (text *) palloc(VARHDRSZ + len);

	sk_address_key(VARDATA_ANY(email), len, VARDATA(key));
	SET_VARSIZE(key, VARHDRSZ + len);
	return key;
}

/*
 * email_key(email) returns text: IMMUTABLE for real, since it reads no
 * setting, so it may back a generated column and a unique index.
 */
Datum
schemakit_email_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(address_key_text(PG_GETARG_TEXT_PP(0)));
}
