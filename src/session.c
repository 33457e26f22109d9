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
 *    is not its data), the read goes through SQL as the owner, as a
 *    SECURITY DEFINER function's would.
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

#include "citus.h"
#include "compat.h"
#include "token_hash.h"

SK_SQL_FUNCTION(schemakit_session_user_id);

/*
 * schemakit.sessions as the extension scripts create it (the table and its
 * primary key on token_hash in sql/schemakit--1.5.sql; up to 1.4 the unique
 * constraint sessions_token_hash_key served as the token index): the
 * one place this file names the table, the columns it reads, and the key
 * column of its token index.  The index is found by that key, not by name.
 * Messages and statements below are built from these names.
 */
#define SESSIONS_SCHEMA "schemakit"
#define SESSIONS_TABLE "sessions"
#define SESSIONS SESSIONS_SCHEMA "." SESSIONS_TABLE
#define COL_ID "id"
#define COL_USER_ID "user_id"
#define COL_TOKEN_HASH "token_hash"	/* the token index's only key column */
#define COL_EXPIRES_AT "expires_at"
#define COL_LAST_SEEN_AT "last_seen_at"
#define COL_REVOKED_AT "revoked_at"

/*
 * No real token is longer: 1024 random bytes (random_token's most) encode
 * to 1366 characters.  Must agree with the octet_length(token) > 1400 of
 * consume_password_reset_token() and accept_invitation(), and the 1400 of
 * open_session() and find_session() (sql/schemakit--1.4--1.5.sql).
 */
#define TOKEN_MAX_BYTES 1400

/*
 * last_seen_at is written at most once a minute.  The C read compares with
 * REFRESH_EVERY_USEC, the SQL read and the refresh with REFRESH_EVERY_SQL:
 * the two must say the same.  The SQL versions of session_user_id() refresh
 * as often (interval '1 minute', sql/schemakit--1.1--1.2.sql and the
 * downgrade sql/schemakit--1.4--1.3.sql).
 */
#define REFRESH_EVERY_USEC (60 * USECS_PER_SEC)
#define REFRESH_EVERY_SQL "interval '1 minute'"

/* The columns read, in the order they are resolved, with their types. */
typedef enum SessionCol
{
	SC_ID,
	SC_USER_ID,
	SC_TOKEN_HASH,
	SC_EXPIRES_AT,
	SC_LAST_SEEN_AT,
	SC_REVOKED_AT,
	SC_COUNT
} SessionCol;

static const struct
{
	const char *name;
	Oid			type;
}			session_cols[SC_COUNT] =
{
	[SC_ID] = {COL_ID, INT8OID},
	[SC_USER_ID] = {COL_USER_ID, INT8OID},
	[SC_TOKEN_HASH] = {COL_TOKEN_HASH, BYTEAOID},
	[SC_EXPIRES_AT] = {COL_EXPIRES_AT, TIMESTAMPTZOID},
	[SC_LAST_SEEN_AT] = {COL_LAST_SEEN_AT, TIMESTAMPTZOID},
	[SC_REVOKED_AT] = {COL_REVOKED_AT, TIMESTAMPTZOID},
};

/* The attribute number of each column read, by SessionCol. */
typedef struct SessionCols
{
	AttrNumber	att[SC_COUNT];
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
			 errmsg(SESSIONS " has no column \"%s\" of type %s",
					name, format_type_be(type)),
			 errhint("The table was changed outside the extension scripts.")));
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

/* Every column read, checked, in SessionCol order. */
static void
session_columns(Relation rel, SessionCols *c)
{
	for (int i = 0; i < SC_COUNT; i++)
		c->att[i] = session_column(rel, session_cols[i].name, session_cols[i].type);
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
find_token_index(Relation rel, AttrNumber token_hash, bool *in_transition)
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
			bool		shape = ix->indisunique && ix->indnkeyatts == 1 &&
				ix->indkey.values[0] == token_hash;

			maybe = shape && ix->indisvalid;
			/* one being built or dropped: REINDEX CONCURRENTLY at work */
			if (shape && !(ix->indisvalid && ix->indisready && ix->indislive))
				*in_transition = true;
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
		if (!(idx->rd_index->indisvalid && idx->rd_index->indisready && idx->rd_index->indislive))
			*in_transition = true;
		index_close(idx, AccessShareLock);
	}
	list_free(ids);
	return found;
}

/*
 * The token index of the (locked) table, opened and locked; NULL when none
 * could be used but one was being built or dropped.  While REINDEX
 * CONCURRENTLY runs, the catalog moves under the scan: the new index turns
 * valid, then the old one dead.  Taking an index's lock reads the newest
 * catalog, so a pass can find the old index dead just after it passed over
 * the new one while still invalid; the next pass, on the newest catalog,
 * usually finds the new one.  After a few passes a caller that saw an index
 * in transition reads through SQL instead (the planner knows which index
 * is usable); with no candidate at all, the table was changed by hand: an
 * error.
 */
