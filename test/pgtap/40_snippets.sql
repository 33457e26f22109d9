-- 40_snippets.sql - snippets: default public IDs, view counting, updated_at
-- maintenance on snippets and users, and the public_id collision retry.
--
-- now() is constant inside the test transaction, so "updated_at was
-- touched" is shown by first giving updated_at an old value (2000-01-01)
-- that a firing trigger would overwrite with now().
BEGIN;
SELECT plan(47);

INSERT INTO schemakit.users (username, email) VALUES ('owner', 'owner@example.com'), ('other', 'other@example.com');

-- Sets updated_at of snippet pid to 2000-01-01 without firing the trigger
-- (updated_at is not one of its columns), runs "UPDATE ... SET <assignment>",
-- and returns the resulting updated_at.
CREATE FUNCTION pg_temp.updated_at_after(pid text, assignment text) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    result timestamptz;
BEGIN
    UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00' WHERE public_id = pid;
    EXECUTE format('UPDATE schemakit.snippets SET %s WHERE public_id = %L', assignment, pid);
    SELECT updated_at INTO result FROM schemakit.snippets
     WHERE public_id = pid
        OR (assignment LIKE 'public_id%' AND public_id = pid || '-renamed');
    RETURN result;
END
$$;

-------------------------------------------------------------------------------
-- A new snippet
-------------------------------------------------------------------------------
INSERT INTO schemakit.snippets (owner_id, title, body)
SELECT id, 'first', 'print(1)' FROM schemakit.users WHERE username = 'owner'
RETURNING public_id AS pid \gset
SELECT matches(:'pid'::text, '^[0-9A-Za-z]{10}$', 'a new snippet gets a 10-character public_id');
SELECT results_eq(
    $$SELECT language, is_public, view_count, created_at, updated_at FROM schemakit.snippets WHERE public_id = $$ || quote_literal(:'pid'),
    $$SELECT 'text'::text, false, 0::bigint, now(), now()$$,
    'a new snippet has language text, is private, has no views, and created_at = updated_at = now()');

INSERT INTO schemakit.snippets (owner_id, body)
SELECT u.id, 'bulk ' || g FROM schemakit.users u, generate_series(1, 1000) g WHERE u.username = 'owner';
SELECT results_eq(
    $$SELECT count(*), count(DISTINCT public_id), count(*) FILTER (WHERE public_id ~ '^[0-9A-Za-z]{10}$')
        FROM schemakit.snippets WHERE body LIKE 'bulk %'$$,
    $$VALUES (1000::bigint, 1000::bigint, 1000::bigint)$$,
    'a 1000-row insert gives 1000 distinct well-formed public IDs');

-------------------------------------------------------------------------------
-- record_snippet_view()
-------------------------------------------------------------------------------
INSERT INTO schemakit.snippets (owner_id, body, public_id)
SELECT id, 'neighbour', 'neighbour' FROM schemakit.users WHERE username = 'owner';

SELECT is(schemakit.record_snippet_view(:'pid'), 1::bigint, 'the first view returns 1');
SELECT is(schemakit.record_snippet_view(:'pid'), 2::bigint, 'the second view returns 2');
SELECT is((SELECT view_count FROM schemakit.snippets WHERE public_id = :'pid'), 2::bigint, 'view_count is 2');
SELECT is(
    (SELECT array_agg(schemakit.record_snippet_view(:'pid') ORDER BY g) FROM generate_series(1, 100) g),
    (SELECT array_agg(g::bigint ORDER BY g) FROM generate_series(3, 102) g),
    '100 views in one statement each see the previous one and return 3..102');
SELECT is((SELECT view_count FROM schemakit.snippets WHERE public_id = :'pid'), 102::bigint, 'view_count is 102');
SELECT is((SELECT view_count FROM schemakit.snippets WHERE public_id = 'neighbour'), 0::bigint,
          'other snippets are not counted');
SELECT is(schemakit.record_snippet_view('no-such-id'), NULL, 'an unknown public_id returns NULL');
SELECT is(schemakit.record_snippet_view(upper('neighbour')), NULL, 'public_id lookup is case-sensitive');
SELECT is(schemakit.record_snippet_view(NULL), NULL, 'NULL returns NULL');
SELECT is((SELECT count(*) FROM schemakit.snippets WHERE view_count > 0), 1::bigint,
          'unknown and NULL lookups count nothing');

-------------------------------------------------------------------------------
-- snippets.updated_at: edits touch it, views do not
-------------------------------------------------------------------------------
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00' WHERE public_id = :'pid';
SELECT is((SELECT updated_at FROM schemakit.snippets WHERE public_id = :'pid'), '2000-01-01 00:00:00+00'::timestamptz,
          'an UPDATE of updated_at alone does not fire the touch trigger');
