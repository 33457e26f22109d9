-- 30_email_codes.sql - the one-time email code flow: issue_email_code() and
-- verify_email_code().
--
-- now() is constant inside the test transaction, so issue/verify see the
-- same clock; expiry is tested by moving expires_at, not by waiting.
BEGIN;
SELECT plan(95);

-- Issues a code for email that differs from avoid (codes are random, and a
-- test that needs two different codes must not depend on a 1e-6 chance).
CREATE FUNCTION pg_temp.issue_other(email text, avoid text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c text;
BEGIN
    LOOP
        c := schemakit.issue_email_code(email);
        EXIT WHEN c IS DISTINCT FROM avoid;
    END LOOP;
    RETURN c;
END
$$;

-- A code guaranteed to differ from code: the next one, modulo 10^6.
CREATE FUNCTION pg_temp.other_code(code text) RETURNS text
LANGUAGE sql AS $$ SELECT lpad(((code::int + 1) % 1000000)::text, 6, '0') $$;

-- {sqlstate, message, detail} of the error sql raises, NULL if none.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN ARRAY[st, msg, det];
END
$$;

CREATE FUNCTION pg_temp.code_row(addr text) RETURNS SETOF schemakit.email_codes
LANGUAGE sql AS $$
    SELECT * FROM schemakit.email_codes WHERE lower(email) = lower(addr) ORDER BY id DESC LIMIT 1
$$;

INSERT INTO schemakit.users (username, email) VALUES ('alice', 'Alice@Example.COM');

-------------------------------------------------------------------------------
-- Issue: the code, the stored row
-------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM schemakit.email_codes WHERE lower(email) = 'alice@example.com'), 0::bigint,
          'no code exists for alice yet');
SELECT schemakit.issue_email_code('alice@example.com') AS alice_code \gset
SELECT matches(:'alice_code'::text, '^[0-9]{6}$', 'issue_email_code returns a 6-digit code');
SELECT is((SELECT count(*) FROM schemakit.email_codes WHERE lower(email) = 'alice@example.com'), 1::bigint,
          'issuing for a new address creates exactly one row');
SELECT is((SELECT count(*) FROM schemakit.email_codes
            WHERE lower(email) = 'alice@example.com' AND used_at IS NULL AND revoked_at IS NULL), 1::bigint,
          'the new row is open (unused, unrevoked)');
SELECT is((SELECT octet_length(code_hash) FROM pg_temp.code_row('alice@example.com')), 32,
          'the stored code_hash is 32 bytes');
SELECT isnt((SELECT code_hash FROM pg_temp.code_row('alice@example.com')), convert_to(:'alice_code', 'UTF8'),
            'the stored hash is not the code itself');
SELECT isnt((SELECT code_hash FROM pg_temp.code_row('alice@example.com')), sha256(convert_to(:'alice_code', 'UTF8')),
            'the stored hash is not the plain sha256 of the code');
SELECT is((SELECT user_id FROM pg_temp.code_row('alice@example.com')),
          (SELECT id FROM schemakit.users WHERE username = 'alice'),
          'the code is linked to the user whose email matches case-insensitively');
SELECT is((SELECT email FROM pg_temp.code_row('alice@example.com')), 'alice@example.com',
          'the email is stored as given');
SELECT results_eq(
    $$SELECT expires_at, created_at, failed_attempts, used_at, revoked_at FROM pg_temp.code_row('alice@example.com')$$,
    $$SELECT now() + interval '10 minutes', now(), 0, NULL::timestamptz, NULL::timestamptz$$,
    'the default ttl is 10 minutes; the new row has no failures, is unused and unrevoked');

-------------------------------------------------------------------------------
-- Verify: the right code works once
-------------------------------------------------------------------------------
SELECT is(schemakit.verify_email_code('ALICE@example.com', :'alice_code'), true,
          'the right code verifies (email matched case-insensitively)');
SELECT is((SELECT used_at FROM pg_temp.code_row('alice@example.com')), now(), 'verification marks the code used');
SELECT is(schemakit.verify_email_code('alice@example.com', :'alice_code'), false, 'the same code does not verify twice');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('alice@example.com')), 0,
          'replaying a used code is not counted against it');
-- A used code is not revoked by the next issue; the new one is open.
SELECT schemakit.issue_email_code('alice@example.com') AS alice_code2 \gset
SELECT results_eq(
    $$SELECT used_at IS NOT NULL, revoked_at IS NOT NULL FROM schemakit.email_codes
       WHERE lower(email) = 'alice@example.com' ORDER BY id$$,
    $$VALUES (true, false), (false, false)$$,
    'a later issue leaves the used code alone and adds one open code');

