/*
 * code_key.h - the key email codes are hashed under (code_key.c): the file
 * the postmaster read (schemakit.code_key_file), else the setting
 * schemakit.code_hmac_key, else the per-database key in schemakit._code_key.
 */
#ifndef SK_CODE_KEY_H
#define SK_CODE_KEY_H

#include "compat.h"

/*
 * Shortest accepted key, in bytes, from any source.  The per-database key
 * must agree: CHECK (octet_length(key) = 32) of schemakit._code_key and the
 * random_token(32) that fills it (sql/schemakit--1.2--1.3.sql).
 */
#define CODE_KEY_MIN_LEN 32

extern void code_key_load_file(void);
extern bool code_key_from_server(const uint8 **key, size_t *keylen);
extern bytea *code_key_read_database(void);
extern void code_key_check_database(const bytea *k, const uint8 **key,
									size_t *keylen);

#endif							/* SK_CODE_KEY_H */