SELECT is(schemakit.record_snippet_view(:'pid'), 103::bigint, 'a view is recorded');
SELECT is((SELECT updated_at FROM schemakit.snippets WHERE public_id = :'pid'), '2000-01-01 00:00:00+00'::timestamptz,
          'record_snippet_view leaves updated_at alone');
UPDATE schemakit.snippets SET view_count = view_count + 10 WHERE public_id = :'pid';
SELECT is((SELECT updated_at FROM schemakit.snippets WHERE public_id = :'pid'), '2000-01-01 00:00:00+00'::timestamptz,
          'an UPDATE of view_count alone leaves updated_at alone');
SELECT is((SELECT created_at FROM schemakit.snippets WHERE public_id = :'pid'), now(), 'created_at is untouched');

SELECT is(pg_temp.updated_at_after(:'pid', a), now(), format('UPDATE ... SET %s sets updated_at = now()', a))
  FROM unnest(ARRAY[
    'title = ''edited''',
    'title = title',
    'body = body || '' -- edited''',
    'language = ''python''',
    'is_public = true',
    'owner_id = (SELECT id FROM schemakit.users WHERE username = ''other'')',
    'title = ''x'', updated_at = ''1999-01-01''']) AS a;
SELECT is(pg_temp.updated_at_after(:'pid', 'public_id = public_id || ''-renamed'''), now(),
          'UPDATE ... SET public_id sets updated_at = now()');
SELECT is((SELECT count(*) FROM schemakit.snippets WHERE public_id = :'pid' || '-renamed'), 1::bigint,
          'the renamed snippet keeps its new public_id');

-------------------------------------------------------------------------------
-- users.updated_at: every UPDATE touches it
-------------------------------------------------------------------------------
UPDATE schemakit.users SET updated_at = '2000-01-01 00:00:00+00' WHERE username = 'owner';
SELECT is((SELECT updated_at FROM schemakit.users WHERE username = 'owner'), now(),
          'setting users.updated_at explicitly is overridden with now()');

-- Give the row an old updated_at with triggers off, then update other columns.
SET LOCAL session_replication_role = replica;
UPDATE schemakit.users SET updated_at = '2000-01-01 00:00:00+00', created_at = '2000-01-01 00:00:00+00'
 WHERE username IN ('owner', 'other');
SET LOCAL session_replication_role = origin;
SELECT is((SELECT updated_at FROM schemakit.users WHERE username = 'owner'), '2000-01-01 00:00:00+00'::timestamptz,
          'fixture: owner.updated_at is 2000-01-01');
UPDATE schemakit.users SET display_name = 'Owner' WHERE username = 'owner';
SELECT results_eq(
    $$SELECT username::text, updated_at, created_at FROM schemakit.users WHERE username IN ('owner', 'other') ORDER BY 1$$,
    $$VALUES ('other', '2000-01-01 00:00:00+00'::timestamptz, '2000-01-01 00:00:00+00'::timestamptz),
             ('owner', now(), '2000-01-01 00:00:00+00'::timestamptz)$$,
    'UPDATE of display_name touches updated_at of that user only, never created_at');
UPDATE schemakit.users SET username = username WHERE username = 'other';
SELECT is((SELECT updated_at FROM schemakit.users WHERE username = 'other'), now(),
          'even a no-change UPDATE touches users.updated_at');

-------------------------------------------------------------------------------
-- public_id collisions: generated IDs are retried, explicit ones are not
-------------------------------------------------------------------------------
-- Explicit duplicates raise 23505 and are never replaced.
INSERT INTO schemakit.snippets (owner_id, body, public_id)
SELECT id, 'explicit', 'fixed-id-1' FROM schemakit.users WHERE username = 'owner';
SELECT throws_ok(
    $$INSERT INTO schemakit.snippets (owner_id, body, public_id)
      SELECT id, 'explicit again', 'fixed-id-1' FROM schemakit.users WHERE username = 'owner'$$,
    '23505', 'duplicate key value violates unique constraint "snippets_public_id_key"',
    'an explicit duplicate public_id raises 23505');
SELECT is((SELECT count(*) FROM schemakit.snippets WHERE body = 'explicit again'), 0::bigint,
          'the explicit duplicate was not stored under another public_id');

-- An explicit copy of an earlier generated ID (not the most recent one).
INSERT INTO schemakit.snippets (owner_id, body) SELECT id, 'gen-1' FROM schemakit.users WHERE username = 'owner'
RETURNING public_id AS gen1 \gset
INSERT INTO schemakit.snippets (owner_id, body) SELECT id, 'gen-2' FROM schemakit.users WHERE username = 'owner';
SELECT throws_ok(
    format($$INSERT INTO schemakit.snippets (owner_id, body, public_id)
             SELECT id, 'copy of gen-1', %L FROM schemakit.users WHERE username = 'owner'$$, :'gen1'),
    '23505', 'duplicate key value violates unique constraint "snippets_public_id_key"',
    'an explicit copy of an earlier generated public_id raises 23505');

