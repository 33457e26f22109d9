/*
 * sk_random.h - buffered, fork-safe CSPRNG bytes and unbiased sampling.
 *
 * Pure C: no PostgreSQL types, so the same code runs inside the server
 * (fed by pg_strong_random) and in unit tests and fuzzers (fed by whatever
 * the harness provides).
 */
#ifndef SK_RANDOM_H
#define SK_RANDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes fetched from the entropy source per refill. */
#define SK_RANDOM_BUFSIZE 1024

/* Fills buf with len bytes from a CSPRNG; returns false on failure. */
typedef bool (*sk_entropy_fn) (void *buf, size_t len);

typedef struct SkRandom
{
	sk_entropy_fn fill;			/* entropy source */
	long		owner;			/* process id the buffered bytes belong to */
	size_t		pos;			/* next unread byte */
	size_t		len;			/* bytes valid in buf */
	uint64_t	refills;		/* buffer refills, for the tests (a request
								 * that bypasses the buffer is not one) */
	unsigned char buf[SK_RANDOM_BUFSIZE];
} SkRandom;

extern void sk_random_init(SkRandom *r, sk_entropy_fn fill);
extern bool sk_random_bytes(SkRandom *r, long pid, void *out, size_t n);
extern bool sk_random_below(SkRandom *r, long pid, unsigned int n,
							size_t count, unsigned int *out);
extern void sk_random_forget(SkRandom *r);

#endif							/* SK_RANDOM_H */
