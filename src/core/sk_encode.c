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

/* Unpadded length: 4 characters per 3 bytes, 2 or 3 for a partial group. */
size_t
sk_b64url_encoded_len(size_t nbytes)
{
	return (nbytes / 3) * 4 + (nbytes % 3 == 0 ? 0 : nbytes % 3 + 1);
}

/*
 * Inverse mapping, padded again so a standard base64 decoder accepts it.
 * Used by tests to prove tokens round-trip; rejects characters outside the
 * URL-safe alphabet and lengths no encoder produces.
 */
bool
sk_b64url_to_std(const char *in, size_t len, char *out, size_t outsize,
				 size_t *outlen)
{
	size_t		padded = (len + 3) / 4 * 4;
	size_t		i;

	if (len % 4 == 1 || padded > outsize)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = in[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9')))
			return false;
		out[i] = c;
	}
	for (; i < padded; i++)
		out[i] = '=';
	*outlen = padded;
	return true;
}
