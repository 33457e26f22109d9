/*
 * sk_address.h - the canonical key of an email address.
 *
 * Pure C.  The key is the address with ASCII letters A-Z folded to a-z and
 * every other byte kept exactly as it is.  It depends on no locale, no
 * collation, no ICU or glibc version: the same bytes in give the same key
 * on every server, forever.  Two addresses share a key only when they
 * differ in the case of ASCII letters, which no mail system tells apart in
 * a domain and none in common use tells apart in a local part.  Every
 * non-ASCII character stays exact, so a look-alike (U+0130, the Kelvin
 * sign, fullwidth letters, a combining mark, NFC against NFD) never shares
 * a key with the address it imitates.
 *
 * Every PostgreSQL server encoding keeps bytes below 0x80 as ASCII, also
 * inside multibyte characters, so folding those bytes never changes a
 * multibyte character.
 */
#ifndef SK_ADDRESS_H
#define SK_ADDRESS_H

#include <stddef.h>

/* Writes the key of in[0..len) to out[0..len); the key is as long as the input. */
extern void sk_address_key(const char *in, size_t len, char *out);

#endif							/* SK_ADDRESS_H */
