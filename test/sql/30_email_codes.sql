--
-- 30_email_codes: issue_email_code() and verify_email_code().  Codes are
-- random, so they are kept in psql variables and never printed.
--
\set SHOW_CONTEXT never

-- Draws codes for email until one differs from avoid, so a test that needs
-- two different codes never depends on chance.
CREATE FUNCTION regress.issue_other(email text, avoid text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    c text;
BEGIN
    LOOP
        c := schemakit.issue_email_code(email);
        EXIT WHEN c <> avoid;
    END LOOP;
    RETURN c;
END
$$;

-- A 6-digit code that is certainly not code.
CREATE FUNCTION regress.wrong(code text)
RETURNS text
LANGUAGE sql
AS $$ SELECT lpad(((code::integer + 1) % 1000000)::text, 6, '0') $$;

--------------------------------------------------------------------------
-- Argument errors
--------------------------------------------------------------------------

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL email',        $$SELECT schemakit.issue_email_code(NULL)$$),
    ('NULL email, ttl',   $$SELECT schemakit.issue_email_code(NULL, '5 minutes')$$),
    ('NULL ttl',          $$SELECT schemakit.issue_email_code('a@example.com', NULL)$$),
    ('bad email, NULL ttl', $$SELECT schemakit.issue_email_code('bad', NULL)$$),
    ('empty email',       $$SELECT schemakit.issue_email_code('')$$),
    ('no-at-sign',        $$SELECT schemakit.issue_email_code('no-at-sign')$$),
    ('a b@c',             $$SELECT schemakit.issue_email_code('a b@c')$$),
    ('a@b@c',             $$SELECT schemakit.issue_email_code('a@b@c')$$),
    ('256 characters',    $$SELECT schemakit.issue_email_code(repeat('e', 244) || '@example.com')$$),
    ('bad email, bad ttl', $$SELECT schemakit.issue_email_code('bad', '0')$$),
    ('ttl 0',             $$SELECT schemakit.issue_email_code('a@example.com', '0')$$),
    ('ttl -1 minute',     $$SELECT schemakit.issue_email_code('a@example.com', '-1 minute')$$),
    ('ttl 2 days',        $$SELECT schemakit.issue_email_code('a@example.com', '2 days')$$),
    ('ttl 1 day 1 s',     $$SELECT schemakit.issue_email_code('a@example.com', '1 day 1 second')$$),
    ('ttl 1 mon',         $$SELECT schemakit.issue_email_code('a@example.com', '1 mon')$$)
  ) AS v(label, stmt);
SELECT count(*) AS codes FROM schemakit.email_codes;

--------------------------------------------------------------------------
-- Issuing: the code is returned, only its hash is stored
--------------------------------------------------------------------------

INSERT INTO schemakit.users (username, email) VALUES ('erin', 'Erin@Example.com');

SELECT schemakit.issue_email_code('erin@example.com') AS code \gset
SELECT :'code' ~ '^[0-9]{6}$' AS six_digits;
SELECT ec.email, u.username AS user_of_code,
       octet_length(ec.code_hash) AS hash_bytes,
       ec.code_hash = schemakit._code_hash('erin@example.com', :'code') AS hash_matches,
       ec.code_hash <> sha256(convert_to(:'code', 'UTF8')) AS not_bare_sha256,
       position(:'code' IN concat_ws('|', ec.id, ec.user_id, ec.email, ec.failed_attempts)) = 0
         AS code_not_stored,
       ec.expires_at - ec.created_at AS ttl, ec.used_at IS NULL AS unused,
       ec.revoked_at IS NULL AS unrevoked, ec.failed_attempts
  FROM schemakit.email_codes ec LEFT JOIN schemakit.users u ON u.id = ec.user_id
 WHERE lower(ec.email) = 'erin@example.com';
-- The address as written is kept; user_id is found case-insensitively,
-- and stays NULL for an address no user has.
SELECT schemakit.issue_email_code('NoBody@Example.com', '1 day') ~ '^[0-9]{6}$' AS six_digits;
SELECT email, user_id IS NULL AS no_user, expires_at - created_at AS ttl
  FROM schemakit.email_codes WHERE lower(email) = 'nobody@example.com';
-- Boundary ttls: 1 day is the maximum, any positive interval the minimum.
SELECT schemakit.issue_email_code('ttl@example.com', '24 hours') IS NOT NULL AS issued,
       schemakit.issue_email_code('ttl@example.com', '1 microsecond') IS NOT NULL AS issued_tiny;
SELECT count(*) AS codes, count(*) FILTER (WHERE revoked_at IS NULL) AS open,
       max(expires_at - created_at) AS revoked_ttl,
       min(expires_at - created_at) AS open_ttl
  FROM schemakit.email_codes WHERE email = 'ttl@example.com';

--------------------------------------------------------------------------
-- Verifying: true exactly once for the right code
--------------------------------------------------------------------------

SELECT schemakit.verify_email_code('erin@example.com', regress.wrong(:'code')) AS wrong;
SELECT failed_attempts FROM schemakit.email_codes
 WHERE lower(email) = 'erin@example.com' AND used_at IS NULL AND revoked_at IS NULL;
-- The address matches whatever its case.
SELECT schemakit.verify_email_code('ERIN@example.COM', :'code') AS right;
SELECT schemakit.verify_email_code('erin@example.com', :'code') AS right_again;
SELECT used_at IS NOT NULL AS used, revoked_at IS NULL AS unrevoked, failed_attempts
  FROM schemakit.email_codes WHERE lower(email) = 'erin@example.com';

