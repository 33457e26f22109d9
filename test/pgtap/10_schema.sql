-- 10_schema.sql - the 1.0 tables: columns, keys, indexes, triggers, checks,
-- identity columns, pg_dump configuration and the migrations record.
--
-- Only what 1.0 creates is asserted, never that nothing else exists, so this
-- file keeps passing once later versions add tables and columns.
BEGIN;
SELECT plan(183);

-------------------------------------------------------------------------------
-- Tables
-------------------------------------------------------------------------------
SELECT has_table('schemakit', t, format('table schemakit.%s exists', t))
  FROM unnest(ARRAY['migrations', 'users', 'snippets', 'email_codes']) AS t;

-------------------------------------------------------------------------------
-- Columns: existence, type, nullability (one row per 1.0 column)
-------------------------------------------------------------------------------
CREATE TEMP TABLE expected_columns (tbl name, col name, typ text, not_null boolean, ord serial);
INSERT INTO expected_columns (tbl, col, typ, not_null) VALUES
    ('migrations',  'version',         'text',                     true),
    ('migrations',  'applied_at',      'timestamp with time zone', true),
    ('users',       'id',              'bigint',                   true),
    ('users',       'username',        'text',                     false),  -- optional
    ('users',       'email',           'text',                     false),
    ('users',       'display_name',    'text',                     false),
    ('users',       'password_hash',   'text',                     false),
    ('users',       'created_at',      'timestamp with time zone', true),
    ('users',       'updated_at',      'timestamp with time zone', true),
    ('snippets',    'id',              'bigint',                   true),
    ('snippets',    'public_id',       'text',                     true),
    ('snippets',    'owner_id',        'bigint',                   true),
    ('snippets',    'title',           'text',                     false),
    ('snippets',    'body',            'text',                     true),
    ('snippets',    'language',        'text',                     true),
    ('snippets',    'is_public',       'boolean',                  true),
    ('snippets',    'view_count',      'bigint',                   true),
    ('snippets',    'created_at',      'timestamp with time zone', true),
    ('snippets',    'updated_at',      'timestamp with time zone', true),
    ('email_codes', 'id',              'bigint',                   true),
    ('email_codes', 'user_id',         'bigint',                   false),
    ('email_codes', 'email',           'text',                     true),
    ('email_codes', 'code_hash',       'bytea',                    true),
    ('email_codes', 'expires_at',      'timestamp with time zone', true),
    ('email_codes', 'used_at',         'timestamp with time zone', false),
    ('email_codes', 'revoked_at',      'timestamp with time zone', false),
    ('email_codes', 'failed_attempts', 'integer',                  true),
    ('email_codes', 'created_at',      'timestamp with time zone', true);

SELECT has_column('schemakit', tbl, col, format('column %s.%s exists', tbl, col))
  FROM expected_columns ORDER BY ord;
SELECT col_type_is('schemakit', tbl, col, typ, format('column %s.%s is %s', tbl, col, typ))
  FROM expected_columns ORDER BY ord;
SELECT CASE WHEN not_null
            THEN col_not_null('schemakit', tbl, col, format('column %s.%s is NOT NULL', tbl, col))
            ELSE col_is_null('schemakit', tbl, col, format('column %s.%s is nullable', tbl, col))
       END
  FROM expected_columns ORDER BY ord;

-------------------------------------------------------------------------------
-- Defaults
-------------------------------------------------------------------------------
SELECT col_default_is('schemakit', 'snippets', 'language', 'text'::text, 'snippets.language defaults to ''text''');
SELECT col_default_is('schemakit', 'snippets', 'is_public', 'false'::text, 'snippets.is_public defaults to false');
SELECT col_default_is('schemakit', 'snippets', 'view_count', '0'::text, 'snippets.view_count defaults to 0');
SELECT col_default_is('schemakit', 'snippets', 'public_id', 'schemakit.public_id()'::text,
                      'snippets.public_id defaults to schemakit.public_id()');
