/*
 * test_core.c - unit tests of the pure C core (src/core), as TAP.
 *
 * Built under AddressSanitizer and UndefinedBehaviorSanitizer by the
 * Makefile.  Every assertion checks a value: statistical tests compare a
 * chi-square statistic against a critical value, deterministic tests feed
 * the core a scripted entropy source and check exact bytes.
 *
 *	test_core				all tests, then the plan line
 *
 * Statistical tests draw from the real entropy source (pg_strong_random), so
 * each fails by chance with probability below 1e-6; about 30 of them run.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sk_address.h"
#include "sk_alphabet.h"
#include "sk_encode.h"
#include "sk_random.h"
#include "sk_uuid7.h"
#include "support.h"

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_ALPHABET \
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* ---------------------------------------------------------------- TAP */

static int	tap_count = 0;
static int	tap_failures = 0;

static bool ok(bool cond, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static void diag(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/*
 * One TAP test line.  Returns cond so callers can add diagnostics only when
 * an assertion failed.  stdout is flushed per line: a sanitizer abort must
 * not lose the lines already printed.
 */
static bool
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
static void
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
static const char *
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
static double
chi2_critical(int df)
{
	const double z = 4.753424308822899;
	double		c = 2.0 / (9.0 * df);
	double		t = 1.0 - c + z * sqrt(c);

	return df * t * t * t;
}

/* Pearson's statistic of counts against equal expected cell counts. */
static double
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
static bool
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
static unsigned long strong_calls = 0;

/* test_strong_random (pg_strong_random) with a call counter. */
static bool
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
static uint64_t stream_next = 0;	/* index of the next byte produced */
static unsigned long stream_calls = 0;
static size_t stream_last_len = 0;
static void *stream_last_buf = NULL;
static bool stream_failing = false;

/* splitmix64 finalizer: a fixed, well-mixed function of its argument. */
static uint64_t
mix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Byte i of the stream: 1..255. */
static unsigned char
stream_byte(uint64_t i)
{
	return (unsigned char) (mix64(i) % 255 + 1);
}

/* Entropy function over the stream; fails (producing nothing) on demand. */
static bool
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
static void
stream_reset(void)
{
	stream_next = 0;
	stream_calls = 0;
	stream_last_len = 0;
	stream_last_buf = NULL;
	stream_failing = false;
}

/* True when p[0..n) equals stream bytes from index first on. */
static bool
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
static bool
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
static void
script_set(const unsigned char *bytes, size_t n)
{
	script = bytes;
	script_len = n;
	script_pos = 0;
}

/* ---------------------------------------------------------- sk_random */

/*
 * sk_random_below must be uniform for every alphabet size the server can
 * see, including the awkward ones (3, 129, 200, 255) where a modulo
 * shortcut would be biased.
 */
static void
test_random_below_uniform(void)
{
	static const unsigned int sizes[] = {2, 3, 10, 62, 64, 129, 200, 255, 256};
	const int	draws = 200000;
	SkRandom	r;

	sk_random_init(&r, counting_strong);
	for (size_t s = 0; s < lengthof(sizes); s++)
	{
		unsigned int n = sizes[s];
		uint64_t	counts[257] = {0};
		char		what[64];
		bool		all_ok = true;

		for (int i = 0; i < draws; i++)
		{
			unsigned int v = 0;

			if (!sk_random_below(&r, getpid(), n, 1, &v))
				all_ok = false;
			counts[v < n ? v : n]++;
		}
		snprintf(what, sizeof(what), "sk_random_below(%u), %d draws", n, draws);
		if (!all_ok)
			ok(false, "%s: every draw succeeded", what);
		else
			chi2_uniform_ok(counts, (int) n, what);
	}
}

/*
 * The chi-square test above must be able to fail: a modulo-only sampler
 * (byte % 200, no rejection) favours 0..55 two to one, and the statistic
 * has to land far beyond the critical value.
 */
static void
test_chi2_has_power(void)
{
	const unsigned int n = 200;
	uint64_t	counts[201] = {0};
	SkRandom	r;
	double		x;

	sk_random_init(&r, counting_strong);
	for (int i = 0; i < 200000; i++)
	{
		unsigned char b = 0;

		sk_random_bytes(&r, getpid(), &b, 1);
		counts[b % n]++;
	}
	x = chi2_stat(counts, (int) n);
	ok(x > 10 * chi2_critical((int) n - 1),
	   "chi-square detects a modulo-biased sampler (chi2 %.0f > 10 x %.1f)",
	   x, chi2_critical((int) n - 1));
}

/*
 * Exact rejection rule with a scripted source: bytes at or above
 * 256 - 256 % n are skipped, the others map to byte % n, one byte per draw.
 */
static void
test_random_below_rejection(void)
{
	static const struct
	{
		unsigned int n;
		unsigned char bytes[8];
		size_t		nbytes;
		unsigned int want[4];
		size_t		nwant;
	}			cases[] =
	{
		/* n = 200: limit 200; 255, 200 rejected, 199 kept */
		{200, {255, 200, 199, 0, 56, 250, 57}, 7, {199, 0, 56, 57}, 4},
		/* n = 3: limit 255; only 255 rejected */
		{3, {255, 254, 255, 255, 4, 0}, 6, {2, 1, 0}, 3},
		/* n = 129: limit 129; 129..255 rejected (the worst case) */
		{129, {129, 255, 128, 200, 0, 130, 1}, 7, {128, 0, 1}, 3},
		/* n = 10: limit 250 */
		{10, {250, 251, 249, 255, 0, 19}, 6, {9, 0, 9}, 3},
		/* n = 62: limit 248 */
		{62, {248, 247, 63, 255, 61}, 5, {61, 1, 61}, 3},
		/* powers of two: nothing rejected */
		{256, {255, 0, 128}, 3, {255, 0, 128}, 3},
		{64, {255, 64, 63}, 3, {63, 0, 63}, 3},
		{2, {255, 254}, 2, {1, 0}, 2},
	};

	for (size_t c = 0; c < lengthof(cases); c++)
	{
		SkRandom	r;
		unsigned int got[4] = {0};
		bool		good = true;

		script_set(cases[c].bytes, cases[c].nbytes);
		sk_random_init(&r, script_fill);
		for (size_t i = 0; i < cases[c].nwant; i++)
		{
			if (!sk_random_below(&r, 100, cases[c].n, 1, &got[i]) ||
				got[i] != cases[c].want[i])
				good = false;
		}
		if (!ok(good && r.pos == cases[c].nbytes,
				"sk_random_below(%u) keeps bytes below %u, skips the rest "
				"(%zu bytes for %zu draws)",
				cases[c].n, 256 - 256 % cases[c].n, cases[c].nbytes,
				cases[c].nwant))
			diag("got %u %u %u %u after %zu bytes", got[0], got[1], got[2],
				 got[3], r.pos);
	}
}

/*
 * Many draws in one call (as a public ID or a code makes them) give the
 * values of the same draws made one at a time, from exactly the same bytes:
 * a batch never takes a byte it does not use.
 */
static void
test_random_below_batch(void)
{
	static const unsigned char bytes[] = {255, 200, 199, 0, 56, 250, 57, 201, 3, 129, 7};
	static const unsigned int sizes[] = {2, 3, 10, 62, 129, 200, 256};
	bool		good = true;

	for (size_t s = 0; s < lengthof(sizes); s++)
	{
		for (size_t count = 0; count <= 2 * lengthof(bytes); count++)
		{
			SkRandom	one;
			SkRandom	batch;
			unsigned int a[2 * lengthof(bytes) + 1] = {0};
			unsigned int b[2 * lengthof(bytes) + 1] = {0};

			script_set(bytes, sizeof(bytes));
			sk_random_init(&one, script_fill);
			for (size_t i = 0; i < count; i++)
				if (!sk_random_below(&one, 100, sizes[s], 1, &a[i]))
					good = false;
			script_set(bytes, sizeof(bytes));
			sk_random_init(&batch, script_fill);
			if (!sk_random_below(&batch, 100, sizes[s], count, b) ||
				memcmp(a, b, sizeof(a)) != 0 || one.pos != batch.pos)
			{
				diag("n %u, %zu draws: %zu bytes one at a time, %zu in a batch",
					 sizes[s], count, one.pos, batch.pos);
				good = false;
			}
		}
	}
	ok(good, "sk_random_below: a batch of draws equals the single draws, byte for byte");
}

/* n outside 2..256 is refused without consuming entropy. */
static void
test_random_below_range(void)
{
	static const unsigned int bad[] = {0, 1, 257, 1000, UINT32_MAX};
	SkRandom	r;
	bool		good = true;

	stream_reset();
	sk_random_init(&r, stream_fill);
	for (size_t i = 0; i < lengthof(bad); i++)
	{
		unsigned int v = 12345;

		if (sk_random_below(&r, 100, bad[i], 1, &v) || v != 12345)
			good = false;
	}
	ok(good && stream_calls == 0 && r.pos == 0,
	   "sk_random_below refuses n = 0, 1, 257, 1000, UINT_MAX untouched");
}

/*
 * Fork safety with the real source: the parent buffers bytes, forks, and
 * both draw 32 bytes.  Had the child reused the inherited buffer it would
 * print exactly the parent's next 32 bytes.  The child must instead refill
 * from the entropy source (one call, refills + 1, a fresh buffer).
 */
static void
test_fork_safety(void)
{
	struct
	{
		unsigned char bytes[32];
		uint64_t	refills_before;
		uint64_t	refills_after;
		unsigned long calls_before;
		unsigned long calls_after;
		size_t		pos_after;
		long		owner_after;
		int			success;
	}			child;
	unsigned char parent[32];
	unsigned char warm[16];
	SkRandom	r;
	int			fds[2];
	pid_t		pid;
	int			status = -1;
	ssize_t		got;
	uint64_t	parent_refills;

	sk_random_init(&r, counting_strong);
	sk_random_bytes(&r, getpid(), warm, sizeof(warm));
	parent_refills = r.refills;

	if (pipe(fds) != 0)
	{
		ok(false, "fork safety: pipe()");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
	{
		memset(&child, 0, sizeof(child));
		child.refills_before = r.refills;
		child.calls_before = strong_calls;
		child.success = sk_random_bytes(&r, getpid(), child.bytes, 32);
		child.refills_after = r.refills;
		child.calls_after = strong_calls;
		child.pos_after = r.pos;
		child.owner_after = r.owner;
		if (write(fds[1], &child, sizeof(child)) != (ssize_t) sizeof(child))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	memset(&child, 0, sizeof(child));
	sk_random_bytes(&r, getpid(), parent, sizeof(parent));
	got = read(fds[0], &child, sizeof(child));
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);

	if (!ok(pid > 0 && got == (ssize_t) sizeof(child) && WIFEXITED(status) &&
			WEXITSTATUS(status) == 0 && child.success,
			"fork safety: child drew 32 bytes and exited cleanly"))
		return;
	if (!ok(memcmp(child.bytes, parent, 32) != 0,
			"fork safety: child's 32 bytes differ from the parent's"))
		diag("both: %s", hex(parent, 32));
	ok(child.refills_after == child.refills_before + 1 &&
	   child.calls_after == child.calls_before + 1 &&
	   child.pos_after == 32 && child.owner_after == (long) pid,
	   "fork safety: child refilled from the source (refills %" PRIu64
	   " -> %" PRIu64 ", buffer position %zu)",
	   child.refills_before, child.refills_after, child.pos_after);
	ok(r.refills == parent_refills && r.pos == 48,
	   "fork safety: parent kept serving its own buffer (position %zu)",
	   r.pos);
}

/*
 * Negative control for the fork test: a child that (wrongly) presents the
 * parent's process id replays the parent's buffered bytes.  This proves the
 * test above would notice a broken owner check.
 */
static void
test_fork_negative_control(void)
{
	unsigned char child_bytes[32] = {0};
	unsigned char parent[32];
	unsigned char warm[16];
	SkRandom	r;
	int			fds[2];
	pid_t		pid;
	int			status = -1;
	long		parent_pid = (long) getpid();

	sk_random_init(&r, counting_strong);
	sk_random_bytes(&r, parent_pid, warm, sizeof(warm));
	if (pipe(fds) != 0)
	{
		ok(false, "fork negative control: pipe()");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
	{
		sk_random_bytes(&r, parent_pid, child_bytes, 32);
		_exit(write(fds[1], child_bytes, 32) == 32 ? 0 : 2);
	}
	close(fds[1]);
	sk_random_bytes(&r, parent_pid, parent, sizeof(parent));
	if (read(fds[0], child_bytes, 32) != 32)
		memset(child_bytes, 0, 32);
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(pid > 0 && memcmp(child_bytes, parent, 32) == 0,
	   "fork negative control: same pid in the child replays the parent's bytes");
}

/*
 * Deterministic owner change on one SkRandom: after pid 100 buffered a
 * block, pid 101 must get bytes of a new block, and so must pid 100 again.
 */
static void
test_pid_change(void)
{
	unsigned char out[8];
	SkRandom	r;

	stream_reset();
	sk_random_init(&r, stream_fill);

	sk_random_bytes(&r, 100, out, 4);
	ok(stream_equals(out, 4, 0) && r.refills == 1 && r.owner == 100,
	   "pid 100 gets the first 4 bytes of block 1");

	sk_random_bytes(&r, 101, out, 4);
	if (!ok(stream_equals(out, 4, SK_RANDOM_BUFSIZE) && r.refills == 2 &&
			stream_calls == 2 && r.pos == 4 && r.owner == 101,
			"pid 101 discards pid 100's buffer and gets block 2"))
		diag("got %s, refills %" PRIu64, hex(out, 4), r.refills);

	sk_random_bytes(&r, 101, out, 4);
	ok(stream_equals(out, 4, SK_RANDOM_BUFSIZE + 4) && r.refills == 2,
	   "pid 101 then continues its own buffer");

	sk_random_bytes(&r, 100, out, 4);
	ok(stream_equals(out, 4, 2 * SK_RANDOM_BUFSIZE) && r.refills == 3,
	   "back to pid 100: block 3, not the rest of block 1 or 2");

	/* the bytes not handed out of block 2 were wiped on the change */
	{
		bool		wiped = true;

		for (size_t i = 0; i < SK_RANDOM_BUFSIZE; i++)
			if (r.buf[i] != (i < 4 ? 0 : stream_byte(2 * SK_RANDOM_BUFSIZE + i)))
				wiped = false;
		ok(wiped, "after the change the buffer holds only block 3, used part zeroed");
	}
}

/*
 * Requests of SK_RANDOM_BUFSIZE bytes or more go straight to the entropy
 * source (into the caller's memory) and leave the buffer as it was.
 */
static void
test_random_bytes_bypass(void)
{
	unsigned char small[8];
	unsigned char *big = malloc(5000);
	SkRandom	r;

	stream_reset();
	sk_random_init(&r, stream_fill);
	sk_random_bytes(&r, 100, small, 5);

	ok(sk_random_bytes(&r, 100, big, SK_RANDOM_BUFSIZE) &&
	   stream_last_buf == big && stream_last_len == SK_RANDOM_BUFSIZE &&
	   stream_equals(big, SK_RANDOM_BUFSIZE, SK_RANDOM_BUFSIZE) &&
	   r.refills == 1 && r.pos == 5,
	   "a %d-byte request is filled directly, buffer untouched",
	   SK_RANDOM_BUFSIZE);

	ok(sk_random_bytes(&r, 100, big, 5000) &&
	   stream_last_buf == big && stream_last_len == 5000 &&
	   r.refills == 1 && r.pos == 5,
	   "a 5000-byte request is filled directly, buffer untouched");

	sk_random_bytes(&r, 100, small, 3);
	ok(stream_equals(small, 3, 5) && r.pos == 8,
	   "small requests continue the buffer after a bypass");

	/* 1023 bytes go through the buffer: 1016 left, then one refill */
	ok(sk_random_bytes(&r, 100, big, SK_RANDOM_BUFSIZE - 1) &&
	   stream_equals(big, SK_RANDOM_BUFSIZE - 8, 8) &&
	   stream_equals(big + SK_RANDOM_BUFSIZE - 8, 7,
					 2 * SK_RANDOM_BUFSIZE + 5000) &&
	   r.refills == 2 && r.pos == 7,
	   "a %d-byte request is served from the buffer across a refill",
	   SK_RANDOM_BUFSIZE - 1);

	ok(sk_random_bytes(&r, 100, big, 0) && r.pos == 7 && r.refills == 2,
	   "a 0-byte request succeeds without touching the buffer");
	free(big);
}

/* Bytes handed out are zeroed in r->buf; the rest stay as fetched. */
static void
test_random_bytes_wipe(void)
{
	unsigned char out[2 * SK_RANDOM_BUFSIZE];
	SkRandom	r;
	bool		good = true;

	stream_reset();
	sk_random_init(&r, stream_fill);
	sk_random_bytes(&r, 100, out, 10);
	for (size_t i = 0; i < SK_RANDOM_BUFSIZE; i++)
		if (r.buf[i] != (i < 10 ? 0 : stream_byte(i)))
			good = false;
	ok(good, "after 10 bytes: buf[0..10) zero, buf[10..) still unread bytes");

	/* 1000 + 34 bytes: the rest of block 1, then 20 of block 2 */
	sk_random_bytes(&r, 100, out, 1000);
	sk_random_bytes(&r, 100, out, 34);
	good = r.refills == 2 && r.pos == 20;
	for (size_t i = 0; i < SK_RANDOM_BUFSIZE; i++)
		if (r.buf[i] != (i < 20 ? 0 : stream_byte(SK_RANDOM_BUFSIZE + i)))
			good = false;
	ok(good, "across a refill: the old block fully consumed, new buf[0..20) zero");

	sk_random_forget(&r);
	good = r.pos == 0 && r.len == 0 && r.owner == -1;
	for (size_t i = 0; i < SK_RANDOM_BUFSIZE; i++)
		if (r.buf[i] != 0)
			good = false;
	ok(good, "sk_random_forget zeroes the whole buffer and disowns it");
}

/* True when the state holds no bytes and no owner: a failure's aftermath. */
static bool
random_state_empty(const SkRandom *r)
{
	if (r->pos != 0 || r->len != 0 || r->owner != -1)
		return false;
	for (size_t i = 0; i < SK_RANDOM_BUFSIZE; i++)
		if (r->buf[i] != 0)
			return false;
	return true;
}

/*
 * A failing entropy source makes every consumer return false, and a failed
 * refill leaves the state empty (nothing half-filled is served later).
 */
static void
test_random_failure(void)
{
	unsigned char out[SK_RANDOM_BUFSIZE];
	unsigned char big[2 * SK_RANDOM_BUFSIZE];
	SkRandom	r;
	SkAlphabet	a;
	unsigned int v;
	size_t		outlen;
	uint64_t	next;

	stream_reset();
	sk_random_init(&r, stream_fill);
	stream_failing = true;
	ok(!sk_random_bytes(&r, 100, out, 1) && random_state_empty(&r) &&
	   r.refills == 0,
	   "failing first refill: false, state empty, refills not counted");

	stream_failing = false;
	sk_random_bytes(&r, 100, out, 10);
	next = stream_next;
	stream_failing = true;
	ok(!sk_random_bytes(&r, 100, out, SK_RANDOM_BUFSIZE - 1) &&
	   random_state_empty(&r) && r.refills == 1,
	   "refill failing mid-request: false, buffer wiped and disowned");

	stream_failing = false;
	ok(sk_random_bytes(&r, 100, out, 4) && stream_equals(out, 4, next) &&
	   r.refills == 2 && r.pos == 4,
	   "after a failure the next request starts a fresh block");

	stream_failing = true;
	ok(!sk_random_bytes(&r, 100, big, sizeof(big)) && r.pos == 4 &&
	   r.len == SK_RANDOM_BUFSIZE && r.refills == 2,
	   "failing bypass request: false, buffered bytes left intact");

	sk_random_forget(&r);
	ok(!sk_random_below(&r, 100, 10, 1, &v), "sk_random_below fails with the source");
	sk_alphabet_parse(&a, "abc", 3, ref_utf8_mblen, NULL);
	ok(!sk_public_id_fill(&a, 5, &r, 100, (char *) out, &outlen),
	   "sk_public_id_fill fails with the source");
	ok(!sk_random_digits(6, &r, 100, (char *) out),
	   "sk_random_digits fails with the source");
	stream_failing = false;
}

/* -------------------------------------------------------- sk_alphabet */

/* Every byte is one character: a single-byte server encoding (LATIN1). */
static int
mblen_one(const char *s)
{
	(void) s;
	return 1;
}

/* A broken character length function: zero. */
static int
mblen_zero(const char *s)
{
	(void) s;
	return 0;
}

/* A character longer than SK_SYMBOL_MAX_BYTES (GB18030 has none, but...). */
static int
mblen_five(const char *s)
{
	return (unsigned char) *s >= 0x80 ? 5 : 1;
}

/* Appends code point cp as UTF-8; returns the number of bytes. */
static int
put_utf8(unsigned int cp, char *out)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Strict check that s[0..len) is exactly one well-formed UTF-8 character
 * (no overlongs, surrogates or code points above U+10FFFF).
 */
static bool
is_one_utf8_char(const unsigned char *s, int len)
{
	unsigned int cp;
	int			need;

	if (len == 1)
		return s[0] < 0x80;
	if ((s[0] & 0xE0) == 0xC0)
		need = 2, cp = s[0] & 0x1F;
	else if ((s[0] & 0xF0) == 0xE0)
		need = 3, cp = s[0] & 0x0F;
	else if ((s[0] & 0xF8) == 0xF0)
		need = 4, cp = s[0] & 0x07;
	else
		return false;
	if (need != len)
		return false;
	for (int i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return false;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	return true;
}

/*
 * Structural invariants of a parsed alphabet against its source: symbols
 * tile the source exactly, each is one whole character of the mblen
 * function, maxlen and single_byte agree with the symbols.
 */
static bool
alphabet_tiles(const SkAlphabet *a, const char *s, size_t len,
			   sk_mblen_fn mblen, bool utf8)
{
	int			maxlen = 0;
	bool		single = true;

	if (a->off[0] != 0 || a->off[a->nsymbols] != len)
		return false;
	for (int i = 0; i < a->nsymbols; i++)
	{
		int			l = a->off[i + 1] - a->off[i];
		const char *sym = a->bytes + a->off[i];

		if (l < 1 || l > SK_SYMBOL_MAX_BYTES || l != mblen(sym) ||
			memcmp(sym, s + a->off[i], (size_t) l) != 0)
			return false;
		if (utf8 && !is_one_utf8_char((const unsigned char *) sym, l))
			return false;
		if (l > maxlen)
			maxlen = l;
		if (l > 1)
			single = false;
	}
	return a->maxlen == maxlen && a->single_byte == single;
}

/* Accepted alphabets, with their exact symbol structure. */
static void
test_alphabet_ok(void)
{
	static const char *const multi = "αβγ€😀";
	SkAlphabet	a;
	char		all[256];
	char		big[256 * 4];
	size_t		blen = 0;
	int			dup = -7;

	ok(sk_alphabet_parse(&a, DEFAULT_ALPHABET, 62, ref_utf8_mblen, &dup) ==
	   SK_ALPHABET_OK && a.nsymbols == 62 && a.single_byte && a.maxlen == 1 &&
	   alphabet_tiles(&a, DEFAULT_ALPHABET, 62, ref_utf8_mblen, true) &&
	   dup == -7,
	   "default 62-character alphabet: OK, 62 single-byte symbols");

	ok(sk_alphabet_parse(&a, "ab", 2, ref_utf8_mblen, NULL) == SK_ALPHABET_OK &&
	   a.nsymbols == 2 && a.bytes[0] == 'a' && a.bytes[1] == 'b' &&
	   a.off[2] == 2,
	   "'ab': OK, the smallest alphabet");

	for (int i = 0; i < 256; i++)
		all[i] = (char) (255 - i);
	ok(sk_alphabet_parse(&a, all, 256, mblen_one, NULL) == SK_ALPHABET_OK &&
	   a.nsymbols == 256 && a.single_byte &&
	   alphabet_tiles(&a, all, 256, mblen_one, false),
	   "256 distinct single bytes (single-byte encoding): OK, 256 symbols");

	ok(sk_alphabet_parse(&a, multi, strlen(multi), ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 5 && !a.single_byte && a.maxlen == 4 &&
	   a.off[1] == 2 && a.off[2] == 4 && a.off[3] == 6 && a.off[4] == 9 &&
	   a.off[5] == 13 &&
	   alphabet_tiles(&a, multi, strlen(multi), ref_utf8_mblen, true),
	   "'αβγ€😀': OK, 5 symbols of 2, 2, 2, 3 and 4 bytes");

	ok(sk_alphabet_parse(&a, "a\xC3\xA9" "e", 4, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 3 && !a.single_byte && a.maxlen == 2,
	   "'aée': 'é' and 'e' are different symbols");

	/* 256 four-byte characters: exactly fills SkAlphabet.bytes */
	for (unsigned int cp = 0x1F300; cp < 0x1F300 + 256; cp++)
		blen += (size_t) put_utf8(cp, big + blen);
	ok(sk_alphabet_parse(&a, big, blen, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 256 && a.maxlen == 4 &&
	   a.off[256] == 1024 &&
	   alphabet_tiles(&a, big, blen, ref_utf8_mblen, true),
	   "256 four-byte characters (1024 bytes): OK, 256 symbols");
}

/*
 * On DUPLICATE, off[dup_index..dup_index + 1] delimits the repeated symbol:
 * src/ids.c prints it in the error detail.  Checked on memory that holds a
 * previous, longer alphabet (the fn_extra cache) and on garbage (a fresh
 * allocation), for the single-byte and the multibyte duplicate paths.
 */
static void
test_alphabet_dup_symbol(void)
{
	static const struct
	{
		const char *s;
		const char *sym;
	}			cases[] =
	{
		{"aa", "a"}, {"abca", "a"}, {"xyαβγx", "x"}, {"αβα", "α"},
		{"a€b€", "€"}, {"😀x😀", "😀"},
	};
	SkAlphabet	a;
	bool		good = true;

	for (size_t i = 0; i < lengthof(cases); i++)
	{
		for (int garbage = 0; garbage < 2; garbage++)
		{
			int			dup = -1;
			int			l;

			if (garbage)
				memset(&a, 0xA5, sizeof(a));
			else
				sk_alphabet_parse(&a, "αβγδεζηθ", 16, ref_utf8_mblen, NULL);
			if (sk_alphabet_parse(&a, cases[i].s, strlen(cases[i].s),
								  ref_utf8_mblen, &dup) != SK_ALPHABET_DUPLICATE ||
				dup < 0 || dup >= SK_ALPHABET_MAX_SYMBOLS)
			{
				good = false;
				continue;
			}
			l = a.off[dup + 1] - a.off[dup];
			if (l != (int) strlen(cases[i].sym) ||
				memcmp(a.bytes + a.off[dup], cases[i].sym, (size_t) l) != 0)
			{
				diag("'%s' over %s: symbol %d spans off %d..%d",
					 cases[i].s, garbage ? "garbage" : "a stale alphabet", dup,
					 a.off[dup], a.off[dup + 1]);
				good = false;
			}
		}
	}
	ok(good, "DUPLICATE: off[dup_index..dup_index+1] is exactly the repeated "
	   "symbol (what src/ids.c prints)");
}

/* Every rejection status, with the value the server reports for it. */
static void
test_alphabet_errors(void)
{
	static const struct
	{
		const char *s;
		int			want_dup;
		const char *desc;
	}			dups[] =
	{
		{"aa", 1, "'aa'"},
		{"abca", 3, "'abca'"},
		{"0123456789a0", 11, "'0123456789a0'"},
		{"αβα", 2, "'αβα'"},
		{"a€b€", 3, "'a€b€'"},
		{"😀x😀", 2, "'😀x😀'"},
		{"xyαβγβ", 5, "'xyαβγβ'"},
	};
	static const struct
	{
		const char *s;
		size_t		len;
		const char *desc;
	}			bad[] =
	{
		{"a\xC3", 2, "'a' + lead byte of a 2-byte character"},
		{"ab\xE2\x82", 4, "3-byte character cut after 2 bytes"},
		{"ab\xF0\x9F\x98", 5, "4-byte character cut after 3 bytes"},
		{"\xF0", 1, "a lone 4-byte lead byte"},
	};
	SkAlphabet	a;
	char		many[257 * 2];
	size_t		mlen = 0;
	int			dup;

	ok(sk_alphabet_parse(&a, "", 0, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_FEW && a.nsymbols == 0,
	   "empty alphabet: TOO_FEW, 0 symbols");
	ok(sk_alphabet_parse(&a, "a", 1, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_FEW && a.nsymbols == 1,
	   "'a': TOO_FEW, 1 symbol");
	ok(sk_alphabet_parse(&a, "😀", 4, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_FEW && a.nsymbols == 1,
	   "'😀' (4 bytes, 1 character): TOO_FEW, 1 symbol");

	for (unsigned int cp = 0x100; cp < 0x100 + 257; cp++)
		mlen += (size_t) put_utf8(cp, many + mlen);
	ok(sk_alphabet_parse(&a, many, mlen, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_TOO_MANY,
	   "257 distinct 2-byte characters: TOO_MANY");
	ok(sk_alphabet_parse(&a, many, mlen - 2, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_OK && a.nsymbols == 256,
	   "the first 256 of them: OK");
	{
		char		mixed[128 + 129 * 2];
		size_t		l = 0;

		for (unsigned int cp = 0; cp < 128; cp++)
			l += (size_t) put_utf8(cp, mixed + l);
		for (unsigned int cp = 0x400; cp < 0x400 + 129; cp++)
			l += (size_t) put_utf8(cp, mixed + l);
		ok(sk_alphabet_parse(&a, mixed, l, ref_utf8_mblen, NULL) ==
		   SK_ALPHABET_TOO_MANY,
		   "128 ASCII + 129 Cyrillic characters: TOO_MANY");
	}
	{
		char		b257[257 * 4];
		size_t		l = 0;

		for (unsigned int cp = 0x1F300; cp < 0x1F300 + 257; cp++)
			l += (size_t) put_utf8(cp, b257 + l);
		ok(sk_alphabet_parse(&a, b257, l, ref_utf8_mblen, NULL) ==
		   SK_ALPHABET_TOO_MANY,
		   "257 four-byte characters (1028 bytes): TOO_MANY, no overflow");
	}

	for (size_t i = 0; i < lengthof(dups); i++)
	{
		dup = -1;
		if (!ok(sk_alphabet_parse(&a, dups[i].s, strlen(dups[i].s),
								  ref_utf8_mblen, &dup) ==
				SK_ALPHABET_DUPLICATE && dup == dups[i].want_dup,
				"%s: DUPLICATE at symbol index %d", dups[i].desc,
				dups[i].want_dup))
			diag("dup_index %d", dup);
	}
	ok(sk_alphabet_parse(&a, "abca", 4, ref_utf8_mblen, NULL) ==
	   SK_ALPHABET_DUPLICATE,
	   "DUPLICATE without a dup_index pointer");

	for (size_t i = 0; i < lengthof(bad); i++)
		ok(sk_alphabet_parse(&a, bad[i].s, bad[i].len, ref_utf8_mblen, NULL) ==
		   SK_ALPHABET_BAD_ENCODING, "%s: BAD_ENCODING", bad[i].desc);
	ok(sk_alphabet_parse(&a, "ab", 2, mblen_zero, NULL) ==
	   SK_ALPHABET_BAD_ENCODING,
	   "character length 0 from mblen: BAD_ENCODING, no endless loop");
	ok(sk_alphabet_parse(&a, "ab\xC3\xA9\xC3\xA9x", 7, mblen_five, NULL) ==
	   SK_ALPHABET_BAD_ENCODING,
	   "5-byte character (> SK_SYMBOL_MAX_BYTES): BAD_ENCODING");
}

/*
 * The split never cuts a character: for assorted valid UTF-8 alphabets,
 * every symbol is exactly one well-formed character and they tile the input.
 */
static void
test_alphabet_split(void)
{
	static const char *const samples[] = {
		"aé€😀", "😀€éa", "日本語テキスト", "ÀÁÂÃÄÅ", "a😀b😁c😂",
		"\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBD\xF4\x8F\xBF\xBF",
	};
	SkAlphabet	a;
	bool		good = true;

	for (size_t i = 0; i < lengthof(samples); i++)
	{
		size_t		len = strlen(samples[i]);

		if (sk_alphabet_parse(&a, samples[i], len, ref_utf8_mblen, NULL) !=
			SK_ALPHABET_OK ||
			!alphabet_tiles(&a, samples[i], len, ref_utf8_mblen, true))
		{
			diag("bad split of '%s'", samples[i]);
			good = false;
		}
	}
	ok(good, "UTF-8 alphabets split into whole characters (%zu samples)",
	   lengthof(samples));
}

/* Index of symbol sym[0..len) in a, or -1. */
static int
alphabet_find(const SkAlphabet *a, const char *sym, int len)
{
	for (int i = 0; i < a->nsymbols; i++)
		if (a->off[i + 1] - a->off[i] == len &&
			memcmp(a->bytes + a->off[i], sym, (size_t) len) == 0)
			return i;
	return -1;
}

/*
 * Splits an ID back into symbols; returns how many, or -1 if some piece is
 * not a symbol of a (a cut character or a foreign byte).  idx, if given,
 * receives the symbol indices.
 */
static int
id_symbols(const SkAlphabet *a, const char *id, size_t len, int *idx)
{
	int			n = 0;

	for (size_t p = 0; p < len;)
	{
		int			l = ref_utf8_mblen(id + p);
		int			k;

		if ((size_t) l > len - p || (k = alphabet_find(a, id + p, l)) < 0)
			return -1;
		if (idx)
			idx[n] = k;
		n++;
		p += (size_t) l;
	}
	return n;
}

/* ------------------------------------------------- sk_public_id_fill */

/* Exact output for scripted bytes, sizes, and the buffer size contract. */
static void
test_public_id_basic(void)
{
	static const unsigned char s1[] = {0, 1, 2, 255, 3};
	static const unsigned char s2[] = {5, 254, 255, 1};
	SkAlphabet	a;
	SkRandom	r;
	char	   *out;
	size_t		outlen = 0;

	sk_alphabet_parse(&a, "abc", 3, ref_utf8_mblen, NULL);
	script_set(s1, sizeof(s1));
	sk_random_init(&r, script_fill);
	out = malloc(sk_public_id_max_bytes(&a, 4));
	ok(sk_public_id_max_bytes(&a, 4) == 4 &&
	   sk_public_id_fill(&a, 4, &r, 100, out, &outlen) && outlen == 4 &&
	   memcmp(out, "abca", 4) == 0,
	   "alphabet 'abc', bytes 0 1 2 255 3: 'abca' (255 rejected)");
	free(out);

	sk_alphabet_parse(&a, "αβγ", 6, ref_utf8_mblen, NULL);
	script_set(s2, sizeof(s2));
	sk_random_init(&r, script_fill);
	out = malloc(sk_public_id_max_bytes(&a, 3));
	ok(sk_public_id_max_bytes(&a, 3) == 6 &&
	   sk_public_id_fill(&a, 3, &r, 100, out, &outlen) && outlen == 6 &&
	   memcmp(out, "γγβ", 6) == 0,
	   "alphabet 'αβγ', bytes 5 254 255 1: 'γγβ', 6 bytes");
	free(out);

	sk_random_init(&r, counting_strong);
	sk_alphabet_parse(&a, DEFAULT_ALPHABET, 62, ref_utf8_mblen, NULL);
	out = malloc(sk_public_id_max_bytes(&a, 21));
	ok(sk_public_id_fill(&a, 21, &r, getpid(), out, &outlen) &&
	   outlen == 21 && id_symbols(&a, out, outlen, NULL) == 21,
	   "size 21, default alphabet: 21 bytes, all from the alphabet");
	free(out);

	{
		char		dummy[1];

		outlen = 99;
		ok(sk_public_id_fill(&a, 0, &r, getpid(), dummy, &outlen) &&
		   outlen == 0, "size 0: empty output");
	}

	sk_alphabet_parse(&a, "αβγ€😀", 13, ref_utf8_mblen, NULL);
	out = malloc(sk_public_id_max_bytes(&a, SK_PUBLIC_ID_MAX_SIZE));
	ok(sk_public_id_max_bytes(&a, SK_PUBLIC_ID_MAX_SIZE) ==
	   4 * SK_PUBLIC_ID_MAX_SIZE &&
	   sk_public_id_fill(&a, SK_PUBLIC_ID_MAX_SIZE, &r, getpid(), out,
						 &outlen) &&
	   outlen <= 4 * SK_PUBLIC_ID_MAX_SIZE &&
	   id_symbols(&a, out, outlen, NULL) == SK_PUBLIC_ID_MAX_SIZE,
	   "size %d over 'αβγ€😀': %zu bytes, %d whole symbols, fits max_bytes",
	   SK_PUBLIC_ID_MAX_SIZE, outlen, SK_PUBLIC_ID_MAX_SIZE);
	free(out);
}

/*
 * Every position of an ID is uniform over the alphabet: a chi-square test
 * per position, for a single-byte and a multibyte alphabet.
 */
static void
test_public_id_positions(const char *alphabet, int size, int nids)
{
	SkAlphabet	a;
	SkRandom	r;
	uint64_t	(*counts)[257];
	char	   *out;
	int			idx[64];
	int			worst = 0;
	double		worst_x = -1;
	bool		good = true;

	sk_alphabet_parse(&a, alphabet, strlen(alphabet), ref_utf8_mblen, NULL);
	sk_random_init(&r, counting_strong);
	counts = calloc((size_t) size, sizeof(*counts));
	out = malloc(sk_public_id_max_bytes(&a, size));
	for (int i = 0; i < nids; i++)
	{
		size_t		outlen;

		if (!sk_public_id_fill(&a, size, &r, getpid(), out, &outlen) ||
			id_symbols(&a, out, outlen, idx) != size)
		{
			good = false;
			break;
		}
		for (int p = 0; p < size; p++)
			counts[p][idx[p]]++;
	}
	for (int p = 0; p < size && good; p++)
	{
		double		x = chi2_stat(counts[p], a.nsymbols);

		if (x > worst_x)
			worst_x = x, worst = p;
	}
	if (!ok(good && worst_x < chi2_critical(a.nsymbols - 1),
			"'%s', %d IDs of size %d: every position uniform "
			"(worst chi2 %.1f < %.1f)", alphabet, nids, size, worst_x,
			chi2_critical(a.nsymbols - 1)))
		diag("worst position %d, IDs well-formed: %s", worst,
			 good ? "yes" : "no");
	free(counts);
	free(out);
}

/* -------------------------------------------------- sk_random_digits */

/* Only digits, leading zeros kept, every digit and position uniform. */
static void
test_random_digits(void)
{
	const int	ncodes = 50000;
	const int	digits = 6;
	uint64_t	all[11] = {0};
	uint64_t	first[11] = {0};
	SkRandom	r;
	char	   *out = malloc(SK_CODE_MAX_DIGITS + 1);
	bool		only_digits = true;
	int			leading_zero = 0;

	sk_random_init(&r, counting_strong);
	for (int i = 0; i < ncodes; i++)
	{
		if (!sk_random_digits(digits, &r, getpid(), out))
			only_digits = false;
		for (int d = 0; d < digits; d++)
		{
			int			v = out[d] - '0';

			if (v < 0 || v > 9)
			{
				only_digits = false;
				v = 10;
			}
			all[v]++;
			if (d == 0)
				first[v]++;
		}
		if (out[0] == '0')
			leading_zero++;
	}
	ok(only_digits, "%d codes of %d digits: only '0'..'9'", ncodes, digits);
	ok(leading_zero > ncodes / 10 - 1000 && leading_zero < ncodes / 10 + 1000,
	   "leading zeros kept: %d of %d codes start with '0' (expected ~%d)",
	   leading_zero, ncodes, ncodes / 10);
	chi2_uniform_ok(all, 10, "sk_random_digits, all digits");
	chi2_uniform_ok(first, 10, "sk_random_digits, first digit");

	memset(out, 'x', SK_CODE_MAX_DIGITS);
	out[SK_CODE_MAX_DIGITS] = '\0';
	ok(sk_random_digits(SK_CODE_MAX_DIGITS, &r, getpid(), out) &&
	   strspn(out, "0123456789") == SK_CODE_MAX_DIGITS,
	   "%d digits fill exactly %d bytes", SK_CODE_MAX_DIGITS,
	   SK_CODE_MAX_DIGITS);
	memset(out, 'x', SK_CODE_MAX_DIGITS);
	ok(sk_random_digits(0, &r, getpid(), out) && out[0] == 'x',
	   "0 digits write nothing");
	free(out);
}

/* --------------------------------------------------------- sk_encode */

/* True when s[0..len) uses only the base64url alphabet, without padding. */
static bool
url_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/*
 * What src/ids.c does: standard base64 by PostgreSQL, then in place to
 * base64url.  Returns a malloc'ed string of exactly the result's length
 * (at least 1 byte), or NULL if the encoder failed.
 */
static char *
token_encode(const unsigned char *raw, int n, size_t *len)
{
	int			enclen = test_b64_enc_len(n);
	char	   *buf = malloc((size_t) enclen + 1);
	int			got = test_b64_encode(raw, n, buf, enclen);

	if (got < 0)
	{
		free(buf);
		return NULL;
	}
	*len = sk_b64_to_url(buf, (size_t) got);
	return buf;
}

/* Unpadded lengths, against the encoder for 0..100 bytes and known values. */
static void
test_b64_lengths(void)
{
	static const struct
	{
		size_t		n;
		size_t		len;
	}			known[] =
	{
		{0, 0}, {1, 2}, {2, 3}, {3, 4}, {4, 6}, {16, 22}, {32, 43},
		{64, 86}, {1024, 1366},
	};
	unsigned char raw[SK_TOKEN_MAX_BYTES];
	bool		good = true;
	int			bad_n = -1;

	for (size_t i = 0; i < lengthof(known); i++)
		ok(ref_b64url_encoded_len(known[i].n) == known[i].len,
		   "ref_b64url_encoded_len(%zu) == %zu", known[i].n, known[i].len);

	test_strong_random(raw, sizeof(raw));
	for (int n = 0; n <= 100 && good; n++)
	{
		size_t		len = 0;
		char	   *t = token_encode(raw, n, &len);

		if (t == NULL || len != ref_b64url_encoded_len((size_t) n) ||
			!url_safe(t, len))
			good = false, bad_n = n;
		free(t);
	}
	if (!ok(good, "ref_b64url_encoded_len(n) is the real unpadded length, "
			"n = 0..100"))
		diag("first mismatch at n = %d", bad_n);
}

/* RFC 4648 section 10 vectors, plus the two URL-specific characters. */
static void
test_b64_vectors(void)
{
	static const struct
	{
		const char *raw;
		size_t		n;
		const char *url;
	}			vec[] =
	{
		{"", 0, ""}, {"f", 1, "Zg"}, {"fo", 2, "Zm8"}, {"foo", 3, "Zm9v"},
		{"foob", 4, "Zm9vYg"}, {"fooba", 5, "Zm9vYmE"},
		{"foobar", 6, "Zm9vYmFy"},
		{"\xFB\xFF", 2, "-_8"}, {"\xFF\xFF\xFE", 3, "___-"},
		{"\x00\x10\x83\x10\x51\x87\x20\x92\x8B\x30\xD3\x8F\x41\x14\x93\x51"
		 "\x55\x97\x61\x96\x9B\x71\xD7\x9F\x82\x18\xA3\x92\x59\xA7\xA2\x9A"
		 "\xAB\xB2\xDB\xAF\xC3\x1C\xB3\xD3\x5D\xB7\xE3\x9E\xBB\xF3\xDF\xBF",
		 48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"},
	};

	for (size_t i = 0; i < lengthof(vec); i++)
	{
		size_t		len = 0;
		char	   *t = token_encode((const unsigned char *) vec[i].raw,
									 (int) vec[i].n, &len);

		if (!ok(t != NULL && len == strlen(vec[i].url) &&
				memcmp(t, vec[i].url, len) == 0,
				"%zu bytes encode to '%s'", vec[i].n, vec[i].url))
			diag("got '%.*s'", t ? (int) len : 0, t ? t : "");
		free(t);
	}

	{
		char		s1[] = "ab+/==";
		char		s2[] = "====";
		char		s3[] = "a=b+";

		ok(sk_b64_to_url(s1, 6) == 4 && memcmp(s1, "ab-_", 4) == 0,
		   "sk_b64_to_url('ab+/==') == 'ab-_'");
		ok(sk_b64_to_url(s2, 4) == 0, "sk_b64_to_url('====') is empty");
		ok(sk_b64_to_url(s3, 4) == 4 && memcmp(s3, "a=b-", 4) == 0,
		   "sk_b64_to_url only strips trailing '='");
	}
}

/*
 * Random tokens round-trip: bytes -> pg_b64_encode -> base64url ->
 * ref_b64url_to_std -> the same standard text -> pg_b64_decode -> the same
 * bytes.  And PostgreSQL's encoder agrees with the reference encoder.
 */
static void
test_b64_roundtrip(void)
{
	unsigned char raw[1100];
	unsigned char back[1100];
	const int	iterations = 3000;
	int			failures = 0;
	int			ref_mismatch = 0;

	for (int it = 0; it < iterations; it++)
	{
		unsigned short pick;
		int			n;
		size_t		len = 0;
		size_t		stdlen = 0;
		char	   *url;
		char	   *std;
		char	   *ref;
		int			reflen;
		int			declen;

		test_strong_random(&pick, sizeof(pick));
		n = it < 200 ? it : pick % (int) sizeof(raw);
		test_strong_random(raw, (size_t) n);

		ref = malloc((size_t) test_b64_enc_len(n) + 1);
		reflen = ref_b64_encode(raw, n, ref, test_b64_enc_len(n));
		url = token_encode(raw, n, &len);
		/* exactly the padded size: ASan sees any write past it */
		std = malloc(len > 0 ? (len + 3) / 4 * 4 : 1);
		if (url == NULL || !url_safe(url, len) ||
			len != ref_b64url_encoded_len((size_t) n) ||
			!ref_b64url_to_std(url, len, std, (len + 3) / 4 * 4, &stdlen) ||
			stdlen != (size_t) reflen || memcmp(std, ref, stdlen) != 0 ||
			(declen = test_b64_decode(std, (int) stdlen, back,
									  (int) sizeof(back))) != n ||
			memcmp(back, raw, (size_t) n) != 0)
		{
			if (failures++ == 0)
				diag("round trip failed for %d bytes %s", n, hex(raw, (size_t) n));
		}

		/* PostgreSQL's padded output is what the reference coder writes */
		{
			char	   *pg = malloc((size_t) test_b64_enc_len(n) + 1);
			int			pglen = test_b64_encode(raw, n, pg, test_b64_enc_len(n));

			if (pglen != reflen || memcmp(pg, ref, (size_t) reflen) != 0)
				ref_mismatch++;
			free(pg);
		}
		free(ref);
		free(url);
		free(std);
	}
	ok(failures == 0, "%d random tokens (0..%zu bytes) round-trip through "
	   "base64url", iterations, sizeof(raw) - 1);
	ok(ref_mismatch == 0, "the base64 encoder in use agrees with the reference "
	   "encoder on %d inputs", iterations);
}

/* ref_b64url_to_std rejects what no encoder produces and never overflows. */
static void
test_b64_to_std_rejects(void)
{
	static const char url_chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char		out[16];
	size_t		outlen = 0;
	int			wrong_accept = 0;
	int			wrong_reject = 0;
	bool		good = true;

	for (int c = 0; c < 256; c++)
	{
		bool		valid = c != 0 && strchr(url_chars, c) != NULL;

		for (int p = 0; p < 4; p++)
		{
			char		in[4] = {'A', 'B', 'C', 'D'};
			bool		got;

			in[p] = (char) c;
			got = ref_b64url_to_std(in, 4, out, sizeof(out), &outlen);
			if (got && !valid)
				wrong_accept++;
			if (!got && valid)
				wrong_reject++;
		}
	}
	ok(wrong_accept == 0 && wrong_reject == 0,
	   "ref_b64url_to_std accepts exactly the 64 base64url characters "
	   "(%d wrongly accepted, %d wrongly rejected)", wrong_accept,
	   wrong_reject);

	for (size_t len = 1; len <= 13; len += 4)
		if (ref_b64url_to_std("AAAAAAAAAAAAAAAA", len, out, sizeof(out), &outlen))
			good = false;
	ok(good, "lengths 1, 5, 9, 13 (len %% 4 == 1) rejected");

	ok(ref_b64url_to_std("", 0, out, 0, &outlen) && outlen == 0,
	   "empty input: empty output");
	ok(ref_b64url_to_std("Zg", 2, out, 4, &outlen) && outlen == 4 &&
	   memcmp(out, "Zg==", 4) == 0, "'Zg' -> 'Zg=='");
	ok(ref_b64url_to_std("-_8", 3, out, 4, &outlen) && outlen == 4 &&
	   memcmp(out, "+/8=", 4) == 0, "'-_8' -> '+/8='");

	{
		char	   *exact = malloc(4);

		ok(!ref_b64url_to_std("Zg", 2, exact, 3, &outlen) &&
		   !ref_b64url_to_std("Zm9vYg", 6, exact, 4, &outlen),
		   "output buffer smaller than the padded length: rejected");
		free(exact);
	}
}

/* ---------------------------------------------------------- sk_uuid7 */

#define NS_PER_MS INT64_C(1000000)
#define T0 INT64_C(1700000000123456789)

/* The 60-bit time key of a UUIDv7: 48-bit ms, then 12-bit fraction. */
static uint64_t
uuid_key(const unsigned char u[16])
{
	uint64_t	ms = 0;

	for (int i = 0; i < 6; i++)
		ms = (ms << 8) | u[i];
	return (ms << 12) | ((uint64_t) (u[6] & 0x0F) << 8) | u[7];
}

/* The key the generator must write for timestamp ns (method 3). */
static uint64_t
expected_key(int64_t ns)
{
	return ((uint64_t) (ns / NS_PER_MS) << 12) |
		(uint64_t) ((ns % NS_PER_MS) * 4096 / NS_PER_MS);
}

/* Version 7, variant 10 (RFC 9562 section 4). */
static bool
uuid_v7_shape(const unsigned char u[16])
{
	return (u[6] >> 4) == 7 && (u[8] & 0xC0) == 0x80;
}

/* Wall clock in ns, as src/uuid7.c reads it. */
static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A fixed known timestamp gives fixed bytes 0..7; the rest is random. */
static void
test_uuid7_known(void)
{
	static const unsigned char want[8] = {
		0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 0x77, 0x4f
	};
	SkUuid7State st;
	SkRandom	r;
	unsigned char u[16];
	int64_t		ms = 0;

	stream_reset();
	sk_random_init(&r, stream_fill);
	sk_uuid7_init(&st);
	if (!ok(sk_uuid7_next(&st, T0, &r, 100, u) && memcmp(u, want, 8) == 0,
			"ns 1700000000123456789: ms 0x018bcfe5687b, version 7, "
			"fraction 0x74f"))
		diag("got %s", hex(u, 16));
	ok(u[8] == (0x80 | (stream_byte(0) & 0x3F)) &&
	   stream_equals(u + 9, 7, 1),
	   "bytes 8..15 are the random bytes, variant bits forced to 10");
	ok(sk_uuid7_unix_ms(u, &ms) && ms == T0 / NS_PER_MS,
	   "sk_uuid7_unix_ms gives back %" PRId64, T0 / NS_PER_MS);
}

/* Real clock: 100k values, each valid and strictly above the previous. */
static void
test_uuid7_real_clock(void)
{
	const int	n = 100000;
	SkUuid7State st;
	SkRandom	r;
	unsigned char prev[16];
	unsigned char u[16];
	int			not_increasing = 0;
	int			bad_shape = 0;
	int64_t		start = now_ns() / NS_PER_MS;
	int64_t		end;
	int64_t		first_ms = 0;
	int64_t		last_ms = 0;

	sk_random_init(&r, counting_strong);
	sk_uuid7_init(&st);
	for (int i = 0; i < n; i++)
	{
		if (!sk_uuid7_next(&st, now_ns(), &r, getpid(), u))
		{
			bad_shape++;
			continue;
		}
		if (!uuid_v7_shape(u))
			bad_shape++;
		if (i > 0 && memcmp(prev, u, 16) >= 0)
			not_increasing++;
		if (i == 0)
			sk_uuid7_unix_ms(u, &first_ms);
		memcpy(prev, u, 16);
	}
	end = now_ns() / NS_PER_MS;
	sk_uuid7_unix_ms(u, &last_ms);

	ok(bad_shape == 0, "%d UUIDs from the real clock: version 7, variant 10",
	   n);
	ok(not_increasing == 0, "%d UUIDs from the real clock: strictly "
	   "increasing (memcmp)", n);
	/* a burst may run ahead of the clock by at most n steps of 245 ns */
	ok(first_ms >= start && first_ms <= end &&
	   last_ms >= start && last_ms <= end + (n * SK_UUID7_STEP_NS) / NS_PER_MS + 1,
	   "timestamps lie within the run's wall-clock window");
}

/*
 * Simulated clocks: the same instant many times, a step back by an hour,
 * a jump forward.  Values stay strictly increasing, the timestamp field
 * never goes back, and the exact time key follows the method-3 rule.
 */
static void
test_uuid7_sim_clock(void)
{
	const int64_t hour = INT64_C(3600000000000);
	SkUuid7State st;
	SkRandom	r;
	unsigned char prev[16];
	unsigned char u[16];
	int64_t		last;			/* model of st.last_ns */
	int			bad;
	uint64_t	key_before_step;

	stream_reset();
	sk_random_init(&r, stream_fill);
	sk_uuid7_init(&st);

	/* constant clock */
	bad = 0;
	for (int i = 0; i < 10000; i++)
	{
		sk_uuid7_next(&st, T0, &r, 100, u);
		if ((i > 0 && memcmp(prev, u, 16) >= 0) ||
			uuid_key(u) != expected_key(T0 + (int64_t) i * SK_UUID7_STEP_NS) ||
			!uuid_v7_shape(u))
			bad++;
		memcpy(prev, u, 16);
	}
	last = T0 + 9999 * SK_UUID7_STEP_NS;
	ok(bad == 0 && st.last_ns == last,
	   "same clock 10000 times: strictly increasing, +245 ns each "
	   "(%d bad)", bad);

	/* step back by one hour */
	key_before_step = uuid_key(prev);
	bad = 0;
	for (int i = 0; i < 1000; i++)
	{
		sk_uuid7_next(&st, T0 - hour + i * 1000, &r, 100, u);
		last += SK_UUID7_STEP_NS;
		if (memcmp(prev, u, 16) >= 0 || uuid_key(u) != expected_key(last) ||
			uuid_key(u) >> 12 < key_before_step >> 12)
			bad++;
		memcpy(prev, u, 16);
	}
	ok(bad == 0, "clock 1 hour back: still increasing, timestamp does not "
	   "go back (%d bad)", bad);

	/* the clock catches up: it is used again as soon as it is ahead */
	sk_uuid7_next(&st, T0 + 1000000000, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 &&
	   uuid_key(u) == expected_key(T0 + 1000000000),
	   "clock ahead of the last value again: its own timestamp is used");
	memcpy(prev, u, 16);

	/* forward jump by a day */
	sk_uuid7_next(&st, T0 + 24 * hour, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 && uuid_key(u) == expected_key(T0 + 24 * hour),
	   "clock 1 day forward: exact new timestamp, increasing");
	memcpy(prev, u, 16);

	/* advances smaller than a step are rounded up to a step */
	sk_uuid7_next(&st, T0 + 24 * hour + 100, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 &&
	   uuid_key(u) == expected_key(T0 + 24 * hour + SK_UUID7_STEP_NS),
	   "clock +100 ns: last + 245 ns used, increasing");
	memcpy(prev, u, 16);

	/* every possible sub-step gap 0..244 still changes the key */
	bad = 0;
	for (int gap = 0; gap < SK_UUID7_STEP_NS; gap++)
	{
		int64_t		base = st.last_ns;

		sk_uuid7_next(&st, base + gap, &r, 100, u);
		if (memcmp(prev, u, 16) >= 0 || st.last_ns != base + SK_UUID7_STEP_NS)
			bad++;
		memcpy(prev, u, 16);
	}
	ok(bad == 0, "clock advancing 0..244 ns: one step each, increasing");

	/* negative clock on a fresh state: clamped to the epoch */
	sk_uuid7_init(&st);
	sk_uuid7_next(&st, -5, &r, 100, u);
	ok(uuid_key(u) == 0 && uuid_v7_shape(u),
	   "negative clock: timestamp 0 (the Unix epoch)");
	memcpy(prev, u, 16);
	sk_uuid7_next(&st, INT64_MIN, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 && uuid_key(u) == 1,
	   "INT64_MIN clock after that: still increasing");
}

/* A new process starts a new sequence, with fresh random bytes. */
static void
test_uuid7_pid_reset(void)
{
	const int64_t hour = INT64_C(3600000000000);
	SkUuid7State st;
	SkRandom	r;
	unsigned char u[16];
	uint64_t	refills;
	uint64_t	next;

	stream_reset();
	sk_random_init(&r, stream_fill);
	sk_uuid7_init(&st);
	for (int i = 0; i < 1000; i++)
		sk_uuid7_next(&st, T0, &r, 100, u);
	refills = r.refills;
	next = stream_next;

	sk_uuid7_next(&st, T0 - hour, &r, 101, u);
	ok(uuid_key(u) == expected_key(T0 - hour) && st.owner == 101 &&
	   st.last_ns == T0 - hour,
	   "pid change: the state is reset, the new pid's own clock is used");
	ok(r.refills == refills + 1 && stream_equals(u + 9, 7, next + 1),
	   "pid change: random bytes come from a fresh block");

	sk_uuid7_next(&st, T0 - 2 * hour, &r, 100, u);
	ok(uuid_key(u) == expected_key(T0 - 2 * hour),
	   "back to the first pid: reset again (its history is not kept)");
}

/* sk_uuid7_unix_ms decodes version 7 and refuses everything else. */
static void
test_uuid7_unix_ms(void)
{
	/* RFC 9562 appendix A.6 */
	static const unsigned char rfc7[16] = {
		0x01, 0x7F, 0x22, 0xE2, 0x79, 0xB0, 0x7C, 0xC3,
		0x98, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F
	};
	/* RFC 9562 appendix A.3 */
	static const unsigned char rfc4[16] = {
		0x91, 0x91, 0x08, 0xF7, 0x52, 0xD1, 0x43, 0x20,
		0x9B, 0xAC, 0xF8, 0x47, 0xDB, 0x41, 0x48, 0xA8
	};
	static const unsigned char nil[16] = {0};
	unsigned char maxu[16];
	unsigned char v[16];
	int64_t		ms = -1;
	bool		good = true;

	ok(sk_uuid7_unix_ms(rfc7, &ms) && ms == INT64_C(1645557742000),
	   "RFC 9562 example 017F22E2-79B0-7CC3-98C4-DC0C0C07398F: "
	   "1645557742000 ms");

	ms = -1;
	ok(!sk_uuid7_unix_ms(rfc4, &ms) && ms == -1, "RFC 9562 v4 example refused");
	ok(!sk_uuid7_unix_ms(nil, &ms), "nil UUID refused");
	memset(maxu, 0xFF, 16);
	ok(!sk_uuid7_unix_ms(maxu, &ms), "max UUID refused");

	memcpy(v, rfc7, 16);
	v[8] = 0xC4;				/* variant 110 (Microsoft) */
	if (sk_uuid7_unix_ms(v, &ms))
		good = false;
	v[8] = 0x44;				/* variant 0xx (NCS) */
	if (sk_uuid7_unix_ms(v, &ms))
		good = false;
	v[8] = 0xE4;				/* variant 111 (reserved) */
	if (sk_uuid7_unix_ms(v, &ms))
		good = false;
	ok(good, "version 7 with a non-RFC variant refused");

	memcpy(v, rfc7, 16);
	good = true;
	for (int ver = 0; ver < 16; ver++)
	{
		v[6] = (unsigned char) ((ver << 4) | 0x0C);
		if (sk_uuid7_unix_ms(v, &ms) != (ver == 7))
			good = false;
	}
	ok(good, "only version 7 of versions 0..15 is accepted");

	/* round trip over the whole range of the generator */
	{
		static const int64_t times[] = {
			0, 1, 999999, 1000000, T0, INT64_C(1) << 62,
			INT64_MAX - (INT64_C(1) << 40),
		};
		SkRandom	r;

		good = true;
		sk_random_init(&r, counting_strong);
		for (size_t i = 0; i < lengthof(times); i++)
		{
			SkUuid7State st;

			sk_uuid7_init(&st);
			if (!sk_uuid7_next(&st, times[i], &r, getpid(), v) ||
				!sk_uuid7_unix_ms(v, &ms) || ms != times[i] / NS_PER_MS)
			{
				diag("round trip of %" PRId64 " gave %" PRId64, times[i], ms);
				good = false;
			}
		}
		ok(good, "sk_uuid7_unix_ms round-trips generated timestamps, "
		   "epoch to year 2262");
	}
}

/* A failed random draw fails the UUID and leaves the sequence unchanged. */
static void
test_uuid7_entropy_failure(void)
{
	SkUuid7State st;
	SkRandom	r;
	unsigned char u[16];
	int64_t		last;

	stream_reset();
	sk_random_init(&r, stream_fill);
	sk_uuid7_init(&st);
	sk_uuid7_next(&st, T0, &r, 100, u);
	last = st.last_ns;
	sk_random_forget(&r);
	stream_failing = true;
	ok(!sk_uuid7_next(&st, T0 + 5000, &r, 100, u) && st.last_ns == last,
	   "entropy failure: false, last timestamp unchanged");
	stream_failing = false;
	ok(sk_uuid7_next(&st, T0, &r, 100, u) &&
	   uuid_key(u) == expected_key(last + SK_UUID7_STEP_NS),
	   "after the failure the sequence continues from the last value");
}

/* ------------------------------------------------- the end of the clock */

/*
 * A clock at INT64_MAX ns (year 2262, or a garbage clock) once overflowed
 * st->last_ns + SK_UUID7_STEP_NS; now the generator refuses instead.  Run
 * in a child so a sanitizer abort becomes a failed assertion here.
 */
static void
uuid7_clock_overflow(void)
{
	pid_t		pid;
	int			status = -1;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
	{
		SkUuid7State st;
		SkRandom	r;
		unsigned char u1[16];
		unsigned char u2[16];
		bool		ok1,
					ok2;

		sk_random_init(&r, test_strong_random);
		sk_uuid7_init(&st);
		ok1 = sk_uuid7_next(&st, INT64_MAX, &r, 1, u1);
		ok2 = sk_uuid7_next(&st, INT64_MAX, &r, 1, u2);
		/* acceptable: refuse, or stay increasing */
		_exit(ok1 && (!ok2 || memcmp(u1, u2, 16) < 0) ? 0 : 3);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (!ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
			"uuid7: the clock at INT64_MAX twice: no signed overflow, "
			"refused or still increasing"))
		diag("child %s %d (sanitizer report on stderr)",
			 WIFSIGNALED(status) ? "killed by signal" : "exited with",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* ------------------------------------------------------------- main */

/*
 * Runs the tests and prints the plan last (TAP allows a trailing plan), so
 * adding a test needs no count to be kept in sync.
 */
/* ------------------------------------------------------------ address */

/*
 * sk_address_key: ASCII A-Z folded, every other byte exact, length kept,
 * idempotent.  Checked over every single byte value, then over look-alikes
 * whose folding by a libc locale made 1.4 an account-takeover.
 */
static void
test_address_key(void)
{
	int			bad = 0;
	char		out[64];
	static const struct
	{
		const char *in;
		const char *key;
	}			cases[] = {
		{"Bob@GitHub.COM", "bob@github.com"},
		{"bob@g\xc4\xb0thub.com", "bob@g\xc4\xb0thub.com"},	/* U+0130 kept */
		{"\xe2\x84\xaa" "ate@kit.example", "\xe2\x84\xaa" "ate@kit.example"},	/* Kelvin kept */
		{"\xc3\x84" "DA@b\xc3\xbc" "cher.de", "\xc3\x84" "da@b\xc3\xbc" "cher.de"},	/* only ASCII folds */
		{"IVAN@MAIL.EXAMPLE", "ivan@mail.example"},	/* no Turkish dotless i */
		{"", ""},
	};

	for (int c = 0; c < 256; c++)
	{
		char		in = (char) c;
		char		o;

		sk_address_key(&in, 1, &o);
		if ((unsigned char) o != ((c >= 'A' && c <= 'Z') ? c + 32 : c))
			bad++;
	}
	ok(bad == 0, "sk_address_key folds exactly A-Z and keeps the other 230 byte values (%d wrong)", bad);

	for (size_t i = 0; i < lengthof(cases); i++)
	{
		size_t		n = strlen(cases[i].in);
		char		again[64];

		memset(out, 0, sizeof(out));
		sk_address_key(cases[i].in, n, out);
		sk_address_key(out, n, again);
		ok(memcmp(out, cases[i].key, n + 1) == 0 && memcmp(again, out, n) == 0,
		   "sk_address_key case %zu: the expected key, same length, idempotent", i);
	}
}

int
main(int argc, char **argv)
{
	if (argc > 1)
	{
		fprintf(stderr, "usage: %s\n", argv[0]);
		return 2;
	}
	diag("entropy and base64: %s", test_backend_name());

	{
		test_random_below_uniform();
		test_chi2_has_power();
		test_random_below_rejection();
		test_random_below_batch();
		test_random_below_range();
		test_fork_safety();
		test_fork_negative_control();
		test_pid_change();
		test_random_bytes_bypass();
		test_random_bytes_wipe();
		test_random_failure();

		test_alphabet_ok();
		test_alphabet_errors();
		test_alphabet_dup_symbol();
		test_alphabet_split();

		test_public_id_basic();
		test_public_id_positions("abcde", 8, 40000);
		test_public_id_positions("αβγ€😀", 6, 20000);
		test_public_id_positions(DEFAULT_ALPHABET, 4, 40000);
		test_random_digits();

		test_b64_lengths();
		test_b64_vectors();
		test_b64_roundtrip();
		test_b64_to_std_rejects();

		test_uuid7_known();
		test_uuid7_real_clock();
		test_uuid7_sim_clock();
		test_uuid7_pid_reset();
		test_uuid7_unix_ms();
		test_uuid7_entropy_failure();
		uuid7_clock_overflow();

		test_address_key();
	}

	printf("1..%d\n", tap_count);
	if (tap_failures > 0)
		diag("%d of %d tests failed", tap_failures, tap_count);
	return tap_failures > 0 ? 1 : 0;
}