-------------------------------------------------------------------------------
-- Wrong tries
-------------------------------------------------------------------------------
SELECT schemakit.issue_email_code('bob@example.com') AS bob_code \gset
SELECT pg_temp.other_code(:'bob_code') AS bob_wrong \gset
SELECT is((SELECT user_id FROM pg_temp.code_row('bob@example.com')), NULL, 'a code for an address without a user has no user_id');
SELECT is(schemakit.verify_email_code('bob@example.com', :'bob_wrong'), false, 'wrong try 1 is false');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('bob@example.com')), 1, 'wrong try 1 is counted');
SELECT is(schemakit.verify_email_code('bob@example.com', 'not a code'), false, 'wrong try 2 (not digits) is false');
SELECT is(schemakit.verify_email_code('bob@example.com', ''), false, 'wrong try 3 (empty) is false');
SELECT is(schemakit.verify_email_code('BOB@example.com', :'bob_wrong'), false, 'wrong try 4 is false');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('bob@example.com')), 4, 'four wrong tries are counted');
SELECT is(schemakit.verify_email_code('bob@example.com', :'bob_wrong'), false, 'wrong try 5 is false');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('bob@example.com')), 5, 'five wrong tries are counted');
SELECT is(schemakit.verify_email_code('bob@example.com', :'bob_code'), false, 'after 5 wrong tries the right code is false');
SELECT is(schemakit.verify_email_code('bob@example.com', :'bob_wrong'), false, 'a 6th wrong try is false');
-- A dead code is no longer counted: failed_attempts stays at 5.
SELECT results_eq(
    $$SELECT failed_attempts, used_at, revoked_at FROM pg_temp.code_row('bob@example.com')$$,
    $$SELECT 5, NULL::timestamptz, NULL::timestamptz$$,
    'a dead code stays at 5 failed attempts, unused and unrevoked');
-- A fresh code revives the address.
SELECT pg_temp.issue_other('bob@example.com', :'bob_code') AS bob_code2 \gset
SELECT is(schemakit.verify_email_code('bob@example.com', :'bob_code2'), true, 'a new code for the address verifies');

-- Four wrong tries leave the code alive.
SELECT schemakit.issue_email_code('carol@example.com') AS carol_code \gset
SELECT is(array_agg(schemakit.verify_email_code('carol@example.com', pg_temp.other_code(:'carol_code'))),
          ARRAY[false, false, false, false], 'four wrong tries are false')
  FROM generate_series(1, 4);
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('carol@example.com')), 4, 'four wrong tries are counted');
SELECT is(schemakit.verify_email_code('carol@example.com', :'carol_code'), true, 'after four wrong tries the right code still verifies');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('carol@example.com')), 4, 'a successful try is not counted as a failure');

-------------------------------------------------------------------------------
-- Supersession
-------------------------------------------------------------------------------
SELECT schemakit.issue_email_code('dave@example.com') AS dave_code1 \gset
SELECT pg_temp.issue_other('Dave@Example.com', :'dave_code1') AS dave_code2 \gset
SELECT is((SELECT revoked_at FROM schemakit.email_codes WHERE lower(email) = 'dave@example.com' ORDER BY id LIMIT 1),
          now(), 'a second issue revokes the first code (revoked_at = now())');
SELECT is((SELECT count(*) FROM schemakit.email_codes
            WHERE lower(email) = 'dave@example.com' AND used_at IS NULL AND revoked_at IS NULL), 1::bigint,
          'exactly one code is open after re-issuing');
SELECT is((SELECT email FROM pg_temp.code_row('dave@example.com')), 'Dave@Example.com', 'the open code is the newest one');
SELECT is(schemakit.verify_email_code('dave@example.com', :'dave_code1'), false, 'the superseded code is false');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('dave@example.com')), 1,
          'trying the superseded code counts as a wrong try on the open code');
SELECT is(schemakit.verify_email_code('dave@example.com', :'dave_code2'), true, 'the newest code is true');
SELECT is((SELECT used_at FROM schemakit.email_codes WHERE lower(email) = 'dave@example.com' ORDER BY id LIMIT 1),
          NULL, 'the superseded code stays unused');