SELECT col_default_is('schemakit', 'email_codes', 'failed_attempts', '0'::text, 'email_codes.failed_attempts defaults to 0');
SELECT col_default_is('schemakit', tbl, col, 'now()'::text, format('%s.%s defaults to now()', tbl, col))
  FROM (VALUES ('migrations', 'applied_at'), ('users', 'created_at'), ('users', 'updated_at'),
               ('snippets', 'created_at'), ('snippets', 'updated_at'),
               ('email_codes', 'created_at')) AS d(tbl, col);
SELECT col_hasnt_default('schemakit', 'email_codes', 'expires_at', 'email_codes.expires_at has no default');
SELECT col_hasnt_default('schemakit', 'snippets', 'body', 'snippets.body has no default');

-------------------------------------------------------------------------------
-- Primary keys and identity columns
-------------------------------------------------------------------------------
SELECT col_is_pk('schemakit', 'migrations', 'version', 'migrations.version is the primary key');
SELECT col_is_pk('schemakit', t, 'id', format('%s.id is the primary key', t))
  FROM unnest(ARRAY['users', 'snippets']) AS t;
-- email_codes is keyed by the address key first (it can be distributed by it).
SELECT col_is_pk('schemakit', 'email_codes', ARRAY['email_key', 'id'], 'email_codes (email_key, id) is the primary key');

SELECT is(a.attidentity, 'a', format('%s.id is GENERATED ALWAYS AS IDENTITY', t))
  FROM unnest(ARRAY['users', 'snippets', 'email_codes']) AS t
  LEFT JOIN pg_attribute a
    ON a.attrelid = ('schemakit.' || t)::regclass AND a.attname = 'id';

SELECT is(pg_get_serial_sequence('schemakit.' || t, 'id'), format('schemakit.%s_id_seq', t),
          format('%s.id is backed by sequence schemakit.%s_id_seq', t, t))
  FROM unnest(ARRAY['users', 'snippets', 'email_codes']) AS t;

SELECT throws_ok(
    $$INSERT INTO schemakit.users (id, username) VALUES (424242, 'explicit-id')$$,
    '428C9', NULL, 'an explicit users.id is rejected (GENERATED ALWAYS)');

-------------------------------------------------------------------------------
-- Foreign keys, ON DELETE CASCADE
-------------------------------------------------------------------------------
SELECT fk_ok('schemakit', 'snippets', 'owner_id', 'schemakit', 'users', 'id',
             'snippets.owner_id references users.id');
SELECT fk_ok('schemakit', 'email_codes', 'user_id', 'schemakit', 'users', 'id',
             'email_codes.user_id references users.id');

SELECT results_eq(
    $$SELECT c.conrelid::regclass::text, c.confdeltype::text
        FROM pg_constraint c
       WHERE c.contype = 'f'
         AND c.confrelid = 'schemakit.users'::regclass
         AND c.conrelid IN ('schemakit.snippets'::regclass, 'schemakit.email_codes'::regclass)
       ORDER BY 1$$,
    $$VALUES ('schemakit.email_codes', 'c'), ('schemakit.snippets', 'c')$$,
    'both foreign keys to users are ON DELETE CASCADE');

-- The cascade in action.
INSERT INTO schemakit.users (username, email) VALUES ('cascade-user', 'cascade@example.com');
INSERT INTO schemakit.snippets (owner_id, body)
SELECT id, 'cascade body' FROM schemakit.users WHERE username = 'cascade-user';
SELECT ok(schemakit.issue_email_code('cascade@example.com') IS NOT NULL, 'issued a code for the cascade user');
SELECT is((SELECT count(*) FROM schemakit.email_codes ec JOIN schemakit.users u ON u.id = ec.user_id
            WHERE u.username = 'cascade-user'), 1::bigint, 'the code is linked to the cascade user');
