--
-- 70_v14: schemakit 1.4 - the update from 1.3: _token_hash, _email_ok and
-- _code_hash_keyed in C (digest.c, email.c, hmac.c) giving exactly what the
-- SQL versions gave, session_user_id() in C (session.c) with the behaviour
-- of the PL/pgSQL version and its 55000 errors for a sessions table changed
-- outside the scripts, reset tokens purged by expiry only, and the indexes
-- 1.4 drops and adds.
--
-- Runs after 60_v13 (which leaves the extension at 1.3) and leaves it at
-- 1.4; removes every row and role it creates.
--
\set SHOW_CONTEXT never

-- What the 1.3 (SQL) helpers return, kept to compare with their C versions.
CREATE TABLE regress.v13_helpers (kind text, arg1 text, arg2 text, result text);
INSERT INTO regress.v13_helpers
SELECT 'token_hash', t, NULL, encode(schemakit._token_hash(t), 'hex')
  FROM unnest(ARRAY['', 'abc', 'Jm2x0vQ9-_', 'αβγ 😀', repeat('x', 2000)]) AS t;
INSERT INTO regress.v13_helpers
SELECT 'email_ok', e, NULL, schemakit._email_ok(e)::text
  FROM unnest(ARRAY['a@b', 'Ada@Example.com', 'a b@c', 'a@b@c', '@b', 'a@', 'no-at', '',
                    E'a@b\tc', E'a@b\nc', 'é@ü.example', repeat('e', 243) || '@example.com',
                    repeat('e', 244) || '@example.com', repeat('é', 243) || '@example.com']) AS e;
INSERT INTO regress.v13_helpers
SELECT 'code_hash_keyed', e, c, encode(schemakit._code_hash_keyed(e, c), 'hex')
  FROM unnest(ARRAY['ada@v14.example', 'ADA@V14.example', 'x@y'],
              ARRAY['123456', '000000', '']) AS u(e, c);

INSERT INTO schemakit.users (username, email) VALUES ('regress_v14_ada', 'ada@v14.example');
SELECT id AS ada FROM schemakit.users WHERE username = 'regress_v14_ada' \gset
-- A code and a session issued by 1.3, to use after the update.
SELECT schemakit.issue_email_code('ada@v14.example') AS code13 \gset
SELECT schemakit.issue_session(:ada, '1 day', '198.51.100.4', 'v13 agent') AS s13 \gset

ALTER EXTENSION schemakit UPDATE TO '1.4';
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT version FROM schemakit.migrations ORDER BY version;

-- The functions 1.4 replaces.
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       l.lanname AS lang, p.prosrc AS c_symbol, p.provolatile AS vol,
       p.proisstrict AS strict, p.proparallel AS par, p.prosecdef AS secdef,
       p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_exec
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.proname IN ('_token_hash', '_email_ok', '_code_hash_keyed', 'session_user_id')
 ORDER BY p.oid::regprocedure::text;

-- The indexes and storage 1.4 changes.
SELECT indexname, indexdef FROM pg_indexes
 WHERE schemaname = 'schemakit'
   AND tablename IN ('password_reset_tokens', 'email_codes')
 ORDER BY indexname;
SELECT reloptions FROM pg_class WHERE oid = 'schemakit.password_reset_tokens'::regclass;

--------------------------------------------------------------------------
-- The C helpers give what the SQL ones gave
--------------------------------------------------------------------------

SELECT h.kind, count(*) AS compared,
       count(*) FILTER (WHERE h.result IS NOT DISTINCT FROM
         CASE h.kind
           WHEN 'token_hash' THEN encode(schemakit._token_hash(h.arg1), 'hex')
           WHEN 'email_ok' THEN schemakit._email_ok(h.arg1)::text
           WHEN 'code_hash_keyed' THEN encode(schemakit._code_hash_keyed(h.arg1, h.arg2), 'hex')
         END) AS same
  FROM regress.v13_helpers h
 GROUP BY h.kind ORDER BY h.kind;
SELECT replace(replace(arg1, E'\t', '\t'), E'\n', '\n') AS email, result AS email_ok
  FROM regress.v13_helpers
 WHERE kind = 'email_ok' AND length(arg1) < 30 ORDER BY arg1 COLLATE "C";
SELECT encode(schemakit._token_hash('abc'), 'hex') AS token_hash_of_abc,
       schemakit._token_hash('αβγ') = sha256(convert_to('αβγ', 'UTF8')) AS utf8_sha256,
       schemakit._token_hash(NULL) IS NULL AS null_token,
       schemakit._email_ok(NULL) IS NULL AS null_email,
       schemakit._code_hash_keyed(NULL, '1') IS NULL AS null_code_email,
       schemakit._code_hash_keyed('a@b', NULL) IS NULL AS null_code,
       octet_length(schemakit._code_hash_keyed('a@b', '1')) AS code_hash_bytes;
DROP TABLE regress.v13_helpers;

-- The CHECK constraints call the C _email_ok.
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('users bad email',  $$INSERT INTO schemakit.users (username, email) VALUES ('regress_v14_x', 'a b@c')$$),
    ('codes bad email',  $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('no-at', sha256(''), now())$$),
    ('users good email', $$INSERT INTO schemakit.users (username, email) VALUES ('regress_v14_y', 'y@v14.example')$$)
  ) AS v(label, stmt);
DELETE FROM schemakit.users WHERE username = 'regress_v14_y';

-- The code issued by 1.3 verifies under the C hash.
SELECT schemakit.verify_email_code('Ada@V14.example', :'code13') AS code_from_13;

--------------------------------------------------------------------------
-- session_user_id() in C
--------------------------------------------------------------------------

