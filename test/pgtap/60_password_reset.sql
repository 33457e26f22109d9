-- 60_password_reset.sql - schemakit.password_reset_tokens (1.1): table
-- shape, and issue_password_reset_token() / consume_password_reset_token():
-- the token format, that only its SHA-256 is stored, single use, expiry,
-- that a successful reset kills the user's other tokens (and nobody else's),
-- the ttl and user errors, and the cascade when a user is deleted.
--
-- now() is constant inside this transaction: expiry is simulated by moving
-- expires_at into the past.
BEGIN;
SELECT plan(83);

-------------------------------------------------------------------------------
-- Table shape
-------------------------------------------------------------------------------
SELECT has_table('schemakit', 'password_reset_tokens', 'table schemakit.password_reset_tokens exists');

CREATE TEMP TABLE expected_columns (col name, typ text, not_null boolean, ord serial);
INSERT INTO expected_columns (col, typ, not_null) VALUES
    ('id',         'bigint',                   true),
    ('user_id',    'bigint',                   true),
    ('token_hash', 'bytea',                    true),
    ('expires_at', 'timestamp with time zone', true),
    ('used_at',    'timestamp with time zone', false),
    ('revoked_at', 'timestamp with time zone', false),
    ('created_at', 'timestamp with time zone', true);

SELECT has_column('schemakit', 'password_reset_tokens', col, format('column password_reset_tokens.%s exists', col))
  FROM expected_columns ORDER BY ord;
SELECT col_type_is('schemakit', 'password_reset_tokens', col, typ,
                   format('column password_reset_tokens.%s is %s', col, typ))
  FROM expected_columns ORDER BY ord;
SELECT CASE WHEN not_null
            THEN col_not_null('schemakit', 'password_reset_tokens', col,
                              format('column password_reset_tokens.%s is NOT NULL', col))
            ELSE col_is_null('schemakit', 'password_reset_tokens', col,
                             format('column password_reset_tokens.%s is nullable', col))
       END
  FROM expected_columns ORDER BY ord;
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'schemakit.password_reset_tokens'::regclass AND attnum > 0 AND NOT attisdropped),
          (SELECT array_agg(col::text ORDER BY ord) FROM expected_columns),
          'password_reset_tokens has exactly these columns, in this order');

SELECT col_is_pk('schemakit', 'password_reset_tokens', 'token_hash', 'password_reset_tokens.token_hash is the primary key');
SELECT has_index('schemakit', 'password_reset_tokens', 'password_reset_tokens_id_idx', 'id'::name,
                 'index password_reset_tokens_id_idx on id');
SELECT col_default_is('schemakit', 'password_reset_tokens', 'created_at', 'now()'::text,
                      'password_reset_tokens.created_at defaults to now()');
SELECT col_hasnt_default('schemakit', 'password_reset_tokens', 'expires_at',
                         'password_reset_tokens.expires_at has no default');
SELECT fk_ok('schemakit', 'password_reset_tokens', 'user_id', 'schemakit', 'users', 'id',
             'password_reset_tokens.user_id references users.id');
SELECT is((SELECT confdeltype::text FROM pg_constraint
            WHERE conrelid = 'schemakit.password_reset_tokens'::regclass AND contype = 'f'),
          'c', 'the foreign key to users is ON DELETE CASCADE');
SELECT col_isnt_pk('schemakit', 'password_reset_tokens', 'id', 'id is not the primary key (an identity with its own index)');
SELECT has_index('schemakit', 'password_reset_tokens', 'password_reset_tokens_user_id_idx', 'user_id'::name,
                 'index password_reset_tokens_user_id_idx on user_id');
SELECT is(pg_get_indexdef(to_regclass('schemakit.password_reset_tokens_expires_at_idx')),
          'CREATE INDEX password_reset_tokens_expires_at_idx ON schemakit.password_reset_tokens USING btree (expires_at)',
          'index password_reset_tokens_expires_at_idx on expires_at');
