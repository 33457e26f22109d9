-- test/lib/smoke.sql - one call of every public function of schemakit (as
-- grant_app defines public: not "_"-prefixed, not a trigger function) with
-- a check that the result is sane.  Prints one "signature|t" line per
-- function; test/scripts/25-smoke.sh compares the signatures with pg_proc,
-- so a function without a line here fails there.  Run in a fresh database
-- with schemakit installed; errors go to stderr and leave the line out.
\set ON_ERROR_STOP 0
\set VERBOSITY terse
\pset format unaligned
\pset tuples_only on
\pset fieldsep '|'

-- the SQLSTATE a statement raises, 00000 if none
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

-- rows to work on
INSERT INTO schemakit.users (username, email, display_name)
VALUES ('smoke', 'smoke@example.com', 'Smoke') RETURNING id AS uid \gset
INSERT INTO schemakit.snippets (owner_id, title, body)
VALUES (:uid, 'smoke', 'print(1)') RETURNING public_id AS pid \gset

SELECT 'schemakit.public_id(integer,text)',
       schemakit.public_id() ~ '^[0-9A-Za-z]{10}$'
       AND schemakit.public_id(16, '0123456789abcdef') ~ '^[0-9a-f]{16}$';
SELECT 'schemakit.random_code(integer)',
       schemakit.random_code() ~ '^[0-9]{6}$' AND schemakit.random_code(8) ~ '^[0-9]{8}$';
SELECT 'schemakit.random_token(integer)',
       schemakit.random_token() ~ '^[A-Za-z0-9_-]{43}$' AND length(schemakit.random_token(16)) = 22;
SELECT 'schemakit.uuidv7()', u::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
  FROM schemakit.uuidv7() AS u;
SELECT 'schemakit.uuidv7_time(uuid)',
       abs(extract(epoch FROM schemakit.uuidv7_time(schemakit.uuidv7()) - clock_timestamp())) < 5
       AND schemakit.uuidv7_time('017f22e2-79b0-7cc3-98c4-dc0c0c07398f') = '2022-02-22 19:22:22+00';
SELECT 'schemakit.record_snippet_view(text)',
       schemakit.record_snippet_view(:'pid') = 1 AND schemakit.record_snippet_view(:'pid') = 2;

-- email codes: a fresh code verifies once
SELECT schemakit.issue_email_code('smoke@example.com') AS code \gset
SELECT schemakit.verify_email_code('smoke@example.com', :'code') AS code_v1 \gset
SELECT schemakit.verify_email_code('smoke@example.com', :'code') AS code_v2 \gset
SELECT 'schemakit.issue_email_code(text,interval)', :'code' ~ '^[0-9]{6}$';
SELECT 'schemakit.verify_email_code(text,text)', :'code_v1'::boolean AND NOT :'code_v2'::boolean;

-- OAuth
SELECT schemakit.link_oauth_account(:uid, 'github', 'smoke-1', 'smoke@example.com', 'Smoke') AS link \gset
SELECT 'schemakit.link_oauth_account(bigint,text,text,text,text)',
       :link = (SELECT id FROM schemakit.oauth_accounts WHERE provider = 'github' AND provider_id = 'smoke-1')
       AND schemakit.link_oauth_account(:uid, 'github', 'smoke-1') = :link;
SELECT 'schemakit.oauth_user_id(text,text)',
       schemakit.oauth_user_id('github', 'smoke-1') = :uid AND schemakit.oauth_user_id('github', 'nobody') IS NULL;

-- password reset: a token is consumed once
SELECT schemakit.issue_password_reset_token(:uid) AS reset \gset
SELECT schemakit.consume_password_reset_token(:'reset') AS reset_c1 \gset
SELECT schemakit.consume_password_reset_token(:'reset') IS NULL AS reset_c2 \gset
SELECT 'schemakit.issue_password_reset_token(bigint,interval)', :'reset' ~ '^[A-Za-z0-9_-]{43}$';
SELECT 'schemakit.consume_password_reset_token(text)', :reset_c1 = :uid AND :'reset_c2'::boolean;

