/*
 * code_guard.c - what keeps email codes from being guessed:
 *  - _code_failures() / _code_failed(): failed guesses counted in shared
 *    memory, where no rollback can take them back;
 *  - _lock_key(): transaction locks per address or per user that no SQL
 *    role can take, so no role can block issuance;
 *  - _refuse(): the SKR01/SKR02 errors, without the caller's statement.
 *
 * Why shared memory: the failed_attempts column is written by the caller's
 * transaction, and a caller that rolls back after a wrong guess (a driver
 * in a transaction block, a savepoint, a statement that fails later) also
 * rolled back the count.  The count here is kept per code, keyed by the
 * database, the code's id and its created_at (so a code id reused after
 * DROP EXTENSION starts afresh), from the first wrong guess until the later
 * of the code's expiry and the end of the limit window its creation opened
 * (keep_until of _code_failed).  verify_email_code() takes the greater of this count and the
 * column, per code and summed per address, so a guess counts once it was
 * made, however the transaction ended.
 *
 * What it does not survive: a server restart and a failover empty it.  The
 * committed counts stay in the table (and replicate); only guesses whose
 * transactions rolled back before the restart are forgotten, at most 5 per
 * code (verify_email_code() judges no guess once a code has 5 failures:
 * c.failed >= 5 in sql/schemakit--1.4--1.5.sql).  A standby never verifies
 * (verification writes).
 *
 * verify_email_code() counts a guess before it judges it (_code_failed)
 * and takes the count back for the right code (_code_unfail).  When the
 * table is full of live codes, the guess is refused with 53400 before it is
 * judged, right or wrong, so a full table answers nothing a guesser could
 * use: raise schemakit.code_guard_size.
 */
#include "postgres.h"

#include "access/hash.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "code_guard.h"
#include "compat.h"
#include "settings.h"

SK_SQL_FUNCTION(schemakit_code_failures);
SK_SQL_FUNCTION(schemakit_code_failed);
SK_SQL_FUNCTION(schemakit_code_unfail);
SK_SQL_FUNCTION(schemakit_lock_key);
SK_SQL_FUNCTION(schemakit_refuse);

typedef struct GuardKey
{
	Oid			db;
	int64		code_id;
	TimestampTz created_at;
} GuardKey;

typedef struct GuardEntry
{
	GuardKey	key;			/* hash key: first */
	int32		failures;
	TimestampTz expires_at;
} GuardEntry;

typedef struct GuardShared
{
	LWLock	   *lock;
	int32		used;
	TimestampTz next_evict;		/* no entry expires before this */
} GuardShared;

static GuardShared *guard = NULL;
static HTAB *guard_hash = NULL;

#define GUARD_TRANCHE "schemakit"

static Size
guard_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(GuardShared)),
					hash_estimate_size(schemakit_code_guard_size, sizeof(GuardEntry)));
}

/* Asks for the space and the lock; postmaster only, from _PG_init or the request hook. */
void
code_guard_request(void)
{
	RequestAddinShmemSpace(guard_shmem_size());
	RequestNamedLWLockTranche(GUARD_TRANCHE, 1);
}

/* shmem_startup_hook part: attach, creating on first call. */
void
code_guard_startup(void)
{
	bool		found;
	HASHCTL		info;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	guard = ShmemInitStruct("schemakit code guard", sizeof(GuardShared), &found);
	if (!found)
	{
		guard->lock = &(GetNamedLWLockTranche(GUARD_TRANCHE))->lock;
		guard->used = 0;
		guard->next_evict = 0;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(GuardKey);
	info.entrysize = sizeof(GuardEntry);
	guard_hash = ShmemInitHash("schemakit code guard entries",
							   schemakit_code_guard_size, schemakit_code_guard_size,
							   &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

static void
require_guard(void)
{
	if (guard == NULL || guard_hash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schemakit must be preloaded to verify email codes"),
				 errdetail("Failed guesses are counted in shared memory, so that a rolled-back transaction cannot take one back."),
				 errhint("Add schemakit to shared_preload_libraries and restart the server."),
				 errhidestmt(true)));
}

static void
guard_key(GuardKey *k, int64 code_id, TimestampTz created_at)
{
	memset(k, 0, sizeof(*k));
	k->db = MyDatabaseId;
	k->code_id = code_id;
	k->created_at = created_at;
}

/* _code_failures(code_id, created_at) returns integer: wrong guesses recorded. */
Datum
schemakit_code_failures(PG_FUNCTION_ARGS)
{
	GuardKey	k;
	GuardEntry *e;
	int32		n = 0;

	/*
	 * A standby never judges a guess (verification writes, and fails there
	 * with 25006 at its first write); without the library preloaded it
	 * has nothing to report.
	 */
	if (guard == NULL && RecoveryInProgress())
		PG_RETURN_INT32(0);
	require_guard();
	guard_key(&k, PG_GETARG_INT64(0), PG_GETARG_TIMESTAMPTZ(1));
	LWLockAcquire(guard->lock, LW_SHARED);
	e = hash_search(guard_hash, &k, HASH_FIND, NULL);
	if (e != NULL)
		n = e->failures;
	LWLockRelease(guard->lock);
	PG_RETURN_INT32(n);
}

/*
 * Drops the entries whose time is up, and notes when the next one will be,
 * so a full table is scanned at most once per expiry, not once per guess.
 * Caller holds the lock exclusively.
 */
static void
evict_expired(TimestampTz now)
{
	HASH_SEQ_STATUS st;
	GuardEntry *e;
	TimestampTz next = DT_NOEND;

	if (now < guard->next_evict)
		return;
	hash_seq_init(&st, guard_hash);
	while ((e = hash_seq_search(&st)) != NULL)
	{
		if (e->expires_at <= now)
		{
			if (hash_search(guard_hash, &e->key, HASH_REMOVE, NULL) != NULL)
				guard->used--;
		}
		else if (e->expires_at < next)
			next = e->expires_at;
	}
	guard->next_evict = next;
}

/*
 * _code_failed(code_id, created_at, keep_until) returns integer: records
 * one guess and returns the code's count.  The entry is kept until
 * keep_until: the later of the code's expiry and the end of the limit
 * window its creation opened, so the per-address sum keeps it as long as
 * it counts.  53400 when there is no
 * room even after dropping expired codes: the guess is then not judged.
 */
Datum
schemakit_code_failed(PG_FUNCTION_ARGS)
{
	GuardKey	k;
	GuardEntry *e;
	bool		found;
	int32		n;
	TimestampTz now = GetCurrentTimestamp();

	require_guard();
	guard_key(&k, PG_GETARG_INT64(0), PG_GETARG_TIMESTAMPTZ(1));
	LWLockAcquire(guard->lock, LW_EXCLUSIVE);
	e = hash_search(guard_hash, &k, HASH_FIND, NULL);
	if (e == NULL)
	{
		if (guard->used >= schemakit_code_guard_size)
			evict_expired(now);
		if (guard->used >= schemakit_code_guard_size)
		{
			LWLockRelease(guard->lock);
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("too many live email codes with guesses to count another one"),
					 errhint("Raise schemakit.code_guard_size (now %d) and restart the server.",
							 schemakit_code_guard_size),
					 errhidestmt(true)));
		}
		e = hash_search(guard_hash, &k, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			LWLockRelease(guard->lock);
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of shared memory for schemakit code guesses"),
					 errhidestmt(true)));
		}
		e->failures = 0;
		guard->used++;
	}
	e->expires_at = PG_GETARG_TIMESTAMPTZ(2);
	if (e->expires_at < guard->next_evict)
		guard->next_evict = e->expires_at;
	n = ++e->failures;
	LWLockRelease(guard->lock);
	PG_RETURN_INT32(n);
}

