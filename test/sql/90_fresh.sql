--
-- 90_fresh: the default version installed fresh.  DROP EXTENSION, then
-- CREATE EXTENSION schemakit without a version: the control file's
-- default_version, which runs the full script (sql/schemakit--<default>.sql)
-- rather than the chain of updates the earlier files walked.  Then every
-- public function is called once, with a deterministic result.
--
-- test/scripts/18-regress-coverage.sh checks that every public function of
-- the default version is called somewhere in test/sql.
--
-- Leaves the extension installed (fresh, at the default version) with no
-- rows in its tables; removes every role it creates.
--
\set SHOW_CONTEXT never

DROP EXTENSION schemakit;
SELECT count(*) AS schemakit_schemas FROM pg_namespace WHERE nspname = 'schemakit';

CREATE EXTENSION schemakit;
SELECT extname, extversion, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'schemakit';
SELECT e.extversion = a.default_version AS is_default_version
  FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
 WHERE e.extname = 'schemakit';
SELECT version FROM schemakit.migrations ORDER BY version;

-- On a fresh install nobody but the owner holds a right on a table or
-- sequence, and PUBLIC executes only the functions meant for it.
SELECT count(*) AS table_grants
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'schemakit'::regnamespace AND a.grantee <> c.relowner;
SELECT p.proname AS public_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))
 ORDER BY 1;

-- The public functions (as grant_app counts them: not "_"-prefixed, not
-- trigger functions).
SELECT p.oid::regprocedure AS function
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.proname !~ '^_' AND p.prorettype <> 'trigger'::regtype
 ORDER BY p.oid::regprocedure::text;

--------------------------------------------------------------------------
-- Each public function once
--------------------------------------------------------------------------

-- Generators and addresses
SELECT schemakit.public_id() ~ '^[0-9A-Za-z]{10}$' AS public_id,
       schemakit.random_code() ~ '^[0-9]{6}$' AS random_code,
       schemakit.random_token() ~ '^[A-Za-z0-9_-]{43}$' AS random_token,
       schemakit.uuidv7()::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7' AS uuidv7,
       schemakit.uuidv7_time('018f2b3c-4d5e-7abc-8def-0123456789ab') AT TIME ZONE 'UTC' AS uuidv7_time,
       schemakit.email_key('Ada@Example.COM') AS email_key;

-- Users and snippets
INSERT INTO schemakit.users (username, email) VALUES ('ada', 'ada@fresh.example'), ('bob', 'bob@fresh.example');
SELECT id AS ada FROM schemakit.users WHERE username = 'ada' \gset
SELECT id AS bob FROM schemakit.users WHERE username = 'bob' \gset
INSERT INTO schemakit.snippets (owner_id, public_id, body) VALUES (:ada, 'fresh-1', 'x');
SELECT schemakit.record_snippet_view('fresh-1') AS record_snippet_view;

-- Email codes
SELECT schemakit.issue_email_code('ADA@fresh.example') AS code \gset
SELECT :'code' ~ '^[0-9]{6}$' AS issue_email_code,
       schemakit.verify_email_code('ada@fresh.example', :'code') AS verify_email_code;

-- OAuth
SELECT schemakit.link_oauth_account(:ada, 'github', '1', '', 'Ada') > 0 AS link_oauth_account;
SELECT schemakit.oauth_user_id('github', '1') = :ada AS oauth_user_id;

-- Password reset
SELECT schemakit.issue_password_reset_token(:ada, '15 minutes') AS reset \gset
SELECT :'reset' ~ '^[A-Za-z0-9_-]{43}$' AS issue_password_reset_token,
       schemakit.consume_password_reset_token(:'reset') = :ada AS consume_password_reset_token;

-- Sessions
SELECT schemakit.issue_session(:ada, '1 hour', '203.0.113.7', 'Mozilla/5.0') AS s \gset
SELECT :'s' ~ '^[A-Za-z0-9_-]{43}$' AS issue_session,
       schemakit.session_user_id(:'s') = :ada AS session_user_id;
