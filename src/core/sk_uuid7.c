/*
 * sk_uuid7.c - RFC 9562 version 7 UUIDs, strictly increasing per process.
 */
#include "sk_uuid7.h"

#define NS_PER_MS INT64_C(1000000)

/* A fresh state has no previous timestamp, so the first value uses the clock. */
void
sk_uuid7_init(SkUuid7State *st)
{
	st->last_ns = INT64_MIN;
	st->owner = -1;
}

/*
 * Builds the next UUIDv7 (RFC 9562 section 6.2, method 3).  The 48-bit
 * millisecond timestamp is followed by a 12-bit sub-millisecond fraction in
 * rand_a, and the timestamp used never moves back: if the clock has not
 * advanced by at least one fraction step since the previous value (many
 * values in one millisecond, or a clock stepped backwards), the previous
 * timestamp plus one step is used instead.  That makes every value from one
 * process strictly greater than the one before it, while the 62 bits of
 * rand_b stay fully random.  A state inherited across fork() is discarded,
 * as the buffered random bytes are.
 */
bool
sk_uuid7_next(SkUuid7State *st, int64_t now_ns, SkRandom *r, long pid,
			  unsigned char out[16])
{
	int64_t		ns = now_ns < 0 ? 0 : now_ns;
	int64_t		ms;
	unsigned int frac;

	if (st->owner != pid)
	{
		st->last_ns = INT64_MIN;
		st->owner = pid;
	}
	if (st->last_ns != INT64_MIN)
	{
		/* int64 nanoseconds end in 2262, long before 48-bit milliseconds do */
		if (st->last_ns > INT64_MAX - SK_UUID7_STEP_NS)
			return false;
		if (ns - st->last_ns < SK_UUID7_STEP_NS)
			ns = st->last_ns + SK_UUID7_STEP_NS;
	}

	ms = ns / NS_PER_MS;
	frac = (unsigned int) (((ns % NS_PER_MS) * 4096) / NS_PER_MS);

	if (!sk_random_bytes(r, pid, out + 8, 8))
		return false;
	st->last_ns = ns;

	out[0] = (unsigned char) (ms >> 40);
	out[1] = (unsigned char) (ms >> 32);
	out[2] = (unsigned char) (ms >> 24);
	out[3] = (unsigned char) (ms >> 16);
	out[4] = (unsigned char) (ms >> 8);
	out[5] = (unsigned char) ms;
	out[6] = (unsigned char) (0x70 | (frac >> 8));
	out[7] = (unsigned char) (frac & 0xFF);
	out[8] = (unsigned char) (0x80 | (out[8] & 0x3F));
	return true;
}

/*
 * The Unix millisecond timestamp of a version 7 UUID with the RFC 9562
 * variant; false for anything else, so callers can reject a v4 or a nil
 * UUID instead of decoding random bits as a time.
 */
bool
sk_uuid7_unix_ms(const unsigned char u[16], int64_t *ms)
{
	if ((u[6] >> 4) != 7 || (u[8] & 0xC0) != 0x80)
		return false;
	*ms = ((int64_t) u[0] << 40) | ((int64_t) u[1] << 32) |
		((int64_t) u[2] << 24) | ((int64_t) u[3] << 16) |
		((int64_t) u[4] << 8) | (int64_t) u[5];
	return true;
}
