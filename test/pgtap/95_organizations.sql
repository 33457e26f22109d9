-- 95_organizations.sql - organizations, memberships and invitations (1.5):
-- table shapes, indexes, checks and triggers; the references pg_restore -j
-- can load in any order; create_organization(), member_role(),
-- invite_member(), accept_invitation(), revoke_invitation(),
-- set_member_role(), remove_member(): results, what is stored (a token's
-- hash only), who may do what, every error and its SQLSTATE; that no path
-- leaves an organization without an owner (functions, direct DML, the
-- cascade from a deleted user); purge_expired() on invitations; and what
-- grant_app gives an application role.
--
-- now() is constant inside this transaction: expiry is simulated by moving
-- expires_at into the past.
BEGIN;
SELECT plan(186);

-------------------------------------------------------------------------------
-- Tables
-------------------------------------------------------------------------------
SELECT has_table('schemakit', t, format('table schemakit.%s exists', t))
  FROM unnest(ARRAY['organizations', 'memberships', 'invitations']) t;

CREATE TEMP TABLE expected_columns (tbl name, col name, typ text, not_null boolean, ord serial);
INSERT INTO expected_columns (tbl, col, typ, not_null) VALUES
    ('organizations', 'id',              'bigint',                   true),
    ('organizations', 'slug',            'text',                     true),
    ('organizations', 'name',            'text',                     true),
    ('organizations', 'created_at',      'timestamp with time zone', true),
    ('organizations', 'updated_at',      'timestamp with time zone', true),
    ('memberships',   'id',              'bigint',                   true),
    ('memberships',   'organization_id', 'bigint',                   true),
    ('memberships',   'user_id',         'bigint',                   true),
    ('memberships',   'role',            'text',                     true),
    ('memberships',   'created_at',      'timestamp with time zone', true),
    ('memberships',   'updated_at',      'timestamp with time zone', true),
    ('invitations',   'id',              'bigint',                   true),
    ('invitations',   'organization_id', 'bigint',                   true),
    ('invitations',   'email',           'text',                     true),
    ('invitations',   'email_key',       'text',                     false),
    ('invitations',   'role',            'text',                     true),
    ('invitations',   'invited_by',      'bigint',                   false),
    ('invitations',   'token_hash',      'bytea',                    true),
    ('invitations',   'created_at',      'timestamp with time zone', true),
    ('invitations',   'expires_at',      'timestamp with time zone', true),
    ('invitations',   'accepted_at',     'timestamp with time zone', false),
    ('invitations',   'accepted_by',     'bigint',                   false),
    ('invitations',   'revoked_at',      'timestamp with time zone', false);

SELECT is((SELECT array_agg(a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod)
                            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ORDER BY a.attnum)
             FROM pg_attribute a
            WHERE a.attrelid = ('schemakit.' || t)::regclass AND a.attnum > 0 AND NOT a.attisdropped),
          (SELECT array_agg(col::text || ' ' || typ || CASE WHEN not_null THEN ' not null' ELSE '' END ORDER BY ord)
             FROM expected_columns WHERE tbl = t),
          format('%s has exactly these columns, types and NOT NULLs, in this order', t))
  FROM unnest(ARRAY['organizations', 'memberships', 'invitations']::name[]) t;

SELECT is((SELECT attidentity::text FROM pg_attribute WHERE attrelid = ('schemakit.' || t)::regclass AND attname = 'id'),
          'a', format('%s.id is GENERATED ALWAYS AS IDENTITY', t))
  FROM unnest(ARRAY['organizations', 'memberships', 'invitations']) t;
SELECT is(pg_get_expr(d.adbin, d.adrelid), 'schemakit.email_key(email)',
          'invitations.email_key is generated as schemakit.email_key(email)')
  FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = 'schemakit.invitations'::regclass AND a.attname = 'email_key';

SELECT col_is_pk('schemakit', 'organizations', 'id', 'organizations.id is the primary key');
SELECT col_is_pk('schemakit', 'memberships', ARRAY['organization_id', 'user_id'],
                 'memberships: the primary key is (organization_id, user_id), so member_role() is a primary-key probe');
SELECT col_is_pk('schemakit', 'invitations', 'id', 'invitations.id is the primary key');

SELECT results_eq(
    $$SELECT c.conrelid::regclass::text COLLATE "default", c.conname::text COLLATE "default",
             pg_get_constraintdef(c.oid)
        FROM pg_constraint c
       WHERE c.conrelid IN ('schemakit.organizations'::regclass, 'schemakit.memberships'::regclass,
                            'schemakit.invitations'::regclass)
         AND c.contype = 'f'
       ORDER BY 1, 2$$,
    $$VALUES
      ('schemakit.invitations', 'invitations_accepted_by_fkey', 'FOREIGN KEY (accepted_by) REFERENCES schemakit.users(id) ON DELETE SET NULL'),
      ('schemakit.invitations', 'invitations_invited_by_fkey', 'FOREIGN KEY (invited_by) REFERENCES schemakit.users(id) ON DELETE SET NULL'),
      ('schemakit.invitations', 'invitations_organization_id_fkey', 'FOREIGN KEY (organization_id) REFERENCES schemakit.organizations(id) ON DELETE CASCADE'),
      ('schemakit.memberships', 'memberships_organization_id_fkey', 'FOREIGN KEY (organization_id) REFERENCES schemakit.organizations(id) ON DELETE CASCADE'),
      ('schemakit.memberships', 'memberships_user_id_fkey', 'FOREIGN KEY (user_id) REFERENCES schemakit.users(id) ON DELETE CASCADE')$$,
    'foreign keys: memberships and invitations cascade with their organization; memberships with their user; inviter and acceptor are set NULL');

