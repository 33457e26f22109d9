-- 80_sessions.sql - schemakit.sessions (1.2): table shape and indexes, and
-- issue_session(), session_user_id(), revoke_session(),
-- revoke_user_sessions(): the token format, that only its SHA-256 is
-- stored, expiry and revocation, the once-a-minute last_seen_at refresh,
-- user_agent truncation, exact revocation counts, the ttl and user errors,
-- and the cascade when a user is deleted.
--
-- now() is constant inside this transaction: expiry and idleness are
-- simulated by moving expires_at / last_seen_at into the past.
BEGIN;
SELECT plan(112);

-------------------------------------------------------------------------------
-- Table shape
-------------------------------------------------------------------------------
SELECT has_table('schemakit', 'sessions', 'table schemakit.sessions exists');

CREATE TEMP TABLE expected_columns (col name, typ text, not_null boolean, ord serial);
INSERT INTO expected_columns (col, typ, not_null) VALUES
    ('id',           'bigint',                   true),
    ('user_id',      'bigint',                   true),
    ('token_hash',   'bytea',                    true),
    ('created_at',   'timestamp with time zone', true),
    ('expires_at',   'timestamp with time zone', true),
    ('last_seen_at', 'timestamp with time zone', true),
    ('ip_address',   'inet',                     false),
    ('user_agent',   'text',                     false),
    ('revoked_at',   'timestamp with time zone', false);

SELECT has_column('schemakit', 'sessions', col, format('column sessions.%s exists', col))
  FROM expected_columns ORDER BY ord;
SELECT col_type_is('schemakit', 'sessions', col, typ, format('column sessions.%s is %s', col, typ))
  FROM expected_columns ORDER BY ord;
SELECT CASE WHEN not_null
            THEN col_not_null('schemakit', 'sessions', col, format('column sessions.%s is NOT NULL', col))
            ELSE col_is_null('schemakit', 'sessions', col, format('column sessions.%s is nullable', col))
       END
  FROM expected_columns ORDER BY ord;
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'schemakit.sessions'::regclass AND attnum > 0 AND NOT attisdropped),
          (SELECT array_agg(col::text ORDER BY ord) FROM expected_columns),
          'sessions has exactly these columns, in this order');

SELECT col_is_pk('schemakit', 'sessions', 'token_hash', 'sessions.token_hash is the primary key');
SELECT col_default_is('schemakit', 'sessions', c, 'now()'::text, format('sessions.%s defaults to now()', c))
  FROM unnest(ARRAY['created_at', 'last_seen_at']) AS c;
SELECT col_hasnt_default('schemakit', 'sessions', 'expires_at', 'sessions.expires_at has no default');
SELECT fk_ok('schemakit', 'sessions', 'user_id', 'schemakit', 'users', 'id', 'sessions.user_id references users.id');
SELECT is((SELECT confdeltype::text FROM pg_constraint
            WHERE conrelid = 'schemakit.sessions'::regclass AND contype = 'f'),
          'c', 'the foreign key to users is ON DELETE CASCADE');
SELECT col_isnt_pk('schemakit', 'sessions', 'id', 'sessions.id is not the primary key (an identity with its own index)');

SELECT results_eq(
    $$SELECT indexname::text COLLATE "default", indexdef FROM pg_indexes
       WHERE schemaname = 'schemakit' AND tablename = 'sessions' ORDER BY 1$$,
    $$VALUES
      ('sessions_dead_at_idx', 'CREATE INDEX sessions_dead_at_idx ON schemakit.sessions USING btree (LEAST(expires_at, revoked_at))'),
      ('sessions_id_idx', 'CREATE INDEX sessions_id_idx ON schemakit.sessions USING btree (id)'),
      ('sessions_pkey', 'CREATE UNIQUE INDEX sessions_pkey ON schemakit.sessions USING btree (token_hash)'),
      ('sessions_user_id_idx', 'CREATE INDEX sessions_user_id_idx ON schemakit.sessions USING btree (user_id)')$$,
    'sessions has exactly its four indexes: pkey (token_hash), id, user_id, dead_at');
