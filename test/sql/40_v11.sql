--
-- 40_v11: schemakit 1.1 - the update from 1.0, and every error of the 1.1
-- functions and tables, each shown with its SQLSTATE: uuidv7_time(),
-- link_oauth_account(), issue_password_reset_token(), the internal helpers,
-- the checks of oauth_accounts, password_reset_tokens and files, and the
-- refused downgrade.  Random values (tokens, UUIDs, ids) are only ever shown
-- through deterministic properties.
--
-- Leaves the extension at 1.1 (50_v12 continues from there); removes every
-- row and object it creates.
--
\set SHOW_CONTEXT never

ALTER EXTENSION schemakit UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT version FROM schemakit.migrations ORDER BY version;

-- The functions 1.1 adds, with their flags.
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       l.lanname AS lang, p.provolatile AS vol, p.proisstrict AS strict,
       p.proparallel AS par
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.proname IN ('uuidv7', 'uuidv7_time', '_token_hash', '_require_user', '_check_ttl',
                     'link_oauth_account', 'oauth_user_id',
                     'issue_password_reset_token', 'consume_password_reset_token')
 ORDER BY p.oid::regprocedure::text;


-- Errors are shown with regress.err() from 00_install.

INSERT INTO schemakit.users (username, email) VALUES
    ('regress_v11_ada', 'ada@v11.example'), ('regress_v11_bob', 'bob@v11.example');
SELECT id AS ada FROM schemakit.users WHERE username = 'regress_v11_ada' \gset
SELECT id AS bob FROM schemakit.users WHERE username = 'regress_v11_bob' \gset

--------------------------------------------------------------------------
-- uuidv7() and uuidv7_time()
--------------------------------------------------------------------------

SELECT u::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS is_v7,
       schemakit.uuidv7_time(u) BETWEEN date_trunc('milliseconds', now()) AND clock_timestamp() AS time_is_now
  FROM (SELECT schemakit.uuidv7() AS u) s;
SELECT count(*) AS n, count(DISTINCT u) AS distinct_n,
       bool_and(u > prev OR prev IS NULL) AS strictly_increasing
  FROM (SELECT u, lag(u) OVER (ORDER BY g) AS prev
          FROM (SELECT g, schemakit.uuidv7() AS u FROM generate_series(1, 10000) g) s) s;

SELECT u AS uuid, schemakit.uuidv7_time(u::uuid) AT TIME ZONE 'UTC' AS utc
  FROM (VALUES ('00000000-0000-7000-8000-000000000000'),
               ('018f2b3c-4d5e-7abc-8def-0123456789ab'),
               ('018f2b3c-4d5e-7000-bfff-ffffffffffff'),
               ('ffffffff-ffff-7fff-bfff-ffffffffffff')) AS v(u);
