/*
 * token_hash.h - the stored form of a session, reset or invitation token:
 * SHA-256 of its UTF-8 bytes (token_hash.c).
 */
#ifndef SK_TOKEN_HASH_H
#define SK_TOKEN_HASH_H

#include "compat.h"

/*
 * Bytes of a token hash.  Must agree with the CHECK (octet_length(token_hash)
 * = 32) of schemakit.sessions (sql/schemakit--1.1--1.2.sql) and of the other
 * tables that store token hashes.
 */
#define TOKEN_HASH_LEN 32

extern void token_digest(const text *token, uint8 *out);

#endif							/* SK_TOKEN_HASH_H */
