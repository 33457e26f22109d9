--
-- 60_v13: schemakit 1.3 - the update from 1.2, and what 1.3 adds: email
-- codes stored as keyed hashes (_code_hmac, _code_hash_keyed, the
-- per-database key _code_key), the unkeyed hashes of 1.2 accepted for a
-- day, the limits SKR01 (issuance) and SKR02 (failed verifications) per
-- address and window, purge_expired keeping the codes of the window, the
-- SECURITY DEFINER / EXECUTE model (what roles that could use a function
-- at 1.2 keep), grant_app(), and the refused downgrade.
--
-- Codes, hashes and keys are random or depend on the server's code key:
-- only deterministic properties are shown.  The limits are the defaults
-- (5 codes, 10 failures per 15 minutes).
--
-- Runs after 50_v12 (which leaves the extension at 1.2) and leaves it at
-- 1.3; removes every row and role it creates.
--
\set SHOW_CONTEXT never

-- A role that, at 1.2, holds the table rights session_user_id(),
-- revoke_session() and revoke_user_sessions() need, but not those of
-- issue_session(): the update must give it EXECUTE on exactly those three.
CREATE ROLE regress_v13_legacy NOLOGIN;
GRANT USAGE ON SCHEMA schemakit TO regress_v13_legacy;
GRANT SELECT, UPDATE ON schemakit.sessions TO regress_v13_legacy;

-- A code issued by 1.2 (unkeyed hash), to verify after the update.
INSERT INTO schemakit.users (username, email) VALUES ('regress_v13_ada', 'ada@v13.example');
SELECT id AS ada FROM schemakit.users WHERE username = 'regress_v13_ada' \gset
SELECT schemakit.issue_email_code('legacy@v13.example') AS legacy_code \gset

ALTER EXTENSION schemakit UPDATE TO '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT version FROM schemakit.migrations ORDER BY version;

-- The functions 1.3 adds or changes: flags, SECURITY DEFINER, and whether
-- PUBLIC may execute them.
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       l.lanname AS lang, p.provolatile AS vol, p.proisstrict AS strict,
       p.proparallel AS par, p.prosecdef AS secdef,
       p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_exec
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.prorettype <> 'trigger'::regtype
 ORDER BY p.oid::regprocedure::text;

-- The key table and the index 1.3 adds.
SELECT count(*) AS key_rows, min(octet_length(key)) AS key_bytes,
       bool_and(singleton) AS singleton
  FROM schemakit._code_key;
SELECT indexdef FROM pg_indexes
 WHERE schemaname = 'schemakit' AND indexname = 'email_codes_email_created_idx';
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('second key',  $$INSERT INTO schemakit._code_key (key) VALUES (sha256('x'))$$),
    ('key 31',      $$UPDATE schemakit._code_key SET key = substr(key, 1, 31)$$),
    ('not single',  $$INSERT INTO schemakit._code_key (singleton, key) VALUES (false, sha256('x'))$$)
  ) AS v(label, stmt);
-- The key is not dumped: _code_key is not registered with pg_dump.
SELECT count(*) AS code_key_dumped
  FROM pg_extension e, unnest(e.extconfig) AS t(cfg)
 WHERE e.extname = 'schemakit' AND cfg = 'schemakit._code_key'::regclass;

--------------------------------------------------------------------------
-- Keyed code hashes
--------------------------------------------------------------------------

SELECT schemakit.issue_email_code('Keyed@V13.example') AS code \gset
SELECT :'code' ~ '^[0-9]{6}$' AS six_digits,
       octet_length(ec.code_hash) AS hash_bytes,
       ec.code_hash = schemakit._code_hash_keyed('Keyed@V13.example', :'code') AS keyed_hash,
       ec.code_hash = schemakit._code_hash_keyed('keyed@v13.example', :'code') AS case_folded,
       ec.code_hash <> schemakit._code_hash('Keyed@V13.example', :'code') AS not_unkeyed,
       ec.code_hash = schemakit._code_hmac('schemakit/email-code/keyed@v13.example/' || :'code',
                                           (SELECT key FROM schemakit._code_key)) AS hmac_of_message
  FROM schemakit.email_codes ec WHERE ec.email = 'Keyed@V13.example';
