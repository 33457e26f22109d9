/*
 * backend_random.h - the backend's CSPRNG buffer (backend_random.c): the
 * core's SkRandom, fed by pg_strong_random, one per process.
 */
#ifndef SK_BACKEND_RANDOM_H
#define SK_BACKEND_RANDOM_H

#include "compat.h"
#include "core/sk_random.h"

extern SkRandom *backend_rng(void);
extern void backend_random_bytes(void *out, size_t n);
SK_NORETURN_BEGIN extern void backend_random_failed(void) SK_NORETURN_END;

#endif							/* SK_BACKEND_RANDOM_H */