SELECT schemakit.issue_session(:ada, '1 hour') AS s14 \gset
SELECT schemakit.session_user_id(:'s13') = :ada AS session_from_13,
       schemakit.session_user_id(:'s14') = :ada AS session_from_14,
       schemakit.session_user_id(repeat('A', 43)) IS NULL AS wrong_token,
       schemakit.session_user_id(lower(:'s14')) IS NULL AS lowercased_token,
       schemakit.session_user_id('') IS NULL AS empty_token,
       schemakit.session_user_id(NULL) IS NULL AS null_token,
       schemakit.session_user_id(repeat('A', 1401)) IS NULL AS overlong_token;

-- Expired and revoked sessions give NULL; a revocation earlier in the same
-- statement is seen.
UPDATE schemakit.sessions SET expires_at = now() - interval '1 second'
 WHERE token_hash = sha256(convert_to(:'s13', 'UTF8'));
SELECT schemakit.session_user_id(:'s13') IS NULL AS expired_session;
SELECT schemakit.revoke_session(:'s14') AS revoked, schemakit.session_user_id(:'s14') IS NULL AS then_unknown;

-- last_seen_at: left alone when seen 30 s ago, refreshed when seen 2 minutes ago.
SELECT schemakit.issue_session(:ada, '1 hour') AS s \gset
BEGIN;
UPDATE schemakit.sessions SET last_seen_at = now() - interval '30 seconds'
 WHERE token_hash = sha256(convert_to(:'s', 'UTF8'));
SELECT schemakit.session_user_id(:'s') = :ada AS live;
SELECT last_seen_at = now() - interval '30 seconds' AS last_seen_unchanged
  FROM schemakit.sessions WHERE token_hash = sha256(convert_to(:'s', 'UTF8'));
UPDATE schemakit.sessions SET last_seen_at = now() - interval '2 minutes'
 WHERE token_hash = sha256(convert_to(:'s', 'UTF8'));
SELECT schemakit.session_user_id(:'s') = :ada AS live;
SELECT last_seen_at = now() AS last_seen_refreshed
  FROM schemakit.sessions WHERE token_hash = sha256(convert_to(:'s', 'UTF8'));
COMMIT;

-- In a read-only transaction it still answers (and skips the refresh).
UPDATE schemakit.sessions SET last_seen_at = now() - interval '2 minutes'
 WHERE token_hash = sha256(convert_to(:'s', 'UTF8'));
BEGIN READ ONLY;
SELECT schemakit.session_user_id(:'s') = :ada AS live_read_only;
SELECT last_seen_at < now() - interval '1 minute' AS not_refreshed
  FROM schemakit.sessions WHERE token_hash = sha256(convert_to(:'s', 'UTF8'));
COMMIT;

-- Not SECURITY DEFINER any more, but it reads without the caller's rights
-- on sessions: an app role with EXECUTE gets the user.
CREATE ROLE regress_v14_app NOLOGIN;
SELECT schemakit.grant_app('regress_v14_app');
SET ROLE regress_v14_app;
SELECT schemakit.session_user_id(:'s') = :ada AS app_session_user;
RESET ROLE;

-- A sessions table changed outside the scripts is refused (55000).
BEGIN;
ALTER TABLE schemakit.sessions DROP CONSTRAINT sessions_token_hash_key;
SELECT regress.err(format('SELECT schemakit.session_user_id(%L)', :'s')) AS no_token_index;
ROLLBACK;
BEGIN;
ALTER TABLE schemakit.sessions RENAME COLUMN token_hash TO token_digest;
SELECT regress.err(format('SELECT schemakit.session_user_id(%L)', :'s')) AS no_token_hash;
ROLLBACK;
BEGIN;
ALTER TABLE schemakit.sessions RENAME TO sessions_moved;
SELECT regress.err(format('SELECT schemakit.session_user_id(%L)', :'s')) AS no_table;
ROLLBACK;
SELECT schemakit.session_user_id(:'s') = :ada AS back_to_normal;

--------------------------------------------------------------------------
-- Reset tokens are purged by expiry only
--------------------------------------------------------------------------

BEGIN;
DELETE FROM schemakit.password_reset_tokens;
INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at, used_at, revoked_at)
SELECT :ada, sha256(convert_to(l, 'UTF8')), now() + e, now() + us, now() + r
  FROM (VALUES ('live',         interval '1 hour',  NULL::interval, NULL::interval),
               ('expired_old',  interval '-3 days', NULL,           NULL),
               ('used_old',     interval '1 hour',  interval '-2 days', NULL),
               ('revoked_old',  interval '1 hour',  NULL,           interval '-2 days')) AS v(l, e, us, r);
SELECT schemakit.purge_expired() >= 1 AS purged;
SELECT l AS kept FROM schemakit.password_reset_tokens t
  JOIN unnest(ARRAY['live', 'expired_old', 'used_old', 'revoked_old']) AS l
    ON t.token_hash = sha256(convert_to(l, 'UTF8'))
 ORDER BY 1;
ROLLBACK;

--------------------------------------------------------------------------
-- Clean up.
--------------------------------------------------------------------------

DELETE FROM schemakit.users WHERE username = 'regress_v14_ada';
DELETE FROM schemakit.email_codes WHERE lower(email) LIKE '%@v14.example';
SELECT (SELECT count(*) FROM schemakit.sessions) AS sessions,
       (SELECT count(*) FROM schemakit.email_codes WHERE lower(email) LIKE '%@v14.example') AS codes;
DROP OWNED BY regress_v14_app;
DROP ROLE regress_v14_app;