SELECT schemakit.uuidv7_time(NULL) IS NULL AS null_gives_null;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('v4 (random)',      $$SELECT schemakit.uuidv7_time(gen_random_uuid())$$),
    ('nil',              $$SELECT schemakit.uuidv7_time('00000000-0000-0000-0000-000000000000')$$),
    ('max',              $$SELECT schemakit.uuidv7_time('ffffffff-ffff-ffff-ffff-ffffffffffff')$$),
    ('v1',               $$SELECT schemakit.uuidv7_time('c232ab00-9414-11ec-b3c8-9f6bdeced846')$$),
    ('v6',               $$SELECT schemakit.uuidv7_time('1ec9414c-232a-6b00-b3c8-9f6bdeced846')$$),
    ('v8',               $$SELECT schemakit.uuidv7_time('018f2b3c-4d5e-8abc-8def-0123456789ab')$$),
    ('v7, variant 0xxx', $$SELECT schemakit.uuidv7_time('018f2b3c-4d5e-7abc-0def-0123456789ab')$$),
    ('v7, variant 110x', $$SELECT schemakit.uuidv7_time('018f2b3c-4d5e-7abc-cdef-0123456789ab')$$),
    ('v7, variant 111x', $$SELECT schemakit.uuidv7_time('018f2b3c-4d5e-7abc-edef-0123456789ab')$$),
    ('not a uuid',       $$SELECT schemakit.uuidv7_time('018f2b3c')$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- Internal helpers
--------------------------------------------------------------------------

SELECT encode(schemakit._token_hash('abc'), 'hex') AS token_hash_of_abc,
       schemakit._token_hash('abc') = sha256('abc'::bytea) AS is_sha256,
       schemakit._token_hash(NULL) IS NULL AS null_gives_null;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('require NULL',        $$SELECT schemakit._require_user(NULL)$$),
    ('require 0',           $$SELECT schemakit._require_user(0)$$),
    ('require -1',          $$SELECT schemakit._require_user(-1)$$),
    ('require existing',    format($$SELECT schemakit._require_user(%s)$$, :ada)),
    ('ttl NULL',            $$SELECT schemakit._check_ttl(NULL, '1 day', 'thing')$$),
    ('ttl 0',               $$SELECT schemakit._check_ttl('0', '1 day', 'thing')$$),
    ('ttl -1 s',            $$SELECT schemakit._check_ttl('-1 second', '1 day', 'thing')$$),
    ('ttl above max',       $$SELECT schemakit._check_ttl('1 day 1 second', '1 day', 'thing')$$),
    ('ttl at max',          $$SELECT schemakit._check_ttl('1 day', '1 day', 'thing')$$),
    ('ttl 1 microsecond',   $$SELECT schemakit._check_ttl('1 microsecond', '1 day', 'thing')$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- link_oauth_account() and oauth_user_id()
--------------------------------------------------------------------------

SELECT schemakit.link_oauth_account(:ada, 'github', '583231', 'ada@example.com', 'Ada') AS link \gset
SELECT schemakit.link_oauth_account(:ada, 'github', '583231', 'ada@example.com', 'Ada') = :link AS same_link,
       schemakit.link_oauth_account(:ada, 'github', '583231') = :link AS same_link_without_extras,
       (SELECT count(*) FROM schemakit.oauth_accounts WHERE provider = 'github' AND provider_id = '583231') AS rows;
SELECT provider, provider_id, email, display_name, user_id = :ada AS is_ada, created_at <= now() AS created_in_the_past
  FROM schemakit.oauth_accounts WHERE id = :link;
SELECT schemakit.oauth_user_id('github', '583231') = :ada AS resolves_to_ada,
       schemakit.oauth_user_id('github', '583232') IS NULL AS unknown_account_is_null,
       schemakit.oauth_user_id('GitHub', '583231') IS NULL AS provider_is_case_sensitive,
       schemakit.oauth_user_id(NULL, '583231') IS NULL AS null_provider_is_null;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('other user',           format($$SELECT schemakit.link_oauth_account(%s, 'github', '583231')$$, :bob)),
    ('unknown user',         $$SELECT schemakit.link_oauth_account(-1, 'github', '1')$$),
    ('NULL user',            $$SELECT schemakit.link_oauth_account(NULL, 'github', '1')$$),
    ('NULL provider',        format($$SELECT schemakit.link_oauth_account(%s, NULL, '1')$$, :bob)),
    ('NULL provider_id',     format($$SELECT schemakit.link_oauth_account(%s, 'github', NULL)$$, :bob)),
    ('NULL both, no user',   $$SELECT schemakit.link_oauth_account(NULL, NULL, NULL)$$),
    ('empty provider',       format($$SELECT schemakit.link_oauth_account(%s, '', '1')$$, :bob)),
    ('provider 51',          format($$SELECT schemakit.link_oauth_account(%s, repeat('p', 51), '1')$$, :bob)),
    ('provider 50',          format($$SELECT schemakit.link_oauth_account(%s, repeat('p', 50), '1')$$, :bob)),
    ('empty provider_id',    format($$SELECT schemakit.link_oauth_account(%s, 'github', '')$$, :bob)),
    ('provider_id 256',      format($$SELECT schemakit.link_oauth_account(%s, 'github', repeat('9', 256))$$, :bob)),
    ('provider_id 255',      format($$SELECT schemakit.link_oauth_account(%s, 'github', repeat('9', 255))$$, :bob)),
    ('bad email',            format($$SELECT schemakit.link_oauth_account(%s, 'github', '2', 'bob')$$, :bob)),
    ('email with space',     format($$SELECT schemakit.link_oauth_account(%s, 'github', '2', 'b ob@example.com')$$, :bob)),
    ('email 256',            format($$SELECT schemakit.link_oauth_account(%s, 'github', '2', repeat('b', 244) || '@example.com')$$, :bob)),
    ('display_name 256',     format($$SELECT schemakit.link_oauth_account(%s, 'github', '2', NULL, repeat('d', 256))$$, :bob)),
    ('bad provider, no user', $$SELECT schemakit.link_oauth_account(-1, '', '1')$$)
  ) AS v(label, stmt);
SELECT count(*) AS bob_links FROM schemakit.oauth_accounts WHERE user_id = :bob;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('duplicate account',  format($$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id) VALUES (%s, 'github', '583231')$$, :bob)),
    ('missing user',       $$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id) VALUES (-1, 'x', 'y')$$),
    ('NULL user',          $$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id) VALUES (NULL, 'x', 'y')$$),
    ('empty provider',     format($$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id) VALUES (%s, '', 'y')$$, :bob)),
    ('provider_id 256',    format($$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id) VALUES (%s, 'x', repeat('y', 256))$$, :bob)),
    ('bad email',          format($$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id, email) VALUES (%s, 'x', 'y', 'z')$$, :bob)),
    ('explicit id',        format($$INSERT INTO schemakit.oauth_accounts (id, user_id, provider, provider_id) VALUES (1, %s, 'x', 'y')$$, :bob))
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- issue_password_reset_token() and consume_password_reset_token()
--------------------------------------------------------------------------

