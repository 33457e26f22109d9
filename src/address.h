/*
 * address.h - the key of an email address as a text (address.c); the rule
 * is in core/sk_address.h.
 */
#ifndef SK_ADDRESS_TEXT_H
#define SK_ADDRESS_TEXT_H

#include "compat.h"

extern text *address_key_text(const text *email);

#endif							/* SK_ADDRESS_TEXT_H */
