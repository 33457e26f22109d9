-- 50_oauth.sql - schemakit.oauth_accounts (1.1): table shape, and the
-- behaviour of link_oauth_account() and oauth_user_id(): the returned link
-- id, idempotence, the 23505 for an account linked to another user, every
-- argument error with its SQLSTATE and message, and the cascade when a user
-- is deleted.
BEGIN;
SELECT plan(98);

-------------------------------------------------------------------------------
-- Table shape
-------------------------------------------------------------------------------
SELECT has_table('schemakit', 'oauth_accounts', 'table schemakit.oauth_accounts exists');

CREATE TEMP TABLE expected_columns (col name, typ text, not_null boolean, ord serial);
INSERT INTO expected_columns (col, typ, not_null) VALUES
    ('id',           'bigint',                   true),
    ('user_id',      'bigint',                   true),
    ('provider',     'text',                     true),
    ('provider_id',  'text',                     true),
    ('email',        'text',                     false),
    ('display_name', 'text',                     false),
    ('created_at',   'timestamp with time zone', true),
    -- 1.5, for better-auth: provider tokens encrypted by the app, their expiry, scope
    ('access_token',             'bytea',                    false),
    ('refresh_token',            'bytea',                    false),
    ('id_token',                 'bytea',                    false),
    ('access_token_expires_at',  'timestamp with time zone', false),
    ('refresh_token_expires_at', 'timestamp with time zone', false),
    ('scope',                    'text',                     false),
    ('updated_at',               'timestamp with time zone', false);

SELECT has_column('schemakit', 'oauth_accounts', col, format('column oauth_accounts.%s exists', col))
  FROM expected_columns ORDER BY ord;
SELECT col_type_is('schemakit', 'oauth_accounts', col, typ, format('column oauth_accounts.%s is %s', col, typ))
  FROM expected_columns ORDER BY ord;
SELECT CASE WHEN not_null
            THEN col_not_null('schemakit', 'oauth_accounts', col, format('column oauth_accounts.%s is NOT NULL', col))
            ELSE col_is_null('schemakit', 'oauth_accounts', col, format('column oauth_accounts.%s is nullable', col))
       END
  FROM expected_columns ORDER BY ord;
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'schemakit.oauth_accounts'::regclass AND attnum > 0 AND NOT attisdropped),
          (SELECT array_agg(col::text ORDER BY ord) FROM expected_columns),
          'oauth_accounts has exactly these columns, in this order');

SELECT col_is_pk('schemakit', 'oauth_accounts', 'id', 'oauth_accounts.id is the primary key');
SELECT is((SELECT attidentity::text FROM pg_attribute
            WHERE attrelid = 'schemakit.oauth_accounts'::regclass AND attname = 'id'),
          'a', 'oauth_accounts.id is GENERATED ALWAYS AS IDENTITY');
SELECT col_default_is('schemakit', 'oauth_accounts', 'created_at', 'now()'::text,
                      'oauth_accounts.created_at defaults to now()');

SELECT fk_ok('schemakit', 'oauth_accounts', 'user_id', 'schemakit', 'users', 'id',
             'oauth_accounts.user_id references users.id');
SELECT is((SELECT confdeltype::text FROM pg_constraint
            WHERE conrelid = 'schemakit.oauth_accounts'::regclass AND contype = 'f'),
          'c', 'the foreign key to users is ON DELETE CASCADE');

SELECT col_is_unique('schemakit', 'oauth_accounts', ARRAY['provider', 'provider_id']::name[],
                     '(provider, provider_id) is unique');
SELECT is((SELECT pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = 'schemakit.oauth_accounts'::regclass AND conname = 'oauth_accounts_provider_key'),
          'UNIQUE (provider, provider_id)', 'constraint oauth_accounts_provider_key is UNIQUE (provider, provider_id)');
SELECT has_index('schemakit', 'oauth_accounts', 'oauth_accounts_provider_key',
                 ARRAY['provider', 'provider_id']::name[], 'index oauth_accounts_provider_key on (provider, provider_id)');
SELECT index_is_unique('schemakit', 'oauth_accounts', 'oauth_accounts_provider_key',
                       'index oauth_accounts_provider_key is unique');
SELECT has_index('schemakit', 'oauth_accounts', 'oauth_accounts_user_id_idx', 'user_id'::name,
                 'index oauth_accounts_user_id_idx on user_id (the cascade does not scan)');

-------------------------------------------------------------------------------
-- Fixtures
-------------------------------------------------------------------------------
INSERT INTO schemakit.users (username, email) VALUES
    ('oauth-ada', 'ada@oauth.example'), ('oauth-bob', 'bob@oauth.example');
