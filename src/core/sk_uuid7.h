/*
 * sk_uuid7.h - RFC 9562 version 7 UUIDs, strictly increasing per process.
 *
 * Pure C.  The caller supplies the wall clock in nanoseconds, so tests can
 * drive the generator through clock steps that a real clock rarely shows.
 */
#ifndef SK_UUID7_H
#define SK_UUID7_H

#include <stdbool.h>
#include <stdint.h>

#include "sk_random.h"

/*
 * Smallest clock advance that still changes the 12-bit sub-millisecond
 * field: 1e6 / 4096 = 244.14 ns, rounded up.
 */
#define SK_UUID7_STEP_NS 245

typedef struct SkUuid7State
{
	int64_t		last_ns;		/* timestamp used for the previous value */
	long		owner;			/* process the state belongs to */
} SkUuid7State;

extern void sk_uuid7_init(SkUuid7State *st);
extern bool sk_uuid7_next(SkUuid7State *st, int64_t now_ns, SkRandom *r,
						  long pid, unsigned char out[16]);
extern bool sk_uuid7_unix_ms(const unsigned char u[16], int64_t *ms);

#endif							/* SK_UUID7_H */
