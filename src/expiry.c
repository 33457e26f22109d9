/*
 * expiry.c - _ttl_expiry() and _purge_cutoff(): an interval judged by the
 * timestamp it produces.
 *
 * Interval comparison counts a month as 30 days and a year as 360, so a
 * mixed-sign value such as '1 year -359 days' compares as 1 day and still
 * lands 6 days away on the calendar, and '200000 years -71999999 days'
 * compares as 1 day and lands in the year 4897.  Every ttl and every
 * older_than is therefore applied to now() with PostgreSQL's own calendar
 * arithmetic, exactly as the row will store it, and the timestamp produced
 * is compared with the bounds.  Where PostgreSQL cannot produce the
 * timestamp at all (it would leave the range), the interval is outside the
 * bounds too: 22023, never 22008.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "compat.h"

SK_SQL_FUNCTION(schemakit_ttl_expiry);
SK_SQL_FUNCTION(schemakit_purge_cutoff);

/*
 * Fields within 1000 years in magnitude can never carry now() out of the
 * timestamp range (4713 BC to 294276 AD): the fast path.  Anything larger
 * is computed inside a subtransaction, so an overflow becomes "no
 * timestamp" instead of an error.
 */
#define FIELD_MAX_YEARS 1000

static bool
fields_small(const Interval *iv)
{
	return iv->month >= -FIELD_MAX_YEARS * MONTHS_PER_YEAR &&
		iv->month <= FIELD_MAX_YEARS * MONTHS_PER_YEAR &&
		iv->day >= -FIELD_MAX_YEARS * 366 &&
		iv->day <= FIELD_MAX_YEARS * 366 &&
		iv->time >= -(int64) FIELD_MAX_YEARS * 366 * USECS_PER_DAY &&
		iv->time <= (int64) FIELD_MAX_YEARS * 366 * USECS_PER_DAY;
}

/*
 * t + sign * iv with PostgreSQL's calendar arithmetic; false when the
 * result is not a finite timestamp.
 */
static bool
shift(TimestampTz t, Interval *iv, int sign, TimestampTz *out)
{
	/* volatile: live across PG_TRY's setjmp (gcc 16 -Wclobbered, PG 18 on sid) */
	PGFunction volatile fn = sign > 0 ? timestamptz_pl_interval : timestamptz_mi_interval;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	if (fields_small(iv))
	{
		*out = DatumGetTimestampTz(DirectFunctionCall2(fn, TimestampTzGetDatum(t),
													   IntervalPGetDatum(iv)));
		return !TIMESTAMP_NOT_FINITE(*out);
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		*out = DatumGetTimestampTz(DirectFunctionCall2(fn, TimestampTzGetDatum(t),
													   IntervalPGetDatum(iv)));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *err;

		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		/* Only "out of range" means "no timestamp"; anything else is real. */
		if (err->sqlerrcode != ERRCODE_DATETIME_VALUE_OUT_OF_RANGE)
			ReThrowError(err);
		FlushErrorState();
		FreeErrorData(err);
		ok = false;
	}
	PG_END_TRY();
	return ok && !TIMESTAMP_NOT_FINITE(*out);
}

static char *
interval_text(Interval *iv)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv)));
}

/*
 * _ttl_expiry(ttl, max_ttl, what) returns timestamptz: now() + ttl, when
 * that lies after now() and no later than now() + max_ttl; else 22023
 * (22004 for a NULL ttl).  "what" names the ttl in the message.
 */
Datum
schemakit_ttl_expiry(PG_FUNCTION_ARGS)
{
	Interval   *ttl;
	Interval   *max_ttl;
	char	   *what;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz expires;
	TimestampTz limit;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("_ttl_expiry needs a maximum and a name")));
	max_ttl = PG_GETARG_INTERVAL_P(1);
	what = text_to_cstring(PG_GETARG_TEXT_PP(2));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s ttl must not be NULL", what)));
	ttl = PG_GETARG_INTERVAL_P(0);

	if (!shift(now, ttl, 1, &expires) ||
		!shift(now, max_ttl, 1, &limit) ||
		expires <= now || expires > limit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s ttl must be positive and at most %s", what, interval_text(max_ttl)),
				 errdetail("The ttl given was %s.", interval_text(ttl))));
	PG_RETURN_TIMESTAMPTZ(expires);
}

/*
 * _purge_cutoff(older_than, max_age) returns timestamptz: now() -
 * older_than, when that lies between now() - max_age and now(); else 22023
 * (22004 for NULL).
 */
Datum
schemakit_purge_cutoff(PG_FUNCTION_ARGS)
{
	Interval   *older_than;
	Interval   *max_age;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz cutoff;
	TimestampTz oldest;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("_purge_cutoff needs a maximum")));
	max_age = PG_GETARG_INTERVAL_P(1);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("older_than must not be NULL")));
	older_than = PG_GETARG_INTERVAL_P(0);

	if (!shift(now, older_than, -1, &cutoff) ||
		!shift(now, max_age, -1, &oldest) ||
		cutoff > now || cutoff < oldest)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must be between 0 and %s", interval_text(max_age)),
				 errdetail("The interval given was %s.", interval_text(older_than))));
	PG_RETURN_TIMESTAMPTZ(cutoff);
}
