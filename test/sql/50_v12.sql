--
-- 50_v12: schemakit 1.2 - the update from 1.1, and every error of the 1.2
-- functions and of the sessions table, each shown with its SQLSTATE:
-- issue_session(), session_user_id(), revoke_session(),
-- revoke_user_sessions(), purge_expired(), and the refused downgrade.
-- Tokens and ids are only ever shown through deterministic properties.
--
-- Runs after 40_v11 (which leaves the extension at 1.1) and leaves it at
-- 1.2; removes every row and object it creates.
--
\set SHOW_CONTEXT never

ALTER EXTENSION schemakit UPDATE TO '1.2';
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT version FROM schemakit.migrations ORDER BY version;

-- The functions 1.2 adds, with their flags and defaults.
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       l.lanname AS lang, p.provolatile AS vol, p.proisstrict AS strict,
       p.proparallel AS par
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.proname IN ('issue_session', 'session_user_id', 'revoke_session',
                     'revoke_user_sessions', 'purge_expired')
 ORDER BY p.oid::regprocedure::text;
SELECT p.oid::regprocedure AS function, pg_get_function_arguments(p.oid) AS arguments
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.proname IN ('issue_session', 'purge_expired')
 ORDER BY p.oid::regprocedure::text;
-- The purge indexes 1.2 adds.
SELECT indexname, indexdef FROM pg_indexes
 WHERE schemaname = 'schemakit' AND indexname LIKE '%dead_at_idx' ORDER BY indexname;


-- Errors are shown with regress.err() from 00_install.

INSERT INTO schemakit.users (username) VALUES ('regress_v12_ada'), ('regress_v12_bob');
SELECT id AS ada FROM schemakit.users WHERE username = 'regress_v12_ada' \gset
SELECT id AS bob FROM schemakit.users WHERE username = 'regress_v12_bob' \gset

--------------------------------------------------------------------------
-- issue_session()
--------------------------------------------------------------------------

SELECT schemakit.issue_session(:ada, '30 days', '203.0.113.7', 'Mozilla/5.0') AS s1 \gset
SELECT schemakit.issue_session(:ada, '1 hour', '2001:db8::1', repeat('é', 600)) AS s2 \gset
SELECT schemakit.issue_session(:ada) AS s3 \gset
SELECT char_length(:'s1') AS length, :'s1' ~ '^[A-Za-z0-9_-]{43}$' AS base64url,
       :'s1' <> :'s2' AND :'s2' <> :'s3' AS distinct_tokens;
-- Each session is found by the SHA-256 of its token, which appears nowhere in its row.
SELECT v.label, s.expires_at - s.created_at AS ttl, s.last_seen_at = s.created_at AS seen_at_creation,
       s.ip_address, char_length(s.user_agent) AS ua_length, left(s.user_agent, 12) AS ua_start,
       s.user_id = :ada AS is_ada, strpos(s::text, v.token) = 0 AS token_not_stored,
       s.revoked_at IS NULL AS unrevoked
  FROM (VALUES ('s1', :'s1'), ('s2', :'s2'), ('s3', :'s3')) AS v(label, token)
  LEFT JOIN schemakit.sessions s ON s.token_hash = sha256(convert_to(v.token, 'UTF8'))
 ORDER BY v.label;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('ttl NULL',           format($$SELECT schemakit.issue_session(%s, NULL)$$, :ada)),
    ('ttl 0',              format($$SELECT schemakit.issue_session(%s, '0')$$, :ada)),
    ('ttl -1 day',         format($$SELECT schemakit.issue_session(%s, '-1 day')$$, :ada)),
    ('ttl 366 days 1 us',  format($$SELECT schemakit.issue_session(%s, '366 days 0.000001 seconds')$$, :ada)),
    ('ttl 13 months',      format($$SELECT schemakit.issue_session(%s, '13 months')$$, :ada)),
    ('ttl 1 year',         format($$SELECT schemakit.issue_session(%s, '1 year')$$, :ada)),
    ('ttl 360 days',       format($$SELECT schemakit.issue_session(%s, '360 days')$$, :ada)),
    ('ttl 365 days',       format($$SELECT schemakit.issue_session(%s, '365 days')$$, :ada)),
    ('ttl 366 days',       format($$SELECT schemakit.issue_session(%s, '366 days')$$, :ada)),
    ('unknown user',       $$SELECT schemakit.issue_session(-1)$$),
    ('NULL user',          $$SELECT schemakit.issue_session(NULL)$$),
    ('bad ttl and user',   $$SELECT schemakit.issue_session(-1, '0')$$),
    ('user agent 513',     format($$SELECT schemakit.issue_session(%s, '1 hour', NULL, repeat('u', 513))$$, :bob)),
    ('bad ip',             format($$SELECT schemakit.issue_session(%s, '1 hour', 'not-an-ip')$$, :bob))
  ) AS v(label, stmt);
