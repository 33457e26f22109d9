/*
 * session.c - session_user_id(token): the user of a live session.
 *
 * Every authenticated request of an application calls this, so it is the
 * hottest function schemakit has.  The read runs in C: hash the token,
 * probe the unique index on token_hash, check the row, return user_id - no
 * SQL, no plan, no SECURITY DEFINER frame.  Only the last_seen_at refresh,
 * at most once a minute per session, runs an UPDATE, as the table's owner
 * under a pinned search_path.
 *
 * It must give the answer SQL would give, whatever happens around it:
 *  - the table is locked before its name is trusted (RangeVarGetRelidExtended
 *    re-resolves after the lock), and the index is found through the
 *    locked table's index list, locked, then checked, so REINDEX
 *    [CONCURRENTLY], VACUUM FULL, CLUSTER and column changes, on a primary
 *    or replayed on a standby, never make it fail;
 *  - the index lock is released once the probe is done, and the refresh
 *    only runs when the table lock it needs is free at once, so the
 *    function never waits holding a lock a maintenance command waits for;
 *  - where row level security applies to the owner (FORCE ROW LEVEL
 *    SECURITY), or Citus is loaded (the local heap of a distributed table
 *    is not its data), the read goes through SQL as the owner, as the
 *    SECURITY DEFINER version did.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/varlena.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "token_hash.h"

SK_SQL_FUNCTION(schemakit_session_user_id);

/* No real token is longer: 1024 random bytes encode to 1366 characters. */
#define TOKEN_MAX_BYTES 1400

/* last_seen_at is written at most once per this many microseconds. */
#define REFRESH_EVERY_USEC (60 * USECS_PER_SEC)

/* The columns read, by attribute number. */
typedef struct SessionCols
{
	AttrNumber	id;
	AttrNumber	user_id;
	AttrNumber	token_hash;
	AttrNumber	expires_at;
	AttrNumber	last_seen_at;
	AttrNumber	revoked_at;
} SessionCols;

/*
 * A schema that is not what the scripts created (a column dropped or
 * retyped by hand) must fail loudly: reading the wrong attribute would
 * authenticate the wrong user.
 */
static AttrNumber
session_column(Relation rel, const char *name, Oid type)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			if (att->atttypid != type)
				break;
			return att->attnum;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("schemakit.sessions has no column \"%s\" of type %s",
					name, format_type_be(type)),
			 errhint("The table was changed outside the extension scripts.")));
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

/*
 * The index must be one the scripts made: a btree on token_hash alone of
 * this very table, unique and not deferrable, valid and ready, with
 * bytea's default operator class, no predicate and no expression.
 * Anything else could return a row that does not carry the hash asked for,
 * or two rows for one hash.  (While REINDEX CONCURRENTLY runs, the old and
 * the new index both qualify once the new one is valid.)
 */
static bool
token_index_ok(Relation rel, Relation idx, AttrNumber token_hash)
{
	Form_pg_index ix = idx->rd_index;

	return ix->indrelid == RelationGetRelid(rel) &&
		idx->rd_rel->relam == BTREE_AM_OID &&
		ix->indisunique && ix->indisvalid && ix->indisready && ix->indislive &&
		ix->indimmediate &&
		ix->indnkeyatts == 1 && ix->indkey.values[0] == token_hash &&
		idx->rd_opcintype[0] == BYTEAOID &&
		idx->rd_opfamily[0] == BYTEA_BTREE_FAM_OID &&
		heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL) &&
		heap_attisnull(idx->rd_indextuple, Anum_pg_index_indexprs, NULL);
}

/*
 * One pass over the table's indexes: candidates are filtered on the
 * syscache first, so only an index that can serve is locked; after the
 * lock the index is re-read and checked in full.  One that vanished between
 * the list and the lock (the end of a REINDEX CONCURRENTLY) is skipped.
 */
static Relation
find_token_index(Relation rel, AttrNumber token_hash)
{
	List	   *ids = RelationGetIndexList(rel);
	ListCell   *lc;
	Relation	found = NULL;

	foreach(lc, ids)
	{
		Oid			io = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(io));
		bool		maybe = false;
		Relation	idx;

		if (HeapTupleIsValid(tup))
		{
			Form_pg_index ix = (Form_pg_index) GETSTRUCT(tup);

			maybe = ix->indisunique && ix->indisvalid && ix->indnkeyatts == 1 &&
				ix->indkey.values[0] == token_hash;
			ReleaseSysCache(tup);
		}
		if (!maybe)
			continue;

		LockRelationOid(io, AccessShareLock);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(io)))
		{
			UnlockRelationOid(io, AccessShareLock);
			continue;
		}
		idx = index_open(io, NoLock);
		if (token_index_ok(rel, idx, token_hash))
		{
			found = idx;
			break;
		}
		index_close(idx, AccessShareLock);
	}
	list_free(ids);
	return found;
}

