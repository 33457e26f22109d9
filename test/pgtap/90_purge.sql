-- 90_purge.sql - schemakit.purge_expired() (1.2): it deletes the email
-- codes and sessions that died (expired, used or revoked) and the reset
-- tokens that expired, more than older_than ago, in all three
-- tables, and keeps everything else; it
-- returns the exact number deleted; older_than '0' purges everything dead;
-- argument errors; and a backlog larger than one 5000-row batch is purged
-- in one call.
--
-- now() is constant inside this transaction, so every row below is given
-- explicit timestamps relative to it.  The three tables are emptied first
-- (inside this transaction only), so the counts are exact.
BEGIN;
SELECT plan(40);

SELECT function_returns('schemakit', 'purge_expired', ARRAY['interval']::name[], 'bigint',
                        'purge_expired(interval) returns bigint');
SELECT is(pg_get_function_arguments('schemakit.purge_expired(interval)'::regprocedure),
          'older_than interval DEFAULT ''1 day''::interval', 'older_than defaults to 1 day');
SELECT volatility_is('schemakit', 'purge_expired', ARRAY['interval']::name[], 'volatile', 'purge_expired is VOLATILE');
SELECT isnt_strict('schemakit', 'purge_expired', ARRAY['interval']::name[],
                   'purge_expired is not STRICT (a NULL is an error, not a no-op)');

DELETE FROM schemakit.email_codes;
DELETE FROM schemakit.password_reset_tokens;
DELETE FROM schemakit.sessions;

INSERT INTO schemakit.users (username) VALUES ('purge-ada');
CREATE TEMP TABLE u AS SELECT (SELECT id FROM schemakit.users WHERE username = 'purge-ada') AS ada;

-------------------------------------------------------------------------------
-- Rows in every state.  label: what the row is; its fate under the default
-- purge ('1 day') and under purge_expired('0').
-------------------------------------------------------------------------------
-- email_codes: the label is the local part of the email address.
-- Created four days ago: purging keeps codes created inside the
-- email-code limit window (they are what the limits count).
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, used_at, revoked_at, created_at)
SELECT label || '@purge.example', sha256(convert_to(label, 'UTF8')), now() + e, now() + us, now() + r,
       now() - interval '4 days'
  FROM (VALUES
    ('e_live',             interval '10 minutes', NULL::interval,    NULL::interval),
    ('e_live_idle',        interval '23 hours',   NULL,              NULL),
    ('e_expired_old',      interval '-2 days',    NULL,              NULL),
    ('e_expired_recent',   interval '-1 hour',    NULL,              NULL),
    ('e_expired_cutoff',   interval '-1 day',     NULL,              NULL),
    ('e_used_old',         interval '-2 days',    interval '-2 days 5 minutes', NULL),
    ('e_used_old_unexp',   interval '1 day',      interval '-3 days', NULL),
    ('e_used_recent',      interval '1 hour',     interval '-1 hour', NULL),
    ('e_revoked_old',      interval '1 hour',     NULL,              interval '-25 hours'),
    ('e_revoked_recent',   interval '1 hour',     NULL,              interval '-23 hours')
  ) AS v(label, e, us, r);

-- password_reset_tokens: the label is the preimage of token_hash.
INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at, used_at, revoked_at)
SELECT (SELECT ada FROM u), sha256(convert_to(label, 'UTF8')), now() + e, now() + us, now() + r
  FROM (VALUES
    ('p_live',           interval '1 hour',   NULL::interval,   NULL::interval),
    ('p_expired_old',    interval '-30 days', NULL,             NULL),
    ('p_expired_recent', interval '-1 hour',  NULL,             NULL),
    ('p_used_old',       interval '1 day',    interval '-2 days', NULL),
    ('p_used_recent',    interval '1 hour',   interval '-1 minute', NULL),
    ('p_revoked_old',    interval '1 hour',   NULL,             interval '-1 day -1 second'),
    ('p_revoked_recent', interval '1 hour',   NULL,             interval '-1 minute')
  ) AS v(label, e, us, r);

-- sessions: the label is the preimage of token_hash.  last_seen_at plays
-- no part: an idle live session is kept.
INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, last_seen_at, revoked_at)
SELECT (SELECT ada FROM u), sha256(convert_to(label, 'UTF8')), now() + e, now() + seen, now() + r
  FROM (VALUES
    ('s_live',           interval '30 days', interval '0',        NULL::interval),
    ('s_live_idle',      interval '30 days', interval '-60 days', NULL),
    ('s_expired_old',    interval '-2 days', interval '-40 days', NULL),
    ('s_expired_recent', interval '-1 hour', interval '-2 hours', NULL),
    ('s_revoked_old',    interval '20 days', interval '-3 days',  interval '-3 days'),
    ('s_revoked_recent', interval '20 days', interval '-1 hour',  interval '-1 hour')
  ) AS v(label, e, seen, r);