SELECT results_eq(
    $$SELECT conname::text COLLATE "default", pg_get_constraintdef(oid) FROM pg_constraint
       WHERE conrelid = 'schemakit.sessions'::regclass AND contype = 'c' ORDER BY 1$$,
    $$VALUES ('sessions_token_hash_check', 'CHECK ((octet_length(token_hash) = 32))'),
             ('sessions_user_agent_check', 'CHECK ((char_length(user_agent) <= 512))')$$,
    'sessions checks: a 32-byte token_hash, a user_agent of at most 512 characters');

-------------------------------------------------------------------------------
-- Fixtures
-------------------------------------------------------------------------------
INSERT INTO schemakit.users (username) VALUES ('sess-ada'), ('sess-bob'), ('sess-cy');
CREATE TEMP TABLE u AS
SELECT (SELECT id FROM schemakit.users WHERE username = 'sess-ada') AS ada,
       (SELECT id FROM schemakit.users WHERE username = 'sess-bob') AS bob,
       (SELECT id FROM schemakit.users WHERE username = 'sess-cy') AS cy;
CREATE TEMP TABLE tok (label text PRIMARY KEY, token text);
CREATE FUNCTION pg_temp.tok(l text) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT token FROM tok WHERE label = l $$;
CREATE FUNCTION pg_temp.row_of(l text) RETURNS schemakit.sessions LANGUAGE sql STABLE
AS $$ SELECT s FROM schemakit.sessions s WHERE s.token_hash = sha256(convert_to(pg_temp.tok(l), 'UTF8')) $$;
CREATE PROCEDURE pg_temp.set(l text, col text, val timestamptz) LANGUAGE plpgsql
AS $$ BEGIN
    EXECUTE format('UPDATE schemakit.sessions SET %I = $1 WHERE token_hash = sha256(convert_to($2, ''UTF8''))', col)
      USING val, pg_temp.tok(l);
END $$;

-------------------------------------------------------------------------------
-- issue_session: the token, what is stored
-------------------------------------------------------------------------------
INSERT INTO tok VALUES
    ('a1', schemakit.issue_session((SELECT ada FROM u), '30 days', '203.0.113.7', 'Mozilla/5.0'));

SELECT is(char_length(pg_temp.tok('a1')), 43, 'issue_session returns a 43-character token');
SELECT matches(pg_temp.tok('a1'), '^[A-Za-z0-9_-]{43}$', 'the token is unpadded base64url');
SELECT is((SELECT count(*) FROM schemakit.sessions WHERE user_id = (SELECT ada FROM u)), 1::bigint,
          'issuing stored one row');
SELECT is((SELECT token_hash FROM schemakit.sessions WHERE user_id = (SELECT ada FROM u)),
          sha256(convert_to(pg_temp.tok('a1'), 'UTF8')), 'the stored token_hash is sha256(token)');
SELECT is((SELECT count(*) FROM schemakit.sessions s
            WHERE strpos(s::text, pg_temp.tok('a1')) > 0
               OR strpos(s::text, encode(convert_to(pg_temp.tok('a1'), 'UTF8'), 'hex')) > 0),
          0::bigint, 'the token itself appears nowhere in the table, neither as text nor as hex');
SELECT row_eq(
    $$SELECT user_id, created_at, expires_at, last_seen_at, ip_address, user_agent, revoked_at
        FROM pg_temp.row_of('a1')$$,
    ROW((SELECT ada FROM u), now(), now() + interval '30 days', now(), '203.0.113.7'::inet,
        'Mozilla/5.0'::text, NULL::timestamptz),
    'the row holds the user, created_at = last_seen_at = now(), expires_at = now() + ttl, ip and user agent');

