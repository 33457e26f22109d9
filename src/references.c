/*
 * references.c - _reference_check(): the insert side of the references
 * from schemakit's tables to users, in a form pg_restore -j can load.
 *
 * pg_dump writes the rows of an extension's tables as TABLE DATA entries
 * that depend only on their own table, so pg_restore -j loads snippets,
 * sessions and the rest at the same time as users, and a foreign key check
 * then fails for rows whose user is still being loaded.  So the foreign
 * keys stay (their ON DELETE CASCADE, their place in the catalog for every
 * tool that reads it), but their insert-side check triggers are disabled
 * and this trigger checks instead: BEFORE INSERT OR UPDATE of the column,
 * as the referenced table's owner, the referenced row locked FOR KEY SHARE
 * exactly as the foreign key check locks it.
 *
 * One case is not checked: a COPY ... FROM into the table itself, run by a
 * superuser who logged in as one.  That is what a restore runs (only a
 * superuser can create schemakit), and such a user could disable any check
 * anyway.  Every INSERT, UPDATE and MERGE, every COPY by any other role,
 * and every insert made inside a COPY (query) TO, is checked.
 *
 *   CREATE TRIGGER ... BEFORE INSERT OR UPDATE OF col ON schemakit.t
 *     FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('col', 'users', 'id');
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "nodes/parsenodes.h"
#include "utils/relcache.h"
#include "nodes/plannodes.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "citus.h"
#include "compat.h"

SK_SQL_FUNCTION(schemakit_reference_check);

/* Prepared checks, by trigger OID: a handful of triggers use this. */
#define PLAN_CACHE_SIZE 32

typedef struct CheckPlan
{
	Oid			tgoid;
	SPIPlanPtr	plan;
	Oid			owner;
	bool		on_shard;		/* a Citus shard: its own foreign key checks */
} CheckPlan;

static CheckPlan plans[PLAN_CACHE_SIZE];
static int	nplans = 0;

/*
 * A restore: a COPY ... FROM into this very table, run by a superuser who
 * logged in as one.  Not a COPY (query) TO (which can call functions that
 * insert), not a SECURITY DEFINER function's insert on behalf of another
 * role, not a COPY into another table whose trigger inserts here.
 */
static bool
restore_copy(Relation rel)
{
	PlannedStmt *ps;
	CopyStmt   *cs;

	if (!superuser() || !superuser_arg(GetSessionUserId()))
		return false;
	if (ActivePortal == NULL || ActivePortal->commandTag != CMDTAG_COPY ||
		list_length(ActivePortal->stmts) != 1)
		return false;
	ps = linitial_node(PlannedStmt, ActivePortal->stmts);
	if (ps->commandType != CMD_UTILITY || ps->utilityStmt == NULL ||
		!IsA(ps->utilityStmt, CopyStmt))
		return false;
	cs = (CopyStmt *) ps->utilityStmt;
	return cs->is_from && cs->query == NULL && cs->relation != NULL &&
		strcmp(cs->relation->relname, RelationGetRelationName(rel)) == 0;
}

/*
 * Citus copies schemakit's triggers onto the shards of a table it manages
 * (citus.enable_unsafe_triggers), and gives each shard its own foreign keys
 * to the referenced table's shard, with their checks enabled.  On a shard
 * this check would read the referenced table by its name: a distributed
 * query from inside a shard's write, which Citus cannot run (it deadlocks or
 * refuses).  So on a shard the shard's foreign key checks, and this trigger
 * does not; a shard without a foreign key on the column is refused.
 */
static bool
citus_shard(Relation rel, int attnum)
{
	List	   *fkeys;
	ListCell   *lc;

	if (!citus_is_shard(RelationGetRelid(rel)))
		return false;
	fkeys = RelationGetFKeyList(rel);
	foreach(lc, fkeys)
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (fk->nkeys == 1 && fk->conkey[0] == attnum)
			return true;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("schemakit cannot check the reference of %s.%s on this Citus shard",
					RelationGetRelationName(rel), get_attname(RelationGetRelid(rel), attnum, false)),
			 errdetail("The shard has no foreign key on the column."),
			 errhint("Keep schemakit's tables local, or make them reference tables.")));
	return false;				/* keep the compiler quiet */
}

