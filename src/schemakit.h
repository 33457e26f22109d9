/*
 * schemakit.h - shared declarations of the SQL glue files.
 */
#ifndef SCHEMAKIT_H
#define SCHEMAKIT_H

#include "core/sk_random.h"

extern SkRandom *schemakit_rng(void);
extern void schemakit_random_bytes(void *out, size_t n);
extern void schemakit_random_failed(void) pg_attribute_noreturn();

#endif							/* SCHEMAKIT_H */