SELECT schemakit.issue_password_reset_token(:ada) AS reset1 \gset
SELECT schemakit.issue_password_reset_token(:ada, '7 days') AS reset2 \gset
SELECT char_length(:'reset1') AS length, :'reset1' ~ '^[A-Za-z0-9_-]{43}$' AS base64url,
       :'reset1' <> :'reset2' AS distinct_tokens;
-- Each token is found by its SHA-256, and appears nowhere in its row.
SELECT v.label, t.expires_at - t.created_at AS ttl, octet_length(t.token_hash) AS hash_bytes,
       t.user_id = :ada AS is_ada, strpos(t::text, v.token) = 0 AS token_not_stored,
       t.used_at IS NULL AS unused, t.revoked_at IS NULL AS unrevoked
  FROM (VALUES ('reset1', :'reset1'), ('reset2', :'reset2')) AS v(label, token)
  LEFT JOIN schemakit.password_reset_tokens t ON t.token_hash = sha256(convert_to(v.token, 'UTF8'))
 ORDER BY v.label;
SELECT count(*) AS ada_tokens FROM schemakit.password_reset_tokens WHERE user_id = :ada;
SELECT schemakit.consume_password_reset_token(:'reset1') = :ada AS first_consume_is_ada;
SELECT schemakit.consume_password_reset_token(:'reset1') IS NULL AS second_consume_is_null,
       schemakit.consume_password_reset_token(:'reset2') IS NULL AS other_token_was_killed;
SELECT used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked
  FROM schemakit.password_reset_tokens WHERE user_id = :ada ORDER BY id;