SELECT schemakit.revoke_session(:'s') AS revoke_session;
SELECT schemakit.open_session(:ada, repeat('b', 32), now() + interval '1 day') AS sid \gset
SELECT user_id = :ada AS find_session FROM schemakit.find_session(repeat('b', 32));
SELECT user_id = :ada AS find_session_by_id FROM schemakit.find_session_by_id(:sid);
SELECT count(*) AS list_user_sessions FROM schemakit.list_user_sessions(:ada);
SELECT expires_at = now() + interval '2 days' AS update_session
  FROM schemakit.update_session(:sid, now() + interval '2 days');
SELECT schemakit.revoke_session_by_id(:sid) AS revoke_session_by_id;
SELECT count(*) AS issued FROM (SELECT schemakit.issue_session(:ada) FROM generate_series(1, 2)) s;
SELECT schemakit.revoke_user_sessions(:ada) AS revoke_user_sessions;

-- Organizations
SELECT schemakit.create_organization(:ada, 'Fresh', 'fresh') AS org \gset
SELECT schemakit.member_role(:org, :ada) AS member_role;
SELECT schemakit.invite_member(:org, 'BOB@fresh.example', 'member', :ada) AS inv \gset
SELECT :'inv' ~ '^[A-Za-z0-9_-]{43}$' AS invite_member;
SELECT role AS accept_invitation FROM schemakit.accept_invitation(:'inv', :bob);
SELECT schemakit.invite_member(:org, 'cy@fresh.example', 'member', :ada) IS NOT NULL AS invited;
SELECT schemakit.revoke_invitation(i.id, :ada) AS revoke_invitation
  FROM schemakit.invitations i WHERE i.email = 'cy@fresh.example';
SELECT schemakit.set_member_role(:org, :bob, 'admin', :ada) AS set_member_role;
SELECT schemakit.remove_member(:org, :bob, :bob) AS remove_member;

-- Purging and role setup
SELECT schemakit.purge_expired('0') >= 0 AS purge_expired;
CREATE ROLE regress_fresh_app NOLOGIN;
SELECT schemakit.grant_app('regress_fresh_app');
SELECT has_function_privilege('regress_fresh_app', 'schemakit.open_session(bigint, text, timestamptz, inet, text)', 'EXECUTE') AS app_may_open_sessions;

-- Citus: distribute() is for a superuser on a Citus coordinator.  grant_app
-- never gives it; without Citus it refuses (55000) and changes nothing.
SELECT has_function_privilege('regress_fresh_app', 'schemakit.distribute()', 'EXECUTE') AS app_may_distribute;
SELECT regress.err($$SELECT * FROM schemakit.distribute()$$) AS distribute_without_citus;
GRANT USAGE ON SCHEMA regress TO regress_fresh_app;
SET ROLE regress_fresh_app;
SELECT regress.err($$SELECT * FROM schemakit.distribute()$$) AS distribute_as_app;
RESET ROLE;
REVOKE USAGE ON SCHEMA regress FROM regress_fresh_app;

--------------------------------------------------------------------------
-- In a read-only transaction every function that writes raises 25006; the
-- readers answer.
--------------------------------------------------------------------------

SELECT schemakit.issue_session(:ada) AS ro_s \gset
SELECT schemakit.issue_password_reset_token(:ada) AS ro_reset \gset
SELECT schemakit.issue_email_code('ro@fresh.example') AS ro_code \gset
SELECT schemakit.open_session(:ada, repeat('r', 32), now() + interval '1 day') AS ro_sid \gset
SELECT schemakit.invite_member(:org, 'bob@fresh.example', 'member', :ada) AS ro_inv \gset
SELECT id AS ro_inv_id FROM schemakit.invitations
 WHERE token_hash = sha256(convert_to(:'ro_inv', 'UTF8')) \gset
