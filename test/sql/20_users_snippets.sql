--
-- 20_users_snippets: the users and snippets tables, their constraints and
-- triggers, record_snippet_view(), and the public-ID collision retry.
-- No ids, public IDs or timestamps are printed: only what is deterministic.
--
\set SHOW_CONTEXT never

--------------------------------------------------------------------------
-- users
--------------------------------------------------------------------------

INSERT INTO schemakit.users (username, email, display_name)
VALUES ('Alice', 'Alice@Example.com', 'Alice A.')
RETURNING username, email, display_name, password_hash,
          created_at = now() AS created_now, updated_at = created_at AS updated_eq_created;
INSERT INTO schemakit.users (username, email) VALUES ('bob', 'bob@example.com');
-- email is optional, and several users may have none.
INSERT INTO schemakit.users (username) VALUES ('carol'), ('dave');
-- Bounds that pass: 255 characters (not bytes) everywhere.
INSERT INTO schemakit.users (username, email, display_name, password_hash)
VALUES (repeat('é', 255), repeat('e', 243) || '@example.com',
        repeat('d', 255), repeat('h', 255));
INSERT INTO schemakit.users (username, password_hash) VALUES ('x', 'h');
SELECT char_length(username) AS username_chars, octet_length(username) AS username_bytes,
       char_length(email) AS email_chars, char_length(display_name) AS display_chars,
       char_length(password_hash) AS hash_chars
  FROM schemakit.users WHERE username LIKE 'é%';
SELECT username, email FROM schemakit.users
 WHERE username NOT LIKE 'é%' ORDER BY username COLLATE "C";

-- Unique username and email, ignoring case.
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('username alice',   $$INSERT INTO schemakit.users (username) VALUES ('alice')$$),
    ('username ALICE',   $$INSERT INTO schemakit.users (username) VALUES ('ALICE')$$),
    ('username Alice',   $$INSERT INTO schemakit.users (username) VALUES ('Alice')$$),
    ('email lower',      $$INSERT INTO schemakit.users (username, email) VALUES ('alice2', 'alice@example.com')$$),
    ('email upper',      $$INSERT INTO schemakit.users (username, email) VALUES ('bob2', 'BOB@EXAMPLE.COM')$$),
    ('rename to Bob',    $$UPDATE schemakit.users SET username = 'Bob' WHERE username = 'carol'$$),
    ('email to Bob@...', $$UPDATE schemakit.users SET email = 'Bob@Example.com' WHERE username = 'carol'$$)
  ) AS v(label, stmt);

-- CHECK and NOT NULL constraints.
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('username empty',    $$INSERT INTO schemakit.users (username) VALUES ('')$$),
    ('username 256',      $$INSERT INTO schemakit.users (username) VALUES (repeat('u', 256))$$),
    ('username 256 é',    $$INSERT INTO schemakit.users (username) VALUES (repeat('é', 256))$$),
    ('username NULL',     $$INSERT INTO schemakit.users (username) VALUES (NULL)$$),
    ('email empty',       $$INSERT INTO schemakit.users (username, email) VALUES ('e1', '')$$),
    ('email no @',        $$INSERT INTO schemakit.users (username, email) VALUES ('e2', 'no-at-sign')$$),
    ('email space',       $$INSERT INTO schemakit.users (username, email) VALUES ('e3', 'a b@c')$$),
    ('email two @',       $$INSERT INTO schemakit.users (username, email) VALUES ('e4', 'a@b@c')$$),
    ('email no local',    $$INSERT INTO schemakit.users (username, email) VALUES ('e5', '@example.com')$$),
    ('email no domain',   $$INSERT INTO schemakit.users (username, email) VALUES ('e6', 'a@')$$),
    ('email tab',         $$INSERT INTO schemakit.users (username, email) VALUES ('e7', E'a@b\tc')$$),
    ('email 256',         $$INSERT INTO schemakit.users (username, email) VALUES ('e8', repeat('e', 244) || '@example.com')$$),
    ('display_name 256',  $$INSERT INTO schemakit.users (username, display_name) VALUES ('d1', repeat('d', 256))$$),
    ('password_hash ""',  $$INSERT INTO schemakit.users (username, password_hash) VALUES ('p1', '')$$),
    ('password_hash 256', $$INSERT INTO schemakit.users (username, password_hash) VALUES ('p2', repeat('h', 256))$$),
    ('update to bad',     $$UPDATE schemakit.users SET email = 'nope' WHERE username = 'bob'$$)
  ) AS v(label, stmt);