static Relation
open_token_index(Relation rel, AttrNumber token_hash)
{
	bool		in_transition = false;

	for (int pass = 0; pass < 5; pass++)
	{
		Relation	idx = find_token_index(rel, token_hash, &in_transition);

		if (idx != NULL)
			return idx;
		AcceptInvalidationMessages();
	}
	if (in_transition)
		return NULL;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg(SESSIONS " has no valid unique index on (" COL_TOKEN_HASH ")"),
			 errhint("The index was changed outside the extension scripts.")));
	return NULL;				/* keep the compiler quiet */
}

/* The read and the refresh, as plans kept for the backend's life. */
static SPIPlanPtr read_plan = NULL;
static SPIPlanPtr refresh_plan = NULL;

static SPIPlanPtr
keep_plan(const char *query, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	p = SPI_prepare(query, nargs, (Oid *) argtypes);

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
 * request never waits on another's refresh.  Both conditions name the token
 * hash, the table's key, so on Citus the statement runs on the one shard
 * that holds the session.
 */
static void
refresh_last_seen(bytea *hash, int64 session_id, Oid owner)
{
	AsOwner		st;
	Datum		args[2] = {PointerGetDatum(hash), Int64GetDatum(session_id)};
	int			rc;

	as_owner_begin(&st, owner);
	if (refresh_plan == NULL)
	{
		static const Oid types[2] = {BYTEAOID, INT8OID};

		refresh_plan = keep_plan(
			"UPDATE " SESSIONS " ss SET " COL_LAST_SEEN_AT " = pg_catalog.now()"
			" WHERE ss." COL_TOKEN_HASH " = $1"
			"   AND ss." COL_ID " = (SELECT x." COL_ID " FROM " SESSIONS " x"
			"                 WHERE x." COL_TOKEN_HASH " = $1 AND x." COL_ID " = $2"
			"                   AND x." COL_LAST_SEEN_AT " < pg_catalog.now() - " REFRESH_EVERY_SQL
			"                   FOR NO KEY UPDATE SKIP LOCKED)",
			2, types);
	}
	rc = SPI_execute_plan(refresh_plan, args, NULL, false, 0);
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
 * they see a SECURITY DEFINER function's read.
 */
static void
lookup_sql(bytea *hash, Oid owner, SessionHit *hit)
{
	AsOwner		st;
	Datum		arg = PointerGetDatum(hash);

	as_owner_begin(&st, owner);
	if (read_plan == NULL)
		read_plan = keep_plan(
			"SELECT ss." COL_ID ", ss." COL_USER_ID ","
			"       ss." COL_LAST_SEEN_AT " < pg_catalog.now() - " REFRESH_EVERY_SQL
			"  FROM " SESSIONS " ss"
			" WHERE ss." COL_TOKEN_HASH " = $1"
			"   AND ss." COL_REVOKED_AT " IS NULL"
			"   AND ss." COL_EXPIRES_AT " > pg_catalog.now()",
			1, (const Oid[]) {BYTEAOID});
	if (SPI_execute_plan(read_plan, &arg, NULL, false, 2) != SPI_OK_SELECT)
		elog(ERROR, "reading " SESSIONS " failed");
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

/*
 * Judges the row the index returned: the session counts when it is not
 * revoked, not yet expired and has a user; it is stale when last_seen_at is
 * older than the refresh period.
 */
static void
judge_row(TupleTableSlot *slot, const SessionCols *c, SessionHit *hit)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	bool		isnull;
	Datum		d;

	(void) slot_getattr(slot, c->att[SC_REVOKED_AT], &isnull);
	if (!isnull)
		return;
	d = slot_getattr(slot, c->att[SC_EXPIRES_AT], &isnull);
	if (isnull || DatumGetTimestampTz(d) <= now)
		return;
	d = slot_getattr(slot, c->att[SC_USER_ID], &isnull);
	if (isnull)
		return;
	hit->user_id = DatumGetInt64(d);
	hit->found = true;
	hit->session_id = DatumGetInt64(slot_getattr(slot, c->att[SC_ID], &isnull));
	d = slot_getattr(slot, c->att[SC_LAST_SEEN_AT], &isnull);
	hit->stale = !isnull &&
		DatumGetTimestampTz(d) < now - REFRESH_EVERY_USEC;
}

/* Probes the token index for hash and judges the row it finds, if any. */
static void
scan_token_index(Relation rel, Relation idx, bytea *hash,
				 const SessionCols *c, SessionHit *hit)
{
	Snapshot	snap;
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot;

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
		judge_row(slot, c, hit);

	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
}

/* The read through the index, in C. */
static void
lookup_index(Relation rel, bytea *hash, SessionHit *hit)
{
	SessionCols c;
	Relation	idx;

	session_columns(rel, &c);
	idx = open_token_index(rel, c.att[SC_TOKEN_HASH]);
	if (idx == NULL)
	{
		lookup_sql(hash, rel->rd_rel->relowner, hit);
		return;
	}
	scan_token_index(rel, idx, hash, &c, hit);
	/* Done with the index: let a REINDEX of it go ahead now. */
	index_close(idx, AccessShareLock);
}

/*
 * The read as SQL where row level security applies to the owner (FORCE ROW
 * LEVEL SECURITY) or Citus is loaded; else through the index.
 */
static void
lookup_session(Relation rel, bytea *hash, SessionHit *hit)
{
	Oid			owner = rel->rd_rel->relowner;

	if (citus_loaded() || check_enable_rls(RelationGetRelid(rel), owner, true) == RLS_ENABLED)
		lookup_sql(hash, owner, hit);
	else
		lookup_index(rel, hash, hit);
}

/*
 * The token argument, or NULL where no session can have it: NULL, absurdly
 * long, or not valid text in UTF-8 (possible only in a SQL_ASCII database:
 * no session token can be such a string).
 */
static text *
usable_token(FunctionCallInfo fcinfo)
{
	text	   *token;

	if (PG_ARGISNULL(0))
		return NULL;
	/*
	 * Judge the length before detoasting, so a huge argument costs nothing.
	 * (The raw size includes the header: 4 bytes at any length that matters.)
	 */
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) > TOKEN_MAX_BYTES + VARHDRSZ)
		return NULL;
	token = PG_GETARG_TEXT_PP(0);
	if (GetDatabaseEncoding() == PG_SQL_ASCII &&
		!pg_verify_mbstr(PG_UTF8, VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), true))
		return NULL;
	return token;
}

