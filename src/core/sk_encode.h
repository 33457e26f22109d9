/*
 * sk_encode.h - base64url (RFC 4648 section 5) on top of standard base64.
 *
 * Pure C.  The server encodes with PostgreSQL's own pg_b64_encode and then
 * maps the result to the URL-safe alphabet here; the unit tests and fuzzers
 * map it back (test/unit/support.c) to check both directions.
 */
#ifndef SK_ENCODE_H
#define SK_ENCODE_H

#include <stddef.h>

#define SK_TOKEN_MIN_BYTES 16
#define SK_TOKEN_MAX_BYTES 1024

extern size_t sk_b64_to_url(char *s, size_t len);

#endif							/* SK_ENCODE_H */