-- The identity column is GENERATED ALWAYS.
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('insert id', $$INSERT INTO schemakit.users (id, username) VALUES (1000, 'explicit')$$),
    ('update id', $$UPDATE schemakit.users SET id = 1000 WHERE username = 'bob'$$)
  ) AS v(label, stmt);

-- Nothing above got in.
SELECT count(*) AS users FROM schemakit.users;

-- updated_at follows every UPDATE; created_at stays.
INSERT INTO schemakit.users (username, created_at, updated_at)
VALUES ('timed', '2000-01-01 00:00:00+00', '2000-01-01 00:00:00+00');
UPDATE schemakit.users SET display_name = 'Timed' WHERE username = 'timed'
RETURNING updated_at > created_at AS bumped, updated_at = now() AS updated_now,
          created_at = '2000-01-01 00:00:00+00' AS created_kept;
-- An explicit updated_at is overridden too.
UPDATE schemakit.users SET updated_at = '1999-01-01 00:00:00+00' WHERE username = 'timed'
RETURNING updated_at = now() AS updated_now;

--------------------------------------------------------------------------
-- snippets
--------------------------------------------------------------------------

INSERT INTO schemakit.snippets (owner_id, title, body)
SELECT id, 'Hello', 'print("hello")' FROM schemakit.users WHERE username = 'Alice'
RETURNING public_id ~ '^[0-9A-Za-z]{10}$' AS public_id_shape, title, language,
          is_public, view_count, created_at = now() AS created_now,
          updated_at = created_at AS updated_eq_created;
SELECT public_id AS hello_id FROM schemakit.snippets WHERE title = 'Hello' \gset

INSERT INTO schemakit.snippets (owner_id, public_id, title, body, language, is_public)
SELECT id, 'fixed-id-1', 'Fixed', 'select 1', 'sql', true
  FROM schemakit.users WHERE username = 'bob'
RETURNING public_id, title, language, is_public;
-- Bounds that pass: a 1024-character public_id, 255-character title,
-- 64-character language.
INSERT INTO schemakit.snippets (owner_id, public_id, title, body, language)
SELECT id, repeat('p', 1024), repeat('t', 255), 'x', repeat('l', 64)
  FROM schemakit.users WHERE username = 'bob'
RETURNING char_length(public_id) AS public_id_chars, char_length(title) AS title_chars,
          char_length(language) AS language_chars;

-- Many default public IDs are distinct and well formed.
INSERT INTO schemakit.snippets (owner_id, body)
SELECT u.id, 'bulk ' || i FROM schemakit.users u, generate_series(1, 200) AS i
 WHERE u.username = 'dave';
SELECT count(*) AS rows, count(DISTINCT public_id) AS distinct_ids,
       bool_and(public_id ~ '^[0-9A-Za-z]{10}$') AS all_well_formed
  FROM schemakit.snippets WHERE body LIKE 'bulk %';

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('duplicate public_id', $$INSERT INTO schemakit.snippets (owner_id, public_id, body) SELECT id, 'fixed-id-1', 'dup' FROM schemakit.users WHERE username = 'Alice'$$),
    ('update to taken id',  $$UPDATE schemakit.snippets SET public_id = 'fixed-id-1' WHERE title = 'Hello'$$),
    ('public_id empty',     $$INSERT INTO schemakit.snippets (owner_id, public_id, body) SELECT id, '', 'x' FROM schemakit.users WHERE username = 'Alice'$$),
    ('public_id 1025',      $$INSERT INTO schemakit.snippets (owner_id, public_id, body) SELECT id, repeat('p', 1025), 'x' FROM schemakit.users WHERE username = 'Alice'$$),
    ('public_id NULL',      $$INSERT INTO schemakit.snippets (owner_id, public_id, body) SELECT id, NULL, 'x' FROM schemakit.users WHERE username = 'Alice'$$),
    ('title 256',           $$INSERT INTO schemakit.snippets (owner_id, title, body) SELECT id, repeat('t', 256), 'x' FROM schemakit.users WHERE username = 'Alice'$$),
    ('language empty',      $$INSERT INTO schemakit.snippets (owner_id, body, language) SELECT id, 'x', '' FROM schemakit.users WHERE username = 'Alice'$$),
    ('language 65',         $$INSERT INTO schemakit.snippets (owner_id, body, language) SELECT id, 'x', repeat('l', 65) FROM schemakit.users WHERE username = 'Alice'$$),
    ('view_count -1',       $$INSERT INTO schemakit.snippets (owner_id, body, view_count) SELECT id, 'x', -1 FROM schemakit.users WHERE username = 'Alice'$$),
    ('body NULL',           $$INSERT INTO schemakit.snippets (owner_id, body) SELECT id, NULL FROM schemakit.users WHERE username = 'Alice'$$),
    ('owner NULL',          $$INSERT INTO schemakit.snippets (owner_id, body) VALUES (NULL, 'x')$$),
    ('owner unknown',       $$INSERT INTO schemakit.snippets (owner_id, body) VALUES (0, 'x')$$),
    ('insert id',           $$INSERT INTO schemakit.snippets (id, owner_id, body) SELECT 1000, id, 'x' FROM schemakit.users WHERE username = 'Alice'$$),
    ('update id',           $$UPDATE schemakit.snippets SET id = 1000 WHERE title = 'Hello'$$)
  ) AS v(label, stmt);