-- The maximum is 366 days, not '1 year': interval comparison counts a year
-- as 360 days, so '1 year', '365 days' and '366 days' are all accepted.
SELECT count(*) AS ada_sessions FROM schemakit.sessions WHERE user_id = :ada;
SELECT max(char_length(user_agent)) AS bob_ua_length FROM schemakit.sessions WHERE user_id = :bob;

--------------------------------------------------------------------------
-- session_user_id()
--------------------------------------------------------------------------

SELECT schemakit.session_user_id(:'s1') = :ada AS live_session_is_ada,
       schemakit.session_user_id(repeat('A', 43)) IS NULL AS wrong_token,
       schemakit.session_user_id(lower(:'s1')) IS NULL AS lowercased_token,
       schemakit.session_user_id('') IS NULL AS empty_token,
       schemakit.session_user_id(NULL) IS NULL AS null_token,
       schemakit.session_user_id(repeat('A', 2000)) IS NULL AS overlong_token;

-- Expired (expires_at in the past) and revoked sessions give NULL.
UPDATE schemakit.sessions SET expires_at = now() - interval '1 second'
 WHERE token_hash = sha256(convert_to(:'s2', 'UTF8'));
SELECT schemakit.session_user_id(:'s2') IS NULL AS expired_session;

-- last_seen_at: left alone when seen 30 s ago, refreshed when seen 2 minutes ago.
BEGIN;
UPDATE schemakit.sessions SET last_seen_at = now() - interval '30 seconds'
 WHERE token_hash = sha256(convert_to(:'s3', 'UTF8'));
SELECT schemakit.session_user_id(:'s3') = :ada AS live;
-- (A separate statement: one with the call would not see the call's update.)
SELECT last_seen_at = now() - interval '30 seconds' AS last_seen_unchanged
  FROM schemakit.sessions WHERE token_hash = sha256(convert_to(:'s3', 'UTF8'));
UPDATE schemakit.sessions SET last_seen_at = now() - interval '2 minutes'
 WHERE token_hash = sha256(convert_to(:'s3', 'UTF8'));
SELECT schemakit.session_user_id(:'s3') = :ada AS live;
SELECT last_seen_at = now() AS last_seen_refreshed
  FROM schemakit.sessions WHERE token_hash = sha256(convert_to(:'s3', 'UTF8'));
COMMIT;

--------------------------------------------------------------------------
-- revoke_session() and revoke_user_sessions()
--------------------------------------------------------------------------

SELECT schemakit.revoke_session(:'s3') AS first_revoke;
SELECT schemakit.revoke_session(:'s3') AS second_revoke,
       schemakit.session_user_id(:'s3') IS NULL AS revoked_session,
       schemakit.revoke_session(:'s2') AS revoke_expired,
       schemakit.revoke_session(repeat('A', 43)) AS revoke_wrong,
       schemakit.revoke_session(NULL) AS revoke_null,
       schemakit.revoke_session(repeat('A', 2000)) AS revoke_overlong;

-- ada: s1, the two sessions issued in the error table above and three more
-- are live, s2 has expired, s3 is revoked; bob's sessions are not touched.
SELECT count(*) AS issued FROM (SELECT schemakit.issue_session(:ada, '1 day') FROM generate_series(1, 3)) s;
SELECT count(*) AS issued FROM (SELECT schemakit.issue_session(:bob, '1 day') FROM generate_series(1, 2)) s;
SELECT schemakit.revoke_user_sessions(:ada) AS revoked_first;
SELECT schemakit.revoke_user_sessions(:ada) AS revoked_again,
       schemakit.revoke_user_sessions(-1) AS revoked_unknown_user,
       schemakit.revoke_user_sessions(NULL) AS revoked_null;
SELECT user_id = :ada AS is_ada, count(*) AS sessions, count(revoked_at) AS revoked
  FROM schemakit.sessions WHERE user_id IN (:ada, :bob) GROUP BY 1 ORDER BY 1;

--------------------------------------------------------------------------
-- sessions table constraints
--------------------------------------------------------------------------

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('hash 28 bytes',   format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (%s, sha224(''), now())$$, :bob)),
    ('fixed hash',      format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (%s, sha256('regress'), now())$$, :bob)),
    ('duplicate hash',  format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (%s, sha256('regress'), now())$$, :bob)),
    ('user agent 513',  format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, user_agent) VALUES (%s, sha256('ua'), now(), repeat('u', 513))$$, :bob)),
    ('missing user',    $$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (-1, sha256('x'), now())$$),
    ('NULL expires_at', format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (%s, sha256('y'), NULL)$$, :bob)),
    ('NULL token_hash', format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (%s, NULL, now())$$, :bob)),
    ('explicit id',     format($$INSERT INTO schemakit.sessions (id, user_id, token_hash, expires_at) VALUES (1, %s, sha256('z'), now())$$, :bob))
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- purge_expired()
--------------------------------------------------------------------------

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL',           $$SELECT schemakit.purge_expired(NULL)$$),
    ('-1 day',         $$SELECT schemakit.purge_expired('-1 day')$$),
    ('-1 microsecond', $$SELECT schemakit.purge_expired('-1 microsecond')$$),
    ('-1 month',       $$SELECT schemakit.purge_expired('-1 month')$$)
  ) AS v(label, stmt);

