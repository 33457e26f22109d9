/*
 * unit.c - what every unit test file shares: TAP output, the chi-square
 * test, and the entropy sources the tests feed the core (unit.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* ---------------------------------------------------------------- TAP */

int			tap_count = 0;
int			tap_failures = 0;


/*
 * One TAP test line.  Returns cond so callers can add diagnostics only when
 * an assertion failed.  stdout is flushed per line: a sanitizer abort must
 * not lose the lines already printed.
 */
bool
ok(bool cond, const char *fmt,...)
{
	va_list		ap;

	tap_count++;
	if (!cond)
		tap_failures++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/* A TAP diagnostic line ("# ..."), ignored by harnesses but shown to people. */
void
diag(const char *fmt,...)
{
	va_list		ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Hex dump for diagnostics, into a static buffer (one use per statement). */
const char *
hex(const void *p, size_t n)
{
	static char buf[2 * 64 + 4];
	const unsigned char *b = p;
	size_t		o = 0;

	for (size_t i = 0; i < n && o + 3 < sizeof(buf); i++)
		o += (size_t) snprintf(buf + o, sizeof(buf) - o, "%02x", b[i]);
	if (n > 64)
		strcpy(buf + o, "..");
	return buf;
}

/* --------------------------------------------------------- chi-square */

/*
 * Critical value of the chi-square distribution with df degrees of freedom
 * at upper-tail probability 1e-6, by the Wilson-Hilferty approximation:
 * (X/df)^(1/3) is close to normal with mean 1 - 2/(9 df) and variance
 * 2/(9 df), so
 *
 *		crit = df * (1 - 2/(9 df) + z * sqrt(2/(9 df)))^3,
 *
 * with z = 4.753424 the standard normal quantile for 1 - 1e-6.  In this
 * tail the approximation overestimates the exact quantile: the exact tail
 * probability at the returned value is 1.6e-7 for df = 1, 6.1e-7 for df = 9,
 * 9.0e-7 for df = 61 and 9.7e-7 for df = 255 (checked against the
 * regularized incomplete gamma function).  So a test that fails has an
 * exact p-value below 1e-6: a conservative threshold, as wanted for a test
 * suite that must not flake.
 */
double
chi2_critical(int df)
{
	const double z = 4.753424308822899;
	double		c = 2.0 / (9.0 * df);
	double		t = 1.0 - c + z * sqrt(c);

	return df * t * t * t;
}

/* Pearson's statistic of counts against equal expected cell counts. */
double
chi2_stat(const uint64_t *counts, int k)
{
	uint64_t	total = 0;
	double		expected;
	double		x = 0;

	for (int i = 0; i < k; i++)
		total += counts[i];
	expected = (double) total / k;
	for (int i = 0; i < k; i++)
	{
		double		d = (double) counts[i] - expected;

		x += d * d / expected;
	}
	return x;
}

/*
 * Goodness of fit against the uniform distribution over k cells: passes
 * unless p < 1e-6.  Also fails when any draw fell outside the cells, which
 * callers count in counts[k].
 */
bool
chi2_uniform_ok(const uint64_t *counts, int k, const char *what)
{
	double		x = chi2_stat(counts, k);
	double		crit = chi2_critical(k - 1);

	if (!ok(x < crit && counts[k] == 0,
			"%s: uniform over %d values (chi2 %.1f < %.1f)", what, k, x, crit))
	{
		diag("chi2 %.2f, critical %.2f (df %d, p 1e-6), out of range %" PRIu64,
			 x, crit, k - 1, counts[k]);
		return false;
	}
	return true;
}

/* ---------------------------------------------------- entropy sources */

/* Real source, counting calls, so tests can see when a refill happened. */
unsigned long strong_calls = 0;

/* test_strong_random (pg_strong_random) with a call counter. */
bool
counting_strong(void *buf, size_t len)
{
	strong_calls++;
	return test_strong_random(buf, len);
}

/*
 * Deterministic stream: byte i of an endless sequence is a hash of i, never
 * zero (so wiped buffer bytes are recognisable).  Every call continues where
 * the previous one stopped, so distinct calls return distinct bytes and a
 * test can compute exactly which bytes the core must hand out.
 */
uint64_t stream_next = 0;	/* index of the next byte produced */
unsigned long stream_calls = 0;
size_t stream_last_len = 0;
void *stream_last_buf = NULL;
bool stream_failing = false;

/* Byte i of the stream: 1..255. */
unsigned char
stream_byte(uint64_t i)
{
	return (unsigned char) (ref_mix64(i) % 255 + 1);
}

/* Entropy function over the stream; fails (producing nothing) on demand. */
bool
stream_fill(void *buf, size_t len)
{
	unsigned char *p = buf;

	stream_calls++;
	stream_last_len = len;
	stream_last_buf = buf;
	if (stream_failing)
		return false;
	for (size_t i = 0; i < len; i++)
		p[i] = stream_byte(stream_next++);
	return true;
}

/* Resets the stream to byte 0. */
void
stream_reset(void)
{
	stream_next = 0;
	stream_calls = 0;
	stream_last_len = 0;
	stream_last_buf = NULL;
	stream_failing = false;
}

/* True when p[0..n) equals stream bytes from index first on. */
bool
stream_equals(const void *p, size_t n, uint64_t first)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != stream_byte(first + i))
			return false;
	return true;
}

/*
 * Scripted source: repeats a fixed byte sequence, so a test knows exactly
 * which byte each draw of sk_random_below sees.
 */
static const unsigned char *script = NULL;
static size_t script_len = 0;
static size_t script_pos = 0;

/* Entropy function over the script, cycling. */
bool
script_fill(void *buf, size_t len)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
	{
		p[i] = script[script_pos];
		script_pos = (script_pos + 1) % script_len;
	}
	return true;
}

/* Starts the script over with the given bytes. */
void
script_set(const unsigned char *bytes, size_t n)
{
	script = bytes;
	script_len = n;
	script_pos = 0;
}