-------------------------------------------------------------------------------
-- Expiry
-------------------------------------------------------------------------------
SELECT schemakit.issue_email_code('erin@example.com') AS erin_code \gset
UPDATE schemakit.email_codes SET expires_at = now() - interval '1 second' WHERE lower(email) = 'erin@example.com';
SELECT is(schemakit.verify_email_code('erin@example.com', :'erin_code'), false, 'an expired code is false');
SELECT is(schemakit.verify_email_code('erin@example.com', pg_temp.other_code(:'erin_code')), false,
          'a wrong code for an expired code is false');
SELECT results_eq(
    $$SELECT failed_attempts, used_at FROM pg_temp.code_row('erin@example.com')$$,
    $$SELECT 0, NULL::timestamptz$$,
    'tries against an expired code are not counted and do not use it');
UPDATE schemakit.email_codes SET expires_at = now() WHERE lower(email) = 'erin@example.com';
SELECT is(schemakit.verify_email_code('erin@example.com', :'erin_code'), false, 'a code expiring exactly now is false');
UPDATE schemakit.email_codes SET expires_at = now() + interval '1 microsecond' WHERE lower(email) = 'erin@example.com';
SELECT is(schemakit.verify_email_code('erin@example.com', :'erin_code'), true, 'a code expiring after now verifies');

-------------------------------------------------------------------------------
-- Isolation, unknown addresses, NULLs
-------------------------------------------------------------------------------
SELECT schemakit.issue_email_code('frank@x.com') AS frank_code \gset
SELECT pg_temp.issue_other('grace@x.com', :'frank_code') AS grace_code \gset
SELECT is(schemakit.verify_email_code('grace@x.com', :'frank_code'), false, 'a code for frank@x.com does not verify grace@x.com');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('frank@x.com')), 0, 'frank''s code is not charged for it');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('grace@x.com')), 1, 'grace''s code is charged for it');
SELECT is(schemakit.verify_email_code('frank@x.com.evil', :'frank_code'), false, 'an address with a suffix does not match');
SELECT is(schemakit.verify_email_code('rank@x.com', :'frank_code'), false, 'an address that is a substring does not match');
SELECT is(schemakit.verify_email_code('frank@x.com', :'frank_code'), true, 'frank''s code still verifies frank@x.com');
SELECT is(schemakit.verify_email_code('grace@x.com', :'grace_code'), true, 'grace''s code still verifies grace@x.com');

SELECT is(schemakit.verify_email_code('nobody@example.com', '123456'), false, 'an unknown address is false');
SELECT is(schemakit.verify_email_code('not an email', '123456'), false, 'an invalid address is false, not an error');
SELECT schemakit.issue_email_code('henry@example.com') AS henry_code \gset
SELECT is(schemakit.verify_email_code(NULL, :'henry_code'), false, 'verify(NULL, code) is false');
SELECT is(schemakit.verify_email_code('henry@example.com', NULL), false, 'verify(email, NULL) is false');
SELECT is(schemakit.verify_email_code(NULL, NULL), false, 'verify(NULL, NULL) is false');
SELECT is((SELECT failed_attempts FROM pg_temp.code_row('henry@example.com')), 0, 'NULL tries are not counted');
SELECT is(schemakit.verify_email_code('henry@example.com', :'henry_code' || ' '), false, 'the code with a trailing space is false');
SELECT is(schemakit.verify_email_code('henry@example.com', :'henry_code'), true, 'henry''s code verifies after those tries');

-------------------------------------------------------------------------------
-- Issue errors and ttl boundaries
-------------------------------------------------------------------------------
SELECT throws_ok(sql, '22004', 'issue_email_code arguments must not be NULL', format('%s raises 22004', sql))
  FROM unnest(ARRAY[
    'SELECT schemakit.issue_email_code(NULL)',
    'SELECT schemakit.issue_email_code(''a@b.com'', NULL)',
    'SELECT schemakit.issue_email_code(NULL, NULL)']) AS sql;
SELECT throws_ok(format('SELECT schemakit.issue_email_code(%L)', e), '22023', 'invalid email address',
                 format('issue_email_code(%s) raises 22023', CASE WHEN char_length(e) > 40
                        THEN format('<%s characters>', char_length(e)) ELSE to_json(e)::text END))
  FROM unnest(ARRAY['', 'no-at-sign', 'a b@example.com', 'a@b@c', E'a@b\n',
                    repeat('a', 244) || '@example.com']) AS e;
SELECT is(pg_temp.error_of('SELECT schemakit.issue_email_code(''bad'')'),
          ARRAY['22023', 'invalid email address',
                'An email address has the form local@domain, no spaces, at most 255 characters.'],
          'the invalid-email error has its detail');
