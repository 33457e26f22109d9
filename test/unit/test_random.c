/*
 * test_random.c - unit tests of src/core/sk_random.c: the buffered,
 * fork-safe CSPRNG bytes and the unbiased sampler.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sk_alphabet.h"
#include "sk_random.h"
#include "unit.h"

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

void
test_random(void)
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
}