SELECT results_eq(
    $$SELECT indexrelid::regclass::text COLLATE "default", pg_get_indexdef(indexrelid)
        FROM pg_index
       WHERE indrelid IN ('schemakit.organizations'::regclass, 'schemakit.memberships'::regclass,
                          'schemakit.invitations'::regclass)
       ORDER BY 1$$,
    $$VALUES
      ('schemakit.invitations_accepted_by_idx', 'CREATE INDEX invitations_accepted_by_idx ON schemakit.invitations USING btree (accepted_by)'),
      ('schemakit.invitations_dead_at_idx', 'CREATE INDEX invitations_dead_at_idx ON schemakit.invitations USING btree (LEAST(expires_at, accepted_at, revoked_at))'),
      ('schemakit.invitations_invited_by_idx', 'CREATE INDEX invitations_invited_by_idx ON schemakit.invitations USING btree (invited_by)'),
      ('schemakit.invitations_open_key', 'CREATE UNIQUE INDEX invitations_open_key ON schemakit.invitations USING btree (organization_id, email_key) WHERE ((accepted_at IS NULL) AND (revoked_at IS NULL))'),
      ('schemakit.invitations_organization_id_idx', 'CREATE INDEX invitations_organization_id_idx ON schemakit.invitations USING btree (organization_id)'),
      ('schemakit.invitations_pkey', 'CREATE UNIQUE INDEX invitations_pkey ON schemakit.invitations USING btree (id)'),
      ('schemakit.invitations_token_hash_key', 'CREATE UNIQUE INDEX invitations_token_hash_key ON schemakit.invitations USING btree (token_hash)'),
      ('schemakit.memberships_id_key', 'CREATE UNIQUE INDEX memberships_id_key ON schemakit.memberships USING btree (id)'),
      ('schemakit.memberships_pkey', 'CREATE UNIQUE INDEX memberships_pkey ON schemakit.memberships USING btree (organization_id, user_id)'),
      ('schemakit.memberships_user_id_idx', 'CREATE INDEX memberships_user_id_idx ON schemakit.memberships USING btree (user_id)'),
      ('schemakit.organizations_pkey', 'CREATE UNIQUE INDEX organizations_pkey ON schemakit.organizations USING btree (id)'),
      ('schemakit.organizations_slug_key', 'CREATE UNIQUE INDEX organizations_slug_key ON schemakit.organizations USING btree (slug)')$$,
    'the three tables have exactly these indexes');