SELECT hasnt_index('schemakit', 'password_reset_tokens', 'password_reset_tokens_dead_at_idx',
                   'no index password_reset_tokens_dead_at_idx (consuming a token stays a HOT update)');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'schemakit.password_reset_tokens'::regclass),
          ARRAY['fillfactor=85'], 'password_reset_tokens keeps 15 % of each page free for HOT updates (1.4)');
SELECT is(array_agg(a.attname ORDER BY a.attname), NULL::name[],
          'no index covers used_at or revoked_at, so consuming and revoking tokens are HOT updates (1.4)')
  FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid
 WHERE x.indrelid = 'schemakit.password_reset_tokens'::regclass
   AND a.attname IN ('used_at', 'revoked_at')
   AND (a.attnum = ANY (x.indkey::int2[])
        OR pg_get_indexdef(x.indexrelid) ~ a.attname::text
        OR coalesce(pg_get_expr(x.indpred, x.indrelid), '') ~ a.attname::text);
SELECT is((SELECT pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = 'schemakit.password_reset_tokens'::regclass
              AND conname = 'password_reset_tokens_token_hash_check'),
          'CHECK ((octet_length(token_hash) = 32))', 'token_hash must be 32 bytes');

-------------------------------------------------------------------------------
-- Fixtures: two users; tokens are kept in a temp table by label.
-------------------------------------------------------------------------------
INSERT INTO schemakit.users (username, email) VALUES
    ('reset-ada', 'ada@reset.example'), ('reset-bob', 'bob@reset.example');
CREATE TEMP TABLE u AS
SELECT (SELECT id FROM schemakit.users WHERE username = 'reset-ada') AS ada,
       (SELECT id FROM schemakit.users WHERE username = 'reset-bob') AS bob;
CREATE TEMP TABLE tok (label text PRIMARY KEY, token text);
CREATE FUNCTION pg_temp.tok(l text) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT token FROM tok WHERE label = l $$;
-- The stored row of a token, found by its hash.
CREATE FUNCTION pg_temp.row_of(l text) RETURNS schemakit.password_reset_tokens LANGUAGE sql STABLE
AS $$ SELECT t FROM schemakit.password_reset_tokens t
       WHERE t.token_hash = sha256(convert_to(pg_temp.tok(l), 'UTF8')) $$;

-------------------------------------------------------------------------------
-- issue: token format, what is stored
-------------------------------------------------------------------------------
INSERT INTO tok VALUES ('a1', schemakit.issue_password_reset_token((SELECT ada FROM u)));

SELECT is(char_length(pg_temp.tok('a1')), 43, 'the token has 43 characters');
SELECT matches(pg_temp.tok('a1'), '^[A-Za-z0-9_-]{43}$', 'the token is unpadded base64url');
SELECT is((SELECT count(*) FROM schemakit.password_reset_tokens WHERE user_id = (SELECT ada FROM u)),
          1::bigint, 'issuing stored one row');
SELECT is((SELECT octet_length(token_hash) FROM schemakit.password_reset_tokens WHERE user_id = (SELECT ada FROM u)),
          32, 'the stored token_hash has 32 bytes');
SELECT is((SELECT token_hash FROM schemakit.password_reset_tokens WHERE user_id = (SELECT ada FROM u)),
          sha256(convert_to(pg_temp.tok('a1'), 'UTF8')), 'the stored token_hash is sha256(token)');
SELECT is((SELECT count(*) FROM schemakit.password_reset_tokens t
            WHERE strpos(t::text, pg_temp.tok('a1')) > 0
               OR strpos(t::text, encode(convert_to(pg_temp.tok('a1'), 'UTF8'), 'hex')) > 0),
          0::bigint, 'the token itself appears nowhere in the table, neither as text nor as hex');
SELECT row_eq($$SELECT user_id, expires_at, used_at, revoked_at, created_at FROM pg_temp.row_of('a1')$$,
              ROW((SELECT ada FROM u), now() + interval '1 hour', NULL::timestamptz, NULL::timestamptz, now()),
              'the row belongs to the user, expires in 1 hour by default, is neither used nor revoked');

