/*
 * uuid7.c - SQL glue for uuidv7() and uuidv7_time().
 */
#include "postgres.h"

#include <time.h>

#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "backend_random.h"
#include "core/sk_uuid7.h"

SK_SQL_FUNCTION(schemakit_uuidv7);
SK_SQL_FUNCTION(schemakit_uuidv7_time);

static SkUuid7State uuid7_state;
static bool uuid7_ready = false;

/*
 * Wall-clock nanoseconds since the Unix epoch.  clock_gettime gives the
 * sub-millisecond part that method 3 puts in rand_a; where it is missing,
 * microseconds from the server's own clock are close enough.
 */
static int64
unix_now_ns(void)
{
#ifndef WIN32
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		return (int64) ts.tv_sec * INT64CONST(1000000000) + ts.tv_nsec;
#endif
	return (GetCurrentTimestamp() +
			(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY *
			USECS_PER_SEC) * 1000;
}

/* uuidv7(): the next version 7 UUID of this backend. */
Datum
schemakit_uuidv7(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *u = (pg_uuid_t *) palloc(sizeof(pg_uuid_t));

	if (!uuid7_ready)
	{
		sk_uuid7_init(&uuid7_state);
		uuid7_ready = true;
	}
	if (!sk_uuid7_next(&uuid7_state, unix_now_ns(), backend_rng(),
					   MyProcPid, u->data))
		backend_random_failed();
	PG_RETURN_UUID_P(u);
}

/* uuidv7_time(u): the creation time a version 7 UUID carries. */
Datum
schemakit_uuidv7_time(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *u = PG_GETARG_UUID_P(0);
	int64		ms;

	if (!sk_uuid7_unix_ms(u->data, &ms))
	{
		if ((u->data[6] >> 4) != 7)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("uuid is not a version 7 UUID"),
					 errdetail("Its version field is %d.", u->data[6] >> 4)));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uuid is not a version 7 UUID"),
				 errdetail("Its variant bits are not those of RFC 9562.")));
	}

	PG_RETURN_TIMESTAMPTZ(ms * 1000 -
						  (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
						  SECS_PER_DAY * USECS_PER_SEC);
}