SELECT schemakit.consume_password_reset_token(NULL) IS NULL AS null_token,
       schemakit.consume_password_reset_token('') IS NULL AS empty_token,
       schemakit.consume_password_reset_token(repeat('A', 43)) IS NULL AS wrong_token,
       schemakit.consume_password_reset_token(repeat('A', 2000)) IS NULL AS overlong_token;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('ttl NULL',        format($$SELECT schemakit.issue_password_reset_token(%s, NULL)$$, :ada)),
    ('ttl 0',           format($$SELECT schemakit.issue_password_reset_token(%s, '0')$$, :ada)),
    ('ttl -1 hour',     format($$SELECT schemakit.issue_password_reset_token(%s, '-1 hour')$$, :ada)),
    ('ttl 7 days 1 us', format($$SELECT schemakit.issue_password_reset_token(%s, '7 days 0.000001 seconds')$$, :ada)),
    ('ttl 1 month',     format($$SELECT schemakit.issue_password_reset_token(%s, '1 month')$$, :ada)),
    ('unknown user',    $$SELECT schemakit.issue_password_reset_token(-1)$$),
    ('NULL user',       $$SELECT schemakit.issue_password_reset_token(NULL)$$),
    ('bad ttl and user', $$SELECT schemakit.issue_password_reset_token(-1, '0')$$)
  ) AS v(label, stmt);

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('hash 28 bytes',   format($$INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at) VALUES (%s, sha224(''), now())$$, :ada)),
    ('fixed hash',      format($$INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at) VALUES (%s, sha256('regress'), now())$$, :ada)),
    ('duplicate hash',  format($$INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at) VALUES (%s, sha256('regress'), now())$$, :ada)),
    ('missing user',    $$INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at) VALUES (-1, sha256(''), now())$$),
    ('NULL expires_at', format($$INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at) VALUES (%s, sha256(''), NULL)$$, :ada))
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- files
--------------------------------------------------------------------------

INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
SELECT :ada, 'photo' || g || '.jpg', 'image/jpeg', g * 1024 FROM generate_series(1, 3) g;
SELECT original_name, mime_type, size,
       filename ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS filename_is_uuidv7
  FROM schemakit.files WHERE user_id = :ada ORDER BY id;
SELECT array_agg(filename ORDER BY id) = array_agg(filename ORDER BY filename) AS filenames_in_insert_order
  FROM schemakit.files WHERE user_id = :ada;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('size -1',          format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, 'a', 'a/b', -1)$$, :ada)),
    ('size NULL',        format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, 'a', 'a/b', NULL)$$, :ada)),
    ('mime no slash',    format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, 'a', 'ab', 1)$$, :ada)),
    ('mime two slashes', format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, 'a', 'a/b/c', 1)$$, :ada)),
    ('mime space',       format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, 'a', 'text/plain; charset=utf-8', 1)$$, :ada)),
    ('mime empty',       format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, 'a', '', 1)$$, :ada)),
    ('mime 256',         format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, 'a', repeat('a', 127) || '/' || repeat('b', 128), 1)$$, :ada)),
    ('name empty',       format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, '', 'a/b', 1)$$, :ada)),
    ('name 256',         format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, repeat('n', 256), 'a/b', 1)$$, :ada)),
    ('filename empty',   format($$INSERT INTO schemakit.files (user_id, filename, original_name, mime_type, size) VALUES (%s, '', 'a', 'a/b', 1)$$, :ada)),
    ('filename 256',     format($$INSERT INTO schemakit.files (user_id, filename, original_name, mime_type, size) VALUES (%s, repeat('f', 256), 'a', 'a/b', 1)$$, :ada)),
    ('filename given',   format($$INSERT INTO schemakit.files (user_id, filename, original_name, mime_type, size) VALUES (%s, 'given-name', 'a', 'a/b', 1)$$, :ada)),
    ('filename dup',     format($$INSERT INTO schemakit.files (user_id, filename, original_name, mime_type, size) VALUES (%s, 'given-name', 'b', 'a/b', 1)$$, :ada)),
    ('missing user',     $$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (-1, 'a', 'a/b', 1)$$)
  ) AS v(label, stmt);
SELECT count(*) AS ada_files FROM schemakit.files WHERE user_id = :ada;

--------------------------------------------------------------------------
-- A downgrade to 1.0 is refused while 1.1 tables hold rows.
--------------------------------------------------------------------------

SELECT regress.err($$ALTER EXTENSION schemakit UPDATE TO '1.0'$$) AS downgrade;
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT count(*) AS oauth_accounts FROM schemakit.oauth_accounts;

--------------------------------------------------------------------------
-- Deleting the users removes their links, tokens and files; clean up.
--------------------------------------------------------------------------

DELETE FROM schemakit.users WHERE username IN ('regress_v11_ada', 'regress_v11_bob');
SELECT (SELECT count(*) FROM schemakit.oauth_accounts) AS oauth_accounts,
       (SELECT count(*) FROM schemakit.password_reset_tokens) AS password_reset_tokens,
       (SELECT count(*) FROM schemakit.files) AS files;