SELECT count(*) AS snippets FROM schemakit.snippets;

-- record_snippet_view counts views and returns the new count; it is not an
-- edit, so updated_at stays (set here to a known past value: updated_at is
-- not a column that fires the touch trigger).
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00' WHERE title = 'Hello'
RETURNING updated_at = '2000-01-01 00:00:00+00' AS updated_at_set;
SELECT schemakit.record_snippet_view(:'hello_id') AS views;
SELECT schemakit.record_snippet_view(:'hello_id') AS views;
SELECT schemakit.record_snippet_view(:'hello_id') AS views;
SELECT view_count, updated_at = '2000-01-01 00:00:00+00' AS updated_at_untouched
  FROM schemakit.snippets WHERE public_id = :'hello_id';
-- Unknown and NULL public IDs.
SELECT schemakit.record_snippet_view('no-such-id') IS NULL AS unknown_is_null,
       schemakit.record_snippet_view(NULL) IS NULL AS null_is_null;
-- Only the named snippet was counted.
SELECT title, view_count FROM schemakit.snippets
 WHERE title IN ('Hello', 'Fixed') ORDER BY title;

-- Edits of public_id, owner_id, title, body, language or is_public bump
-- updated_at; updating view_count or updated_at alone does not.
UPDATE schemakit.snippets SET title = 'Hello, world' WHERE public_id = :'hello_id'
RETURNING title, updated_at = now() AS updated_now,
          created_at < updated_at AS created_kept;
-- Each UPDATE also sets updated_at to a past value: where the trigger fires,
-- it replaces that with now().
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00', public_id = public_id
 WHERE public_id = :'hello_id' RETURNING 'public_id' AS col, updated_at = now() AS bumped;
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00', owner_id = owner_id
 WHERE public_id = :'hello_id' RETURNING 'owner_id' AS col, updated_at = now() AS bumped;
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00', title = title
 WHERE public_id = :'hello_id' RETURNING 'title' AS col, updated_at = now() AS bumped;
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00', body = body || ' '
 WHERE public_id = :'hello_id' RETURNING 'body' AS col, updated_at = now() AS bumped;
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00', language = 'python'
 WHERE public_id = :'hello_id' RETURNING 'language' AS col, updated_at = now() AS bumped;
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00', is_public = NOT is_public
 WHERE public_id = :'hello_id' RETURNING 'is_public' AS col, updated_at = now() AS bumped;
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00', view_count = view_count + 10
 WHERE public_id = :'hello_id' RETURNING 'view_count' AS col, updated_at = now() AS bumped;
UPDATE schemakit.snippets SET updated_at = '2000-01-01 00:00:00+00'
 WHERE public_id = :'hello_id' RETURNING 'updated_at' AS col, updated_at = now() AS bumped;

-- Deleting a user deletes their snippets.
INSERT INTO schemakit.users (username) VALUES ('doomed');
INSERT INTO schemakit.snippets (owner_id, body)
SELECT id, 'doomed ' || i FROM schemakit.users, generate_series(1, 3) AS i
 WHERE username = 'doomed';
