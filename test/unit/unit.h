/*
 * unit.h - what every unit test file shares (unit.c): TAP output, the
 * chi-square test, and the entropy sources the tests feed the core; and
 * each test file's entry point, run in turn by test_core.c.
 *
 * Statistical tests draw from the real entropy source (pg_strong_random), so
 * each fails by chance with probability below 1e-6; about 30 of them run.
 */
#ifndef SK_TEST_UNIT_H
#define SK_TEST_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "support.h"

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_ALPHABET \
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* TAP: one numbered test line (returns cond), a diagnostic, a hex dump. */
extern int	tap_count;
extern int	tap_failures;
extern bool ok(bool cond, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void diag(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern const char *hex(const void *p, size_t n);

/* Chi-square goodness of fit against the uniform distribution (p 1e-6). */
extern double chi2_critical(int df);
extern double chi2_stat(const uint64_t *counts, int k);
extern bool chi2_uniform_ok(const uint64_t *counts, int k, const char *what);

/* The real source (test_strong_random), counting its calls. */
extern unsigned long strong_calls;
extern bool counting_strong(void *buf, size_t len);

/* A deterministic stream: byte i is a fixed hash of i, never zero. */
extern uint64_t stream_next;
extern unsigned long stream_calls;
extern size_t stream_last_len;
extern void *stream_last_buf;
extern bool stream_failing;
extern unsigned char stream_byte(uint64_t i);
extern bool stream_fill(void *buf, size_t len);
extern void stream_reset(void);
extern bool stream_equals(const void *p, size_t n, uint64_t first);

/* A scripted source: repeats a fixed byte sequence. */
extern bool script_fill(void *buf, size_t len);
extern void script_set(const unsigned char *bytes, size_t n);

/* One entry point per core module, in the order test_core.c runs them. */
extern void test_random(void);
extern void test_alphabet(void);
extern void test_encode(void);
extern void test_uuid7(void);
extern void test_address(void);

#endif							/* SK_TEST_UNIT_H */
