/*
 * test_core.c - unit tests of the pure C core (src/core), as TAP: one test
 * file per core module (test_random.c, test_alphabet.c, test_encode.c,
 * test_uuid7.c, test_address.c), run in turn.
 *
 * Built under AddressSanitizer and UndefinedBehaviorSanitizer by the
 * Makefile.  Every assertion checks a value: statistical tests compare a
 * chi-square statistic against a critical value, deterministic tests feed
 * the core a scripted entropy source and check exact bytes.
 *
 *	test_core				all tests, then the plan line
 */
#include <stdio.h>

#include "unit.h"

/*
 * Runs the tests and prints the plan last (TAP allows a trailing plan), so
 * adding a test needs no count to be kept in sync.
 */
int
main(int argc, char **argv)
{
	if (argc > 1)
	{
		fprintf(stderr, "usage: %s\n", argv[0]);
		return 2;
	}
	diag("entropy and base64: %s", test_backend_name());

	test_random();
	test_alphabet();
	test_encode();
	test_uuid7();
	test_address();

	printf("1..%d\n", tap_count);
	if (tap_failures > 0)
		diag("%d of %d tests failed", tap_failures, tap_count);
	return tap_failures > 0 ? 1 : 0;
}