/* Keeps what a trigger needs for the backend's life; the oldest goes first. */
static CheckPlan *
remember(Oid tgoid, SPIPlanPtr plan, Oid owner, bool on_shard)
{
	CheckPlan  *cp;

	if (nplans == PLAN_CACHE_SIZE)
	{
		if (plans[0].plan != NULL)
			SPI_freeplan(plans[0].plan);
		memmove(&plans[0], &plans[1], sizeof(CheckPlan) * (PLAN_CACHE_SIZE - 1));
		nplans--;
	}
	cp = &plans[nplans++];
	cp->tgoid = tgoid;
	cp->plan = plan;
	cp->owner = owner;
	cp->on_shard = on_shard;
	return cp;
}

Datum
schemakit_reference_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Trigger    *tg;
	HeapTuple	row;
	TupleDesc	desc;
	int			attnum;
	bool		isnull;
	Datum		value;
	CheckPlan  *cp = NULL;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	int			rc;
	bool		exists;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_reference_check must run as a BEFORE ... FOR EACH ROW trigger")));
	tg = td->tg_trigger;
	if (tg->tgnargs != 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_reference_check needs 3 arguments: column, referenced table, referenced column")));

	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	attnum = SPI_fnumber(desc, tg->tgargs[0]);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of %s does not exist", tg->tgargs[0],
						RelationGetRelationName(td->tg_relation))));
	value = SPI_getbinval(row, desc, attnum, &isnull);

	/* NULL references nothing, as with a foreign key; a restore is trusted. */
	if (isnull || restore_copy(td->tg_relation))
		return PointerGetDatum(row);

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		bool		oldnull;
		Datum		old = SPI_getbinval(td->tg_trigtuple, desc, attnum, &oldnull);

		if (!oldnull && DatumGetInt64(old) == DatumGetInt64(value))
			return PointerGetDatum(row);
	}

	for (int i = 0; i < nplans; i++)
		if (plans[i].tgoid == tg->tgoid)
			cp = &plans[i];
	if (cp != NULL && cp->on_shard)
		return PointerGetDatum(row);
	if (cp == NULL && citus_shard(td->tg_relation, attnum))
	{
		/* Remembered, so the next row costs nothing. */
		remember(tg->tgoid, NULL, InvalidOid, true);
		return PointerGetDatum(row);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (cp == NULL)
	{
		Oid			argtype = INT8OID;
		Oid			refnsp = get_namespace_oid("schemakit", false);
		Oid			refrel = get_relname_relid(tg->tgargs[1], refnsp);
		char	   *q;
		SPIPlanPtr	p;

		if (!OidIsValid(refrel))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("table schemakit.%s does not exist", tg->tgargs[1])));
		if (SPI_gettypeid(desc, attnum) != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("_reference_check works on bigint columns only")));
		q = psprintf("SELECT 1 FROM ONLY schemakit.%s x WHERE x.%s OPERATOR(pg_catalog.=) $1"
					 " FOR KEY SHARE OF x",
					 quote_identifier(tg->tgargs[1]), quote_identifier(tg->tgargs[2]));
		p = SPI_prepare(q, 1, &argtype);
		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		{
			Relation	r = table_open(refrel, AccessShareLock);

			cp = remember(tg->tgoid, p, r->rd_rel->relowner, false);
			table_close(r, NoLock);
		}
	}

	/* As the foreign key check runs: as the referenced table's owner. */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(cp->owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	rc = SPI_execute_plan(cp->plan, &value, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "checking the reference failed: %s", SPI_result_code_string(rc));
	exists = SPI_processed == 1;
	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();

	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("insert or update on table \"%s\" violates the reference to %s",
						RelationGetRelationName(td->tg_relation), tg->tgargs[1]),
				 errdetail("Key (%s)=(" INT64_FORMAT ") is not present in table \"%s\".",
						   tg->tgargs[0], DatumGetInt64(value), tg->tgargs[1]),
				 errtablecol(td->tg_relation, attnum)));
	return PointerGetDatum(row);
}
