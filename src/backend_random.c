/*
 * backend_random.c - the backend's CSPRNG buffer, fed by pg_strong_random.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "backend_random.h"

static SkRandom rng;
static bool rng_ready = false;

/* Adapter with the core's entropy signature. */
static bool
strong_random(void *buf, size_t len)
{
	return pg_strong_random(buf, len);
}

/*
 * One buffer per backend.  The core keys it on MyProcPid, which every
 * forked process sets for itself, so a child never reuses bytes its parent
 * buffered, even if the library was preloaded into the postmaster.
 */
SkRandom *
backend_rng(void)
{
	if (!rng_ready)
	{
		sk_random_init(&rng, strong_random);
		rng_ready = true;
	}
	return &rng;
}

/* Every caller reports an entropy failure the same way. */
void
backend_random_failed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not generate random bytes"),
			 errdetail("pg_strong_random() failed.")));
}

/* Random bytes or an error: callers never see a partial or failed fill. */
void
backend_random_bytes(void *out, size_t n)
{
	if (!sk_random_bytes(backend_rng(), MyProcPid, out, n))
		backend_random_failed();
}