SELECT count(*) AS doomed_snippets FROM schemakit.snippets WHERE body LIKE 'doomed %';
DELETE FROM schemakit.users WHERE username = 'doomed';
SELECT count(*) AS doomed_snippets FROM schemakit.snippets WHERE body LIKE 'doomed %';

--------------------------------------------------------------------------
-- The public-ID collision retry.  A default public ID that is taken is
-- drawn again (up to 32 times); an explicit one is left alone.
--------------------------------------------------------------------------

BEGIN;
-- A one-symbol ID space over {a, b}: two IDs in all.  The second insert
-- draws 'a' or 'b'; when that is taken, the trigger draws again (failing
-- only if all 33 draws hit the taken one: chance 2^-33).
ALTER TABLE schemakit.snippets ALTER public_id SET DEFAULT schemakit.public_id(1, 'ab');
INSERT INTO schemakit.snippets (owner_id, body)
SELECT id, 'tiny 1' FROM schemakit.users WHERE username = 'carol';
INSERT INTO schemakit.snippets (owner_id, body)
SELECT id, 'tiny 2' FROM schemakit.users WHERE username = 'carol';
SELECT string_agg(public_id, ',' ORDER BY public_id) AS public_ids
  FROM schemakit.snippets WHERE body LIKE 'tiny %';
-- The space is exhausted: after 32 redraws the unique index reports it.
-- (Which of 'a' and 'b' the DETAIL names is random, so it is left out.)
SELECT regress.err($$INSERT INTO schemakit.snippets (owner_id, body)
                     SELECT id, 'tiny 3' FROM schemakit.users WHERE username = 'carol'$$,
                   with_detail => false) AS error;
-- An explicit public ID that is taken is a real conflict.
SELECT schemakit.public_id(1, 'xy') IS NOT NULL AS drew_another_id;
SELECT regress.err($$INSERT INTO schemakit.snippets (owner_id, public_id, body)
                     SELECT id, 'a', 'tiny explicit' FROM schemakit.users WHERE username = 'carol'$$) AS error;
SELECT regress.err($$INSERT INTO schemakit.snippets (owner_id, public_id, body)
                     SELECT id, 'b', 'tiny explicit' FROM schemakit.users WHERE username = 'carol'$$) AS error;
SELECT count(*) AS tiny_rows FROM schemakit.snippets WHERE body LIKE 'tiny %';
ROLLBACK;
SELECT pg_get_expr(d.adbin, d.adrelid) AS public_id_default
  FROM pg_attrdef d
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = 'schemakit.snippets'::regclass AND a.attname = 'public_id';
SELECT count(*) AS tiny_rows FROM schemakit.snippets WHERE body LIKE 'tiny %';

-- An explicit public ID equal to the one public_id() returned last in this
-- session (here: the default of the insert just before, as an application
-- copying a snippet would send it) is still explicit: it must fail with
-- 23505, not be replaced by a fresh ID.
INSERT INTO schemakit.snippets (owner_id, body)
SELECT id, 'original' FROM schemakit.users WHERE username = 'carol'
RETURNING public_id AS original_id \gset
SELECT regress.err(format(
         $$INSERT INTO schemakit.snippets (owner_id, public_id, body)
           SELECT id, %L, 'copy' FROM schemakit.users WHERE username = 'carol'$$,
         :'original_id'), with_detail => false) AS error;
SELECT count(*) FILTER (WHERE body = 'original') AS originals,
       count(*) FILTER (WHERE body = 'copy') AS copies
  FROM schemakit.snippets;
-- The same with an ID drawn by a direct call of public_id().
SELECT schemakit.public_id() AS drawn_id \gset
INSERT INTO schemakit.snippets (owner_id, public_id, body)
SELECT id, :'drawn_id', 'drawn' FROM schemakit.users WHERE username = 'carol';
SELECT regress.err(format(
         $$INSERT INTO schemakit.snippets (owner_id, public_id, body)
           SELECT id, %L, 'drawn copy' FROM schemakit.users WHERE username = 'carol'$$,
         :'drawn_id'), with_detail => false) AS error;
SELECT count(*) FILTER (WHERE body = 'drawn') AS drawn,
       count(*) FILTER (WHERE body = 'drawn copy') AS copies
  FROM schemakit.snippets;
