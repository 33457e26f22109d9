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
 * is compared with the bounds.  A field so large that the arithmetic could
 * leave the timestamp range is refused first, with the same 22023, so no
 * input ends in 22008.
 */
#include "postgres.h"

#include "access/xact.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "schemakit.h"

PG_FUNCTION_INFO_V1(schemakit_ttl_expiry);
PG_FUNCTION_INFO_V1(schemakit_purge_cutoff);

/*
 * No field may exceed 1000 years in magnitude.  The bounds of every caller
 * are far inside (a ttl of at most 366 days, an older_than of at most 100
 * years), and now() plus or minus three such fields stays inside the
 * timestamp range (4713 BC to 294276 AD) with room to spare.
 */
#define FIELD_MAX_YEARS 1000

static bool
fields_in_range(const Interval *iv)
{
	return iv->month >= -FIELD_MAX_YEARS * MONTHS_PER_YEAR &&
		iv->month <= FIELD_MAX_YEARS * MONTHS_PER_YEAR &&
		iv->day >= -FIELD_MAX_YEARS * 366 &&
		iv->day <= FIELD_MAX_YEARS * 366 &&
		iv->time >= -(int64) FIELD_MAX_YEARS * 366 * USECS_PER_DAY &&
		iv->time <= (int64) FIELD_MAX_YEARS * 366 * USECS_PER_DAY;
}

static char *
interval_text(Interval *iv)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv)));
}

static TimestampTz
plus(TimestampTz t, Interval *iv)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(t),
												   IntervalPGetDatum(iv)));
}

static TimestampTz
minus(TimestampTz t, Interval *iv)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(t),
												   IntervalPGetDatum(iv)));
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
	Interval   *max_ttl = PG_GETARG_INTERVAL_P(1);
	char	   *what = text_to_cstring(PG_GETARG_TEXT_PP(2));
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz expires;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s ttl must not be NULL", what)));
	ttl = PG_GETARG_INTERVAL_P(0);

	if (!fields_in_range(ttl) ||
		(expires = plus(now, ttl)) <= now ||
		expires > plus(now, max_ttl))
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
	Interval   *max_age = PG_GETARG_INTERVAL_P(1);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz cutoff;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("older_than must not be NULL")));
	older_than = PG_GETARG_INTERVAL_P(0);

	if (!fields_in_range(older_than) ||
		(cutoff = minus(now, older_than)) > now ||
		cutoff < minus(now, max_age))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must be between 0 and %s", interval_text(max_age)),
				 errdetail("The interval given was %s.", interval_text(older_than))));
	PG_RETURN_TIMESTAMPTZ(cutoff);
}