SELECT results_eq(
    $$SELECT c.conname::text COLLATE "default", pg_get_constraintdef(c.oid)
        FROM pg_constraint c
       WHERE c.conrelid IN ('schemakit.organizations'::regclass, 'schemakit.memberships'::regclass,
                            'schemakit.invitations'::regclass)
         AND c.contype = 'c'
       ORDER BY 1$$,
    $$VALUES
      ('invitations_closed_once_check', 'CHECK (((accepted_at IS NULL) OR (revoked_at IS NULL)))'),
      ('invitations_email_check', 'CHECK (schemakit._email_ok(email))'),
      ('invitations_role_check', 'CHECK ((role = ANY (ARRAY[''owner''::text, ''admin''::text, ''member''::text])))'),
      ('invitations_token_hash_check', 'CHECK ((octet_length(token_hash) = 32))'),
      ('memberships_role_check', 'CHECK ((role = ANY (ARRAY[''owner''::text, ''admin''::text, ''member''::text])))'),
      ('organizations_name_check', 'CHECK (((char_length(name) <= 255) AND (btrim(name) <> ''''::text)))'),
      ('organizations_slug_check', 'CHECK ((slug ~ ''^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$''::text))')$$,
    'checks: roles owner/admin/member, a 32-byte token hash, an address, closed once, a name, a URL-safe slug');

SELECT results_eq(
    $$SELECT t.tgrelid::regclass::text COLLATE "default", t.tgname::text COLLATE "default",
             pg_get_triggerdef(t.oid)
        FROM pg_trigger t
       WHERE t.tgrelid IN ('schemakit.organizations'::regclass, 'schemakit.memberships'::regclass,
                           'schemakit.invitations'::regclass)
         AND NOT t.tgisinternal
       ORDER BY 1, 2$$,
    $$VALUES
      ('schemakit.invitations', 'invitations_accepted_by_exists', 'CREATE TRIGGER invitations_accepted_by_exists BEFORE INSERT OR UPDATE OF accepted_by ON schemakit.invitations FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check(''accepted_by'', ''users'', ''id'')'),
      ('schemakit.invitations', 'invitations_invited_by_exists', 'CREATE TRIGGER invitations_invited_by_exists BEFORE INSERT OR UPDATE OF invited_by ON schemakit.invitations FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check(''invited_by'', ''users'', ''id'')'),
      ('schemakit.invitations', 'invitations_organization_exists', 'CREATE TRIGGER invitations_organization_exists BEFORE INSERT OR UPDATE OF organization_id ON schemakit.invitations FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check(''organization_id'', ''organizations'', ''id'')'),
      ('schemakit.memberships', 'memberships_keep_owner', 'CREATE TRIGGER memberships_keep_owner BEFORE DELETE OR UPDATE ON schemakit.memberships FOR EACH ROW EXECUTE FUNCTION schemakit._memberships_keep_owner()'),
      ('schemakit.memberships', 'memberships_organization_exists', 'CREATE TRIGGER memberships_organization_exists BEFORE INSERT OR UPDATE OF organization_id ON schemakit.memberships FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check(''organization_id'', ''organizations'', ''id'')'),
      ('schemakit.memberships', 'memberships_touch_updated_at', 'CREATE TRIGGER memberships_touch_updated_at BEFORE UPDATE OF role ON schemakit.memberships FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at()'),
      ('schemakit.memberships', 'memberships_user_exists', 'CREATE TRIGGER memberships_user_exists BEFORE INSERT OR UPDATE OF user_id ON schemakit.memberships FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check(''user_id'', ''users'', ''id'')'),
      ('schemakit.organizations', 'organizations_touch_updated_at', 'CREATE TRIGGER organizations_touch_updated_at BEFORE UPDATE OF slug, name ON schemakit.organizations FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at()')$$,
    'triggers: a reference check per foreign key, the owner keeper, updated_at');

SELECT is((SELECT count(*) FROM pg_trigger t JOIN pg_constraint k ON k.oid = t.tgconstraint
            WHERE t.tgrelid IN ('schemakit.memberships'::regclass, 'schemakit.invitations'::regclass)
              AND t.tgfoid IN ('"RI_FKey_check_ins"()'::regprocedure, '"RI_FKey_check_upd"()'::regprocedure)
              AND t.tgenabled = 'D'),
          10::bigint, 'the insert-side checks of all 5 foreign keys are disabled (pg_restore -j)');
SELECT is((SELECT count(*) FROM pg_trigger t JOIN pg_constraint k ON k.oid = t.tgconstraint
            WHERE k.confrelid IN ('schemakit.organizations'::regclass, 'schemakit.users'::regclass)
              AND k.conrelid IN ('schemakit.memberships'::regclass, 'schemakit.invitations'::regclass)
              AND t.tgenabled <> 'O'
              AND t.tgfoid NOT IN ('"RI_FKey_check_ins"()'::regprocedure, '"RI_FKey_check_upd"()'::regprocedure)),
          0::bigint, 'the cascades of those foreign keys stay enabled');

SELECT ok((SELECT array_agg(c::regclass::text) FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'schemakit')
          @> ARRAY['schemakit.organizations', 'schemakit.organizations_id_seq', 'schemakit.memberships',
                   'schemakit.memberships_id_seq', 'schemakit.invitations', 'schemakit.invitations_id_seq'],
          'the three tables and their sequences are registered for pg_dump');

-------------------------------------------------------------------------------
-- Functions: signatures, security
-------------------------------------------------------------------------------
CREATE TEMP TABLE fns (sig regprocedure, ret text, definer boolean);
INSERT INTO fns VALUES
    ('schemakit.create_organization(bigint, text, text)',           'bigint',                true),
    ('schemakit.member_role(bigint, bigint)',                       'text',                  false),
    ('schemakit.invite_member(bigint, text, text, bigint, interval)', 'text',                true),
    ('schemakit.accept_invitation(text, bigint)',                   'schemakit.memberships', true),
    ('schemakit.revoke_invitation(bigint, bigint)',                 'boolean',               true),
    ('schemakit.set_member_role(bigint, bigint, text, bigint)',     'boolean',               true),
    ('schemakit.remove_member(bigint, bigint, bigint)',             'boolean',               true);

SELECT is(format('%s -> %s%s', p.oid::regprocedure, p.prorettype::regtype, CASE WHEN p.prosecdef THEN ' definer' ELSE '' END),
          format('%s -> %s%s', f.sig, f.ret, CASE WHEN f.definer THEN ' definer' ELSE '' END),
          format('%s returns %s%s', f.sig, f.ret, CASE WHEN f.definer THEN ', SECURITY DEFINER' ELSE '' END))
  FROM fns f JOIN pg_proc p ON p.oid = f.sig ORDER BY f.sig::text;
SELECT is((SELECT array_agg(f.sig::text ORDER BY f.sig::text) FROM fns f JOIN pg_proc p ON p.oid = f.sig
            WHERE NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)),
          NULL, 'every organization function pins search_path = pg_catalog, pg_temp');
SELECT is((SELECT array_agg(f.sig::text ORDER BY f.sig::text) FROM fns f
            WHERE f.definer AND has_function_privilege('public', f.sig, 'EXECUTE')),
          NULL, 'PUBLIC cannot execute the SECURITY DEFINER ones');
SELECT is(pg_get_function_arguments('schemakit.create_organization(bigint, text, text)'::regprocedure),
          'owner_user_id bigint, name text, slug text DEFAULT NULL::text', 'create_organization: slug defaults to NULL (generated)');
SELECT is(pg_get_function_arguments('schemakit.invite_member(bigint, text, text, bigint, interval)'::regprocedure),
          'organization_id bigint, email text, role text, inviter_user_id bigint, ttl interval DEFAULT ''7 days''::interval',
          'invite_member: ttl defaults to 7 days');
SELECT volatility_is('schemakit', 'member_role', ARRAY['bigint', 'bigint']::name[], 'stable', 'member_role is STABLE');
SELECT is((SELECT prosecdef OR proconfig IS NULL FROM pg_proc WHERE oid = 'schemakit._memberships_keep_owner()'::regprocedure),
          false, '_memberships_keep_owner is not SECURITY DEFINER and pins its search_path');

-------------------------------------------------------------------------------
-- Fixtures
-------------------------------------------------------------------------------
INSERT INTO schemakit.users (username, email) VALUES
    ('org-ada', 'ada@org.example'), ('org-bob', 'Bob@Org.Example'), ('org-cy', 'cy@org.example'),
    ('org-dee', 'dee@org.example'), ('org-eve', 'eve@org.example'), ('org-nomail', NULL);
CREATE TEMP TABLE u AS
SELECT (SELECT id FROM schemakit.users WHERE username = 'org-ada') AS ada,
       (SELECT id FROM schemakit.users WHERE username = 'org-bob') AS bob,
       (SELECT id FROM schemakit.users WHERE username = 'org-cy') AS cy,
       (SELECT id FROM schemakit.users WHERE username = 'org-dee') AS dee,
       (SELECT id FROM schemakit.users WHERE username = 'org-eve') AS eve,
       (SELECT id FROM schemakit.users WHERE username = 'org-nomail') AS nomail,
       (SELECT max(id) + 1000 FROM schemakit.users) AS ghost;
CREATE FUNCTION pg_temp.uid(n text) RETURNS bigint LANGUAGE plpgsql STABLE
AS $$ DECLARE r bigint; BEGIN EXECUTE format('SELECT %I FROM u', n) INTO r; RETURN r; END $$;
CREATE TEMP TABLE o (label text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.org(l text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM o WHERE label = l $$;
CREATE TEMP TABLE tok (label text PRIMARY KEY, token text);
CREATE FUNCTION pg_temp.tok(l text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT token FROM tok WHERE label = l $$;
CREATE FUNCTION pg_temp.inv(l text) RETURNS schemakit.invitations LANGUAGE sql STABLE
AS $$ SELECT i FROM schemakit.invitations i WHERE i.token_hash = sha256(convert_to(pg_temp.tok(l), 'UTF8')) $$;

-------------------------------------------------------------------------------
-- create_organization
-------------------------------------------------------------------------------
INSERT INTO o VALUES ('acme', schemakit.create_organization(pg_temp.uid('ada'), 'Acme Inc.'));
SELECT ok(pg_temp.org('acme') IS NOT NULL, 'create_organization returns the new id');
SELECT row_eq($$SELECT name, created_at, updated_at FROM schemakit.organizations WHERE id = pg_temp.org('acme')$$,
              ROW('Acme Inc.'::text, now(), now()), 'the organization row holds the name and now()');
SELECT matches((SELECT slug FROM schemakit.organizations WHERE id = pg_temp.org('acme')), '^[0-9a-z]{10}$',
               'the generated slug is 10 characters of [0-9a-z]');
SELECT results_eq($$SELECT user_id, role FROM schemakit.memberships WHERE organization_id = pg_temp.org('acme')$$,
                  $$VALUES (pg_temp.uid('ada'), 'owner'::text)$$,
                  'the creator is its only member, as owner (same transaction)');
INSERT INTO o VALUES ('beta', schemakit.create_organization(pg_temp.uid('bob'), 'Beta', 'beta-team'));
SELECT is((SELECT slug FROM schemakit.organizations WHERE id = pg_temp.org('beta')), 'beta-team', 'a given slug is kept');
SELECT is(schemakit.create_organization(pg_temp.uid('ada'), 'X', repeat('a', 63)) IS NOT NULL, true,
          'a 63-character slug is accepted');
SELECT throws_ok(format('SELECT schemakit.create_organization(%s, %L, %L)', pg_temp.uid('cy'), 'Other', 'beta-team'),
                 '23505', 'organization slug is taken', 'a taken slug raises 23505');
SELECT is((SELECT count(*) FROM schemakit.organizations WHERE name = 'Other'), 0::bigint, 'and creates nothing');
SELECT throws_ok(format('SELECT schemakit.create_organization(%s, %L, %L)', pg_temp.uid('cy'), 'Bad', s),
                 '22023', 'invalid organization slug', format('slug %L raises 22023', s))
  FROM unnest(ARRAY['', 'Beta', '-beta', 'beta-', 'be ta', 'bêta', 'beta_team', repeat('a', 64)]) s;
SELECT throws_ok(format('SELECT schemakit.create_organization(%s, %L)', pg_temp.uid('cy'), n),
                 '22023', 'organization name must have 1 to 255 characters and not be blank', format('name %s raises 22023', d))
  FROM (VALUES ('', 'empty'), ('   ', 'blank'), (repeat('n', 256), 'of 256 characters')) v (n, d);
SELECT throws_ok(sql, '22004', 'owner_user_id and name must not be NULL', format('%s raises 22004', sql))
  FROM unnest(ARRAY['SELECT schemakit.create_organization(NULL, ''N'')',
                    format('SELECT schemakit.create_organization(%s, NULL)', pg_temp.uid('cy'))]) sql;
SELECT throws_ok(format('SELECT schemakit.create_organization(%s, %L)', pg_temp.uid('ghost'), 'Ghost'),
                 '23503', format('user %s does not exist', pg_temp.uid('ghost')), 'an unknown owner raises 23503');

-------------------------------------------------------------------------------
-- member_role
-------------------------------------------------------------------------------
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('ada')), 'owner', 'member_role: the owner');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('bob')), NULL, 'member_role: NULL for a non-member');
SELECT is(schemakit.member_role(pg_temp.uid('ghost'), pg_temp.uid('ada')), NULL, 'member_role: NULL for an unknown organization');
SELECT is(schemakit.member_role(NULL, pg_temp.uid('ada')), NULL, 'member_role: NULL for NULL');

-------------------------------------------------------------------------------
-- invite_member
-------------------------------------------------------------------------------
INSERT INTO tok VALUES ('bob', schemakit.invite_member(pg_temp.org('acme'), 'BOB@org.example', 'admin', pg_temp.uid('ada')));
SELECT matches(pg_temp.tok('bob'), '^[A-Za-z0-9_-]{43}$', 'invite_member returns a 43-character base64url token');
SELECT row_eq($$SELECT organization_id, email, email_key, role, invited_by, created_at, expires_at,
                       accepted_at, accepted_by, revoked_at FROM pg_temp.inv('bob')$$,
              ROW(pg_temp.org('acme'), 'BOB@org.example'::text, 'bob@org.example'::text, 'admin'::text,
                  pg_temp.uid('ada'), now(), now() + interval '7 days',
                  NULL::timestamptz, NULL::bigint, NULL::timestamptz),
              'the row: the address as given, its key, the role, the inviter, 7 days by default; token_hash = sha256(token)');
SELECT is((SELECT count(*) FROM schemakit.invitations i
            WHERE strpos(i::text, pg_temp.tok('bob')) > 0
               OR strpos(i::text, encode(convert_to(pg_temp.tok('bob'), 'UTF8'), 'hex')) > 0),
          0::bigint, 'the token itself appears nowhere in the table');

INSERT INTO tok VALUES ('cy1', schemakit.invite_member(pg_temp.org('acme'), 'cy@org.example', 'member', pg_temp.uid('ada'), '1 hour'));
SELECT is((pg_temp.inv('cy1')).expires_at, now() + interval '1 hour', 'a ttl of 1 hour is used');
INSERT INTO tok VALUES ('cy2', schemakit.invite_member(pg_temp.org('acme'), 'CY@org.example', 'member', pg_temp.uid('ada'), '30 days'));
SELECT isnt((pg_temp.inv('cy1')).revoked_at, NULL, 'inviting the same address (any case) again revokes the open invitation');
SELECT is((SELECT count(*) FROM schemakit.invitations
            WHERE organization_id = pg_temp.org('acme') AND email_key = 'cy@org.example'
              AND accepted_at IS NULL AND revoked_at IS NULL), 1::bigint, 'one open invitation per address remains');
SELECT is((pg_temp.inv('cy2')).expires_at, now() + interval '30 days', 'a ttl of 30 days (the maximum) is used');

SELECT throws_ok(sql, '22004', 'invite_member arguments must not be NULL', format('%s raises 22004', sql))
  FROM unnest(ARRAY[
    format('SELECT schemakit.invite_member(NULL, %L, %L, %s)', 'x@org.example', 'member', pg_temp.uid('ada')),
    format('SELECT schemakit.invite_member(%s, NULL, %L, %s)', pg_temp.org('acme'), 'member', pg_temp.uid('ada')),
    format('SELECT schemakit.invite_member(%s, %L, NULL, %s)', pg_temp.org('acme'), 'x@org.example', pg_temp.uid('ada')),
    format('SELECT schemakit.invite_member(%s, %L, %L, NULL)', pg_temp.org('acme'), 'x@org.example', 'member')]) sql;
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s, NULL)', pg_temp.org('acme'), 'x@org.example', 'member', pg_temp.uid('ada')),
                 '22004', NULL, 'a NULL ttl raises 22004');
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s)', pg_temp.org('acme'), e, 'member', pg_temp.uid('ada')),
                 '22023', 'invalid email address', format('address %L raises 22023', e))
  FROM unnest(ARRAY['', 'no-at-sign', 'a b@org.example']) e;
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s)', pg_temp.org('acme'), 'x@org.example', r, pg_temp.uid('ada')),
                 '22023', 'invalid organization role', format('role %L raises 22023', r))
  FROM unnest(ARRAY['', 'Owner', 'viewer']) r;
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s, %L)', pg_temp.org('acme'), 'x@org.example', 'member', pg_temp.uid('ada'), t),
                 '22023', NULL, format('ttl %s raises 22023', t))
  FROM unnest(ARRAY['0', '-1 hour', '31 days', '2 months']) t;
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s)', pg_temp.org('acme'), 'x@org.example', 'member', pg_temp.uid('ghost')),
                 '23503', format('user %s does not exist', pg_temp.uid('ghost')), 'an unknown inviter raises 23503');
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s)', pg_temp.uid('ghost'), 'x@org.example', 'member', pg_temp.uid('ada')),
                 '23503', format('organization %s does not exist', pg_temp.uid('ghost')), 'an unknown organization raises 23503');
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s)', pg_temp.org('acme'), 'x@org.example', 'member', pg_temp.uid('dee')),
                 '42501', NULL, 'a non-member cannot invite (42501)');
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s)', pg_temp.org('acme'), 'ada@org.example', 'member', pg_temp.uid('ada')),
                 '23505', 'the user with this address is already a member', 'inviting a member''s address (any case) raises 23505');

-------------------------------------------------------------------------------
-- accept_invitation
-------------------------------------------------------------------------------
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('bob'), pg_temp.uid('cy')),
                 '42501', 'invitation was sent to another address', 'another user cannot accept (42501)');
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('bob'), pg_temp.uid('nomail')),
                 '42501', 'invitation was sent to another address', 'a user without an address cannot accept (42501)');
SELECT is((pg_temp.inv('bob')).accepted_at, NULL, 'a refused acceptance leaves the invitation open');

CREATE TEMP TABLE accepted AS SELECT * FROM schemakit.accept_invitation(pg_temp.tok('bob'), pg_temp.uid('bob'));
SELECT row_eq($$SELECT organization_id, user_id, role, created_at, updated_at FROM accepted$$,
              ROW(pg_temp.org('acme'), pg_temp.uid('bob'), 'admin'::text, now(), now()),
              'the invited user (address in another case) accepts: the new membership, with the invited role');
SELECT is((SELECT id FROM accepted), (SELECT id FROM schemakit.memberships WHERE organization_id = pg_temp.org('acme') AND user_id = pg_temp.uid('bob')),
          'the returned row is the stored membership');
SELECT row_eq($$SELECT accepted_at, accepted_by, revoked_at FROM pg_temp.inv('bob')$$,
              ROW(now(), pg_temp.uid('bob'), NULL::timestamptz), 'the invitation records when and by whom');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('bob')), 'admin', 'member_role sees the new admin');
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('bob'), pg_temp.uid('bob')),
                 'SKR13', 'invitation already accepted', 'a second acceptance raises SKR13');

-- admins invite admins and members, but no owners
INSERT INTO tok VALUES ('dee', schemakit.invite_member(pg_temp.org('acme'), 'dee@org.example', 'admin', pg_temp.uid('bob')));
SELECT is((pg_temp.inv('dee')).invited_by, pg_temp.uid('bob'), 'an admin invites an admin');
SELECT throws_ok(format('SELECT schemakit.invite_member(%s, %L, %L, %s)', pg_temp.org('acme'), 'eve@org.example', 'owner', pg_temp.uid('bob')),
                 '42501', NULL, 'an admin cannot invite an owner (42501)');

-- expired, revoked, unknown
UPDATE schemakit.invitations SET expires_at = now() WHERE id = (pg_temp.inv('dee')).id;
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('dee'), pg_temp.uid('dee')),
                 'SKR11', 'invitation expired', 'an invitation at its expiry raises SKR11');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('dee')), NULL, 'and makes no member');
UPDATE schemakit.invitations SET expires_at = now() + interval '1 day', revoked_at = now() WHERE id = (pg_temp.inv('dee')).id;
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('dee'), pg_temp.uid('dee')),
                 'SKR12', 'invitation revoked', 'a revoked invitation raises SKR12');
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', schemakit.random_token(32), pg_temp.uid('dee')),
                 'SKR10', 'unknown invitation', 'an unknown token raises SKR10');
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', t, pg_temp.uid('dee')),
                 '22023', 'malformed invitation token', format('a token %s raises 22023', d))
  FROM (VALUES ('', 'that is empty'), (left(pg_temp.tok('cy2'), 42), 'of 42 characters'),
               (pg_temp.tok('cy2') || 'A', 'of 44 characters'), (overlay(pg_temp.tok('cy2') placing '+' from 5), 'with a "+"'),
               (repeat('A', 2000), 'of 2000 characters'), (overlay(pg_temp.tok('cy2') placing ' ' from 43), 'with a space')) v (t, d);
SELECT throws_ok(sql, '22004', 'accept_invitation arguments must not be NULL', format('%s raises 22004', sql))
  FROM unnest(ARRAY[format('SELECT schemakit.accept_invitation(NULL, %s)', pg_temp.uid('cy')),
                    format('SELECT schemakit.accept_invitation(%L, NULL)', pg_temp.tok('cy2'))]) sql;
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('cy2'), pg_temp.uid('ghost')),
                 '23503', format('user %s does not exist', pg_temp.uid('ghost')), 'an unknown user raises 23503');
SELECT is((pg_temp.inv('cy2')).accepted_at, NULL, 'none of those touched the open invitation');

-- already a member by another way: refused, the invitation stays open
INSERT INTO tok VALUES ('cy-beta', schemakit.invite_member(pg_temp.org('beta'), 'cy@org.example', 'member', pg_temp.uid('bob')));
INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (pg_temp.org('beta'), pg_temp.uid('cy'), 'member');
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('cy-beta'), pg_temp.uid('cy')),
                 '23505', 'user is already a member of the organization', 'accepting while already a member raises 23505');
SELECT is((pg_temp.inv('cy-beta')).accepted_at, NULL, 'and leaves the invitation open');

-- cy joins acme as a member
SELECT is((SELECT role FROM schemakit.accept_invitation(pg_temp.tok('cy2'), pg_temp.uid('cy'))), 'member',
          'cy accepts the replacing invitation as member');

-------------------------------------------------------------------------------
-- revoke_invitation
-------------------------------------------------------------------------------
INSERT INTO tok VALUES
    ('r1', schemakit.invite_member(pg_temp.org('acme'), 'r1@org.example', 'member', pg_temp.uid('ada'))),
    ('r2', schemakit.invite_member(pg_temp.org('acme'), 'r2@org.example', 'member', pg_temp.uid('ada'))),
    ('r3', schemakit.invite_member(pg_temp.org('acme'), 'r3@org.example', 'member', pg_temp.uid('ada')));
SELECT throws_ok(format('SELECT schemakit.revoke_invitation(%s, %s)', (pg_temp.inv('r1')).id, pg_temp.uid('cy')),
                 '42501', NULL, 'a member cannot revoke (42501)');
SELECT throws_ok(format('SELECT schemakit.revoke_invitation(%s, %s)', (pg_temp.inv('r1')).id, pg_temp.uid('eve')),
                 '42501', NULL, 'a non-member cannot revoke (42501)');
SELECT is(schemakit.revoke_invitation((pg_temp.inv('r1')).id, pg_temp.uid('ada')), true, 'the owner revokes: true');
SELECT is((pg_temp.inv('r1')).revoked_at, now(), 'revoked_at is set');
SELECT is(schemakit.revoke_invitation((pg_temp.inv('r1')).id, pg_temp.uid('ada')), false, 'revoking again: false');
SELECT is(schemakit.revoke_invitation((pg_temp.inv('r2')).id, pg_temp.uid('bob')), true, 'an admin revokes: true');
UPDATE schemakit.invitations SET expires_at = now() - interval '1 second' WHERE id = (pg_temp.inv('r3')).id;
SELECT is(schemakit.revoke_invitation((pg_temp.inv('r3')).id, pg_temp.uid('ada')), false, 'an expired invitation: false');
SELECT is(schemakit.revoke_invitation((pg_temp.inv('bob')).id, pg_temp.uid('ada')), false, 'an accepted invitation: false');
SELECT is((pg_temp.inv('bob')).revoked_at, NULL, 'and stays accepted, not revoked');
SELECT throws_ok(format('SELECT schemakit.revoke_invitation(%s, %s)', pg_temp.uid('ghost'), pg_temp.uid('ada')),
                 'SKR10', format('invitation %s does not exist', pg_temp.uid('ghost')), 'an unknown invitation raises SKR10');
SELECT throws_ok(sql, '22004', 'revoke_invitation arguments must not be NULL', format('%s raises 22004', sql))
  FROM unnest(ARRAY['SELECT schemakit.revoke_invitation(NULL, 1)', 'SELECT schemakit.revoke_invitation(1, NULL)']) sql;

-------------------------------------------------------------------------------
-- set_member_role   (acme: ada owner, bob admin, cy member)
-------------------------------------------------------------------------------
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.org('acme'), pg_temp.uid('bob'), 'member', pg_temp.uid('cy')),
                 '42501', NULL, 'a member cannot change roles (42501)');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.org('acme'), pg_temp.uid('cy'), 'admin', pg_temp.uid('eve')),
                 '42501', NULL, 'a non-member cannot change roles (42501)');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.org('acme'), pg_temp.uid('cy'), 'owner', pg_temp.uid('bob')),
                 '42501', NULL, 'an admin cannot make an owner (42501)');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.org('acme'), pg_temp.uid('ada'), 'member', pg_temp.uid('bob')),
                 '42501', NULL, 'an admin cannot demote an owner (42501)');
SELECT is(schemakit.set_member_role(pg_temp.org('acme'), pg_temp.uid('cy'), 'admin', pg_temp.uid('bob')), true, 'an admin makes a member an admin: true');
SELECT is(schemakit.set_member_role(pg_temp.org('acme'), pg_temp.uid('cy'), 'admin', pg_temp.uid('ada')), false, 'the same role again: false');
SELECT is(schemakit.set_member_role(pg_temp.org('acme'), pg_temp.uid('cy'), 'member', pg_temp.uid('ada')), true, 'the owner demotes an admin: true');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('cy')), 'member', 'member_role sees it');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.org('acme'), pg_temp.uid('ada'), 'admin', pg_temp.uid('ada')),
                 'SKR14', format('organization %s would have no owner', pg_temp.org('acme')), 'the last owner cannot demote itself (SKR14)');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('ada')), 'owner', 'and stays owner');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.org('acme'), pg_temp.uid('eve'), 'admin', pg_temp.uid('ada')),
                 '23503', format('user %s is not a member of organization %s', pg_temp.uid('eve'), pg_temp.org('acme')), 'a non-member target raises 23503');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.uid('ghost'), pg_temp.uid('cy'), 'admin', pg_temp.uid('ada')),
                 '23503', format('organization %s does not exist', pg_temp.uid('ghost')), 'an unknown organization raises 23503');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, %L, %s)', pg_temp.org('acme'), pg_temp.uid('cy'), 'boss', pg_temp.uid('ada')),
                 '22023', 'invalid organization role', 'an unknown role raises 22023');
SELECT throws_ok(format('SELECT schemakit.set_member_role(%s, %s, NULL, %s)', pg_temp.org('acme'), pg_temp.uid('cy'), pg_temp.uid('ada')),
                 '22004', 'set_member_role arguments must not be NULL', 'a NULL raises 22004');
SELECT is(schemakit.set_member_role(pg_temp.org('acme'), pg_temp.uid('bob'), 'owner', pg_temp.uid('ada')), true, 'the owner makes an admin an owner');
SELECT is(schemakit.set_member_role(pg_temp.org('acme'), pg_temp.uid('ada'), 'admin', pg_temp.uid('ada')), true,
          'with another owner, an owner can step down');
SELECT is(schemakit.set_member_role(pg_temp.org('acme'), pg_temp.uid('ada'), 'owner', pg_temp.uid('bob')), true, 'and be made owner again');

-------------------------------------------------------------------------------
-- remove_member   (acme: ada owner, bob owner, cy member)
-------------------------------------------------------------------------------
INSERT INTO tok VALUES ('dee2', schemakit.invite_member(pg_temp.org('acme'), 'dee@org.example', 'admin', pg_temp.uid('ada')));
SELECT is((SELECT role FROM schemakit.accept_invitation(pg_temp.tok('dee2'), pg_temp.uid('dee'))), 'admin', 'dee joins as admin');
SELECT throws_ok(format('SELECT schemakit.remove_member(%s, %s, %s)', pg_temp.org('acme'), pg_temp.uid('dee'), pg_temp.uid('cy')),
                 '42501', NULL, 'a member cannot remove others (42501)');
SELECT throws_ok(format('SELECT schemakit.remove_member(%s, %s, %s)', pg_temp.org('acme'), pg_temp.uid('ada'), pg_temp.uid('dee')),
                 '42501', NULL, 'an admin cannot remove an owner (42501)');
SELECT throws_ok(format('SELECT schemakit.remove_member(%s, %s, %s)', pg_temp.org('acme'), pg_temp.uid('cy'), pg_temp.uid('eve')),
                 '42501', NULL, 'a non-member cannot remove anyone (42501)');
SELECT is(schemakit.remove_member(pg_temp.org('acme'), pg_temp.uid('cy'), pg_temp.uid('dee')), true, 'an admin removes a member: true');
SELECT is(schemakit.remove_member(pg_temp.org('acme'), pg_temp.uid('cy'), pg_temp.uid('dee')), false, 'removing a non-member: false');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('cy')), NULL, 'cy is gone');
SELECT is(schemakit.remove_member(pg_temp.org('acme'), pg_temp.uid('dee'), pg_temp.uid('dee')), true, 'an admin leaves: true');
SELECT is(schemakit.remove_member(pg_temp.org('acme'), pg_temp.uid('bob'), pg_temp.uid('ada')), true, 'an owner removes another owner: true');
SELECT throws_ok(format('SELECT schemakit.remove_member(%s, %s, %s)', pg_temp.org('acme'), pg_temp.uid('ada'), pg_temp.uid('ada')),
                 'SKR14', format('organization %s would have no owner', pg_temp.org('acme')), 'the last owner cannot leave (SKR14)');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('ada')), 'owner', 'and stays owner');
SELECT throws_ok(format('SELECT schemakit.remove_member(%s, %s, %s)', pg_temp.uid('ghost'), pg_temp.uid('ada'), pg_temp.uid('ada')),
                 '23503', format('organization %s does not exist', pg_temp.uid('ghost')), 'an unknown organization raises 23503');
SELECT throws_ok(sql, '22004', 'remove_member arguments must not be NULL', format('%s raises 22004', sql))
  FROM unnest(ARRAY['SELECT schemakit.remove_member(NULL, 1, 1)', 'SELECT schemakit.remove_member(1, NULL, 1)',
                    'SELECT schemakit.remove_member(1, 1, NULL)']) sql;

-------------------------------------------------------------------------------
-- No path leaves an organization without an owner
-------------------------------------------------------------------------------
SELECT throws_ok(format('UPDATE schemakit.memberships SET role = %L WHERE organization_id = %s', 'admin', pg_temp.org('acme')),
                 'SKR14', NULL, 'a direct UPDATE demoting the last owner raises SKR14');
SELECT throws_ok(format('DELETE FROM schemakit.memberships WHERE organization_id = %s', pg_temp.org('acme')),
                 'SKR14', NULL, 'a direct DELETE of the last owner raises SKR14');
SELECT throws_ok(format('DELETE FROM schemakit.users WHERE id = %s', pg_temp.uid('ada')),
                 'SKR14', NULL, 'deleting the user who is the last owner raises SKR14');
SELECT is(schemakit.member_role(pg_temp.org('acme'), pg_temp.uid('ada')), 'owner', 'ada is still owner of acme');
INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (pg_temp.org('acme'), pg_temp.uid('eve'), 'owner');
SELECT lives_ok(format('UPDATE schemakit.memberships SET role = %L WHERE organization_id = %s AND user_id = %s', 'member', pg_temp.org('acme'), pg_temp.uid('eve')),
                'demoting an owner while another stays is allowed');
SELECT throws_ok(format('INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (%s, %s, %L)', pg_temp.uid('ghost'), pg_temp.uid('eve'), 'member'),
                 '23503', NULL, 'a membership of an unknown organization raises 23503');
SELECT throws_ok(format('INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (%s, %s, %L)', pg_temp.org('beta'), pg_temp.uid('ghost'), 'member'),
                 '23503', NULL, 'a membership of an unknown user raises 23503');
SELECT throws_ok(format('INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (%s, %s, %L)', pg_temp.org('beta'), pg_temp.uid('cy'), 'admin'),
                 '23505', NULL, 'a second membership of one user in one organization raises 23505');

-- Deleting an organization takes its memberships and invitations with it.
INSERT INTO o VALUES ('gone', schemakit.create_organization(pg_temp.uid('eve'), 'Gone'));
INSERT INTO tok VALUES ('gone', schemakit.invite_member(pg_temp.org('gone'), 'ada@org.example', 'owner', pg_temp.uid('eve')));
DELETE FROM schemakit.organizations WHERE id = pg_temp.org('gone');
SELECT is((SELECT count(*) FROM schemakit.memberships WHERE organization_id = pg_temp.org('gone'))
        + (SELECT count(*) FROM schemakit.invitations WHERE organization_id = pg_temp.org('gone')),
          0::bigint, 'deleting an organization deletes its memberships (even its owner''s) and invitations');
SELECT throws_ok(format('SELECT schemakit.accept_invitation(%L, %s)', pg_temp.tok('gone'), pg_temp.uid('ada')),
                 'SKR10', 'unknown invitation', 'an invitation of a deleted organization raises SKR10');

-- Deleting a user who is not the last owner: memberships go, invitations forget the inviter.
SELECT is(schemakit.set_member_role(pg_temp.org('beta'), pg_temp.uid('cy'), 'owner', pg_temp.uid('bob')), true,
          'bob makes cy a second owner of beta');
SELECT lives_ok(format('DELETE FROM schemakit.users WHERE id = %s', pg_temp.uid('bob')), 'a user who is no last owner can be deleted');
SELECT is((SELECT count(*) FROM schemakit.memberships WHERE user_id = pg_temp.uid('bob')), 0::bigint, 'their memberships went with them');
SELECT is((SELECT count(*) FROM schemakit.invitations WHERE pg_temp.uid('bob') IN (invited_by, accepted_by)), 0::bigint,
          'invitations they sent or accepted stay, with invited_by and accepted_by set NULL');
SELECT is((pg_temp.inv('dee')).invited_by, NULL, 'e.g. the one bob sent to dee');

-------------------------------------------------------------------------------
-- purge_expired
-------------------------------------------------------------------------------
DELETE FROM schemakit.email_codes;
DELETE FROM schemakit.password_reset_tokens;
DELETE FROM schemakit.sessions;
DELETE FROM schemakit.invitations;
INSERT INTO schemakit.invitations (organization_id, email, role, token_hash, expires_at, accepted_at, revoked_at)
SELECT pg_temp.org('beta'), label || '@purge.example', 'member', sha256(convert_to(label, 'UTF8')), now() + e, now() + a, now() + r
  FROM (VALUES
    ('live',          interval '1 day',   NULL::interval,     NULL::interval),
    ('expired_2d',    interval '-2 days', NULL,               NULL),
    ('expired_1h',    interval '-1 hour', NULL,               NULL),
    ('accepted_2d',   interval '1 day',   interval '-2 days', NULL),
    ('accepted_1h',   interval '1 day',   interval '-1 hour', NULL),
    ('revoked_2d',    interval '1 day',   NULL,               interval '-2 days'),
    ('revoked_1h',    interval '1 day',   NULL,               interval '-1 hour')) v (label, e, a, r);
SELECT is(schemakit.purge_expired(), 3::bigint, 'purge_expired() deletes the 3 invitations dead for over a day');
SELECT is((SELECT array_agg(split_part(email, '@', 1) ORDER BY email) FROM schemakit.invitations),
          ARRAY['accepted_1h', 'expired_1h', 'live', 'revoked_1h'], 'and keeps the live one and those dead for less');
SELECT is(schemakit.purge_expired('0'), 3::bigint, 'purge_expired(''0'') deletes every dead invitation');
SELECT is((SELECT array_agg(split_part(email, '@', 1)) FROM schemakit.invitations), ARRAY['live'], 'only the live one is left');

-------------------------------------------------------------------------------
-- grant_app: what an application role gets
-------------------------------------------------------------------------------
CREATE ROLE sk_org_app;
SELECT schemakit.grant_app('sk_org_app');
SELECT is(array_agg(p ORDER BY p),
          ARRAY['memberships:SELECT', 'organizations:DELETE', 'organizations:REFERENCES', 'organizations:SELECT'],
          'grant_app: SELECT on organizations and memberships, DELETE and REFERENCES on organizations; no INSERT, no UPDATE of whole rows')
  FROM (SELECT t || ':' || p AS p
          FROM unnest(ARRAY['organizations', 'memberships', 'invitations']) t,
               unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
         WHERE has_table_privilege('sk_org_app', 'schemakit.' || t, p)) x;
SELECT is(array_agg(c || ':' || p ORDER BY c, p), ARRAY['name:UPDATE', 'slug:UPDATE'],
          'the app may UPDATE an organization''s name and slug only')
  FROM unnest(ARRAY['id', 'slug', 'name', 'created_at', 'updated_at']) c, unnest(ARRAY['UPDATE', 'INSERT']) p
 WHERE has_column_privilege('sk_org_app', 'schemakit.organizations', c, p);
SELECT is(array_agg(attname::text ORDER BY attnum),
          ARRAY['id', 'organization_id', 'email', 'email_key', 'role', 'invited_by', 'created_at', 'expires_at',
                'accepted_at', 'accepted_by', 'revoked_at'],
          'the app may SELECT every invitations column but token_hash')
  FROM pg_attribute
 WHERE attrelid = 'schemakit.invitations'::regclass AND attnum > 0 AND NOT attisdropped
   AND has_column_privilege('sk_org_app', 'schemakit.invitations', attname, 'SELECT');
SELECT is((SELECT array_agg(f.sig::text ORDER BY f.sig::text) FROM fns f
            WHERE NOT has_function_privilege('sk_org_app', f.sig, 'EXECUTE')),
          NULL, 'the app may execute every organization function');

GRANT SELECT, INSERT ON u, o, tok TO sk_org_app;
SET LOCAL ROLE sk_org_app;
INSERT INTO o VALUES ('app', schemakit.create_organization(pg_temp.uid('eve'), 'Made by the app', 'app-made'));
SELECT is(schemakit.member_role(pg_temp.org('app'), pg_temp.uid('eve')), 'owner', 'as the app: create_organization and member_role work');
INSERT INTO tok VALUES ('app', schemakit.invite_member(pg_temp.org('app'), 'dee@org.example', 'member', pg_temp.uid('eve')));
SELECT is((SELECT role FROM schemakit.accept_invitation(pg_temp.tok('app'), pg_temp.uid('dee'))), 'member',
          'as the app: invite_member and accept_invitation work');
SELECT is((SELECT count(*) FROM schemakit.invitations WHERE organization_id = pg_temp.org('app')
            AND accepted_at IS NOT NULL AND email_key = 'dee@org.example'), 1::bigint,
          'as the app: invitations can be listed without their token hashes');
SELECT throws_ok('SELECT token_hash FROM schemakit.invitations', '42501', NULL, 'as the app: token_hash cannot be read');
SELECT throws_ok(format('INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (%s, %s, %L)', pg_temp.org('app'), pg_temp.uid('ada'), 'owner'),
                 '42501', NULL, 'as the app: memberships cannot be written directly');
SELECT throws_ok(format('INSERT INTO schemakit.organizations (slug, name) VALUES (%L, %L)', 'no-owner', 'No owner'),
                 '42501', NULL, 'as the app: an organization without owner cannot be inserted');
SELECT lives_ok(format('UPDATE schemakit.organizations SET name = %L WHERE id = %s', 'Renamed', pg_temp.org('app')),
                'as the app: an organization can be renamed');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