INSERT INTO tok VALUES ('a2', schemakit.issue_password_reset_token((SELECT ada FROM u), '7 days'));
SELECT is((pg_temp.row_of('a2')).expires_at, now() + interval '7 days', 'a ttl of 7 days (the maximum) is accepted');
SELECT isnt(pg_temp.tok('a2'), pg_temp.tok('a1'), 'a second token differs from the first');
SELECT is((SELECT count(DISTINCT t) FROM (SELECT schemakit.issue_password_reset_token((SELECT bob FROM u), '5 minutes') AS t
                                            FROM generate_series(1, 200)) s),
          200::bigint, '200 tokens issued in a row are all distinct');
DELETE FROM schemakit.password_reset_tokens WHERE user_id = (SELECT bob FROM u);

-------------------------------------------------------------------------------
-- consume: exactly once
-------------------------------------------------------------------------------
CREATE TEMP TABLE upd0 AS
SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relid = 'schemakit.password_reset_tokens'::regclass;
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('a1')), (SELECT ada FROM u),
          'consuming a live token returns its user');
SELECT is((pg_temp.row_of('a1')).used_at, now(), 'the consumed token has used_at = now()');
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('a1')), NULL, 'consuming it again returns NULL');
-- The success above killed a2 (same user): covered in detail below.
SELECT is((pg_temp.row_of('a2')).revoked_at, now(), 'consuming a1 revoked ada''s other live token a2');
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('a2')), NULL, 'so a2 returns NULL');
SELECT is((SELECT ROW(x.n_tup_upd - u.n_tup_upd, x.n_tup_hot_upd - u.n_tup_hot_upd)::text
             FROM pg_stat_xact_user_tables x, upd0 u WHERE x.relid = 'schemakit.password_reset_tokens'::regclass),
          '(2,2)', 'the consume (claim a1, revoke a2) made 2 row updates, both HOT: no index entry written (1.4)');

SELECT is(schemakit.consume_password_reset_token(schemakit.random_token()), NULL, 'a wrong token returns NULL');
SELECT is(schemakit.consume_password_reset_token(upper(pg_temp.tok('a1'))), NULL,
          'tokens are case-sensitive (an upper-cased token is wrong)');
SELECT is(schemakit.consume_password_reset_token(NULL), NULL, 'NULL returns NULL');
SELECT is(schemakit.consume_password_reset_token(''), NULL, 'an empty token returns NULL');
SELECT is(schemakit.consume_password_reset_token(repeat('A', 2000)), NULL, 'a 2000-character token returns NULL');
SELECT is(schemakit.consume_password_reset_token(repeat('é', 100000)), NULL,
          'a 200 kB token returns NULL, without an error');

-------------------------------------------------------------------------------
-- consume: expiry and revocation
-------------------------------------------------------------------------------
INSERT INTO tok VALUES ('b_exp', schemakit.issue_password_reset_token((SELECT bob FROM u)));
UPDATE schemakit.password_reset_tokens SET expires_at = now() - interval '1 second'
 WHERE token_hash = sha256(convert_to(pg_temp.tok('b_exp'), 'UTF8'));
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('b_exp')), NULL, 'an expired token returns NULL');
SELECT is((pg_temp.row_of('b_exp')).used_at, NULL, 'and is not marked used');

INSERT INTO tok VALUES ('b_now', schemakit.issue_password_reset_token((SELECT bob FROM u)));
UPDATE schemakit.password_reset_tokens SET expires_at = now()
 WHERE token_hash = sha256(convert_to(pg_temp.tok('b_now'), 'UTF8'));
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('b_now')), NULL,
          'a token whose expires_at is exactly now() has expired');

INSERT INTO tok VALUES ('b_rev', schemakit.issue_password_reset_token((SELECT bob FROM u)));
UPDATE schemakit.password_reset_tokens SET revoked_at = now() - interval '1 minute'
 WHERE token_hash = sha256(convert_to(pg_temp.tok('b_rev'), 'UTF8'));
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('b_rev')), NULL, 'a revoked token returns NULL');

