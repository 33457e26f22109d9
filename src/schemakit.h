/*
 * schemakit.h - shared declarations of the SQL glue files.
 */
#ifndef SCHEMAKIT_H
#define SCHEMAKIT_H

#include "core/sk_random.h"

/* Since PostgreSQL 16 the varlena macros (VARDATA_ANY, ...) live in varatt.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* Shortest accepted schemakit.code_hmac_key, in bytes. */
#define SCHEMAKIT_MIN_KEY_LEN 32

extern char *schemakit_code_hmac_key;
extern int	schemakit_email_code_issue_limit;
extern int	schemakit_email_code_verify_limit;
extern int	schemakit_email_code_window;
extern bool schemakit_preloaded;

/* key_file.c: the code key read from schemakit.code_key_file at start. */
extern char *schemakit_code_key_file;
extern const char *schemakit_file_key;
extern void schemakit_load_key_file(void);

/* code_guard.c: failed guesses in shared memory. */
extern int	schemakit_code_guard_size;
extern Size schemakit_guard_shmem_size(void);
extern void schemakit_guard_request(void);
extern void schemakit_guard_startup(void);

/* address.c: the canonical key of an email address. */
extern text *schemakit_address_key(const text *email);

extern void schemakit_token_sha256(const text *token, uint8 *out);
/* Citus in shared_preload_libraries (session.c). */
extern bool schemakit_citus_loaded(void);

extern SkRandom *schemakit_rng(void);
extern void schemakit_random_bytes(void *out, size_t n);
#if PG_VERSION_NUM >= 180000
pg_noreturn extern void schemakit_random_failed(void);
#else
extern void schemakit_random_failed(void) pg_attribute_noreturn();
#endif

#endif							/* SCHEMAKIT_H */