DELETE FROM schemakit.users WHERE username = 'cascade-user';
SELECT is((SELECT count(*) FROM schemakit.snippets WHERE body = 'cascade body'), 0::bigint,
          'deleting a user deletes their snippets');
SELECT is((SELECT count(*) FROM schemakit.email_codes WHERE email = 'cascade@example.com'), 0::bigint,
          'deleting a user deletes their email codes');

-------------------------------------------------------------------------------
-- Indexes
-------------------------------------------------------------------------------
SELECT has_index('schemakit', 'users', 'users_username_key', 'lower(username)'::name, 'index users_username_key on lower(username)');
SELECT has_index('schemakit', 'users', 'users_email_key', 'email_key'::name, 'index users_email_key on email_key (1.5)');
SELECT has_index('schemakit', 'snippets', 'snippets_owner_created_idx', ARRAY['owner_id', 'created_at', 'id']::name[],
                 'index snippets_owner_created_idx on (owner_id, created_at, id)');
SELECT has_index('schemakit', 'snippets', 'snippets_public_id_key', 'public_id'::name, 'index snippets_public_id_key on public_id');
SELECT has_index('schemakit', 'email_codes', 'email_codes_open_email_key', 'email_key'::name, 'index email_codes_open_email_key on email_key (1.5)');
SELECT hasnt_index('schemakit', 'email_codes', 'email_codes_expires_at_idx', 'no index email_codes_expires_at_idx (1.0, dropped in 1.4: nothing read it)');
SELECT has_index('schemakit', 'email_codes', 'email_codes_user_id_idx', 'user_id'::name, 'index email_codes_user_id_idx on user_id');

SELECT index_is_unique('schemakit', tbl, idx, format('index %s is unique', idx))
  FROM (VALUES ('users', 'users_username_key'), ('users', 'users_email_key'),
               ('snippets', 'snippets_public_id_key'),
               ('email_codes', 'email_codes_open_email_key')) AS i(tbl, idx);

SELECT is(x.indisunique, false, format('index %s is not unique', idx))
  FROM unnest(ARRAY['snippets_owner_created_idx', 'email_codes_user_id_idx']) AS idx
  LEFT JOIN pg_index x ON x.indexrelid = to_regclass('schemakit.' || idx);

SELECT is(pg_get_indexdef('schemakit.snippets_owner_created_idx'::regclass),
          'CREATE INDEX snippets_owner_created_idx ON schemakit.snippets USING btree (owner_id, created_at DESC, id DESC)',
          'snippets_owner_created_idx orders newest first');
SELECT is(pg_get_expr(x.indpred, x.indrelid), '((used_at IS NULL) AND (revoked_at IS NULL))',
          'email_codes_open_email_key covers only open codes')
  FROM pg_index x WHERE x.indexrelid = 'schemakit.email_codes_open_email_key'::regclass;
SELECT is(c.contype::text, 'u', 'snippets_public_id_key is a UNIQUE constraint')
  FROM pg_constraint c
 WHERE c.conrelid = 'schemakit.snippets'::regclass AND c.conname = 'snippets_public_id_key';

-------------------------------------------------------------------------------
-- Triggers
-------------------------------------------------------------------------------
SELECT has_trigger('schemakit', tbl, trg, format('trigger %s on %s', trg, tbl))
  FROM (VALUES ('migrations', 'migrations_merge', 'migrations_merge'),
               ('users', 'users_touch_updated_at', 'touch_updated_at'),
               ('snippets', 'snippets_public_id_retry', 'snippets_public_id_retry'),
               ('snippets', 'snippets_touch_updated_at', 'touch_updated_at')) AS g(tbl, trg, fn);
SELECT trigger_is('schemakit', tbl, trg, 'schemakit', fn, format('trigger %s calls schemakit.%s()', trg, fn))
  FROM (VALUES ('migrations', 'migrations_merge', 'migrations_merge'),
               ('users', 'users_touch_updated_at', 'touch_updated_at'),
               ('snippets', 'snippets_public_id_retry', 'snippets_public_id_retry'),
               ('snippets', 'snippets_touch_updated_at', 'touch_updated_at')) AS g(tbl, trg, fn);