/*
 * The token index of the (locked) table, opened and locked.  While REINDEX
 * CONCURRENTLY runs, the catalog moves under the scan: the new index turns
 * valid, then the old one dead.  Taking an index's lock reads the newest
 * catalog, so a pass can find the old index dead just after it passed over
 * the new one while still invalid; the next pass, on the newest catalog,
 * finds the new one.  A few passes, then an error.
 */
static Relation
open_token_index(Relation rel, AttrNumber token_hash)
{
	for (int pass = 0; pass < 5; pass++)
	{
		Relation	idx = find_token_index(rel, token_hash);

		if (idx != NULL)
			return idx;
		AcceptInvalidationMessages();
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("schemakit.sessions has no valid unique index on (token_hash)"),
			 errhint("The index was changed outside the extension scripts.")));
	return NULL;				/* keep the compiler quiet */
}

/*
 * Citus keeps a distributed table's rows on its workers; the coordinator's
 * own heap of the same name is not them.  Whether Citus is loaded cannot
 * change while the server runs, so it is looked up once.
 */
static bool
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

/* The read and the refresh, as plans kept for the backend's life. */
static SPIPlanPtr read_plan = NULL;
static SPIPlanPtr refresh_plan = NULL;

static SPIPlanPtr
keep_plan(const char *query, Oid argtype)
{
	SPIPlanPtr	p = SPI_prepare(query, 1, &argtype);

	if (p == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(p) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return p;
}

/*
 * SQL on sessions needs the table owner's rights (the caller may hold only
 * EXECUTE) and a search_path no caller can influence: the same two
 * guarantees a SECURITY DEFINER ... SET search_path function gives.  The
 * statements are prepared under that path, so their operators resolve in
 * pg_catalog.  An error unwinds the user and the setting with the
 * (sub)transaction.
 */
typedef struct AsOwner
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} AsOwner;

static void
as_owner_begin(AsOwner *st, Oid owner)
{
	GetUserIdAndSecContext(&st->save_userid, &st->save_sec_context);
	SetUserIdAndSecContext(owner, st->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	st->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
as_owner_end(AsOwner *st)
{
	SPI_finish();
	AtEOXact_GUC(true, st->save_nestlevel);
	SetUserIdAndSecContext(st->save_userid, st->save_sec_context);
}

/*
 * The refresh of last_seen_at, once a minute per session.  SKIP LOCKED: a
 * request never waits on another's refresh.
 */
static void
refresh_last_seen(int64 session_id, Oid owner)
{
	AsOwner		st;
	Datum		arg = Int64GetDatum(session_id);
	int			rc;

	as_owner_begin(&st, owner);
	if (refresh_plan == NULL)
		refresh_plan = keep_plan(
			"UPDATE schemakit.sessions ss SET last_seen_at = pg_catalog.now()"
			" WHERE ss.id = (SELECT x.id FROM schemakit.sessions x"
			"                 WHERE x.id = $1"
			"                   AND x.last_seen_at < pg_catalog.now() - interval '1 minute'"
			"                   FOR NO KEY UPDATE SKIP LOCKED)",
			INT8OID);
	rc = SPI_execute_plan(refresh_plan, &arg, NULL, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "refreshing last_seen_at failed: %s", SPI_result_code_string(rc));
	as_owner_end(&st);
}

/* What a lookup found. */
typedef struct SessionHit
{
	bool		found;
	bool		stale;			/* last_seen_at is over a minute old */
	int64		session_id;
	int64		user_id;
} SessionHit;

/*
 * The read as SQL, as the owner: row level security and Citus see it as
 * they saw the SECURITY DEFINER function of 1.3.
 */
static void
lookup_sql(bytea *hash, Oid owner, SessionHit *hit)
{
	AsOwner		st;
	Datum		arg = PointerGetDatum(hash);

	as_owner_begin(&st, owner);
	if (read_plan == NULL)
		read_plan = keep_plan(
			"SELECT ss.id, ss.user_id,"
			"       ss.last_seen_at < pg_catalog.now() - interval '1 minute'"
			"  FROM schemakit.sessions ss"
			" WHERE ss.token_hash = $1"
			"   AND ss.revoked_at IS NULL"
			"   AND ss.expires_at > pg_catalog.now()",
			BYTEAOID);
	if (SPI_execute_plan(read_plan, &arg, NULL, false, 2) != SPI_OK_SELECT)
		elog(ERROR, "reading schemakit.sessions failed");
	if (SPI_processed == 1)
	{
		bool		n1,
					n2,
					n3;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n1);
		Datum		uid = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n2);
		Datum		stale = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &n3);

		if (!n1 && !n2)
		{
			hit->found = true;
			hit->session_id = DatumGetInt64(id);
			hit->user_id = DatumGetInt64(uid);
			hit->stale = !n3 && DatumGetBool(stale);
		}
	}
	as_owner_end(&st);
}

