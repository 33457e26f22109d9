/*
 * session.c - session_user_id(token): the user of a live session.
 *
 * Every authenticated request of an application calls this, so it is the
 * hottest function schemakit has.  Since 1.4 the read runs in C: hash the
 * token, probe the unique index on token_hash, check the row, return
 * user_id - no SQL, no plan, no SECURITY DEFINER frame.  Only the
 * last_seen_at refresh, at most once a minute per session, runs an UPDATE,
 * as the table's owner under a pinned search_path.
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
#include "catalog/pg_am.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "schemakit.h"

PG_FUNCTION_INFO_V1(schemakit_session_user_id);

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
 * The index must be the one the scripts made: a btree on token_hash alone
 * of this very table, unique and not deferrable, with bytea's default
 * operator class.  Anything else could return a row that does not carry
 * the hash asked for, or two rows for one hash.
 */
static void
check_token_index(Relation rel, Relation idx, AttrNumber token_hash)
{
	Form_pg_index ix = idx->rd_index;

	if (ix->indrelid != RelationGetRelid(rel) ||
		idx->rd_rel->relam != BTREE_AM_OID ||
		!ix->indisunique || !ix->indisvalid || !ix->indimmediate ||
		ix->indnkeyatts != 1 || ix->indkey.values[0] != token_hash ||
		idx->rd_opcintype[0] != BYTEAOID ||
		idx->rd_opfamily[0] != BYTEA_BTREE_FAM_OID ||
		!heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL) ||
		!heap_attisnull(idx->rd_indextuple, Anum_pg_index_indexprs, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index schemakit.sessions_token_hash_key is not the unique index on sessions (token_hash)"),
				 errhint("The index was changed outside the extension scripts.")));
}

/*
 * The refresh is a write, so it needs the table owner's rights (the caller
 * may hold only EXECUTE) and a search_path no caller can influence: the
 * same two guarantees a SECURITY DEFINER ... SET search_path function
 * gives, paid for once a minute per session instead of on every read.
 * The statement is prepared under that path, so its operators resolve in
 * pg_catalog.  SKIP LOCKED: a request never waits on another's refresh.
 * An error unwinds the user and the setting with the (sub)transaction.
 */
static void
refresh_last_seen(int64 session_id, Oid owner)
{
	static SPIPlanPtr plan = NULL;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Datum		arg = Int64GetDatum(session_id);
	Oid			argtype = INT8OID;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(
			"UPDATE schemakit.sessions ss SET last_seen_at = pg_catalog.now()"
			" WHERE ss.id = (SELECT x.id FROM schemakit.sessions x"
			"                 WHERE x.id = $1"
			"                   AND x.last_seen_at < pg_catalog.now() - interval '1 minute'"
			"                   FOR NO KEY UPDATE SKIP LOCKED)",
			1, &argtype);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		plan = p;
	}
	rc = SPI_execute_plan(plan, &arg, NULL, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "refreshing last_seen_at failed: %s", SPI_result_code_string(rc));
	SPI_finish();

	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * session_user_id(token) returns bigint: user_id of the session whose
 * token_hash is SHA-256(token), if that session is neither revoked nor
 * expired; NULL otherwise, for NULL and for absurdly long input alike.
 *
 * No SECURITY DEFINER: reading through the index checks no table
 * privilege, and who may call this at all is decided by EXECUTE, which is
 * revoked from PUBLIC as before.  The snapshot is a fresh one in READ
 * COMMITTED, taken after a command-counter increment, as each statement of
 * the PL/pgSQL version had: a session revoked by a commit a moment ago, or
 * earlier in this very statement, is already refused.  On a hot standby
 * or in a read-only transaction the answer comes without the refresh.
 */
Datum
schemakit_session_user_id(PG_FUNCTION_ARGS)
{
	text	   *token;
	bytea	   *hash;
	Oid			nsp;
	Oid			relid;
	Oid			idxid;
	Relation	rel;
	Relation	idx;
	SessionCols c;
	Snapshot	snap;
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found = false;
	bool		refresh = false;
	int64		session_id = 0;
	int64		user_id = 0;
	Oid			owner;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/*
	 * Judge the length before detoasting, so a huge argument costs nothing.
	 * (The raw size includes the header: 4 bytes at any length that matters.)
	 */
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) > TOKEN_MAX_BYTES + VARHDRSZ)
		PG_RETURN_NULL();
	token = PG_GETARG_TEXT_PP(0);

	hash = (bytea *) palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	schemakit_token_sha256(token, (uint8 *) VARDATA(hash));
	SET_VARSIZE(hash, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	/* By name each call: three syscache hits, and never a stale OID. */
	nsp = get_namespace_oid("schemakit", false);
	relid = get_relname_relid("sessions", nsp);
	idxid = get_relname_relid("sessions_token_hash_key", nsp);
	if (!OidIsValid(relid) || !OidIsValid(idxid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schemakit.sessions or its index sessions_token_hash_key does not exist"),
				 errhint("Update the extension: ALTER EXTENSION schemakit UPDATE.")));

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schemakit.sessions is not a table")));
	idx = index_open(idxid, AccessShareLock);

	c.id = session_column(rel, "id", INT8OID);
	c.user_id = session_column(rel, "user_id", INT8OID);
	c.token_hash = session_column(rel, "token_hash", BYTEAOID);
	c.expires_at = session_column(rel, "expires_at", TIMESTAMPTZOID);
	c.last_seen_at = session_column(rel, "last_seen_at", TIMESTAMPTZOID);
	c.revoked_at = session_column(rel, "revoked_at", TIMESTAMPTZOID);
	check_token_index(rel, idx, c.token_hash);
	owner = rel->rd_rel->relowner;

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
					user_id = DatumGetInt64(d);
					found = true;
					session_id = DatumGetInt64(slot_getattr(slot, c.id, &isnull));
					d = slot_getattr(slot, c.last_seen_at, &isnull);
					refresh = !isnull &&
						DatumGetTimestampTz(d) < now - REFRESH_EVERY_USEC;
				}
			}
		}
	}

	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, NoLock);
	table_close(rel, NoLock);

	if (!found)
		PG_RETURN_NULL();
	if (refresh && !RecoveryInProgress() && !XactReadOnly)
		refresh_last_seen(session_id, owner);
	PG_RETURN_INT64(user_id);
}
