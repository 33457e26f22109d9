/*
 * test_address.c - unit tests of src/core/sk_address.c: the key of an
 * email address.
 */
#include <string.h>

#include "sk_address.h"
#include "unit.h"

/*
 * sk_address_key: ASCII A-Z folded, every other byte exact, length kept,
 * idempotent.  Checked over every single byte value, then over look-alikes
 * that a libc locale's folding would give another address's key.
 */
static void
test_address_keys(void)
{
	int			bad = 0;
	char		out[64];
	static const struct
	{
		const char *in;
		const char *key;
	}			cases[] = {
		{"Bob@GitHub.COM", "bob@github.com"},
		{"bob@g\xc4\xb0thub.com", "bob@g\xc4\xb0thub.com"},	/* U+0130 kept */
		{"\xe2\x84\xaa" "ate@kit.example", "\xe2\x84\xaa" "ate@kit.example"},	/* Kelvin kept */
		{"\xc3\x84" "DA@b\xc3\xbc" "cher.de", "\xc3\x84" "da@b\xc3\xbc" "cher.de"},	/* only ASCII folds */
		{"IVAN@MAIL.EXAMPLE", "ivan@mail.example"},	/* no Turkish dotless i */
		{"", ""},
	};

	for (int c = 0; c < 256; c++)
	{
		char		in = (char) c;
		char		o;

		sk_address_key(&in, 1, &o);
		if ((unsigned char) o != ((c >= 'A' && c <= 'Z') ? c + 32 : c))
			bad++;
	}
	ok(bad == 0, "sk_address_key folds exactly A-Z and keeps the other 230 byte values (%d wrong)", bad);

	for (size_t i = 0; i < lengthof(cases); i++)
	{
		size_t		n = strlen(cases[i].in);
		char		again[64];

		memset(out, 0, sizeof(out));
		sk_address_key(cases[i].in, n, out);
		sk_address_key(out, n, again);
		ok(memcmp(out, cases[i].key, n + 1) == 0 && memcmp(again, out, n) == 0,
		   "sk_address_key case %zu: the expected key, same length, idempotent", i);
	}
}

void
test_address(void)
{
	test_address_keys();
}