SELECT throws_ok(format('SELECT schemakit.issue_email_code(''ttl@example.com'', %L)', ttl), '22023',
                 'email code ttl must be positive and at most 1 day', format('ttl %s raises 22023', ttl))
  FROM unnest(ARRAY['0', '-1 minute', '-1 microsecond', '1 day 1 second', '1 day 1 microsecond',
                    '25 hours', '1 mon', '1 year']) AS ttl;
SELECT is(pg_temp.error_of('SELECT schemakit.issue_email_code(''ttl@example.com'', ''1 day 1 second'')'),
          ARRAY['22023', 'email code ttl must be positive and at most 1 day', 'The ttl given was 1 day 00:00:01.'],
          'the ttl error reports the ttl given');
SELECT is((SELECT count(*) FROM schemakit.email_codes WHERE email = 'ttl@example.com'), 0::bigint,
          'failed issues store nothing');
SELECT lives_ok(format('SELECT schemakit.issue_email_code(''ttl@example.com'', %L)', ttl), format('ttl %s is accepted', ttl))
  FROM unnest(ARRAY['1 day', '24 hours', '1 microsecond', '23:59:59.999999']) AS ttl;
SELECT is((SELECT expires_at FROM pg_temp.code_row('ttl@example.com')), now() + interval '23:59:59.999999',
          'expires_at is now() + ttl');
SELECT schemakit.issue_email_code('ttl2@example.com', '1 microsecond') AS short_code \gset
SELECT is(schemakit.verify_email_code('ttl2@example.com', :'short_code'), true,
          'a 1-microsecond code verifies within the issuing transaction');
SELECT is(schemakit.issue_email_code(repeat('a', 243) || '@example.com') ~ '^[0-9]{6}$', true,
          'a 255-character address is accepted');

-------------------------------------------------------------------------------
-- At most one open code per address, enforced by the partial unique index
-------------------------------------------------------------------------------
SELECT schemakit.issue_email_code('ivan@example.com') AS ivan_code \gset
SELECT throws_ok(
    $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at)
      VALUES ('IVAN@example.com', sha256('x'), now() + interval '1 minute')$$,
    '23505', 'duplicate key value violates unique constraint "email_codes_open_email_key"',
    'a second open code for the same lower(email) is rejected');
SELECT lives_ok(
    $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at, revoked_at)
      VALUES ('IVAN@example.com', sha256('x'), now() + interval '1 minute', now())$$,
    'a revoked row for the same address is allowed');
SELECT lives_ok(
    $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at, used_at)
      VALUES ('ivan@EXAMPLE.com', sha256('x'), now() + interval '1 minute', now())$$,
    'a used row for the same address is allowed');
SELECT is(schemakit.verify_email_code('ivan@example.com', :'ivan_code'), true,
          'closed rows do not disturb the open code');

-- Issuing several times keeps exactly one open code.
SELECT is((SELECT count(*) FROM (SELECT schemakit.issue_email_code('judy@example.com') FROM generate_series(1, 4)) s),
          4::bigint, 'issued 4 codes for judy');
SELECT results_eq(
    $$SELECT count(*) FILTER (WHERE used_at IS NULL AND revoked_at IS NULL),
             count(*) FILTER (WHERE revoked_at IS NOT NULL)
        FROM schemakit.email_codes WHERE email = 'judy@example.com'$$,
    $$VALUES (1::bigint, 3::bigint)$$,
    'after 4 issues, 3 codes are revoked and one is open');

-- _code_hash_keyed binds the code to the address key (email_key):
-- ASCII letters folded, every other byte exact, whatever the collation.
SELECT is(count(*), 0::bigint, '_code_hash_keyed(e, c) = _code_hash_keyed(email_key(e), c) for 5 addresses')
  FROM (VALUES ('ada@example.com', '012345'), ('ADA@Example.COM', '999999'), ('ÄDA@bücher.de', '000000'),
               ('例@例え.jp', '123456'), ('x@y', '')) AS t(e, c)
 WHERE schemakit._code_hash_keyed(e, c) IS DISTINCT FROM schemakit._code_hash_keyed(schemakit.email_key(e), c);
SELECT is(schemakit._code_hash_keyed('ÄDA@bücher.de', '1') = schemakit._code_hash_keyed('äda@BÜCHER.de', '1'),
          false,
          '_code_hash_keyed keeps non-ASCII letters exact (no locale folding)');
SELECT is(schemakit._code_hash_keyed(NULL, '1'), NULL, '_code_hash_keyed is STRICT');

SELECT * FROM finish();
ROLLBACK;