-- An explicit copy of the most recently generated ID: the generated value
-- vouched for its own insert only, so the copy is the caller's and conflicts.
INSERT INTO schemakit.snippets (owner_id, body) SELECT id, 'gen-3' FROM schemakit.users WHERE username = 'owner'
RETURNING public_id AS gen3 \gset
SELECT throws_ok(
    format($$INSERT INTO schemakit.snippets (owner_id, body, public_id)
             SELECT id, 'copy of gen-3', %L FROM schemakit.users WHERE username = 'owner'$$, :'gen3'),
    '23505', 'duplicate key value violates unique constraint "snippets_public_id_key"',
    'an explicit copy of the most recently generated public_id raises 23505');
SELECT is((SELECT count(*) FROM schemakit.snippets WHERE body LIKE 'copy of gen-%'), 0::bigint,
          'no copy was stored under a regenerated public_id');
-- The same after public_id() was called directly (e.g. to preview an ID).
SELECT schemakit.public_id() AS preview \gset
INSERT INTO schemakit.snippets (owner_id, body, public_id)
SELECT id, 'preview', :'preview' FROM schemakit.users WHERE username = 'owner';
SELECT throws_ok(
    format($$INSERT INTO schemakit.snippets (owner_id, body, public_id)
             SELECT id, 'preview again', %L FROM schemakit.users WHERE username = 'owner'$$, :'preview'),
    '23505', 'duplicate key value violates unique constraint "snippets_public_id_key"',
    'inserting a previewed public_id twice explicitly raises 23505 the second time');

-- A tiny ID space: public_id(1, 'ab') can only give 'a' or 'b'.
ALTER TABLE schemakit.snippets ALTER public_id SET DEFAULT schemakit.public_id(1, 'ab');
SELECT col_default_is('schemakit', 'snippets', 'public_id', 'schemakit.public_id(1, ''ab''::text)'::text,
                      'fixture: public_id defaults to public_id(1, ''ab'') for this transaction');
SELECT lives_ok(
    $$INSERT INTO schemakit.snippets (owner_id, body) SELECT id, 'tiny-1' FROM schemakit.users WHERE username = 'owner'$$,
    'the first insert into the tiny ID space succeeds');
SELECT lives_ok(
    $$INSERT INTO schemakit.snippets (owner_id, body) SELECT id, 'tiny-2' FROM schemakit.users WHERE username = 'owner'$$,
    'the second insert succeeds: a colliding generated ID is redrawn');
SELECT results_eq(
    $$SELECT public_id FROM schemakit.snippets WHERE body IN ('tiny-1', 'tiny-2') ORDER BY public_id$$,
    $$VALUES ('a'::text), ('b')$$,
    'the two inserts got a and b');
SELECT throws_ok(
    $$INSERT INTO schemakit.snippets (owner_id, body) SELECT id, 'tiny-3' FROM schemakit.users WHERE username = 'owner'$$,
    '23505', 'duplicate key value violates unique constraint "snippets_public_id_key"',
    'a third insert fails with 23505 once the ID space is exhausted');
SELECT is((SELECT count(*) FROM schemakit.snippets WHERE body LIKE 'tiny-%'), 2::bigint, 'only two tiny snippets exist');

-- An explicitly taken value is skipped by the retry too.
DELETE FROM schemakit.snippets WHERE body LIKE 'tiny-%';
INSERT INTO schemakit.snippets (owner_id, body, public_id)
SELECT id, 'explicit a', 'a' FROM schemakit.users WHERE username = 'owner';
SELECT results_eq(
    $$WITH ins AS (
        INSERT INTO schemakit.snippets (owner_id, body) SELECT id, 'tiny-after-a' FROM schemakit.users WHERE username = 'owner'
        RETURNING public_id)
      SELECT public_id FROM ins$$,
    $$VALUES ('b'::text)$$,
    'with a taken explicitly, a default insert ends up with b');
SELECT throws_ok(
    $$INSERT INTO schemakit.snippets (owner_id, body, public_id)
      SELECT id, 'explicit a again', 'a' FROM schemakit.users WHERE username = 'owner'$$,
    '23505', 'duplicate key value violates unique constraint "snippets_public_id_key"',
    'an explicit a still raises 23505');

-- Multi-row default insert with the tiny space: both rows fit, a third cannot.
DELETE FROM schemakit.snippets WHERE public_id IN ('a', 'b');
SELECT lives_ok(
    $$INSERT INTO schemakit.snippets (owner_id, body)
      SELECT id, 'multi-' || g FROM schemakit.users, generate_series(1, 2) g WHERE username = 'owner'$$,
    'a two-row default insert fills the tiny space (the second row is redrawn as needed)');
SELECT results_eq(
    $$SELECT public_id FROM schemakit.snippets WHERE body LIKE 'multi-%' ORDER BY 1$$,
    $$VALUES ('a'::text), ('b')$$,
    'the two rows got a and b');

SELECT * FROM finish();
ROLLBACK;
