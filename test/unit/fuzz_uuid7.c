/*
 * fuzz_uuid7.c - libFuzzer target: sk_uuid7_next under a fuzz-driven clock.
 *
 * The input is a program of 9-byte operations (an opcode and a 64-bit
 * argument) that move a simulated clock forwards, backwards and to absolute
 * values, change the process id, or make the entropy source fail.  After
 * every operation one UUID is generated and checked against a model of
 * RFC 9562 method 3: the exact 60-bit time key, version and variant, the
 * random bytes (an exact stream, including the fork rule that a new process
 * never reuses buffered bytes), and strict increase within a process.
 *
 * The clock stays below INT64_MAX - 2^40 ns (year 2262): at the very top of
 * the int64 range sk_uuid7_next refuses (returns false), which the model
 * does not describe; test_uuid7.c checks that edge (uuid7_clock_overflow).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sk_random.h"
#include "sk_uuid7.h"
#include "support.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define CLOCK_MIN (-(INT64_C(1) << 62))
#ifdef FUZZ_UUID7_FULL_RANGE
#define CLOCK_MAX INT64_MAX
#else
#define CLOCK_MAX (INT64_MAX - (INT64_C(1) << 40))
#endif
#define MAX_OPS 4096

/* The entropy stream: byte i is a hash of i; failing calls produce nothing. */
static uint64_t stream_next;
static bool stream_failing;

/* Byte i of the stream. */
static unsigned char
stream_byte(uint64_t i)
{
	return (unsigned char) ref_mix64(i);
}

/* Entropy function over the stream. */
static bool
stream_fill(void *buf, size_t len)
{
	unsigned char *p = buf;

	if (stream_failing)
		return false;
	for (size_t i = 0; i < len; i++)
		p[i] = stream_byte(stream_next++);
	return true;
}

/* now + delta, kept inside [CLOCK_MIN, CLOCK_MAX] without overflowing. */
static int64_t
clock_add(int64_t now, int64_t delta)
{
	int64_t		r;

	if (__builtin_add_overflow(now, delta, &r))
		r = delta > 0 ? CLOCK_MAX : CLOCK_MIN;
	if (r > CLOCK_MAX)
		r = CLOCK_MAX;
	if (r < CLOCK_MIN)
		r = CLOCK_MIN;
	return r;
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SkUuid7State st;
	SkRandom	r;
	int64_t		now = INT64_C(1700000000000000000);
	long		pid = 1000;
	bool		have_last = false;
	int64_t		last = 0;		/* model of st.last_ns */
	uint64_t	pos = 0;		/* stream index of the next byte served */
	unsigned char prev[16];
	bool		have_prev = false;

	if (size / 9 > MAX_OPS)
		return 0;
	stream_next = 0;
	stream_failing = false;
	sk_random_init(&r, stream_fill);
	sk_uuid7_init(&st);

	for (size_t i = 0; i < size; i += 9)
	{
		uint8_t		op = data[i];
		uint64_t	arg = 0;
		unsigned char u[16];
		bool		fail = false;
		bool		got;
		int64_t		ns;
		int64_t		ms;

		for (size_t j = 1; j < 9 && i + j < size; j++)
			arg |= (uint64_t) data[i + j] << (8 * (j - 1));

		switch (op % 8)
		{
			case 0:				/* small step, possibly below 245 ns */
				now = clock_add(now, (int64_t) (arg % 65536));
				break;
			case 1:				/* step back, up to ~71 minutes */
				now = clock_add(now, -(int64_t) (arg % (UINT64_C(1) << 32)) * 1000);
				break;
			case 2:				/* clock stands still */
				break;
			case 3:				/* jump forward, up to ~12 days */
				now = clock_add(now, (int64_t) (arg % (UINT64_C(1) << 20)) * NS_PER_S);
				break;
			case 4:				/* absolute clock */
				now = clock_add((int64_t) arg, 0);
				break;
			case 5:				/* a new process (fork) */
				pid++;
				have_last = false;
				have_prev = false;
				pos = (pos + SK_RANDOM_BUFSIZE - 1) / SK_RANDOM_BUFSIZE *
					SK_RANDOM_BUFSIZE;
				break;
			case 6:				/* entropy source fails */
				fail = true;
				break;
			case 7:				/* step back one hour */
				now = clock_add(now, -3600 * NS_PER_S);
				break;
		}

		stream_failing = fail;
		got = sk_uuid7_next(&st, now, &r, pid, u);
		stream_failing = false;

		/* a failure only shows when the buffer needs a refill */
		if (fail && pos % SK_RANDOM_BUFSIZE == 0)
		{
			CHECK(!got);
			CHECK(have_last ? st.last_ns == last : st.last_ns == INT64_MIN);
			continue;
		}
		CHECK(got);

		/* model: method 3, never less than one step after the last value */
		ns = now < 0 ? 0 : now;
		if (have_last && ns < last + SK_UUID7_STEP_NS)
			ns = last + SK_UUID7_STEP_NS;
		last = ns;
		have_last = true;
		CHECK(st.last_ns == ns && st.owner == pid);

		CHECK(ref_uuid7_key(u) == ref_uuid7_key_at(ns));
		CHECK((u[6] >> 4) == 7 && (u[8] & 0xC0) == 0x80);
		CHECK((u[8] & 0x3F) == (stream_byte(pos) & 0x3F));
		for (int j = 9; j < 16; j++)
			CHECK(u[j] == stream_byte(pos + (uint64_t) j - 8));
		pos += 8;

		CHECK(sk_uuid7_unix_ms(u, &ms) && ms == ns / NS_PER_MS);
		if (have_prev)
			CHECK(memcmp(prev, u, 16) < 0);
		memcpy(prev, u, 16);
		have_prev = true;
	}
	return 0;
}