-- sessions
SELECT schemakit.issue_session(:uid, '1 hour', '192.0.2.1', 'smoke') AS sess \gset
SELECT schemakit.session_user_id(:'sess') AS sess_uid \gset
SELECT schemakit.revoke_session(:'sess') AS sess_rev \gset
SELECT schemakit.session_user_id(:'sess') IS NULL AS sess_gone \gset
SELECT 'schemakit.issue_session(bigint,interval,inet,text)', :'sess' ~ '^[A-Za-z0-9_-]{43}$';
SELECT 'schemakit.session_user_id(text)', :sess_uid = :uid AND :'sess_gone'::boolean;
SELECT 'schemakit.revoke_session(text)', :'sess_rev'::boolean AND NOT schemakit.revoke_session(:'sess');
SELECT schemakit.issue_session(:uid) IS NOT NULL AND schemakit.issue_session(:uid) IS NOT NULL AS two_sessions \gset
SELECT 'schemakit.revoke_user_sessions(bigint)',
       :'two_sessions'::boolean AND schemakit.revoke_user_sessions(:uid) = 2 AND schemakit.revoke_user_sessions(:uid) = 0;

-- purge: a code expired two days ago goes, a live one stays
UPDATE schemakit.email_codes SET created_at = now() - interval '3 days', expires_at = now() - interval '2 days'
 WHERE email = 'smoke@example.com';
SELECT schemakit.issue_email_code('smoke2@example.com') AS code2 \gset
SELECT schemakit.purge_expired() AS purged \gset
SELECT 'schemakit.purge_expired(interval)', :purged >= 1
       AND NOT EXISTS (SELECT 1 FROM schemakit.email_codes WHERE email = 'smoke@example.com')
       AND EXISTS (SELECT 1 FROM schemakit.email_codes WHERE email = 'smoke2@example.com');

-- 1.5: address keys and organizations (owner invites, the invitee accepts,
-- is promoted and removed; a second invitation is revoked once)
SELECT 'schemakit.email_key(text)',
       schemakit.email_key('Ada.Lovelace@Example.COM') = 'ada.lovelace@example.com'
       AND schemakit.email_key('Zoë@X.com') = 'zoë@x.com';
INSERT INTO schemakit.users (username, email) VALUES ('smoke-member', 'member@example.com') RETURNING id AS uid2 \gset
SELECT schemakit.create_organization(:uid, 'Smoke Org', 'smoke-org') AS org \gset
SELECT 'schemakit.create_organization(bigint,text,text)',
       (SELECT slug FROM schemakit.organizations WHERE id = :org) = 'smoke-org';
SELECT schemakit.member_role(:org, :uid) = 'owner' AND schemakit.member_role(:org, :uid2) IS NULL AS roles_before \gset
SELECT schemakit.invite_member(:org, 'Member@Example.com', 'member', :uid) AS inv \gset
SELECT 'schemakit.invite_member(bigint,text,text,bigint,interval)', :'inv' ~ '^[A-Za-z0-9_-]{43}$';
SELECT m.role AS accepted_role FROM schemakit.accept_invitation(:'inv', :uid2) AS m \gset
SELECT 'schemakit.accept_invitation(text,bigint)', :'accepted_role' = 'member';
SELECT 'schemakit.member_role(bigint,bigint)', :'roles_before'::boolean AND schemakit.member_role(:org, :uid2) = 'member';
SELECT schemakit.set_member_role(:org, :uid2, 'admin', :uid) AS promoted \gset
SELECT 'schemakit.set_member_role(bigint,bigint,text,bigint)', :'promoted'::boolean
       AND schemakit.member_role(:org, :uid2) = 'admin' AND NOT schemakit.set_member_role(:org, :uid2, 'admin', :uid);