INSERT INTO tok VALUES ('a_def', schemakit.issue_session((SELECT ada FROM u)));
SELECT row_eq($$SELECT expires_at, ip_address, user_agent FROM pg_temp.row_of('a_def')$$,
              ROW(now() + interval '30 days', NULL::inet, NULL::text),
              'by default a session lasts 30 days, with no ip_address and no user_agent');
INSERT INTO tok VALUES ('a_v6', schemakit.issue_session((SELECT ada FROM u), '1 year', '2001:db8::1/128', ''));
SELECT row_eq($$SELECT expires_at, ip_address, user_agent FROM pg_temp.row_of('a_v6')$$,
              ROW(now() + interval '1 year', '2001:db8::1'::inet, ''::text),
              'a ttl of 1 year, an IPv6 address and an empty user agent are stored');

INSERT INTO tok VALUES ('a_ua', schemakit.issue_session((SELECT ada FROM u), '1 hour', NULL, repeat('é', 600)));
SELECT is((pg_temp.row_of('a_ua')).user_agent, repeat('é', 512),
          'a 600-character user agent is truncated to its first 512 characters');
INSERT INTO tok VALUES ('a_ua2', schemakit.issue_session((SELECT ada FROM u), '1 hour', NULL,
                                                         repeat('x', 511) || 'yz'));
SELECT is((pg_temp.row_of('a_ua2')).user_agent, repeat('x', 511) || 'y',
          'a 513-character user agent loses exactly its last character');
INSERT INTO tok VALUES ('a_ua3', schemakit.issue_session((SELECT ada FROM u), '1 hour', NULL, repeat('z', 512)));
SELECT is((pg_temp.row_of('a_ua3')).user_agent, repeat('z', 512), 'a 512-character user agent is kept whole');

SELECT is((SELECT count(DISTINCT t) FROM (SELECT schemakit.issue_session((SELECT cy FROM u), '1 minute') AS t
                                            FROM generate_series(1, 200)) s),
          200::bigint, '200 sessions issued in a row have distinct tokens');
DELETE FROM schemakit.sessions WHERE user_id = (SELECT cy FROM u);

-------------------------------------------------------------------------------
-- session_user_id
-------------------------------------------------------------------------------
SELECT is(schemakit.session_user_id(pg_temp.tok('a1')), (SELECT ada FROM u), 'session_user_id returns the user');
SELECT is(schemakit.session_user_id(pg_temp.tok('a1')), (SELECT ada FROM u), 'and keeps doing so');
SELECT is(schemakit.session_user_id(schemakit.random_token()), NULL, 'a wrong token returns NULL');
SELECT is(schemakit.session_user_id(lower(pg_temp.tok('a1'))), NULL, 'tokens are case-sensitive');
SELECT is(schemakit.session_user_id(NULL), NULL, 'NULL returns NULL');
SELECT is(schemakit.session_user_id(''), NULL, 'an empty token returns NULL');
SELECT is(schemakit.session_user_id(repeat('A', 2000)), NULL, 'a 2000-character token returns NULL');

INSERT INTO tok VALUES ('b_exp', schemakit.issue_session((SELECT bob FROM u)));
SELECT is(schemakit.session_user_id(pg_temp.tok('b_exp')), (SELECT bob FROM u), 'a fresh session of bob is live');
CALL pg_temp.set('b_exp', 'expires_at', now() - interval '1 second');
SELECT is(schemakit.session_user_id(pg_temp.tok('b_exp')), NULL, 'once expired it returns NULL');
CALL pg_temp.set('b_exp', 'expires_at', now());
SELECT is(schemakit.session_user_id(pg_temp.tok('b_exp')), NULL, 'expires_at = now() counts as expired');

INSERT INTO tok VALUES ('b_rev', schemakit.issue_session((SELECT bob FROM u)));
CALL pg_temp.set('b_rev', 'revoked_at', now() - interval '1 hour');
SELECT is(schemakit.session_user_id(pg_temp.tok('b_rev')), NULL, 'a revoked session returns NULL');