-- Timing and events: tgtype bits ROW=1, BEFORE=2, INSERT=4, UPDATE=16.
SELECT results_eq(
    $$SELECT tgname::text COLLATE "default", tgtype::int, tgenabled::text
        FROM pg_trigger
       WHERE tgname IN ('migrations_merge', 'users_touch_updated_at',
                        'snippets_public_id_retry', 'snippets_touch_updated_at')
         AND tgrelid::regclass::text LIKE 'schemakit.%'
       ORDER BY 1$$,
    $$VALUES ('migrations_merge', 1 | 2 | 4, 'O'),
             ('snippets_public_id_retry', 1 | 2 | 4, 'O'),
             ('snippets_touch_updated_at', 1 | 2 | 16, 'O'),
             ('users_touch_updated_at', 1 | 2 | 16, 'O')$$,
    'triggers are enabled BEFORE ... FOR EACH ROW on the right events');

SELECT is(
    (SELECT array_agg(a.attname::text ORDER BY a.attname)
       FROM pg_trigger t
       JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr::int2[])
      WHERE t.tgrelid = 'schemakit.snippets'::regclass AND t.tgname = 'snippets_touch_updated_at'),
    ARRAY['body', 'is_public', 'language', 'owner_id', 'public_id', 'title'],
    'snippets_touch_updated_at fires on UPDATE OF the edit columns only (not view_count)');
SELECT is(
    (SELECT cardinality(t.tgattr::int2[]) FROM pg_trigger t
      WHERE t.tgrelid = 'schemakit.users'::regclass AND t.tgname = 'users_touch_updated_at'),
    0, 'users_touch_updated_at fires on every UPDATE (no column list)');

-------------------------------------------------------------------------------
-- Check constraints
-------------------------------------------------------------------------------
SELECT has_check('schemakit', t, format('table %s has check constraints', t))
  FROM unnest(ARRAY['users', 'snippets', 'email_codes']) AS t;

SELECT set_has(
    $$SELECT conrelid::regclass::text, conname::text FROM pg_constraint
       WHERE contype = 'c' AND connamespace = 'schemakit'::regnamespace$$,
    $$VALUES ('schemakit.users', 'users_username_check'),
             ('schemakit.users', 'users_email_check'),
             ('schemakit.users', 'users_display_name_check'),
             ('schemakit.users', 'users_password_hash_check'),
             ('schemakit.snippets', 'snippets_public_id_check'),
             ('schemakit.snippets', 'snippets_title_check'),
             ('schemakit.snippets', 'snippets_language_check'),
             ('schemakit.snippets', 'snippets_view_count_check'),
             ('schemakit.email_codes', 'email_codes_email_check'),
             ('schemakit.email_codes', 'email_codes_code_hash_check'),
             ('schemakit.email_codes', 'email_codes_failed_attempts_check')$$,
    'all 1.0 check constraints exist');