SELECT schemakit.invite_member(:org, 'later@example.com', 'member', :uid2) AS inv2 \gset
SELECT id AS inv2_id FROM schemakit.invitations WHERE email = 'later@example.com' \gset
SELECT schemakit.revoke_invitation(:inv2_id, :uid) AS revoked1 \gset
SELECT 'schemakit.revoke_invitation(bigint,bigint)', :'revoked1'::boolean AND NOT schemakit.revoke_invitation(:inv2_id, :uid);
SELECT schemakit.remove_member(:org, :uid2, :uid) AS removed \gset
SELECT 'schemakit.remove_member(bigint,bigint,bigint)', :'removed'::boolean AND schemakit.member_role(:org, :uid2) IS NULL;

-- 1.5: sessions under a caller-drawn token
SELECT schemakit.random_token() AS tok \gset
SELECT schemakit.open_session(:uid, :'tok', now() + interval '1 hour', '192.0.2.7', 'smoke') AS sid \gset
SELECT 'schemakit.open_session(bigint,text,timestamp with time zone,inet,text)',
       :sid > 0 AND schemakit.session_user_id(:'tok') = :uid;
SELECT 'schemakit.find_session(text)',
       (SELECT s.id = :sid AND s.user_id = :uid AND s.user_agent = 'smoke' FROM schemakit.find_session(:'tok') AS s);
SELECT 'schemakit.find_session_by_id(bigint)',
       (SELECT s.user_id = :uid AND s.ip_address = '192.0.2.7' FROM schemakit.find_session_by_id(:sid) AS s);
SELECT 'schemakit.list_user_sessions(bigint)',
       (SELECT count(*) FILTER (WHERE s.id = :sid) = 1 FROM schemakit.list_user_sessions(:uid) AS s);
SELECT s.expires_at > now() + interval '1 day' AS extended
  FROM schemakit.update_session(:sid, now() + interval '2 days') AS s \gset
SELECT 'schemakit.update_session(bigint,timestamp with time zone)', :'extended'::boolean;
SELECT schemakit.revoke_session_by_id(:sid) AS rev_id \gset
SELECT 'schemakit.revoke_session_by_id(bigint)', :'rev_id'::boolean
       AND NOT schemakit.revoke_session_by_id(:sid) AND NOT EXISTS (SELECT FROM schemakit.find_session_by_id(:sid));

-- grant_app: the app role may call functions and read users, not the secrets
SET client_min_messages = warning;
DROP ROLE IF EXISTS sk_smoke_app;
RESET client_min_messages;
CREATE ROLE sk_smoke_app;
SELECT true AS granted FROM (SELECT schemakit.grant_app('sk_smoke_app')) AS g \gset
SELECT 'schemakit.grant_app(regrole)', :'granted'::boolean
       AND has_function_privilege('sk_smoke_app', 'schemakit.issue_session(bigint,interval,inet,text)', 'EXECUTE')
       AND has_table_privilege('sk_smoke_app', 'schemakit.users', 'SELECT')
       AND NOT has_table_privilege('sk_smoke_app', 'schemakit.email_codes', 'SELECT');
-- distribute: never granted to an app.  Without Citus it refuses (55000);
-- on Citus it is not run here (it would change the layout under test), only
-- its layout, if the suite made it, is checked: sessions by token_hash.
SELECT 'schemakit.distribute()',
       NOT has_function_privilege('sk_smoke_app', 'schemakit.distribute()', 'EXECUTE')
       AND CASE WHEN to_regclass('pg_catalog.pg_dist_partition') IS NULL
                THEN (SELECT e.st = '55000' FROM (SELECT pg_temp.sqlstate_of('SELECT * FROM schemakit.distribute()') AS st) e)
                ELSE true END;
DROP OWNED BY sk_smoke_app;
DROP ROLE sk_smoke_app;