-------------------------------------------------------------------------------
-- A successful consume kills the user's other live tokens, nobody else's
-------------------------------------------------------------------------------
DELETE FROM schemakit.password_reset_tokens;
INSERT INTO tok VALUES
    ('c1', schemakit.issue_password_reset_token((SELECT ada FROM u))),
    ('c2', schemakit.issue_password_reset_token((SELECT ada FROM u))),
    ('c3', schemakit.issue_password_reset_token((SELECT ada FROM u), '2 hours')),
    ('d1', schemakit.issue_password_reset_token((SELECT bob FROM u))),
    ('d2', schemakit.issue_password_reset_token((SELECT bob FROM u)));

SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('c2')), (SELECT ada FROM u),
          'consuming one of three live tokens returns the user');
SELECT results_eq(
    $$SELECT l, (pg_temp.row_of(l)).used_at IS NOT NULL, (pg_temp.row_of(l)).revoked_at
        FROM unnest(ARRAY['c1', 'c2', 'c3', 'd1', 'd2']) AS l ORDER BY l$$,
    $$VALUES ('c1', false, now()), ('c2', true, NULL::timestamptz), ('c3', false, now()),
             ('d1', false, NULL::timestamptz), ('d2', false, NULL::timestamptz)$$,
    'c2 is used; the user''s other tokens c1 and c3 are revoked now; the other user''s d1 and d2 are untouched');
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('c1')), NULL, 'a killed token returns NULL (c1)');
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('c3')), NULL, 'a killed token returns NULL (c3)');
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('d1')), (SELECT bob FROM u),
          'the other user''s token still works');
SELECT is(schemakit.consume_password_reset_token(pg_temp.tok('d2')), NULL,
          'and consuming it killed that user''s remaining token');

-------------------------------------------------------------------------------
-- issue: argument errors
-------------------------------------------------------------------------------
SELECT throws_ok(format($$SELECT schemakit.issue_password_reset_token(%s, %L)$$, (SELECT ada FROM u), ttl),
                 '22023', 'password reset ttl must be positive and at most 7 days',
                 format('a ttl of %s raises 22023', ttl))
  FROM unnest(ARRAY['0', '-1 hour', '-1 microsecond', '7 days 00:00:00.000001', '8 days', '1 month']::interval[]) AS ttl;
SELECT throws_ok(format($$SELECT schemakit.issue_password_reset_token(%s, NULL)$$, (SELECT ada FROM u)),
                 '22004', 'password reset ttl must not be NULL', 'a NULL ttl raises 22004');
SELECT throws_ok($$SELECT schemakit.issue_password_reset_token(-1)$$,
                 '23503', 'user -1 does not exist', 'an unknown user raises 23503');
SELECT throws_ok($$SELECT schemakit.issue_password_reset_token(NULL)$$,
                 '22004', 'user_id must not be NULL', 'a NULL user_id raises 22004');
SELECT ok(schemakit.issue_password_reset_token((SELECT ada FROM u), '1 microsecond') IS NOT NULL,
          'the smallest positive ttl is accepted');
SELECT is((SELECT count(*) FROM schemakit.password_reset_tokens), 6::bigint,
          'the failed calls stored nothing');

-------------------------------------------------------------------------------
-- Table constraints
-------------------------------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at)
                          VALUES (%s, sha224('x'), now())$$, (SELECT ada FROM u)),
                 '23514', NULL, 'a 28-byte token_hash violates the check');
SELECT throws_ok(format($$INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at)
                          VALUES (%s, sha256(convert_to(%L, 'UTF8')), now())$$, (SELECT ada FROM u), pg_temp.tok('c1')),
                 '23505', NULL, 'a duplicate token_hash violates the unique constraint');

-------------------------------------------------------------------------------
-- Deleting a user deletes their tokens, and only theirs
-------------------------------------------------------------------------------
DELETE FROM schemakit.users WHERE id = (SELECT ada FROM u);
SELECT is((SELECT count(*) FROM schemakit.password_reset_tokens WHERE user_id = (SELECT ada FROM u)),
          0::bigint, 'deleting the user deleted their tokens');
SELECT is((SELECT count(*) FROM schemakit.password_reset_tokens WHERE user_id = (SELECT bob FROM u)),
          2::bigint, 'the other user''s tokens are kept');

SELECT * FROM finish();
ROLLBACK;