CREATE TEMP TABLE u AS
SELECT (SELECT id FROM schemakit.users WHERE username = 'oauth-ada') AS ada,
       (SELECT id FROM schemakit.users WHERE username = 'oauth-bob') AS bob;

-------------------------------------------------------------------------------
-- link_oauth_account: returns the link id, idempotent
-------------------------------------------------------------------------------
CREATE TEMP TABLE link AS
SELECT schemakit.link_oauth_account((SELECT ada FROM u), 'github', '583231', 'ada@example.com', 'Ada') AS id;

SELECT isnt((SELECT id FROM link), NULL, 'link_oauth_account returns an id');
SELECT is((SELECT id FROM link),
          (SELECT a.id FROM schemakit.oauth_accounts a WHERE a.provider = 'github' AND a.provider_id = '583231'),
          'the id returned is the id of the new row');
SELECT row_eq(
    $$SELECT user_id, provider, provider_id, email, display_name, created_at
        FROM schemakit.oauth_accounts WHERE id = (SELECT id FROM link)$$,
    ROW((SELECT ada FROM u), 'github'::text, '583231'::text, 'ada@example.com'::text, 'Ada'::text, now()),
    'the row holds the user, provider, provider_id, email, display_name and created_at = now()');

SELECT is(schemakit.link_oauth_account((SELECT ada FROM u), 'github', '583231', 'ada@example.com', 'Ada'),
          (SELECT id FROM link), 'linking the same account to the same user again returns the same id');
SELECT is(schemakit.link_oauth_account((SELECT ada FROM u), 'github', '583231'),
          (SELECT id FROM link), 'and so does a repeat without email and display_name');
SELECT is((SELECT count(*) FROM schemakit.oauth_accounts WHERE provider = 'github' AND provider_id = '583231'),
          1::bigint, 'the repeats left exactly one row');
SELECT is((SELECT email FROM schemakit.oauth_accounts WHERE id = (SELECT id FROM link)),
          'ada@example.com', 'a repeat without email leaves the stored email alone');

-- The same provider_id at another provider, and another account of the same
-- user at the same provider, are separate links.
SELECT isnt(schemakit.link_oauth_account((SELECT ada FROM u), 'gitlab', '583231'),
            (SELECT id FROM link), 'the same provider_id at another provider is another link');
SELECT isnt(schemakit.link_oauth_account((SELECT ada FROM u), 'github', '583232'),
            (SELECT id FROM link), 'a second account at the same provider is another link');
SELECT is((SELECT count(*) FROM schemakit.oauth_accounts WHERE user_id = (SELECT ada FROM u)),
          3::bigint, 'ada now has three links');

-------------------------------------------------------------------------------
-- link_oauth_account: an account linked to another user
-------------------------------------------------------------------------------
SELECT throws_ok(
    format($$SELECT schemakit.link_oauth_account(%s, 'github', '583231')$$, (SELECT bob FROM u)),
    '23505', 'oauth account is already linked to another user',
    'linking an account to a second user raises 23505');
SELECT is((SELECT user_id FROM schemakit.oauth_accounts WHERE id = (SELECT id FROM link)),
          (SELECT ada FROM u), 'the account still belongs to the first user');
SELECT is((SELECT count(*) FROM schemakit.oauth_accounts WHERE user_id = (SELECT bob FROM u)),
          0::bigint, 'the second user got no link');

-------------------------------------------------------------------------------
-- link_oauth_account: argument errors
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT schemakit.link_oauth_account(-1, 'github', '1')$$,
                 '23503', 'user -1 does not exist', 'an unknown user raises 23503');
SELECT throws_ok($$SELECT schemakit.link_oauth_account(NULL, 'github', '1')$$,
                 '22004', 'user_id must not be NULL', 'a NULL user_id raises 22004');
SELECT throws_ok(format($$SELECT schemakit.link_oauth_account(%s, NULL, '1')$$, (SELECT ada FROM u)),
                 '22004', 'provider and provider_id must not be NULL', 'a NULL provider raises 22004');
SELECT throws_ok(format($$SELECT schemakit.link_oauth_account(%s, 'github', NULL)$$, (SELECT ada FROM u)),
                 '22004', 'provider and provider_id must not be NULL', 'a NULL provider_id raises 22004');

SELECT throws_ok(format($$SELECT schemakit.link_oauth_account(%s, %L, '1')$$, (SELECT ada FROM u), p),
                 '22023', 'provider must have 1 to 50 characters and provider_id 1 to 255',
                 format('a provider of %s characters raises 22023', char_length(p)))
  FROM unnest(ARRAY['', repeat('p', 51)]) AS p;
