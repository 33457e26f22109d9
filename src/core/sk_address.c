/*
 * sk_address.c - the canonical key of an email address (sk_address.h).
 */
#include "sk_address.h"

void
sk_address_key(const char *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) in[i];

		out[i] = (char) ((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
	}
}