BEGIN READ ONLY;
SELECT label, split_part(regress.err(stmt), ':', 1) AS sqlstate
  FROM (VALUES
    ('record_snippet_view',          $$SELECT schemakit.record_snippet_view('fresh-1')$$),
    ('issue_email_code',             $$SELECT schemakit.issue_email_code('ro2@fresh.example')$$),
    ('verify_email_code',            format($$SELECT schemakit.verify_email_code('ro@fresh.example', %L)$$, :'ro_code')),
    ('link_oauth_account',           format($$SELECT schemakit.link_oauth_account(%s, 'gitlab', '2')$$, :ada)),
    ('issue_password_reset_token',   format($$SELECT schemakit.issue_password_reset_token(%s)$$, :ada)),
    ('consume_password_reset_token', format($$SELECT schemakit.consume_password_reset_token(%L)$$, :'ro_reset')),
    ('issue_session',                format($$SELECT schemakit.issue_session(%s)$$, :ada)),
    ('revoke_session',               format($$SELECT schemakit.revoke_session(%L)$$, :'ro_s')),
    ('revoke_user_sessions',         format($$SELECT schemakit.revoke_user_sessions(%s)$$, :ada)),
    ('purge_expired',                $$SELECT schemakit.purge_expired()$$),
    ('open_session',                 format($$SELECT schemakit.open_session(%s, repeat('q', 32), now() + interval '1 day')$$, :ada)),
    ('update_session',               format($$SELECT schemakit.update_session(%s, NULL)$$, :ro_sid)),
    ('revoke_session_by_id',         format($$SELECT schemakit.revoke_session_by_id(%s)$$, :ro_sid)),
    ('create_organization',          format($$SELECT schemakit.create_organization(%s, 'Read-only')$$, :ada)),
    ('invite_member',                format($$SELECT schemakit.invite_member(%s, 'x@fresh.example', 'member', %s)$$, :org, :ada)),
    ('accept_invitation',            format($$SELECT schemakit.accept_invitation(%L, %s)$$, :'ro_inv', :bob)),
    ('revoke_invitation',            format($$SELECT schemakit.revoke_invitation(%s, %s)$$, :ro_inv_id, :ada)),
    ('set_member_role',              format($$SELECT schemakit.set_member_role(%s, %s, 'owner', %s)$$, :org, :ada, :ada)),
    ('remove_member',                format($$SELECT schemakit.remove_member(%s, %s, %s)$$, :org, :ada, :ada))
  ) AS v(label, stmt);
SELECT schemakit.session_user_id(:'ro_s') = :ada AS session_user_id,
       (SELECT count(*) FROM schemakit.find_session(repeat('r', 32))) AS find_session,
       (SELECT count(*) FROM schemakit.find_session_by_id(:ro_sid)) AS find_session_by_id,
       (SELECT count(*) > 0 FROM schemakit.list_user_sessions(:ada)) AS list_user_sessions,
       schemakit.member_role(:org, :ada) AS member_role,
       schemakit.oauth_user_id('github', '1') = :ada AS oauth_user_id,
       schemakit.email_key('RO@x') AS email_key,
       schemakit.link_oauth_account(:ada, 'github', '1') > 0 AS existing_link;
COMMIT;
-- Nothing was written: the code still verifies, the token still consumes.
SELECT schemakit.verify_email_code('ro@fresh.example', :'ro_code') AS code_still_live,
       schemakit.consume_password_reset_token(:'ro_reset') = :ada AS token_still_live;

--------------------------------------------------------------------------
-- Clean up: the extension stays installed, empty.
--------------------------------------------------------------------------

DELETE FROM schemakit.organizations;
DELETE FROM schemakit.users;
DELETE FROM schemakit.email_codes;
SELECT (SELECT count(*) FROM schemakit.users) AS users,
       (SELECT count(*) FROM schemakit.sessions) AS sessions,
       (SELECT count(*) FROM schemakit.invitations) AS invitations,
       (SELECT count(*) FROM schemakit.email_codes) AS email_codes;
DROP OWNED BY regress_fresh_app;
DROP ROLE regress_fresh_app;
