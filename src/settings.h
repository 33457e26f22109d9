/*
 * settings.h - the schemakit.* settings other files read (defined, with
 * their defaults, bounds and checks, in schemakit.c's _PG_init).
 */
#ifndef SK_SETTINGS_H
#define SK_SETTINGS_H

/* schemakit.code_hmac_key: the code key, deprecated for code_key_file. */
extern char *schemakit_code_hmac_key;

/* schemakit.code_key_file: where the postmaster reads the code key from. */
extern char *schemakit_code_key_file;

/* schemakit.code_guard_size: most live codes whose guesses shared memory counts. */
extern int	schemakit_code_guard_size;

/* Whether the library was loaded at server start (shared_preload_libraries). */
extern bool schemakit_preloaded;

#endif							/* SK_SETTINGS_H */