-------------------------------------------------------------------------------
-- last_seen_at is refreshed at most once a minute
-------------------------------------------------------------------------------
CALL pg_temp.set('a1', 'last_seen_at', now() - interval '30 seconds');
SELECT is(schemakit.session_user_id(pg_temp.tok('a1')), (SELECT ada FROM u), 'a session seen 30 s ago is live');
SELECT is((pg_temp.row_of('a1')).last_seen_at, now() - interval '30 seconds',
          'last_seen_at 30 s ago is left unchanged');
CALL pg_temp.set('a1', 'last_seen_at', now() - interval '1 minute');
SELECT ok(schemakit.session_user_id(pg_temp.tok('a1')) IS NOT NULL, 'a session seen exactly 1 minute ago is live');
SELECT is((pg_temp.row_of('a1')).last_seen_at, now() - interval '1 minute',
          'last_seen_at exactly 1 minute ago is left unchanged');
CALL pg_temp.set('a1', 'last_seen_at', now() - interval '2 minutes');
SELECT is(schemakit.session_user_id(pg_temp.tok('a1')), (SELECT ada FROM u), 'a session seen 2 minutes ago is live');
SELECT is((pg_temp.row_of('a1')).last_seen_at, now(), 'last_seen_at 2 minutes ago is refreshed to now()');
CALL pg_temp.set('a_def', 'last_seen_at', now() - interval '2 minutes');
CALL pg_temp.set('a_def', 'expires_at', now() - interval '1 second');
SELECT ok(schemakit.session_user_id(pg_temp.tok('a_def')) IS NULL, 'an idle expired session returns NULL');
SELECT is((pg_temp.row_of('a_def')).last_seen_at, now() - interval '2 minutes',
          'and its last_seen_at is not refreshed');
SELECT is((pg_temp.row_of('a1')).expires_at, now() + interval '30 days', 'a refresh does not extend expires_at');

-- A read-only transaction still gets its answer, without a refresh.
CALL pg_temp.set('a1', 'last_seen_at', now() - interval '2 minutes');
SAVEPOINT ro;
SET TRANSACTION READ ONLY;
SELECT is(schemakit.session_user_id(pg_temp.tok('a1')), (SELECT ada FROM u),
          'session_user_id works in a read-only transaction');
SELECT is((pg_temp.row_of('a1')).last_seen_at, now() - interval '2 minutes',
          'and does not try to refresh last_seen_at there');
ROLLBACK TO SAVEPOINT ro;

-- session_user_id reads the table in C: a sessions table or token index that is not
-- what the scripts made is refused (55000), never read.
SAVEPOINT dmg;
ALTER TABLE schemakit.sessions DROP CONSTRAINT sessions_pkey;
SELECT throws_ok(format('SELECT schemakit.session_user_id(%L)', pg_temp.tok('a1')), '55000',
                 'schemakit.sessions has no valid unique index on (token_hash)',
                 'session_user_id without the token index raises 55000');
CREATE UNIQUE INDEX sessions_pkey ON schemakit.sessions (id);
SELECT throws_ok(format('SELECT schemakit.session_user_id(%L)', pg_temp.tok('a1')), '55000',
                 'schemakit.sessions has no valid unique index on (token_hash)',
                 'session_user_id refuses an index of that name on another column (55000)');
ROLLBACK TO SAVEPOINT dmg;
SAVEPOINT dmg1;
ALTER TABLE schemakit.sessions DROP CONSTRAINT sessions_pkey;
ALTER TABLE schemakit.sessions ADD CONSTRAINT sessions_pkey UNIQUE (token_hash) DEFERRABLE;
SELECT throws_ok(format('SELECT schemakit.session_user_id(%L)', pg_temp.tok('a1')), '55000',
                 'schemakit.sessions has no valid unique index on (token_hash)',
                 'session_user_id refuses a deferrable unique index (two rows could share a hash for a while) (55000)');