/* The token's hash, as the token_hash column stores it. */
static bytea *
hash_token(const text *token)
{
	bytea	   *hash = (bytea *) palloc(VARHDRSZ + TOKEN_HASH_LEN);

	token_digest(token, (uint8 *) VARDATA(hash));
	SET_VARSIZE(hash, VARHDRSZ + TOKEN_HASH_LEN);
	return hash;
}

/*
 * The sessions table, open and locked.  Lock, then trust the name:
 * RangeVarGetRelidExtended redoes the lookup after the lock.
 */
static Relation
open_sessions(void)
{
	Oid			relid;
	Relation	rel;

	relid = RangeVarGetRelidExtended(makeRangeVar(SESSIONS_SCHEMA, SESSIONS_TABLE, -1),
									 AccessShareLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg(SESSIONS " does not exist"),
				 errhint("Update the extension: ALTER EXTENSION schemakit UPDATE.")));
	rel = table_open(relid, NoLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg(SESSIONS " is not a table")));
	return rel;
}

/*
 * Whether this call may refresh last_seen_at, taking the ROW EXCLUSIVE lock
 * the refresh needs if so.  Taken only when it is free at once: a REINDEX,
 * VACUUM FULL or ALTER TABLE in progress skips one refresh instead of
 * queueing every request behind it (or deadlocking with it).  Under
 * REPEATABLE READ or SERIALIZABLE a concurrent refresh would make this one
 * fail with 40001: skipped there too (last_seen_at is a hint, the answer is
 * what matters).  A hot standby or a read-only transaction never refreshes.
 */
static bool
may_refresh(Oid relid)
{
	return !RecoveryInProgress() && !XactReadOnly &&
		!IsolationUsesXactSnapshot() &&		/* no 40001 for a refresh */
		ConditionalLockRelationOid(relid, RowExclusiveLock);
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
 * taken after a command-counter increment, as each statement of a
 * PL/pgSQL function takes it: a session revoked by a commit a moment ago, or
 * earlier in this very statement, is already refused.  On a hot standby or
 * in a read-only transaction the answer comes without the refresh.
 */
Datum
schemakit_session_user_id(PG_FUNCTION_ARGS)
{
	text	   *token;
	bytea	   *hash;
	Relation	rel;
	Oid			relid;
	Oid			owner;
	SessionHit	hit = {0};

	token = usable_token(fcinfo);
	if (token == NULL)
		PG_RETURN_NULL();
	hash = hash_token(token);

	rel = open_sessions();
	relid = RelationGetRelid(rel);
	owner = rel->rd_rel->relowner;
	lookup_session(rel, hash, &hit);
	table_close(rel, NoLock);

	if (!hit.found)
		PG_RETURN_NULL();
	if (hit.stale && may_refresh(relid))
		refresh_last_seen(hash, hit.session_id, owner);
	PG_RETURN_INT64(hit.user_id);
}
