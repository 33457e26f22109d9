/*
 * compat.h - what every server file needs whatever the PostgreSQL major:
 * the varlena macros, the noreturn marker, and SK_SQL_FUNCTION.
 *
 * Naming: a function the server calls by name (an SQL function's C symbol,
 * named by AS 'MODULE_PATHNAME', 'schemakit_x' in sql/) is schemakit_x and
 * is declared with SK_SQL_FUNCTION; nothing else is named schemakit_*, so an
 * SQL entry and a helper never look alike.  Settings keep the name of their
 * GUC (schemakit.code_guard_size is schemakit_code_guard_size, settings.h).
 */
#ifndef SK_COMPAT_H
#define SK_COMPAT_H

#include "fmgr.h"

/* Since PostgreSQL 16 the varlena macros (VARDATA_ANY, ...) live in varatt.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#if PG_VERSION_NUM >= 180000
#define SK_NORETURN_BEGIN pg_noreturn
#define SK_NORETURN_END
#else
#define SK_NORETURN_BEGIN
#define SK_NORETURN_END pg_attribute_noreturn()
#endif

/*
 * The library is built with -fvisibility=hidden (PGXS does so since 16, the
 * Makefile before), so only what the server looks up by name is exported:
 * Pg_magic_func, _PG_init, and each SQL function with its pg_finfo_ record.
 * Since 16 fmgr.h marks all of those PGDLLEXPORT; before 16 PGDLLEXPORT is
 * empty outside Windows and fmgr.h does not mark the function itself nor
 * declare _PG_init, so SK_EXPORT marks them here.  (A hidden _PG_init would
 * not fail: the server would silently never call it.  test/scripts/
 * 09-exports.sh checks the export list.)
 */
#if PG_VERSION_NUM >= 160000 || !defined(__GNUC__)
#define SK_EXPORT PGDLLEXPORT
#else
#define SK_EXPORT __attribute__((visibility("default")))
#endif

/* Declares an SQL-callable function, exported: use in place of PG_FUNCTION_INFO_V1. */
#define SK_SQL_FUNCTION(name) \
	extern SK_EXPORT Datum name(PG_FUNCTION_ARGS); \
	extern SK_EXPORT const Pg_finfo_record *CppConcat(pg_finfo_,name)(void); \
	PG_FUNCTION_INFO_V1(name)

#endif							/* SK_COMPAT_H */