ROLLBACK TO SAVEPOINT dmg1;
SAVEPOINT dmg2;
ALTER TABLE schemakit.sessions RENAME COLUMN user_id TO owner_id;
SELECT throws_ok(format('SELECT schemakit.session_user_id(%L)', pg_temp.tok('a1')), '55000',
                 'schemakit.sessions has no column "user_id" of type bigint',
                 'session_user_id refuses a sessions table without its user_id column (55000)');
ROLLBACK TO SAVEPOINT dmg2;
SELECT is(schemakit.session_user_id(pg_temp.tok('a1')), (SELECT ada FROM u), 'with the table restored it answers again');
-- Each call reads under a fresh snapshot (READ COMMITTED), as each statement
-- of the PL/pgSQL version did: a revocation made earlier in the same
-- statement is already seen.
INSERT INTO tok VALUES ('a_same', schemakit.issue_session((SELECT ada FROM u)));
SELECT is(ROW(schemakit.revoke_session(pg_temp.tok('a_same')), schemakit.session_user_id(pg_temp.tok('a_same')))::text,
          '(t,)', 'revoke_session then session_user_id in one statement: the lookup already sees the revocation');
DELETE FROM schemakit.sessions WHERE token_hash = sha256(convert_to(pg_temp.tok('a_same'), 'UTF8'));
DELETE FROM tok WHERE label = 'a_same';

-------------------------------------------------------------------------------
-- revoke_session
-------------------------------------------------------------------------------
INSERT INTO tok VALUES ('c1', schemakit.issue_session((SELECT cy FROM u)));
SELECT is(schemakit.revoke_session(pg_temp.tok('c1')), true, 'revoke_session of a live session returns true');
SELECT is((pg_temp.row_of('c1')).revoked_at, now(), 'revoked_at is now()');
SELECT is(schemakit.session_user_id(pg_temp.tok('c1')), NULL, 'the revoked session no longer resolves');
SELECT is(schemakit.revoke_session(pg_temp.tok('c1')), false, 'revoking it again returns false');
SELECT is(schemakit.revoke_session(pg_temp.tok('b_exp')), false, 'revoking an expired session returns false');
SELECT is((pg_temp.row_of('b_exp')).revoked_at, NULL, 'and leaves it unrevoked');
SELECT is(schemakit.revoke_session(schemakit.random_token()), false, 'revoking a wrong token returns false');
SELECT is(schemakit.revoke_session(NULL), false, 'revoke_session(NULL) returns false');
SELECT is(schemakit.revoke_session(repeat('A', 2000)), false, 'revoking a 2000-character token returns false');

-------------------------------------------------------------------------------
-- revoke_user_sessions: the exact number of live sessions
-------------------------------------------------------------------------------
DELETE FROM schemakit.sessions WHERE user_id IN ((SELECT bob FROM u), (SELECT cy FROM u));
INSERT INTO tok VALUES
    ('b1', schemakit.issue_session((SELECT bob FROM u))),
    ('b2', schemakit.issue_session((SELECT bob FROM u), '1 hour')),
    ('b3', schemakit.issue_session((SELECT bob FROM u), '1 year')),
    ('b_dead_exp', schemakit.issue_session((SELECT bob FROM u))),
    ('b_dead_rev', schemakit.issue_session((SELECT bob FROM u))),
    ('c2', schemakit.issue_session((SELECT cy FROM u)));
CALL pg_temp.set('b_dead_exp', 'expires_at', now() - interval '1 day');
CALL pg_temp.set('b_dead_rev', 'revoked_at', now() - interval '1 day');

SELECT is(schemakit.revoke_user_sessions((SELECT bob FROM u)), 3,
          'revoke_user_sessions counts exactly the 3 live sessions (not the expired or revoked one)');