SELECT octet_length(schemakit._code_hmac('m', (SELECT key FROM schemakit._code_key))) AS hmac_bytes,
       schemakit._code_hash_keyed('a@b', '1') <> schemakit._code_hash_keyed('a@b', '2') AS differs_by_code,
       schemakit._code_hash_keyed('a@b', '1') <> schemakit._code_hash_keyed('a@c', '1') AS differs_by_email,
       schemakit._code_hash_keyed(NULL, '1') IS NULL AS null_email,
       schemakit._code_hash_keyed('a@b', NULL) IS NULL AS null_code;
SELECT schemakit.verify_email_code('KEYED@v13.example', :'code') AS keyed_code_verifies;

-- A code 1.2 stored (unkeyed) verifies for a day after the 1.3 step ...
SELECT schemakit.verify_email_code('legacy@v13.example', :'legacy_code') AS legacy_code_verifies;
-- ... but not one created later than that.
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, created_at)
SELECT 'late@v13.example', schemakit._code_hash('late@v13.example', '123456'),
       now() + interval '10 minutes', m.applied_at + interval '1 day 1 second'
  FROM schemakit.migrations m WHERE m.version = '1.3';
SELECT schemakit.verify_email_code('late@v13.example', '123456') AS late_unkeyed_code;
SELECT failed_attempts FROM schemakit.email_codes WHERE email = 'late@v13.example';
DELETE FROM schemakit.email_codes WHERE email = 'late@v13.example';

--------------------------------------------------------------------------
-- SKR01: at most 5 codes per address and 15 minutes (any ASCII case)
--------------------------------------------------------------------------

SELECT n, schemakit.issue_email_code(CASE WHEN n % 2 = 0 THEN 'Limit@V13.example'
                                          ELSE 'limit@v13.example' END) ~ '^[0-9]{6}$' AS issued
  FROM generate_series(1, 5) AS n ORDER BY n;
SELECT regress.err($$SELECT schemakit.issue_email_code('LIMIT@v13.example')$$) AS sixth;
SELECT count(*) AS codes, count(*) FILTER (WHERE revoked_at IS NULL) AS open
  FROM schemakit.email_codes WHERE lower(email) = 'limit@v13.example';
-- Codes older than the window no longer count.
UPDATE schemakit.email_codes SET created_at = now() - interval '16 minutes'
 WHERE lower(email) = 'limit@v13.example';
SELECT schemakit.issue_email_code('limit@v13.example') ~ '^[0-9]{6}$' AS issued_after_window;
-- The limit is a setting (superuser only).
SET schemakit.email_code_issue_limit = 1;
SELECT regress.err($$SELECT schemakit.issue_email_code('limit@v13.example')$$) AS limit_1;
RESET schemakit.email_code_issue_limit;

--------------------------------------------------------------------------
-- SKR02: at most 10 failed verifications per address and 15 minutes
--------------------------------------------------------------------------

CREATE FUNCTION regress.wrong13(code text)
RETURNS text
LANGUAGE sql
AS $$ SELECT lpad(((code::integer + 1) % 1000000)::text, 6, '0') $$;

-- Two codes, five wrong guesses each: ten failures.
SELECT schemakit.issue_email_code('guess@v13.example') AS code \gset
SELECT n, schemakit.verify_email_code('guess@v13.example', regress.wrong13(:'code')) AS wrong
  FROM generate_series(1, 5) AS n ORDER BY n;
-- A killed code takes no more guesses (not counted).
SELECT schemakit.verify_email_code('guess@v13.example', regress.wrong13(:'code')) AS killed;
SELECT schemakit.issue_email_code('guess@v13.example') AS code \gset
SELECT n, schemakit.verify_email_code('Guess@v13.example', regress.wrong13(:'code')) AS wrong
  FROM generate_series(1, 4) AS n ORDER BY n;