/*
 * _code_unfail(code_id, created_at) returns integer: takes back the count
 * _code_failed() added for a guess that proved right; returns the count.
 */
Datum
schemakit_code_unfail(PG_FUNCTION_ARGS)
{
	GuardKey	k;
	GuardEntry *e;
	int32		n = 0;

	require_guard();
	guard_key(&k, PG_GETARG_INT64(0), PG_GETARG_TIMESTAMPTZ(1));
	LWLockAcquire(guard->lock, LW_EXCLUSIVE);
	e = hash_search(guard_hash, &k, HASH_FIND, NULL);
	if (e != NULL)
	{
		if (e->failures > 0)
			e->failures--;
		n = e->failures;
		/* Nothing left to remember: give the room back. */
		if (n == 0 && hash_search(guard_hash, &k, HASH_REMOVE, NULL) != NULL)
			guard->used--;
	}
	LWLockRelease(guard->lock);
	PG_RETURN_INT32(n);
}

/*
 * _lock_key(space, key) returns boolean (true): an exclusive transaction lock on
 * (database, space, key), for the per-address limits (space 1, key the
 * address key) and per-user reset tokens (space 2, key the user id).
 *
 * The lock is an advisory lock whose tag no SQL function can produce:
 * pg_advisory_lock() and its kin set the tag's last field to 1 or 2, this
 * one to LOCK_TAG_BASE + space.  So a role with no schemakit rights can
 * neither take nor hold it, and cannot block issuance.  It shows in
 * pg_locks as an advisory lock with objsubid LOCK_TAG_BASE + space.
 *
 * The spaces must agree with the callers: _lock_key(1, address) in
 * issue_email_code() and verify_email_code(), _lock_key(2, uid::text) in
 * consume_password_reset_token() (sql/schemakit--1.4--1.5.sql); the
 * objsubid values 21249 and 21250 are documented in doc/schemakit.md.
 */
#define LOCK_TAG_BASE 0x5300

Datum
schemakit_lock_key(PG_FUNCTION_ARGS)
{
	int32		space = PG_GETARG_INT32(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	uint64		h;
	LOCKTAG		tag;

	if (space < 1 || space > 255)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lock space must be between 1 and 255")));
	h = DatumGetUInt64(hash_any_extended((const unsigned char *) VARDATA_ANY(key),
										 VARSIZE_ANY_EXHDR(key), (uint64) space));
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (h >> 32), (uint32) h,
						 LOCK_TAG_BASE + space);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	/* true, so PL/pgSQL can take it in an assignment, without the executor */
	PG_RETURN_BOOL(true);
}

/*
 * _refuse(sqlstate, message, detail, hint): raises the error, leaving out
 * the STATEMENT and CONTEXT lines of the server log.  A limit error comes
 * from a call that may carry a code as a literal; the log must not get it.
 */
Datum
schemakit_refuse(PG_FUNCTION_ARGS)
{
	char	   *state;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("_refuse needs a SQLSTATE and a message")));
	state = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strlen(state) != 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a SQLSTATE has 5 characters")));
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])),
			 errmsg_internal("%s", text_to_cstring(PG_GETARG_TEXT_PP(1))),
			 PG_ARGISNULL(2) ? 0 : errdetail_internal("%s", text_to_cstring(PG_GETARG_TEXT_PP(2))),
			 PG_ARGISNULL(3) ? 0 : errhint("%s", text_to_cstring(PG_GETARG_TEXT_PP(3))),
			 errhidestmt(true),
			 errhidecontext(true)));
	PG_RETURN_VOID();
}