-- In a transaction that is rolled back, with the three tables emptied
-- first, so the counts do not depend on rows other tests left behind.
BEGIN;
DELETE FROM schemakit.email_codes;
DELETE FROM schemakit.password_reset_tokens;
DELETE FROM schemakit.sessions;
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, used_at, revoked_at)
SELECT l || '@v12.example', sha256(convert_to(l, 'UTF8')), now() + e, now() + us, now() + r
  FROM (VALUES ('live',         interval '10 minutes', NULL::interval, NULL::interval),
               ('expired_old',  interval '-2 days',    NULL,           NULL),
               ('expired_new',  interval '-1 hour',    NULL,           NULL),
               ('used_old',     interval '1 hour',     interval '-2 days', NULL),
               ('revoked_old',  interval '1 hour',     NULL,           interval '-2 days')) AS v(l, e, us, r);
INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at, used_at, revoked_at)
SELECT :ada, sha256(convert_to(l, 'UTF8')), now() + e, now() + us, now() + r
  FROM (VALUES ('live',         interval '1 hour',  NULL::interval, NULL::interval),
               ('expired_old',  interval '-3 days', NULL,           NULL),
               ('used_new',     interval '1 hour',  interval '-1 minute', NULL),
               ('revoked_old',  interval '1 hour',  NULL,           interval '-25 hours')) AS v(l, e, us, r);
INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, last_seen_at, revoked_at)
SELECT :ada, sha256(convert_to(l, 'UTF8')), now() + e, now() + seen, now() + r
  FROM (VALUES ('live_idle',    interval '30 days', interval '-90 days', NULL::interval),
               ('expired_old',  interval '-2 days', interval '-3 days',  NULL),
               ('revoked_new',  interval '30 days', interval '-1 hour',  interval '-1 hour')) AS v(l, e, seen, r);
SELECT schemakit.purge_expired() AS purged_default;
SELECT 'email_codes' AS tbl, split_part(email, '@', 1) AS kept FROM schemakit.email_codes
UNION ALL
SELECT 'password_reset_tokens', l FROM schemakit.password_reset_tokens t
  JOIN unnest(ARRAY['live', 'expired_old', 'used_new', 'revoked_old']) AS l ON t.token_hash = sha256(convert_to(l, 'UTF8'))
UNION ALL
SELECT 'sessions', l FROM schemakit.sessions s
  JOIN unnest(ARRAY['live_idle', 'expired_old', 'revoked_new']) AS l ON s.token_hash = sha256(convert_to(l, 'UTF8'))
ORDER BY 1, 2;
SELECT schemakit.purge_expired() AS purged_again;
SELECT schemakit.purge_expired('0') AS purged_all_dead;
SELECT (SELECT count(*) FROM schemakit.email_codes) AS email_codes,
       (SELECT count(*) FROM schemakit.password_reset_tokens) AS password_reset_tokens,
       (SELECT count(*) FROM schemakit.sessions) AS sessions;
-- A backlog of 12000 dead codes is more than two batches of 5000.
INSERT INTO schemakit.email_codes (email, code_hash, expires_at)
SELECT 'bulk' || g || '@v12.example', sha256(g::text::bytea), now() - interval '2 days'
  FROM generate_series(1, 12000) g;
SELECT schemakit.purge_expired() AS purged_backlog;
SELECT count(*) AS email_codes FROM schemakit.email_codes;
ROLLBACK;

--------------------------------------------------------------------------
-- A downgrade to 1.1 is refused while sessions hold rows.
--------------------------------------------------------------------------

SELECT regress.err($$ALTER EXTENSION schemakit UPDATE TO '1.1'$$) AS downgrade;
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';

--------------------------------------------------------------------------
-- Deleting the users removes their sessions; clean up.
--------------------------------------------------------------------------

DELETE FROM schemakit.users WHERE username IN ('regress_v12_ada', 'regress_v12_bob');
SELECT count(*) AS sessions FROM schemakit.sessions;