SELECT sum(failed_attempts) AS failures FROM schemakit.email_codes
 WHERE lower(email) = 'guess@v13.example';
-- The tenth failure ...
SELECT schemakit.verify_email_code('guess@v13.example', regress.wrong13(:'code')) AS tenth_wrong;
-- ... then even the right code is refused.
SELECT regress.err(format($$SELECT schemakit.verify_email_code('guess@v13.example', %L)$$, :'code')) AS right_code;
SELECT regress.err($$SELECT schemakit.verify_email_code('GUESS@V13.EXAMPLE', '000000')$$) AS other_case;
-- Other addresses are not affected; NULL arguments still give false.
SELECT schemakit.verify_email_code('other@v13.example', '000000') AS other_address,
       schemakit.verify_email_code('guess@v13.example', NULL) AS null_code;
-- Failures older than the window no longer count.
UPDATE schemakit.email_codes SET created_at = now() - interval '16 minutes'
 WHERE lower(email) = 'guess@v13.example';
SELECT schemakit.issue_email_code('guess@v13.example') AS code \gset
SELECT schemakit.verify_email_code('guess@v13.example', :'code') AS right_after_window;
DROP FUNCTION regress.wrong13(text);

--------------------------------------------------------------------------
-- purge_expired keeps the codes the limits count
--------------------------------------------------------------------------

BEGIN;
DELETE FROM schemakit.email_codes;
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, created_at)
VALUES ('in-window@v13.example', sha256('1'), now() - interval '2 minutes', now() - interval '5 minutes'),
       ('old@v13.example', sha256('2'), now() - interval '50 minutes', now() - interval '1 hour');
SELECT schemakit.purge_expired('0') AS purged;
SELECT email FROM schemakit.email_codes ORDER BY email;
ROLLBACK;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL',        $$SELECT schemakit.purge_expired(NULL)$$),
    ('-1 second',   $$SELECT schemakit.purge_expired('-1 second')$$),
    ('101 years',   $$SELECT schemakit.purge_expired('101 years')$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- The EXECUTE model: what the legacy role kept, what grant_app() gives
--------------------------------------------------------------------------

SELECT p.proname, has_function_privilege('regress_v13_legacy', p.oid, 'EXECUTE') AS legacy_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.proname IN ('issue_email_code', 'verify_email_code', 'issue_password_reset_token',
                     'consume_password_reset_token', 'issue_session', 'session_user_id',
                     'revoke_session', 'revoke_user_sessions', 'purge_expired', 'grant_app')
 ORDER BY 1;

CREATE ROLE regress_v13_app NOLOGIN;
CREATE ROLE regress_v13_nobody NOLOGIN;
-- (regress.err from 00_install, for both)
GRANT USAGE ON SCHEMA regress TO regress_v13_app, regress_v13_nobody;
SELECT schemakit.grant_app('regress_v13_app') AS granted;
-- Run again: grants only add, nothing fails.
SELECT schemakit.grant_app('regress_v13_app'::regrole) AS granted_again;

-- What the app role may do: every public function but grant_app, the plain
-- tables, nothing on the secret tables.
SELECT p.proname, has_function_privilege('regress_v13_app', p.oid, 'EXECUTE') AS app_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.prorettype <> 'trigger'::regtype
 ORDER BY 1;
SELECT c.relname,
       has_table_privilege('regress_v13_app', c.oid, 'SELECT') AS sel,
       has_table_privilege('regress_v13_app', c.oid, 'INSERT') AS ins,
       has_table_privilege('regress_v13_app', c.oid, 'UPDATE') AS upd,
       has_table_privilege('regress_v13_app', c.oid, 'DELETE') AS del
  FROM pg_class c
 WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind = 'r'
 ORDER BY 1;
SELECT c.relname, has_sequence_privilege('regress_v13_app', c.oid, 'USAGE') AS usage
  FROM pg_class c
 WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind = 'S'
 ORDER BY 1;

-- As the app: the SECURITY DEFINER functions work without table rights.
SET ROLE regress_v13_app;
SELECT schemakit.issue_email_code('app@v13.example') AS code \gset
SELECT schemakit.verify_email_code('app@v13.example', :'code') AS app_verifies;
SELECT schemakit.issue_session(:ada, '1 hour') AS app_session \gset
SELECT schemakit.session_user_id(:'app_session') = :ada AS app_session_user,
       schemakit.revoke_session(:'app_session') AS app_revokes;
SELECT schemakit.issue_password_reset_token(:ada) AS app_token \gset
SELECT schemakit.consume_password_reset_token(:'app_token') = :ada AS app_consumes;
SELECT schemakit.revoke_user_sessions(:ada) AS app_revoked_all;
SELECT schemakit.purge_expired('1 day') >= 0 AS app_purges;
SELECT count(*) >= 1 AS app_reads_users FROM schemakit.users;
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('read email_codes',  $$SELECT count(*) FROM schemakit.email_codes$$),
    ('read sessions',     $$SELECT count(*) FROM schemakit.sessions$$),
    ('read reset tokens', $$SELECT count(*) FROM schemakit.password_reset_tokens$$),
    ('read _code_key',    $$SELECT count(*) FROM schemakit._code_key$$),
    ('_code_hash_keyed',  $$SELECT schemakit._code_hash_keyed('a@b', '1')$$),
    ('grant_app',         $$SELECT schemakit.grant_app('regress_v13_nobody')$$)
  ) AS v(label, stmt);
