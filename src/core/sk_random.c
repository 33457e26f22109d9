/*
 * sk_random.c - buffered, fork-safe CSPRNG bytes and unbiased sampling.
 */
#include "sk_random.h"

#include <string.h>

/*
 * Wipes memory in a way the compiler may not elide: bytes already handed
 * out must not linger in the buffer where a core dump could show them.
 */
static void
sk_wipe(void *p, size_t n)
{
	volatile unsigned char *v = (volatile unsigned char *) p;

	while (n--)
		*v++ = 0;
}

/*
 * The state starts empty and unowned, so the first use always refills from
 * the entropy source instead of trusting zeroed memory.
 */
void
sk_random_init(SkRandom *r, sk_entropy_fn fill)
{
	memset(r, 0, sizeof(*r));
	r->fill = fill;
	r->owner = -1;
}

/*
 * Drops every buffered byte.  Called on a process-id change so a forked
 * child never replays bytes its parent may also use.
 */
void
sk_random_forget(SkRandom *r)
{
	sk_wipe(r->buf, sizeof(r->buf));
	r->pos = 0;
	r->len = 0;
	r->owner = -1;
}

/*
 * Hands out CSPRNG bytes from a per-process buffer.  Batching amortises the
 * cost of the entropy source over many small requests (a public ID needs
 * about ten bytes); the bytes are the source's own, so batching adds no
 * bias.  The owner check makes the buffer fork-safe: bytes fetched by one
 * process are never served to another.
 */
bool
sk_random_bytes(SkRandom *r, long pid, void *out, size_t n)
{
	unsigned char *dst = (unsigned char *) out;

	if (r->owner != pid)
	{
		sk_random_forget(r);
		r->owner = pid;
	}

	/* Large requests bypass the buffer: nothing to amortise. */
	if (n >= SK_RANDOM_BUFSIZE)
		return r->fill(dst, n);

	while (n > 0)
	{
		size_t		avail = r->len - r->pos;
		size_t		take;

		if (avail == 0)
		{
			if (!r->fill(r->buf, SK_RANDOM_BUFSIZE))
			{
				sk_random_forget(r);
				return false;
			}
			r->refills++;
			r->pos = 0;
			r->len = SK_RANDOM_BUFSIZE;
			avail = SK_RANDOM_BUFSIZE;
		}
		take = n < avail ? n : avail;
		memcpy(dst, r->buf + r->pos, take);
		sk_wipe(r->buf + r->pos, take);
		r->pos += take;
		dst += take;
		n -= take;
	}
	return true;
}

/*
 * Fills out[0..count) with independent uniform integers in [0, n), for
 * 2 <= n <= 256, from single bytes by rejection: a byte at or above the
 * largest multiple of n is thrown away, so every residue is equally likely
 * (no modulo bias).  One byte per draw keeps the common alphabets cheap:
 * 256 % n of the 256 byte values are rejected, none for powers of two, 2.3%
 * for 10 and 3.1% for 62 symbols; the worst case, n = 129, rejects just
 * under half.
 *
 * The bytes are taken from the buffer a batch at a time (as many as draws
 * remain), never more than the draws use: a batch of draws consumes exactly
 * the bytes the same draws made one at a time would, so every caller (a
 * public ID, a code, a test) sees one rule.  On false (n out of range, or
 * the entropy source failed) out is left as it was, or partly written.
 */
bool
sk_random_below(SkRandom *r, long pid, unsigned int n, size_t count,
				unsigned int *out)
{
	unsigned char pool[64];
	unsigned int limit;
	size_t		done = 0;
	bool		ok = true;

	if (n < 2 || n > 256)
		return false;
	limit = 256 - (256 % n);

	while (done < count)
	{
		size_t		want = count - done < sizeof(pool) ? count - done : sizeof(pool);

		if (!sk_random_bytes(r, pid, pool, want))
		{
			ok = false;
			break;
		}
		for (size_t i = 0; i < want; i++)
			if (pool[i] < limit)
				out[done++] = pool[i] % n;
	}
	sk_wipe(pool, sizeof(pool));
	return ok;
}