-- The labels left in each table.
CREATE FUNCTION pg_temp.left_in(tbl text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    r text[];
BEGIN
    IF tbl = 'email_codes' THEN
        SELECT array_agg(split_part(email, '@', 1) ORDER BY split_part(email, '@', 1)) INTO r FROM schemakit.email_codes;
    ELSE
        EXECUTE format($q$
            SELECT array_agg(l ORDER BY l)
              FROM schemakit.%I t
              JOIN unnest(ARRAY['p_live', 'p_expired_old', 'p_expired_recent', 'p_used_old', 'p_used_recent',
                                'p_revoked_old', 'p_revoked_recent', 's_live', 's_live_idle', 's_expired_old',
                                's_expired_recent', 's_revoked_old', 's_revoked_recent']) AS l
                ON t.token_hash = sha256(convert_to(l, 'UTF8'))$q$, tbl) INTO r;
    END IF;
    RETURN coalesce(r, '{}');
END
$$;

SELECT is((SELECT count(*) FROM schemakit.email_codes) + (SELECT count(*) FROM schemakit.password_reset_tokens)
          + (SELECT count(*) FROM schemakit.sessions), 23::bigint, 'set up 10 codes, 7 tokens and 6 sessions');

-------------------------------------------------------------------------------
-- purge_expired() with the default: dead for more than 1 day
-------------------------------------------------------------------------------
SELECT is(schemakit.purge_expired(), 7::bigint,
          'purge_expired() deletes 4 codes + 1 token + 2 sessions dead for more than a day');
SELECT is(pg_temp.left_in('email_codes'),
          ARRAY['e_expired_cutoff', 'e_expired_recent', 'e_live', 'e_live_idle', 'e_revoked_recent', 'e_used_recent'],
          'email_codes: live codes, codes dead for less than a day, and one dead exactly a day are kept');
SELECT is(pg_temp.left_in('password_reset_tokens'),
          ARRAY['p_expired_recent', 'p_live', 'p_revoked_old', 'p_revoked_recent', 'p_used_old', 'p_used_recent'],
          'password_reset_tokens (1.4): the token expired for over a day is gone; used and revoked ones stay until they expire');
SELECT is(pg_temp.left_in('sessions'),
          ARRAY['s_expired_recent', 's_live', 's_live_idle', 's_revoked_recent'],
          'sessions: the old expired and old revoked sessions are gone, the idle live one is kept');
SELECT is(schemakit.purge_expired(), 0::bigint, 'a second call deletes nothing');
SELECT is(schemakit.purge_expired('1 day'), 0::bigint, 'nor does an explicit 1 day');

SELECT is(schemakit.purge_expired('30 minutes'), 7::bigint,
          'purge_expired(''30 minutes'') deletes what died between 30 minutes and a day ago');
SELECT is(pg_temp.left_in('email_codes'), ARRAY['e_live', 'e_live_idle'],
          'email_codes: only the live codes are left');
SELECT is(pg_temp.left_in('password_reset_tokens'), ARRAY['p_live', 'p_revoked_old', 'p_revoked_recent', 'p_used_old', 'p_used_recent'],
          'password_reset_tokens: what expired an hour ago is gone, the unexpired ones are kept');
SELECT is(pg_temp.left_in('sessions'), ARRAY['s_live', 's_live_idle'],
          'sessions: only the live sessions are left');

-------------------------------------------------------------------------------
-- older_than '0': everything dead
-------------------------------------------------------------------------------
SELECT is(schemakit.purge_expired('0'), 0::bigint,
          'purge_expired(''0'') deletes nothing more: the codes and sessions left are live, the tokens left unexpired');
SELECT is(pg_temp.left_in('email_codes'), ARRAY['e_live', 'e_live_idle'], 'email_codes: the live ones survive');
SELECT is(pg_temp.left_in('password_reset_tokens'), ARRAY['p_live', 'p_revoked_old', 'p_revoked_recent', 'p_used_old', 'p_used_recent'],
          'password_reset_tokens: the unexpired ones survive, used or not');
UPDATE schemakit.password_reset_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NOT NULL OR revoked_at IS NOT NULL;
SELECT is(schemakit.purge_expired('0'), 4::bigint, 'once they expire, the used and revoked tokens are purged');
SELECT is(pg_temp.left_in('password_reset_tokens'), ARRAY['p_live'], 'password_reset_tokens: the live one survives');
SELECT is(pg_temp.left_in('sessions'), ARRAY['s_live', 's_live_idle'], 'sessions: the live ones survive');
SELECT is(schemakit.purge_expired('0'), 0::bigint, 'nothing dead is left');

-------------------------------------------------------------------------------
-- Argument errors
-------------------------------------------------------------------------------
SELECT throws_ok(format('SELECT schemakit.purge_expired(%L)', i), '22023', 'older_than must be between 0 and 100 years',
                 format('older_than %s raises 22023', i))
  FROM unnest(ARRAY['-1 day', '-1 microsecond', '-1 month']::interval[]) AS i;
SELECT throws_ok('SELECT schemakit.purge_expired(NULL)', '22004', 'older_than must not be NULL',
                 'older_than NULL raises 22004');
SELECT is((SELECT count(*) FROM schemakit.email_codes) + (SELECT count(*) FROM schemakit.password_reset_tokens)
          + (SELECT count(*) FROM schemakit.sessions), 5::bigint, 'the failed calls deleted nothing');

-------------------------------------------------------------------------------
-- More than one batch: 12000 dead codes (a batch is 5000 rows, a call does
-- up to 20 batches per table), plus 6000 dead sessions.
-------------------------------------------------------------------------------
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, created_at)
SELECT 'bulk' || g || '@purge.example', sha256(g::text::bytea), now() - interval '2 days', now() - interval '4 days'
  FROM generate_series(1, 12000) g;
INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, revoked_at)
SELECT (SELECT ada FROM u), sha256(('s' || g)::bytea), now() + interval '1 day', now() - interval '2 days'
  FROM generate_series(1, 6000) g;
SELECT is(schemakit.purge_expired(), 18000::bigint, 'one call purges 12000 dead codes and 6000 dead sessions');
SELECT is((SELECT count(*) FROM schemakit.email_codes WHERE email LIKE 'bulk%'), 0::bigint, 'no bulk code is left');
SELECT is((SELECT count(*) FROM schemakit.sessions WHERE revoked_at IS NOT NULL), 0::bigint, 'no bulk session is left');
SELECT is(pg_temp.left_in('email_codes'), ARRAY['e_live', 'e_live_idle'], 'the live codes are still there');
SELECT is(pg_temp.left_in('sessions'), ARRAY['s_live', 's_live_idle'], 'the live sessions are still there');

-------------------------------------------------------------------------------
-- The cap: at most 20 batches of 5000 rows per table in one call; the next
-- call continues.
-------------------------------------------------------------------------------
INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at)
SELECT (SELECT ada FROM u), sha256(('p' || g)::bytea), now() - interval '2 days'
  FROM generate_series(1, 100001) g;
SELECT is(schemakit.purge_expired(), 100000::bigint, 'one call deletes at most 100000 rows of a table');
SELECT is((SELECT count(*) FROM schemakit.password_reset_tokens), 2::bigint,
          'one dead token is left behind (plus the live one)');
SELECT is(schemakit.purge_expired(), 1::bigint, 'the next call deletes it');
SELECT is(pg_temp.left_in('password_reset_tokens'), ARRAY['p_live'], 'only the live token remains');

-------------------------------------------------------------------------------
-- Codes created inside schemakit.email_code_window survive any purge,
-- so purging cannot reset the issuance and verification limits.
-------------------------------------------------------------------------------
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, used_at, revoked_at, created_at)
VALUES ('w_used@purge.example', sha256('w_used'::bytea), now() + interval '1 minute', now() - interval '2 minutes', NULL, now() - interval '5 minutes'),
       ('w_old@purge.example', sha256('w_old'::bytea), now() - interval '1 hour', NULL, NULL, now() - interval '20 minutes');
SELECT is(schemakit.purge_expired('0'), 1::bigint, 'purge_expired(''0'') deletes the dead code created before the window');
SELECT is((SELECT array_agg(email) FROM schemakit.email_codes WHERE email LIKE 'w\_%'), ARRAY['w_used@purge.example'],
          'and keeps the dead code created inside the window, which the limits count');

-- At size: 100,000 dead codes go in 20 batches of 5,000, each found through
-- email_codes_dead_at_idx and deleted by its rows' ctid (email_codes has no
-- index leading with id).  A batch that had to scan the table for its ids
-- would take about 20 seconds here; 5 seconds is far above what it takes.
DELETE FROM schemakit.email_codes;
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, created_at)
SELECT 'bulk' || g || '@purge.example', sha256(g::text::bytea), now() - interval '3 days', now() - interval '3 days'
  FROM generate_series(1, 100000) g;
SET LOCAL statement_timeout = '5s';
SELECT is(schemakit.purge_expired('1 day'), 100000::bigint, 'purge_expired deletes 100,000 dead codes in batches, within 5 seconds');
RESET statement_timeout;
SELECT is((SELECT count(*) FROM schemakit.email_codes), 0::bigint, 'and none is left');

SELECT * FROM finish();
ROLLBACK;
