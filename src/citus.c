/*
 * citus.c - how schemakit sees Citus.
 *
 * Citus keeps the rows of a table it manages on its workers (shards); the
 * coordinator's own heap of the same name is not them, and a worker's copy
 * of an extension table may be a shard, a shell or a plain local table.
 * Code that reads a heap directly, or that needs one value to be the same on
 * every node, asks here first.  schemakit does not link against Citus: its
 * catalog and its own functions are looked up by name, and only when Citus
 * is preloaded.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "citus.h"

bool
citus_loaded(void)
{
	static int	loaded = -1;

	if (loaded < 0)
	{
		const char *libs = GetConfigOption("shared_preload_libraries", true, false);
		char	   *copy = pstrdup(libs ? libs : "");
		List	   *names = NIL;
		ListCell   *lc;

		loaded = 0;
		if (SplitIdentifierString(copy, ',', &names))
			foreach(lc, names)
				if (strcmp((char *) lfirst(lc), "citus") == 0)
					loaded = 1;
		list_free(names);
		pfree(copy);
	}
	return loaded == 1;
}

bool
citus_is_shard(Oid relid)
{
	Oid			argtype = REGCLASSOID;
	Oid			fn;

	if (!citus_loaded())
		return false;
	fn = LookupFuncName(list_make2(makeString("pg_catalog"),
								   makeString("relation_is_a_known_shard")),
						1, &argtype, true);
	return OidIsValid(fn) &&
		DatumGetBool(OidFunctionCall1(fn, ObjectIdGetDatum(relid)));
}

bool
citus_manages(Oid relid, bool *reference)
{
	Datum		arg = ObjectIdGetDatum(relid);
	Oid			argtype = OIDOID;
	bool		managed = false;

	*reference = false;
	if (!citus_loaded() ||
		!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* partmethod 'n' with replication model 't': a reference table. */
	if (SPI_execute_with_args("SELECT p.partmethod OPERATOR(pg_catalog.=) 'n'"
							  " AND p.repmodel OPERATOR(pg_catalog.=) 't'"
							  " FROM pg_catalog.pg_dist_partition p"
							  " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed > 0)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		managed = true;
		*reference = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	return managed;
}

bool
citus_transaction_stamp(TimestampTz *stamp)
{
	static Oid	fn = InvalidOid;
	Datum		d;
	HeapTupleHeader rec;
	bool		isnull;
	int64		number;

	if (!citus_loaded())
		return false;
	/* Looked up again after a DROP and CREATE EXTENSION citus. */
	if (!OidIsValid(fn) || !SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(fn)))
	{
		fn = LookupFuncName(list_make2(makeString("pg_catalog"),
									   makeString("get_current_transaction_id")),
							0, NULL, true);
		if (!OidIsValid(fn))
			return false;
	}
	d = OidFunctionCall0(fn);
	rec = DatumGetHeapTupleHeader(d);
	number = DatumGetInt64(GetAttributeByName(rec, "transaction_number", &isnull));
	if (isnull || number == 0)
		return false;
	*stamp = DatumGetTimestampTz(GetAttributeByName(rec, "transaction_stamp", &isnull));
	return !isnull;
}