RESET ROLE;

-- A role without grants may call none of them.
SET ROLE regress_v13_nobody;
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('issue_email_code', $$SELECT schemakit.issue_email_code('x@v13.example')$$),
    ('session_user_id',  $$SELECT schemakit.session_user_id('x')$$)
  ) AS v(label, stmt);
RESET ROLE;
GRANT USAGE ON SCHEMA schemakit TO regress_v13_nobody;
SET ROLE regress_v13_nobody;
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('issue_email_code', $$SELECT schemakit.issue_email_code('x@v13.example')$$),
    ('verify_email_code', $$SELECT schemakit.verify_email_code('x@v13.example', '1')$$),
    ('issue_session',    $$SELECT schemakit.issue_session(1)$$),
    ('session_user_id',  $$SELECT schemakit.session_user_id('x')$$),
    ('purge_expired',    $$SELECT schemakit.purge_expired()$$),
    ('grant_app',        $$SELECT schemakit.grant_app('regress_v13_nobody')$$),
    ('public_id',        $$SELECT length(schemakit.public_id())$$)
  ) AS v(label, stmt);
RESET ROLE;

-- grant_app's own errors.
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL',         $$SELECT schemakit.grant_app(NULL)$$),
    ('unknown name', $$SELECT schemakit.grant_app('regress_v13_no_such_role')$$),
    ('unknown OID',  $$SELECT schemakit.grant_app(0::oid::regrole)$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- A downgrade to 1.2 keeps the rows; back to 1.3 right away.
--------------------------------------------------------------------------

ALTER EXTENSION schemakit UPDATE TO '1.2';
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT count(*) AS keyed_functions FROM pg_proc
 WHERE pronamespace = 'schemakit'::regnamespace AND proname IN ('_code_hash_keyed', 'grant_app');
ALTER EXTENSION schemakit UPDATE TO '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT version FROM schemakit.migrations ORDER BY version;

--------------------------------------------------------------------------
-- Clean up.
--------------------------------------------------------------------------

DELETE FROM schemakit.users WHERE username = 'regress_v13_ada';
DELETE FROM schemakit.email_codes WHERE email LIKE '%@v13.example' OR email LIKE '%@V13.example';
SELECT count(*) AS v13_codes FROM schemakit.email_codes WHERE lower(email) LIKE '%@v13.example';
DROP OWNED BY regress_v13_legacy, regress_v13_app, regress_v13_nobody;
DROP ROLE regress_v13_legacy, regress_v13_app, regress_v13_nobody;