/* The read through the index, in C. */
static void
lookup_index(Relation rel, bytea *hash, SessionHit *hit)
{
	SessionCols c;
	Relation	idx;
	Snapshot	snap;
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot;

	c.id = session_column(rel, "id", INT8OID);
	c.user_id = session_column(rel, "user_id", INT8OID);
	c.token_hash = session_column(rel, "token_hash", BYTEAOID);
	c.expires_at = session_column(rel, "expires_at", TIMESTAMPTZOID);
	c.last_seen_at = session_column(rel, "last_seen_at", TIMESTAMPTZOID);
	c.revoked_at = session_column(rel, "revoked_at", TIMESTAMPTZOID);
	idx = open_token_index(rel, c.token_hash);

	/* As SPI does for a volatile function: see this transaction's writes. */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetTransactionSnapshot());
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_BYTEAEQ, PointerGetDatum(hash));
#if PG_VERSION_NUM >= 180000
	scan = index_beginscan(rel, idx, snap, NULL, 1, 0);
#else
	scan = index_beginscan(rel, idx, snap, 1, 0);
#endif
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);

	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		TimestampTz now = GetCurrentTransactionStartTimestamp();
		bool		isnull;
		Datum		d;

		(void) slot_getattr(slot, c.revoked_at, &isnull);
		if (isnull)
		{
			d = slot_getattr(slot, c.expires_at, &isnull);
			if (!isnull && DatumGetTimestampTz(d) > now)
			{
				d = slot_getattr(slot, c.user_id, &isnull);
				if (!isnull)
				{
					hit->user_id = DatumGetInt64(d);
					hit->found = true;
					hit->session_id = DatumGetInt64(slot_getattr(slot, c.id, &isnull));
					d = slot_getattr(slot, c.last_seen_at, &isnull);
					hit->stale = !isnull &&
						DatumGetTimestampTz(d) < now - REFRESH_EVERY_USEC;
				}
			}
		}
	}

	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	/* Done with the index: let a REINDEX of it go ahead now. */
	index_close(idx, AccessShareLock);
}

/*
 * session_user_id(token) returns bigint: user_id of the session whose
 * token_hash is SHA-256(token), if that session is neither revoked nor
 * expired; NULL otherwise, for NULL, for absurdly long input, and for a
 * token that is not valid text in UTF-8 (possible only in a SQL_ASCII
 * database: no session token can be such a string).
 *
 * No SECURITY DEFINER: reading through the index checks no table
 * privilege, and who may call this at all is decided by EXECUTE, which is
 * revoked from PUBLIC.  The snapshot is a fresh one in READ COMMITTED,
 * taken after a command-counter increment, as each statement of the
 * PL/pgSQL version had: a session revoked by a commit a moment ago, or
 * earlier in this very statement, is already refused.  On a hot standby or
 * in a read-only transaction the answer comes without the refresh.
 */
Datum
schemakit_session_user_id(PG_FUNCTION_ARGS)
{
	text	   *token;
	bytea	   *hash;
	Oid			relid;
	Relation	rel;
	Oid			owner;
	SessionHit	hit = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/*
	 * Judge the length before detoasting, so a huge argument costs nothing.
	 * (The raw size includes the header: 4 bytes at any length that matters.)
	 */
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) > TOKEN_MAX_BYTES + VARHDRSZ)
		PG_RETURN_NULL();
	token = PG_GETARG_TEXT_PP(0);
	if (GetDatabaseEncoding() == PG_SQL_ASCII &&
		!pg_verify_mbstr(PG_UTF8, VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), true))
		PG_RETURN_NULL();

	hash = (bytea *) palloc(VARHDRSZ + TOKEN_HASH_LEN);
	token_digest(token, (uint8 *) VARDATA(hash));
	SET_VARSIZE(hash, VARHDRSZ + TOKEN_HASH_LEN);

	/* Lock, then trust the name: the lookup is redone after the lock. */
	relid = RangeVarGetRelidExtended(makeRangeVar("schemakit", "sessions", -1),
									 AccessShareLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schemakit.sessions does not exist"),
				 errhint("Update the extension: ALTER EXTENSION schemakit UPDATE.")));
	rel = table_open(relid, NoLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schemakit.sessions is not a table")));
	owner = rel->rd_rel->relowner;

	if (citus_loaded() || check_enable_rls(relid, owner, true) == RLS_ENABLED)
		lookup_sql(hash, owner, &hit);
	else
		lookup_index(rel, hash, &hit);
	table_close(rel, NoLock);

	if (!hit.found)
		PG_RETURN_NULL();
	/*
	 * The refresh needs ROW EXCLUSIVE on the table.  Taken only when it is
	 * free at once: a REINDEX, VACUUM FULL or ALTER TABLE in progress skips
	 * one refresh instead of queueing every request behind it (or
	 * deadlocking with it).  Under REPEATABLE READ or SERIALIZABLE a
	 * concurrent refresh would make this one fail with 40001: skipped there
	 * too (last_seen_at is a hint, the answer is what matters).
	 */
	if (hit.stale && !RecoveryInProgress() && !XactReadOnly &&
		!IsolationUsesXactSnapshot() &&		/* no 40001 for a refresh */
		ConditionalLockRelationOid(relid, RowExclusiveLock))
		refresh_last_seen(hit.session_id, owner);
	PG_RETURN_INT64(hit.user_id);
}
