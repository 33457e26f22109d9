/*
 * sk_encode.c - base64url (RFC 4648 section 5) on top of standard base64.
 */
#include "sk_encode.h"

/*
 * Rewrites standard base64 in place as unpadded base64url, so tokens can go
 * into URLs, cookies and headers without escaping.  Returns the new length.
 */
size_t
sk_b64_to_url(char *s, size_t len)
{
	while (len > 0 && s[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
	}
	return len;
}