-- A new code supersedes the open one.
SELECT schemakit.issue_email_code('erin@example.com') AS first \gset
SELECT regress.issue_other('erin@example.com', :'first') AS second \gset
SELECT count(*) FILTER (WHERE used_at IS NULL AND revoked_at IS NULL) AS open,
       count(*) FILTER (WHERE revoked_at IS NOT NULL) > 0 AS some_revoked
  FROM schemakit.email_codes WHERE lower(email) = 'erin@example.com';
SELECT schemakit.verify_email_code('erin@example.com', :'first') AS first_code;
-- A superseded code is just a wrong guess at the live one.
SELECT failed_attempts FROM schemakit.email_codes
 WHERE lower(email) = 'erin@example.com' AND used_at IS NULL AND revoked_at IS NULL;
SELECT schemakit.verify_email_code('erin@example.com', :'second') AS second_code;
SELECT schemakit.verify_email_code('erin@example.com', :'second') AS second_again;

-- Five wrong tries kill the code; four do not.
SELECT schemakit.issue_email_code('erin@example.com') AS code \gset
SELECT n, schemakit.verify_email_code('erin@example.com', regress.wrong(:'code')) AS wrong
  FROM generate_series(1, 4) AS n ORDER BY n;
SELECT schemakit.verify_email_code('erin@example.com', :'code') AS right_after_4;

SELECT schemakit.issue_email_code('erin@example.com') AS code \gset
SELECT n, schemakit.verify_email_code('erin@example.com', regress.wrong(:'code')) AS wrong
  FROM generate_series(1, 5) AS n ORDER BY n;
SELECT failed_attempts FROM schemakit.email_codes
 WHERE lower(email) = 'erin@example.com' AND used_at IS NULL AND revoked_at IS NULL;
SELECT schemakit.verify_email_code('erin@example.com', :'code') AS right_after_5;
SELECT failed_attempts, used_at IS NULL AS unused FROM schemakit.email_codes
 WHERE lower(email) = 'erin@example.com' AND used_at IS NULL AND revoked_at IS NULL;

-- An expired code is refused, and not counted as a failed try.
SELECT schemakit.issue_email_code('erin@example.com') AS code \gset
UPDATE schemakit.email_codes SET expires_at = now() - interval '1 second'
 WHERE lower(email) = 'erin@example.com' AND used_at IS NULL AND revoked_at IS NULL;
SELECT schemakit.verify_email_code('erin@example.com', :'code') AS expired;
SELECT failed_attempts, used_at IS NULL AS unused FROM schemakit.email_codes
 WHERE lower(email) = 'erin@example.com' AND used_at IS NULL AND revoked_at IS NULL;
-- A fresh code replaces it and works.
SELECT schemakit.issue_email_code('erin@example.com') AS code \gset
SELECT schemakit.verify_email_code('erin@example.com', :'code') AS fresh;

-- A code is bound to its address.
SELECT schemakit.issue_email_code('frank@example.com') AS code \gset
SELECT schemakit.verify_email_code('nobody@example.com', :'code') AS other_address;
SELECT schemakit.verify_email_code('frank@example.com', :'code') AS own_address;

-- Unknown, invalid and NULL arguments give false, never an error.
SELECT schemakit.verify_email_code('unknown@example.com', '123456') AS unknown_email,
       schemakit.verify_email_code('not an email', '123456') AS invalid_email,
       schemakit.verify_email_code('', '') AS empty,
       schemakit.verify_email_code(NULL, '123456') AS null_email,
       schemakit.verify_email_code('nobody@example.com', NULL) AS null_code,
       schemakit.verify_email_code(NULL, NULL) AS both_null;

--------------------------------------------------------------------------
-- Table constraints
--------------------------------------------------------------------------

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('hash 31 bytes',   $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('c1@example.com', '\x00'::bytea || sha224(''), now())$$),
    ('hash 33 bytes',   $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('c2@example.com', '\x00'::bytea || sha256(''), now())$$),
    ('bad email',       $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('c3', sha256(''), now())$$),
    ('NULL email',      $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES (NULL, sha256(''), now())$$),
    ('NULL expires_at', $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('c4@example.com', sha256(''), NULL)$$),
    ('failed -1',       $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at, failed_attempts) VALUES ('c5@example.com', sha256(''), now(), -1)$$),
    ('unknown user',    $$INSERT INTO schemakit.email_codes (user_id, email, code_hash, expires_at) VALUES (0, 'c6@example.com', sha256(''), now())$$),
    ('second open',     $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('nobody@EXAMPLE.com', sha256(''), now())$$),
    ('explicit id',     $$INSERT INTO schemakit.email_codes (id, email, code_hash, expires_at) VALUES (1000, 'c7@example.com', sha256(''), now())$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- Deleting a user deletes the user's codes; other codes stay.
--------------------------------------------------------------------------

SELECT count(*) FILTER (WHERE user_id IS NOT NULL)
         = count(*) FILTER (WHERE lower(email) = 'erin@example.com') AS user_codes_are_erins,
       count(*) FILTER (WHERE user_id IS NOT NULL) > 0 AS has_user_codes,
       count(*) FILTER (WHERE user_id IS NULL) AS without_user
  FROM schemakit.email_codes;
DELETE FROM schemakit.users WHERE username = 'erin';
SELECT count(*) FILTER (WHERE user_id IS NOT NULL) AS with_user,
       count(*) FILTER (WHERE user_id IS NULL) AS without_user,
       count(*) FILTER (WHERE lower(email) = 'erin@example.com') AS erin
  FROM schemakit.email_codes;