-- The checks bite (each statement alone violates exactly one).
INSERT INTO schemakit.users (username, email) VALUES ('check-owner', 'owner@example.com');
SELECT throws_ok(sql, '23514', format('new row for relation "%s" violates check constraint "%s"', rel, con), format('%s rejects %s', con, what))
  FROM (VALUES
    ('users', 'users_username_check', 'an empty username', $$INSERT INTO schemakit.users (username) VALUES ('')$$),
    ('users', 'users_username_check', 'a 256-character username', $$INSERT INTO schemakit.users (username) VALUES (repeat('u', 256))$$),
    ('users', 'users_email_check', 'an email without @', $$INSERT INTO schemakit.users (username, email) VALUES ('e1', 'no-at-sign')$$),
    ('users', 'users_email_check', 'an email with a space', $$INSERT INTO schemakit.users (username, email) VALUES ('e2', 'a b@example.com')$$),
    ('users', 'users_email_check', 'a 256-character email', $$INSERT INTO schemakit.users (username, email) VALUES ('e3', repeat('a', 244) || '@example.com')$$),
    ('users', 'users_display_name_check', 'a 256-character display_name', $$INSERT INTO schemakit.users (username, display_name) VALUES ('d', repeat('d', 256))$$),
    ('users', 'users_password_hash_check', 'an empty password_hash', $$INSERT INTO schemakit.users (username, password_hash) VALUES ('p', '')$$),
    ('snippets', 'snippets_public_id_check', 'an empty public_id', $$INSERT INTO schemakit.snippets (owner_id, body, public_id) SELECT id, 'b', '' FROM schemakit.users WHERE username = 'check-owner'$$),
    ('snippets', 'snippets_title_check', 'a 256-character title', $$INSERT INTO schemakit.snippets (owner_id, body, title) SELECT id, 'b', repeat('t', 256) FROM schemakit.users WHERE username = 'check-owner'$$),
    ('snippets', 'snippets_language_check', 'an empty language', $$INSERT INTO schemakit.snippets (owner_id, body, language) SELECT id, 'b', '' FROM schemakit.users WHERE username = 'check-owner'$$),
    ('snippets', 'snippets_language_check', 'a 65-character language', $$INSERT INTO schemakit.snippets (owner_id, body, language) SELECT id, 'b', repeat('l', 65) FROM schemakit.users WHERE username = 'check-owner'$$),
    ('snippets', 'snippets_view_count_check', 'a negative view_count', $$INSERT INTO schemakit.snippets (owner_id, body, view_count) SELECT id, 'b', -1 FROM schemakit.users WHERE username = 'check-owner'$$),
    ('email_codes', 'email_codes_email_check', 'an invalid email', $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('nope', sha256('x'), now())$$),
    ('email_codes', 'email_codes_code_hash_check', 'a 1-byte code_hash', $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at) VALUES ('h@example.com', '\x00'::bytea, now())$$),
    ('email_codes', 'email_codes_failed_attempts_check', 'negative failed_attempts', $$INSERT INTO schemakit.email_codes (email, code_hash, expires_at, failed_attempts) VALUES ('f@example.com', sha256('x'), now(), -1)$$)
  ) AS c(rel, con, what, sql);

-- Boundary values the checks accept.
SELECT lives_ok(
    $$INSERT INTO schemakit.users (username, email, display_name, password_hash)
      VALUES (repeat('u', 255), repeat('a', 243) || '@example.com', repeat('d', 255), repeat('p', 255))$$,
    'users accepts 255-character username, email, display_name and password_hash');
SELECT lives_ok(
    $$INSERT INTO schemakit.snippets (owner_id, body, title, language, public_id)
      SELECT id, '', repeat('t', 255), repeat('l', 64), repeat('p', 1024)
        FROM schemakit.users WHERE username = 'check-owner'$$,
    'snippets accepts a 1024-character public_id, 255-character title, 64-character language and empty body');

-- Uniqueness is case-insensitive.
SELECT throws_ok($$INSERT INTO schemakit.users (username) VALUES ('CHECK-OWNER')$$, '23505', NULL,
                 'usernames are unique case-insensitively');
SELECT throws_ok($$INSERT INTO schemakit.users (username, email) VALUES ('other', 'OWNER@Example.COM')$$, '23505', NULL,
                 'emails are unique case-insensitively');
SELECT lives_ok($$INSERT INTO schemakit.users (username) VALUES ('no-email-1'), ('no-email-2')$$,
                'several users may have no email');