SELECT throws_ok(format($$SELECT schemakit.link_oauth_account(%s, 'github', %L)$$, (SELECT ada FROM u), pid),
                 '22023', 'provider must have 1 to 50 characters and provider_id 1 to 255',
                 format('a provider_id of %s characters raises 22023', char_length(pid)))
  FROM unnest(ARRAY['', repeat('9', 256)]) AS pid;
SELECT throws_ok(format($$SELECT schemakit.link_oauth_account(%s, 'github', '1', %L)$$, (SELECT ada FROM u), e),
                 '22023', 'invalid email address', format('email %s raises 22023', CASE WHEN char_length(e) > 40 THEN 'of 256 characters' ELSE quote_literal(e) END))
  FROM unnest(ARRAY['not-an-email', 'two@at@example.com', 'space in@example.com',
                    repeat('a', 244) || '@example.com']) AS e;

-- The limits themselves are accepted (multibyte characters count as one).
SELECT ok(schemakit.link_oauth_account((SELECT ada FROM u), repeat('é', 50), repeat('9', 255),
                                       repeat('a', 243) || '@example.com') IS NOT NULL,
          'a 50-character provider, a 255-character provider_id and a 255-character email are accepted');
SELECT is(schemakit.oauth_user_id(repeat('é', 50), repeat('9', 255)), (SELECT ada FROM u),
          'and that link is found');

-- Nothing was written by the calls that failed.
SELECT is((SELECT count(*) FROM schemakit.oauth_accounts
            WHERE user_id IN ((SELECT ada FROM u), (SELECT bob FROM u))),
          4::bigint, 'the failed calls inserted nothing');

-------------------------------------------------------------------------------
-- oauth_user_id
-------------------------------------------------------------------------------
SELECT is(schemakit.oauth_user_id('github', '583231'), (SELECT ada FROM u),
          'oauth_user_id returns the linked user');
SELECT is(schemakit.oauth_user_id('github', '999999'), NULL, 'oauth_user_id of an unknown account is NULL');
SELECT is(schemakit.oauth_user_id('bitbucket', '583231'), NULL, 'oauth_user_id of an unknown provider is NULL');
SELECT is(schemakit.oauth_user_id('GitHub', '583231'), NULL, 'providers are matched exactly (case-sensitive)');
SELECT is(schemakit.oauth_user_id(NULL, '583231'), NULL, 'oauth_user_id(NULL, ...) is NULL');
SELECT is(schemakit.oauth_user_id('github', NULL), NULL, 'oauth_user_id(..., NULL) is NULL');

SELECT ok(schemakit.link_oauth_account((SELECT bob FROM u), 'google', 'g-1', 'bob@example.com') IS NOT NULL,
          'bob links a google account');
SELECT is(schemakit.oauth_user_id('google', 'g-1'), (SELECT bob FROM u), 'oauth_user_id finds bob');

-------------------------------------------------------------------------------
-- Table constraints, for rows written directly
-------------------------------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id)
                          VALUES (%s, 'github', '583231')$$, (SELECT bob FROM u)),
                 '23505', NULL, 'a direct duplicate (provider, provider_id) raises 23505');
SELECT throws_ok(format($$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id, display_name)
                          VALUES (%s, 'x', 'y', %L)$$, (SELECT bob FROM u), repeat('d', 256)),
                 '23514', NULL, 'a 256-character display_name violates a check constraint');
SELECT throws_ok($$INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id)
                   VALUES (-1, 'x', 'y')$$,
                 '23503', NULL, 'a row for a missing user violates the foreign key');

-------------------------------------------------------------------------------
-- Deleting a user deletes their links, and only theirs
-------------------------------------------------------------------------------
DELETE FROM schemakit.users WHERE id = (SELECT ada FROM u);
SELECT is((SELECT count(*) FROM schemakit.oauth_accounts WHERE user_id = (SELECT ada FROM u)),
          0::bigint, 'deleting the user deleted their links');
SELECT is(schemakit.oauth_user_id('github', '583231'), NULL, 'their account no longer resolves');
SELECT is(schemakit.oauth_user_id('google', 'g-1'), (SELECT bob FROM u), 'the other user''s link is kept');
-- The account is free again and can be linked to somebody else.
SELECT ok(schemakit.link_oauth_account((SELECT bob FROM u), 'github', '583231') IS NOT NULL,
          'a freed account can be linked to another user');
SELECT is(schemakit.oauth_user_id('github', '583231'), (SELECT bob FROM u), 'and now resolves to that user');

SELECT * FROM finish();
ROLLBACK;
