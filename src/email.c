/*
 * email.c - _email_ok(): the address check of the CHECK constraints and of
 * issue_email_code().
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "compat.h"

SK_SQL_FUNCTION(schemakit_email_ok);

/*
 * Longest address, in characters.  Must agree with the SQL _email_ok() of
 * sql/schemakit--1.0.sql (char_length(email) <= 255), which the CHECK
 * constraints of stored rows were judged by, and with the "at most 255
 * characters" of the invalid-address errors (issue_email_code() and the
 * other functions that take an address, sql/schemakit--1.4--1.5.sql).
 */
#define EMAIL_MAX_CHARS 255

/*
 * The address rule: at most 255 characters, one '@' with something on each
 * side, no white space.  The pattern goes through PostgreSQL's own regex
 * engine (and its compiled-pattern cache) with the caller's collation, so
 * "white space" means exactly what [[:space:]] means to the SQL rule for
 * every encoding and locale: a row one accepts, the other accepts.  In C
 * because a SQL function with a pinned search_path is parsed and planned
 * again for every INSERT the constraint checks.
 */
Datum
schemakit_email_ok(PG_FUNCTION_ARGS)
{
	static text *pattern = NULL;
	text	   *email = PG_GETARG_TEXT_PP(0);
	char	   *s = VARDATA_ANY(email);
	int			len = VARSIZE_ANY_EXHDR(email);

	/* A character takes at least one byte: only long inputs need counting. */
	if (len > EMAIL_MAX_CHARS && pg_mbstrlen_with_len(s, len) > EMAIL_MAX_CHARS)
		PG_RETURN_BOOL(false);

	if (pattern == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		pattern = cstring_to_text("^[^[:space:]@]+@[^[:space:]@]+$");
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_BOOL(RE_compile_and_execute(pattern, s, len, REG_ADVANCED,
										  PG_GET_COLLATION(), 0, NULL));
}