SELECT results_eq(
    $$SELECT l, (pg_temp.row_of(l)).revoked_at FROM unnest(ARRAY['b1', 'b2', 'b3', 'b_dead_exp', 'b_dead_rev', 'c2']) l ORDER BY l$$,
    $$VALUES ('b1', now()), ('b2', now()), ('b3', now()), ('b_dead_exp', NULL::timestamptz),
             ('b_dead_rev', now() - interval '1 day'), ('c2', NULL::timestamptz)$$,
    'the live ones are revoked now; the expired one stays unrevoked, the earlier revocation is kept, other users untouched');
SELECT is(schemakit.session_user_id(pg_temp.tok(l)), NULL, format('session %s no longer resolves', l))
  FROM unnest(ARRAY['b1', 'b2', 'b3']) AS l;
SELECT is(schemakit.session_user_id(pg_temp.tok('c2')), (SELECT cy FROM u), 'another user''s session still resolves');
SELECT is(schemakit.revoke_user_sessions((SELECT bob FROM u)), 0, 'a second call revokes 0');
SELECT is(schemakit.revoke_user_sessions(-1), 0, 'an unknown user has 0 sessions to revoke');
SELECT is(schemakit.revoke_user_sessions(NULL), NULL, 'revoke_user_sessions(NULL) is NULL');

-------------------------------------------------------------------------------
-- issue_session: argument errors
-------------------------------------------------------------------------------
SELECT throws_ok(format($$SELECT schemakit.issue_session(%s, %L)$$, (SELECT ada FROM u), ttl),
                 '22023', 'session ttl must be positive and at most 366 days',
                 format('a ttl of %s raises 22023', ttl))
  FROM unnest(ARRAY['0', '-1 day', '-1 microsecond', '366 days 00:00:00.000001', '13 months', '2 years']::interval[]) AS ttl;
SELECT throws_ok(format($$SELECT schemakit.issue_session(%s, NULL)$$, (SELECT ada FROM u)),
                 '22004', 'session ttl must not be NULL', 'a NULL ttl raises 22004');
SELECT throws_ok($$SELECT schemakit.issue_session(-1)$$, '23503', 'user -1 does not exist',
                 'an unknown user raises 23503');
SELECT throws_ok($$SELECT schemakit.issue_session(NULL)$$, '22004', 'user_id must not be NULL',
                 'a NULL user_id raises 22004');
SELECT is((SELECT count(*) FROM schemakit.sessions), 12::bigint, 'the failed calls stored nothing');

-------------------------------------------------------------------------------
-- Table constraints
-------------------------------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at)
                          VALUES (%s, sha224('x'), now())$$, (SELECT ada FROM u)),
                 '23514', 'new row for relation "sessions" violates check constraint "sessions_token_hash_check"',
                 'a 28-byte token_hash violates the check');
SELECT throws_ok(format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, user_agent)
                          VALUES (%s, sha256('x'), now(), %L)$$, (SELECT ada FROM u), repeat('u', 513)),
                 '23514', 'new row for relation "sessions" violates check constraint "sessions_user_agent_check"',
                 'a direct 513-character user_agent violates the check');
SELECT throws_ok(format($$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at)
                          VALUES (%s, sha256(convert_to(%L, 'UTF8')), now())$$, (SELECT ada FROM u), pg_temp.tok('a1')),
                 '23505', 'duplicate key value violates unique constraint "sessions_pkey"',
                 'a duplicate token_hash violates the unique constraint');

-------------------------------------------------------------------------------
-- Deleting a user deletes their sessions, and only theirs
-------------------------------------------------------------------------------
DELETE FROM schemakit.users WHERE id = (SELECT bob FROM u);
SELECT is((SELECT count(*) FROM schemakit.sessions WHERE user_id = (SELECT bob FROM u)), 0::bigint,
          'deleting the user deleted their sessions');
SELECT is((SELECT count(*) FROM schemakit.sessions WHERE user_id = (SELECT ada FROM u)), 6::bigint,
          'the other user''s sessions are kept');
SELECT is(schemakit.session_user_id(pg_temp.tok('a1')), (SELECT ada FROM u), 'and still resolve');

SELECT * FROM finish();
ROLLBACK;