-------------------------------------------------------------------------------
-- pg_dump configuration: every table and sequence of the schema is in
-- extconfig, with no row filter.
-------------------------------------------------------------------------------
SELECT set_has(
    $$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'schemakit'$$,
    $$VALUES ('schemakit.migrations'), ('schemakit.users'), ('schemakit.users_id_seq'),
             ('schemakit.snippets'), ('schemakit.snippets_id_seq'),
             ('schemakit.email_codes'), ('schemakit.email_codes_id_seq')$$,
    'the 1.0 tables and identity sequences are extension configuration');
-- Later versions may keep a table out of the dump on purpose, so the
-- general rule checked is: a dumped table's identity sequences are dumped.
SELECT is_empty(
    $$SELECT s.oid::regclass::text
        FROM pg_extension e
        JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY (e.extconfig)
                        AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       WHERE e.extname = 'schemakit' AND NOT s.oid = ANY (e.extconfig)$$,
    'every sequence owned by a configuration table is configuration too');
SELECT is((SELECT count(*) FROM pg_extension e, unnest(e.extconfig) AS c(oid)
            WHERE e.extname = 'schemakit' AND c.oid NOT IN (SELECT oid FROM pg_class)), 0::bigint,
          'extconfig holds no dangling entries');
SELECT is(
    (SELECT array_agg(DISTINCT c.cond)
       FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(rel, cond)
      WHERE e.extname = 'schemakit'
        AND c.rel::regclass::text IN ('schemakit.migrations', 'schemakit.users', 'schemakit.users_id_seq',
                                      'schemakit.snippets', 'schemakit.snippets_id_seq',
                                      'schemakit.email_codes', 'schemakit.email_codes_id_seq')),
    ARRAY[''], 'the 1.0 configuration tables dump all rows (empty condition)');
SELECT is(
    (SELECT cardinality(extconfig) = cardinality(extcondition) FROM pg_extension WHERE extname = 'schemakit'),
    true, 'extconfig and extcondition have one entry each');

-------------------------------------------------------------------------------
-- migrations
-------------------------------------------------------------------------------
SELECT ok(EXISTS (SELECT 1 FROM schemakit.migrations WHERE version = '1.0'), 'migrations records version 1.0');
SELECT ok(EXISTS (SELECT 1 FROM schemakit.migrations m JOIN pg_extension e ON e.extname = 'schemakit'
                   WHERE m.version = e.extversion),
          'migrations records the installed extension version');
SELECT is((SELECT count(*) FROM schemakit.migrations WHERE version = '1.0'), 1::bigint,
          'version 1.0 is recorded exactly once');
SELECT ok((SELECT applied_at <= now() FROM schemakit.migrations WHERE version = '1.0'),
          'the 1.0 step has a past applied_at');

-- migrations_merge: re-inserting a version (a dump restore) keeps one row
-- with the earliest applied_at.
SELECT lives_ok($$INSERT INTO schemakit.migrations (version, applied_at) VALUES ('1.0', '2001-02-03 04:05:06+00')$$,
                're-inserting version 1.0 does not fail');
SELECT results_eq($$SELECT applied_at FROM schemakit.migrations WHERE version = '1.0'$$,
                  $$VALUES ('2001-02-03 04:05:06+00'::timestamptz)$$,
                  'the earlier applied_at wins and there is still one 1.0 row');
INSERT INTO schemakit.migrations (version, applied_at) VALUES ('1.0', '2030-01-01 00:00:00+00');
SELECT results_eq($$SELECT applied_at FROM schemakit.migrations WHERE version = '1.0'$$,
                  $$VALUES ('2001-02-03 04:05:06+00'::timestamptz)$$,
                  'a later applied_at does not replace an earlier one');
INSERT INTO schemakit.migrations (version, applied_at) VALUES ('0.test', '2002-01-01 00:00:00+00');
SELECT results_eq($$SELECT applied_at FROM schemakit.migrations WHERE version = '0.test'$$,
                  $$VALUES ('2002-01-01 00:00:00+00'::timestamptz)$$,
                  'a new version is inserted as given');

SELECT * FROM finish();
ROLLBACK;
