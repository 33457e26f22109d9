/*
 * pg_glue.c - the server's own entropy and base64, from libpgport and
 * libpgcommon, behind the plain-C signatures of support.h.
 *
 * Only this file sees PostgreSQL headers: the core, the tests and the
 * fuzzers stay free of PostgreSQL types, as the core is.
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "common/base64.h"

#include "support.h"

/*
 * The extension's entropy source (src/backend_random.c).  pg_strong_random_init is
 * what a postmaster child runs after fork; calling it each time is cheap
 * with OpenSSL and keeps forked test children correct too.
 */
bool
test_strong_random(void *buf, size_t len)
{
	static pid_t inited = 0;

	if (inited != getpid())
	{
		pg_strong_random_init();
		inited = getpid();
	}
	return pg_strong_random(buf, len);
}

/* pg_b64_enc_len: the buffer size src/ids.c allocates. */
int
test_b64_enc_len(int srclen)
{
	return pg_b64_enc_len(srclen);
}

/* pg_b64_dec_len: an upper bound of the decoded length. */
int
test_b64_dec_len(int srclen)
{
	return pg_b64_dec_len(srclen);
}

/* pg_b64_encode, whose output src/ids.c hands to sk_b64_to_url. */
int
test_b64_encode(const unsigned char *src, int len, char *dst, int dstlen)
{
#if PG_VERSION_NUM >= 180000
	return pg_b64_encode(src, len, dst, dstlen);
#else
	return pg_b64_encode((const char *) src, len, dst, dstlen);
#endif
}

/* pg_b64_decode, to prove base64url tokens decode to the original bytes. */
int
test_b64_decode(const char *src, int len, unsigned char *dst, int dstlen)
{
#if PG_VERSION_NUM >= 180000
	return pg_b64_decode(src, len, dst, dstlen);
#else
	return pg_b64_decode(src, len, (char *) dst, dstlen);
#endif
}

/* For the TAP header: which implementations the run used. */
const char *
test_backend_name(void)
{
	return "pg_strong_random and pg_b64_encode/pg_b64_decode of PostgreSQL "
		PG_MAJORVERSION;
}
