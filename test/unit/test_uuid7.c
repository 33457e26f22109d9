/*
 * test_uuid7.c - unit tests of src/core/sk_uuid7.c: version 7 UUIDs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sk_random.h"
#include "sk_uuid7.h"
#include "unit.h"

#define NS_PER_MS INT64_C(1000000)
#define T0 INT64_C(1700000000123456789)

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
			ref_uuid7_key(u) != ref_uuid7_key_at(T0 + (int64_t) i * SK_UUID7_STEP_NS) ||
			!uuid_v7_shape(u))
			bad++;
		memcpy(prev, u, 16);
	}
	last = T0 + 9999 * SK_UUID7_STEP_NS;
	ok(bad == 0 && st.last_ns == last,
	   "same clock 10000 times: strictly increasing, +245 ns each "
	   "(%d bad)", bad);

	/* step back by one hour */
	key_before_step = ref_uuid7_key(prev);
	bad = 0;
	for (int i = 0; i < 1000; i++)
	{
		sk_uuid7_next(&st, T0 - hour + i * 1000, &r, 100, u);
		last += SK_UUID7_STEP_NS;
		if (memcmp(prev, u, 16) >= 0 || ref_uuid7_key(u) != ref_uuid7_key_at(last) ||
			ref_uuid7_key(u) >> 12 < key_before_step >> 12)
			bad++;
		memcpy(prev, u, 16);
	}
	ok(bad == 0, "clock 1 hour back: still increasing, timestamp does not "
	   "go back (%d bad)", bad);

	/* the clock catches up: it is used again as soon as it is ahead */
	sk_uuid7_next(&st, T0 + 1000000000, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 &&
	   ref_uuid7_key(u) == ref_uuid7_key_at(T0 + 1000000000),
	   "clock ahead of the last value again: its own timestamp is used");
	memcpy(prev, u, 16);

	/* forward jump by a day */
	sk_uuid7_next(&st, T0 + 24 * hour, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 && ref_uuid7_key(u) == ref_uuid7_key_at(T0 + 24 * hour),
	   "clock 1 day forward: exact new timestamp, increasing");
	memcpy(prev, u, 16);

	/* advances smaller than a step are rounded up to a step */
	sk_uuid7_next(&st, T0 + 24 * hour + 100, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 &&
	   ref_uuid7_key(u) == ref_uuid7_key_at(T0 + 24 * hour + SK_UUID7_STEP_NS),
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
	ok(ref_uuid7_key(u) == 0 && uuid_v7_shape(u),
	   "negative clock: timestamp 0 (the Unix epoch)");
	memcpy(prev, u, 16);
	sk_uuid7_next(&st, INT64_MIN, &r, 100, u);
	ok(memcmp(prev, u, 16) < 0 && ref_uuid7_key(u) == 1,
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
	ok(ref_uuid7_key(u) == ref_uuid7_key_at(T0 - hour) && st.owner == 101 &&
	   st.last_ns == T0 - hour,
	   "pid change: the state is reset, the new pid's own clock is used");
	ok(r.refills == refills + 1 && stream_equals(u + 9, 7, next + 1),
	   "pid change: random bytes come from a fresh block");

	sk_uuid7_next(&st, T0 - 2 * hour, &r, 100, u);
	ok(ref_uuid7_key(u) == ref_uuid7_key_at(T0 - 2 * hour),
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
	   ref_uuid7_key(u) == ref_uuid7_key_at(last + SK_UUID7_STEP_NS),
	   "after the failure the sequence continues from the last value");
}

/*
 * A clock at INT64_MAX ns (year 2262, or a garbage clock) must not overflow
 * st->last_ns + SK_UUID7_STEP_NS: the generator refuses instead.  Run
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

void
test_uuid7(void)
{
	test_uuid7_known();
	test_uuid7_real_clock();
	test_uuid7_sim_clock();
	test_uuid7_pid_reset();
	test_uuid7_unix_ms();
	test_uuid7_entropy_failure();
	uuid7_clock_overflow();
}
