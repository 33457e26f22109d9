--
-- 80_v15: schemakit 1.5 - the update from 1.4, and every public function
-- 1.5 adds or changes, each error shown with its SQLSTATE:
--   email_key() and the address keys of users and email_codes (the update
--   refusing users that would share a key, open codes of non-ASCII
--   addresses retired); every ttl and older_than judged by the timestamp it
--   produces; failed guesses counted in shared memory (a rolled-back guess
--   still counts; needs shared_preload_libraries=schemakit); SKR01/SKR02
--   raised without the statement; organizations (create_organization,
--   member_role, invite_member, accept_invitation, revoke_invitation,
--   set_member_role, remove_member; SKR10-SKR14); the better-auth session
--   functions (open_session, find_session, find_session_by_id,
--   list_user_sessions, update_session, revoke_session_by_id);
--   link_oauth_account with an empty email; optional usernames; mime_type
--   with parameters; purge_expired with invitations and verifications;
--   the references checked by trigger; grant_app's grants; the refused
--   downgrade.
--
-- Users get fixed ids (OVERRIDING SYSTEM VALUE), so that the messages that
-- name a user are the same whatever ran before.  Tokens, codes and
-- timestamps are only shown through deterministic properties.
--
-- Runs after 70_v14 (which leaves the extension at 1.4) and leaves it at
-- 1.5; removes every row and role it creates.
--
\set SHOW_CONTEXT never

--------------------------------------------------------------------------
-- Before the update (1.4)
--------------------------------------------------------------------------

-- Users whose addresses differ only in ASCII case would share a key: the
-- update refuses, names them and changes nothing.
BEGIN;
DROP INDEX schemakit.users_email_key;
INSERT INTO schemakit.users (id, username, email) OVERRIDING SYSTEM VALUE
VALUES (1591, 'regress_v15_dup1', 'Dup@v15.example'), (1592, 'regress_v15_dup2', 'dup@V15.example');
SELECT regress.err($$ALTER EXTENSION schemakit UPDATE TO '1.5'$$) AS shared_key;
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
ROLLBACK;

-- Open codes: an ASCII address's code stays open, a non-ASCII one's
-- (hashed under lower()) is retired by the update.
SELECT schemakit.issue_email_code('Ascii@v15.example') AS ascii_code \gset
SELECT schemakit.issue_email_code('Émile@v15.example') AS emile_code \gset

ALTER EXTENSION schemakit UPDATE TO '1.5';
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';
SELECT version FROM schemakit.migrations ORDER BY version;

SELECT email, revoked_at IS NOT NULL AS retired, email_key
  FROM schemakit.email_codes WHERE email LIKE '%@v15.example' ORDER BY email COLLATE "C";
SELECT schemakit.verify_email_code('ascii@V15.EXAMPLE', :'ascii_code') AS ascii_code_from_14,
       schemakit.verify_email_code('Émile@v15.example', :'emile_code') AS emile_code_from_14;

-- The public functions of 1.5: flags, SECURITY DEFINER, PUBLIC's EXECUTE.
SELECT p.oid::regprocedure AS function, l.lanname AS lang, p.provolatile AS vol,
       p.proisstrict AS strict, p.proparallel AS par, p.prosecdef AS secdef,
       p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_exec
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND p.proname !~ '^_' AND p.prorettype <> 'trigger'::regtype
 ORDER BY p.oid::regprocedure::text;
-- Argument defaults of the functions 1.5 adds.
SELECT p.oid::regprocedure AS function, pg_get_function_arguments(p.oid) AS arguments
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace AND p.pronargdefaults > 0
   AND p.proname IN ('create_organization', 'invite_member', 'open_session')
 ORDER BY p.oid::regprocedure::text;

INSERT INTO schemakit.users (id, username, email) OVERRIDING SYSTEM VALUE VALUES
    (1501, 'regress_v15_ada', 'Ada@v15.example'),
    (1502, 'regress_v15_bob', 'bob@v15.example'),
    (1503, 'regress_v15_cy',  'cy@v15.example'),
    (1504, 'regress_v15_dee', 'dee@v15.example'),
    (1505, 'regress_v15_eve', 'eve@v15.example'),
    (1506, 'regress_v15_fay', NULL);

--------------------------------------------------------------------------
-- email_key() and the address keys
--------------------------------------------------------------------------

SELECT e AS email, schemakit.email_key(e) AS key,
       octet_length(e) = octet_length(schemakit.email_key(e)) AS same_bytes
  FROM unnest(ARRAY['Ada@Example.COM', 'BOB@GİTHUB.COM', 'ÉMILE@Ü.example', 'a@b', '', 'not an address']) AS e;
SELECT schemakit.email_key(NULL) IS NULL AS null_key;
SELECT username, email, email_key FROM schemakit.users
 WHERE id IN (1501, 1502) ORDER BY id;

-- One address per key; addresses that differ beyond ASCII case are two.
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('ASCII case',      $$INSERT INTO schemakit.users (username, email) VALUES ('regress_v15_x', 'ADA@V15.EXAMPLE')$$),
    ('non-ASCII case 1', $$INSERT INTO schemakit.users (username, email) VALUES ('regress_v15_e1', 'é@v15.example')$$),
    ('non-ASCII case 2', $$INSERT INTO schemakit.users (username, email) VALUES ('regress_v15_e2', 'É@v15.example')$$)
  ) AS v(label, stmt);
-- email_key is generated: a value for it is refused (428C9; PostgreSQL 13
-- says 42601 in other words, so only the DETAIL is compared).
SELECT label, regress.err(stmt) ~ 'DETAIL: Column "email_key" is a generated column\.$' AS refused_as_generated
  FROM (VALUES
    ('explicit key',    $$INSERT INTO schemakit.users (username, email, email_key) VALUES ('regress_v15_k', 'k@v15.example', 'k@v15.example')$$),
    ('update key',      $$UPDATE schemakit.users SET email_key = 'x' WHERE id = 1501$$)
  ) AS v(label, stmt);
DELETE FROM schemakit.users WHERE username IN ('regress_v15_e1', 'regress_v15_e2');

-- Optional username: any number of users without one; a given one is
-- still 1 to 255 characters.
INSERT INTO schemakit.users (email) VALUES ('nameless1@v15.example'), ('nameless2@v15.example');
SELECT count(*) AS nameless FROM schemakit.users WHERE username IS NULL AND email LIKE 'nameless%';
SELECT regress.err($$INSERT INTO schemakit.users (username) VALUES ('')$$) AS empty_username;
DELETE FROM schemakit.users WHERE email LIKE 'nameless%';

-- The references to users are checked by trigger (23503).
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('snippet',  $$INSERT INTO schemakit.snippets (owner_id, body) VALUES (-1, 'x')$$),
    ('session',  $$INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (-1, sha256('r'), now())$$),
    ('file',     $$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (-1, 'a', 'a/b', 1)$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- Every ttl and older_than is judged by the timestamp it produces
--------------------------------------------------------------------------

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('code 1 year',          $$SELECT schemakit.issue_email_code('ttl@v15.example', '1 year')$$),
    ('code 12 months',       $$SELECT schemakit.issue_email_code('ttl@v15.example', '12 months')$$),
    ('code huge',            $$SELECT schemakit.issue_email_code('ttl@v15.example', '200000 years -71999999 days')$$),
    ('code 1 day 1 us',      $$SELECT schemakit.issue_email_code('ttl@v15.example', '1 day 0.000001 seconds')$$),
    ('code 0',               $$SELECT schemakit.issue_email_code('ttl@v15.example', '0')$$),
    ('code NULL ttl',        $$SELECT schemakit.issue_email_code('ttl@v15.example', NULL)$$),
    ('reset 1 year',         $$SELECT schemakit.issue_password_reset_token(1501, '1 year')$$),
    ('reset 12 months',      $$SELECT schemakit.issue_password_reset_token(1501, '12 months')$$),
    ('reset huge',           $$SELECT schemakit.issue_password_reset_token(1501, '178000000 years')$$),
    ('reset NULL ttl',       $$SELECT schemakit.issue_password_reset_token(1501, NULL)$$),
    ('session 12 mons 6 d',  $$SELECT schemakit.issue_session(1501, '12 months 6 days')$$),
    ('session 366 d 1 us',   $$SELECT schemakit.issue_session(1501, '366 days 0.000001 seconds')$$),
    ('session huge',         $$SELECT schemakit.issue_session(1501, '200000 years -71999999 days')$$),
    ('session -huge',        $$SELECT schemakit.issue_session(1501, '-178000000 years')$$),
    ('session NULL ttl',     $$SELECT schemakit.issue_session(1501, NULL)$$),
    ('session 1 year',       $$SELECT length(schemakit.issue_session(1501, '1 year'))$$),
    ('session 12 months',    $$SELECT length(schemakit.issue_session(1501, '12 months'))$$),
    ('session 366 days',     $$SELECT length(schemakit.issue_session(1501, '366 days'))$$),
    ('purge -1 us',          $$SELECT schemakit.purge_expired('-0.000001 seconds')$$),
    ('purge 101 years',      $$SELECT schemakit.purge_expired('101 years')$$),
    ('purge huge',           $$SELECT schemakit.purge_expired('-100 years 36001 days')$$),
    ('purge 178000000 years', $$SELECT schemakit.purge_expired('178000000 years')$$),
    ('purge NULL',           $$SELECT schemakit.purge_expired(NULL)$$),
    ('purge 100 years',      $$SELECT schemakit.purge_expired('100 years') >= 0$$)
  ) AS v(label, stmt);
SELECT count(*) AS ttl_codes FROM schemakit.email_codes WHERE email = 'ttl@v15.example';

--------------------------------------------------------------------------
-- Email codes: the address key, SKR01, guesses counted in shared memory
--------------------------------------------------------------------------

SELECT schemakit.issue_email_code('Guess@V15.example') AS code \gset
SELECT ec.email, ec.email_key, u.username AS user_of_code,
       ec.code_hash = schemakit._code_hash_keyed('guess@v15.example', :'code') AS hash_by_key
  FROM schemakit.email_codes ec LEFT JOIN schemakit.users u ON u.id = ec.user_id
 WHERE ec.email_key = 'guess@v15.example';
-- The code is bound to the user with the same key.
SELECT schemakit.issue_email_code('ADA@v15.example') AS ada_code \gset
SELECT u.username AS user_of_code FROM schemakit.email_codes ec JOIN schemakit.users u ON u.id = ec.user_id
 WHERE ec.email = 'ADA@v15.example';

-- A wrong guess counts even when its transaction rolls back.
BEGIN;
SELECT schemakit.verify_email_code('guess@v15.example', '') AS wrong_rolled_back;
ROLLBACK;
SELECT ec.failed_attempts AS in_table,
       schemakit._code_failures(ec.id, ec.created_at) AS in_shared_memory
  FROM schemakit.email_codes ec WHERE ec.email_key = 'guess@v15.example' AND ec.revoked_at IS NULL;
SELECT n, schemakit.verify_email_code('guess@v15.example', 'wrong ' || n) AS wrong
  FROM generate_series(1, 4) AS n ORDER BY n;
-- 1 rolled back + 4 = 5: the code is dead, even for the right guess.
SELECT schemakit.verify_email_code('guess@v15.example', :'code') AS right_after_5;
SELECT ec.failed_attempts AS in_table,
       schemakit._code_failures(ec.id, ec.created_at) AS in_shared_memory,
       ec.used_at IS NULL AS unused
  FROM schemakit.email_codes ec WHERE ec.email_key = 'guess@v15.example' AND ec.revoked_at IS NULL;
-- The right code takes its own count back.
SELECT schemakit.verify_email_code('ada@V15.example', 'wrong') AS wrong,
       schemakit.verify_email_code('ada@V15.example', :'ada_code') AS right;
SELECT ec.failed_attempts AS in_table,
       schemakit._code_failures(ec.id, ec.created_at) AS in_shared_memory,
       ec.used_at IS NOT NULL AS used
  FROM schemakit.email_codes ec WHERE ec.email = 'ADA@v15.example';

-- SKR01 and SKR02 as in 1.3 (now raised without the statement).
SELECT count(*) AS issued FROM (SELECT schemakit.issue_email_code('limit@v15.example')
                                  FROM generate_series(1, 5)) s;
SELECT regress.err($$SELECT schemakit.issue_email_code('LIMIT@v15.example')$$) AS sixth;
UPDATE schemakit.email_codes SET failed_attempts = 10 WHERE email_key = 'limit@v15.example' AND revoked_at IS NULL;
SELECT regress.err($$SELECT schemakit.verify_email_code('limit@v15.example', '000000')$$) AS failures;

--------------------------------------------------------------------------
-- link_oauth_account: '' is no address; mime_type with parameters
--------------------------------------------------------------------------

SELECT schemakit.link_oauth_account(1501, 'apple', '0042.ab', '') AS link \gset
SELECT provider, provider_id, email IS NULL AS email_null FROM schemakit.oauth_accounts WHERE id = :link;
SELECT schemakit.link_oauth_account(1501, 'apple', '0042.ab', '', 'Ada') = :link AS same_link,
       schemakit.oauth_user_id('apple', '0042.ab') AS user_id;
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('space',      $$SELECT schemakit.link_oauth_account(1501, 'apple', '1', ' ')$$),
    ('no @',       $$SELECT schemakit.link_oauth_account(1501, 'apple', '1', 'ada')$$),
    ('other user', $$SELECT schemakit.link_oauth_account(1502, 'apple', '0042.ab', '')$$)
  ) AS v(label, stmt);

SELECT m AS mime_type,
       regress.err(format($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (1501, 'f', %L, 1)$$, m)) AS error
  FROM unnest(ARRAY['text/plain; charset=utf-8', 'multipart/mixed; boundary="a b"',
                    'text/plain;charset=utf-8;format=flowed', 'text/plain; q="a\"b"',
                    'text/plain;', 'text/plain; charset', 'text/plain; charset="open',
                    'text/plain; =utf-8', 'text /plain']) AS m;
SELECT count(*) AS files FROM schemakit.files WHERE user_id = 1501;

--------------------------------------------------------------------------
-- Organizations
--------------------------------------------------------------------------

SELECT schemakit.create_organization(1501, 'Acme', 'acme') AS acme \gset
SELECT schemakit.create_organization(1502, 'Generated') AS gen \gset
SELECT slug = 'acme' AS acme_slug, name FROM schemakit.organizations WHERE id = :acme;
SELECT slug ~ '^[0-9a-z]{10}$' AS generated_slug FROM schemakit.organizations WHERE id = :gen;
SELECT o.name, m.user_id, m.role FROM schemakit.memberships m
  JOIN schemakit.organizations o ON o.id = m.organization_id
 WHERE m.organization_id IN (:acme, :gen) ORDER BY o.name, m.user_id;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL owner',      $$SELECT schemakit.create_organization(NULL, 'X')$$),
    ('NULL name',       $$SELECT schemakit.create_organization(1501, NULL)$$),
    ('empty name',      $$SELECT schemakit.create_organization(1501, '')$$),
    ('blank name',      $$SELECT schemakit.create_organization(1501, '   ')$$),
    ('name 256',        $$SELECT schemakit.create_organization(1501, repeat('n', 256))$$),
    ('slug upper',      $$SELECT schemakit.create_organization(1501, 'X', 'Acme')$$),
    ('slug -a',         $$SELECT schemakit.create_organization(1501, 'X', '-a')$$),
    ('slug a-',         $$SELECT schemakit.create_organization(1501, 'X', 'a-')$$),
    ('slug empty',      $$SELECT schemakit.create_organization(1501, 'X', '')$$),
    ('slug 64',         $$SELECT schemakit.create_organization(1501, 'X', repeat('s', 64))$$),
    ('unknown user',    $$SELECT schemakit.create_organization(-1, 'X')$$),
    ('slug taken',      $$SELECT schemakit.create_organization(1502, 'Other', 'acme')$$),
    ('slug 63, name 255', $$SELECT schemakit.create_organization(1501, repeat('n', 255), repeat('s', 63)) IS NOT NULL$$)
  ) AS v(label, stmt);
DELETE FROM schemakit.organizations WHERE slug = repeat('s', 63);

-- member_role
SELECT schemakit.member_role(:acme, 1501) AS ada, schemakit.member_role(:acme, 1502) IS NULL AS bob,
       schemakit.member_role(-1, 1501) IS NULL AS unknown_org,
       schemakit.member_role(NULL, 1501) IS NULL AS null_org,
       schemakit.member_role(:acme, NULL) IS NULL AS null_user;

-- invite_member: bob as admin, cy as member.
SELECT schemakit.invite_member(:acme, 'BOB@v15.example', 'admin', 1501) AS bob_token \gset
SELECT schemakit.invite_member(:acme, 'cy@v15.example', 'member', 1501, '2 days') AS cy_token \gset
SELECT char_length(:'bob_token') AS length, :'bob_token' ~ '^[A-Za-z0-9_-]{43}$' AS base64url;
SELECT i.email, i.email_key, i.role, i.invited_by, i.expires_at - i.created_at AS ttl,
       i.token_hash = sha256(convert_to(v.token, 'UTF8')) AS hash_of_token,
       strpos(i::text, v.token) = 0 AS token_not_stored,
       i.accepted_at IS NULL AND i.revoked_at IS NULL AS open
  FROM (VALUES ('bob', :'bob_token'), ('cy', :'cy_token')) AS v(who, token)
  JOIN schemakit.invitations i ON i.token_hash = sha256(convert_to(v.token, 'UTF8'))
 ORDER BY v.who;

-- accept_invitation
SELECT organization_id = :acme AS acme, user_id, role, created_at = now() AS created_now
  FROM schemakit.accept_invitation(:'bob_token', 1502);
SELECT accepted_at IS NOT NULL AS accepted, accepted_by FROM schemakit.invitations
 WHERE token_hash = sha256(convert_to(:'bob_token', 'UTF8'));
SELECT schemakit.member_role(:acme, 1502) AS bob_role;
SELECT role AS cy_role FROM schemakit.accept_invitation(:'cy_token', 1503);

-- invite_member's errors (bob is an admin, cy a member, dee no member).
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL organization', $$SELECT schemakit.invite_member(NULL, 'x@v15.example', 'member', 1501)$$),
    ('NULL email',        format($$SELECT schemakit.invite_member(%s, NULL, 'member', 1501)$$, :acme)),
    ('NULL role',         format($$SELECT schemakit.invite_member(%s, 'x@v15.example', NULL, 1501)$$, :acme)),
    ('NULL inviter',      format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', NULL)$$, :acme)),
    ('NULL ttl',          format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', 1501, NULL)$$, :acme)),
    ('bad email',         format($$SELECT schemakit.invite_member(%s, 'x y@v15.example', 'member', 1501)$$, :acme)),
    ('bad role',          format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'boss', 1501)$$, :acme)),
    ('ttl 0',             format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', 1501, '0')$$, :acme)),
    ('ttl 31 days',       format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', 1501, '31 days')$$, :acme)),
    ('ttl 1 year',        format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', 1501, '1 year')$$, :acme)),
    ('ttl huge',          format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', 1501, '178000000 years')$$, :acme)),
    ('unknown inviter',   format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', -1)$$, :acme)),
    ('unknown org',       $$SELECT schemakit.invite_member(-1, 'x@v15.example', 'member', 1501)$$),
    ('not a member',      format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', 1504)$$, :acme)),
    ('member invites',    format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'member', 1503)$$, :acme)),
    ('admin, owner',      format($$SELECT schemakit.invite_member(%s, 'x@v15.example', 'owner', 1502)$$, :acme)),
    ('already a member',  format($$SELECT schemakit.invite_member(%s, 'CY@v15.example', 'member', 1501)$$, :acme)),
    ('admin, admin',      format($$SELECT length(schemakit.invite_member(%s, 'x@v15.example', 'admin', 1502))$$, :acme)),
    ('ttl 30 days',       format($$SELECT length(schemakit.invite_member(%s, 'x@v15.example', 'member', 1501, '30 days'))$$, :acme))
  ) AS v(label, stmt);
-- The last invitation to x@ replaced the one before.
SELECT count(*) AS invitations, count(*) FILTER (WHERE revoked_at IS NULL) AS open
  FROM schemakit.invitations WHERE email = 'x@v15.example';

-- accept_invitation's errors.
SELECT schemakit.invite_member(:acme, 'dee@v15.example', 'member', 1501) AS dee_old \gset
SELECT schemakit.invite_member(:acme, 'DEE@v15.example', 'member', 1502) AS dee_token \gset
SELECT schemakit.invite_member(:acme, 'eve@v15.example', 'member', 1501) AS eve_token \gset
UPDATE schemakit.invitations SET expires_at = now() - interval '1 second'
 WHERE token_hash = sha256(convert_to(:'eve_token', 'UTF8'));
SELECT schemakit.invite_member(:acme, 'fay@v15.example', 'member', 1501) AS fay_token \gset
SELECT label, regress.err(stmt, with_detail => false) AS error
  FROM (VALUES
    ('NULL token',       $$SELECT schemakit.accept_invitation(NULL, 1504)$$),
    ('NULL user',        format($$SELECT schemakit.accept_invitation(%L, NULL)$$, :'dee_token')),
    ('malformed',        $$SELECT schemakit.accept_invitation('nope', 1504)$$),
    ('42 characters',    format($$SELECT schemakit.accept_invitation(%L, 1504)$$, left(:'dee_token', 42))),
    ('bad character',    format($$SELECT schemakit.accept_invitation(%L, 1504)$$, left(:'dee_token', 42) || '.')),
    ('overlong',         $$SELECT schemakit.accept_invitation(repeat('A', 1401), 1504)$$),
    ('unknown token',    $$SELECT schemakit.accept_invitation(repeat('A', 43), 1504)$$),
    ('replaced',         format($$SELECT schemakit.accept_invitation(%L, 1504)$$, :'dee_old')),
    ('accepted',         format($$SELECT schemakit.accept_invitation(%L, 1502)$$, :'bob_token')),
    ('expired',          format($$SELECT schemakit.accept_invitation(%L, 1505)$$, :'eve_token')),
    ('unknown user',     format($$SELECT schemakit.accept_invitation(%L, -1)$$, :'dee_token')),
    ('other address',    format($$SELECT schemakit.accept_invitation(%L, 1505)$$, :'dee_token')),
    ('no address',       format($$SELECT schemakit.accept_invitation(%L, 1506)$$, :'fay_token'))
  ) AS v(label, stmt);
-- The details of SKR10 to SKR13 (those with a timestamp left out).
SELECT regress.err($$SELECT schemakit.accept_invitation(repeat('A', 43), 1504)$$) AS unknown_token;
SELECT regress.err(format($$SELECT schemakit.accept_invitation(%L, 1504)$$, :'dee_old')) ~
       '^SKR12: invitation revoked DETAIL: It was revoked at .*\. HINT: Ask for a new invitation\.$' AS replaced_detail;
-- Already a member: 23505, and the invitation stays open.
INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (:acme, 1504, 'member');
SELECT regress.err(format($$SELECT schemakit.accept_invitation(%L, 1504)$$, :'dee_token')) AS already_member;
SELECT accepted_at IS NULL AND revoked_at IS NULL AS still_open FROM schemakit.invitations
 WHERE token_hash = sha256(convert_to(:'dee_token', 'UTF8'));
DELETE FROM schemakit.memberships WHERE organization_id = :acme AND user_id = 1504;
SELECT role FROM schemakit.accept_invitation(:'dee_token', 1504);

-- revoke_invitation
SELECT schemakit.invite_member(:acme, 'gil@v15.example', 'member', 1501) AS gil_token \gset
SELECT id AS gil_inv FROM schemakit.invitations WHERE token_hash = sha256(convert_to(:'gil_token', 'UTF8')) \gset
SELECT id AS eve_inv FROM schemakit.invitations WHERE token_hash = sha256(convert_to(:'eve_token', 'UTF8')) \gset
SELECT id AS bob_inv FROM schemakit.invitations WHERE token_hash = sha256(convert_to(:'bob_token', 'UTF8')) \gset
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL id',      $$SELECT schemakit.revoke_invitation(NULL, 1501)$$),
    ('NULL actor',   format($$SELECT schemakit.revoke_invitation(%s, NULL)$$, :gil_inv)),
    ('unknown id',   $$SELECT schemakit.revoke_invitation(-1, 1501)$$),
    ('member',       format($$SELECT schemakit.revoke_invitation(%s, 1503)$$, :gil_inv)),
    ('not a member', format($$SELECT schemakit.revoke_invitation(%s, 1505)$$, :gil_inv))
  ) AS v(label, stmt);
SELECT schemakit.revoke_invitation(:gil_inv, 1502) AS admin_revokes;
SELECT schemakit.revoke_invitation(:gil_inv, 1501) AS again,
       schemakit.revoke_invitation(:eve_inv, 1501) AS expired,
       schemakit.revoke_invitation(:bob_inv, 1501) AS accepted;
SELECT regress.err(format($$SELECT schemakit.accept_invitation(%L, 1505)$$, :'gil_token'), with_detail => false) AS revoked;

-- set_member_role (ada owner, bob admin, cy and dee members)
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL organization', $$SELECT schemakit.set_member_role(NULL, 1503, 'admin', 1501)$$),
    ('NULL user',         format($$SELECT schemakit.set_member_role(%s, NULL, 'admin', 1501)$$, :acme)),
    ('NULL role',         format($$SELECT schemakit.set_member_role(%s, 1503, NULL, 1501)$$, :acme)),
    ('NULL actor',        format($$SELECT schemakit.set_member_role(%s, 1503, 'admin', NULL)$$, :acme)),
    ('bad role',          format($$SELECT schemakit.set_member_role(%s, 1503, 'boss', 1501)$$, :acme)),
    ('unknown org',       $$SELECT schemakit.set_member_role(-1, 1503, 'admin', 1501)$$),
    ('not a member',      format($$SELECT schemakit.set_member_role(%s, 1505, 'admin', 1501)$$, :acme)),
    ('actor a member',    format($$SELECT schemakit.set_member_role(%s, 1504, 'admin', 1503)$$, :acme)),
    ('actor outside',     format($$SELECT schemakit.set_member_role(%s, 1504, 'admin', 1505)$$, :acme)),
    ('admin makes owner', format($$SELECT schemakit.set_member_role(%s, 1503, 'owner', 1502)$$, :acme)),
    ('admin unmakes owner', format($$SELECT schemakit.set_member_role(%s, 1501, 'admin', 1502)$$, :acme)),
    ('last owner',        format($$SELECT schemakit.set_member_role(%s, 1501, 'admin', 1501)$$, :acme))
  ) AS v(label, stmt);
SELECT schemakit.set_member_role(:acme, 1503, 'admin', 1502) AS admin_promotes;
SELECT schemakit.set_member_role(:acme, 1503, 'admin', 1501) AS unchanged;
SELECT schemakit.set_member_role(:acme, 1502, 'owner', 1501) AS owner_promotes;
SELECT schemakit.set_member_role(:acme, 1501, 'admin', 1501) AS ada_steps_down;
SELECT user_id, role FROM schemakit.memberships WHERE organization_id = :acme ORDER BY user_id;

-- remove_member (bob owner, ada and cy admins, dee member)
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL organization', $$SELECT schemakit.remove_member(NULL, 1504, 1502)$$),
    ('NULL user',         format($$SELECT schemakit.remove_member(%s, NULL, 1502)$$, :acme)),
    ('NULL actor',        format($$SELECT schemakit.remove_member(%s, 1504, NULL)$$, :acme)),
    ('unknown org',       $$SELECT schemakit.remove_member(-1, 1504, 1502)$$),
    ('member removes',    format($$SELECT schemakit.remove_member(%s, 1503, 1504)$$, :acme)),
    ('outsider removes',  format($$SELECT schemakit.remove_member(%s, 1504, 1505)$$, :acme)),
    ('admin, owner',      format($$SELECT schemakit.remove_member(%s, 1502, 1501)$$, :acme)),
    ('last owner leaves', format($$SELECT schemakit.remove_member(%s, 1502, 1502)$$, :acme))
  ) AS v(label, stmt);
SELECT schemakit.remove_member(:acme, 1505, 1502) AS not_a_member;
SELECT schemakit.remove_member(:acme, 1504, 1504) AS dee_leaves;
SELECT schemakit.remove_member(:acme, 1503, 1501) AS admin_removes_admin;
SELECT user_id, role FROM schemakit.memberships WHERE organization_id = :acme ORDER BY user_id;

-- Deleting an organization takes its memberships and invitations along.
DELETE FROM schemakit.organizations WHERE id = :gen;
SELECT (SELECT count(*) FROM schemakit.memberships WHERE organization_id = :gen) AS memberships,
       (SELECT count(*) FROM schemakit.invitations WHERE organization_id = :gen) AS invitations;

-- The last owner is kept whatever the path (SKR14).
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('UPDATE role',   format($$UPDATE schemakit.memberships SET role = 'member' WHERE organization_id = %s AND user_id = 1502$$, :acme)),
    ('DELETE',        format($$DELETE FROM schemakit.memberships WHERE organization_id = %s AND user_id = 1502$$, :acme)),
    ('delete user',   $$DELETE FROM schemakit.users WHERE id = 1502$$),
    ('bad role',      format($$UPDATE schemakit.memberships SET role = 'boss' WHERE organization_id = %s AND user_id = 1501$$, :acme))
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- Sessions under a caller-drawn token (better-auth)
--------------------------------------------------------------------------

SELECT repeat('T', 31) || 'a' AS t1, repeat('T', 31) || 'b' AS t2, repeat('T', 31) || 'c' AS t3 \gset
SELECT schemakit.open_session(1501, :'t1', now() + interval '7 days', '203.0.113.9', repeat('u', 600)) AS sid1 \gset
SELECT schemakit.open_session(1501, :'t2', now() + interval '1 hour') AS sid2 \gset
SELECT schemakit.open_session(1502, :'t3', now() + interval '366 days') AS sid3 \gset
SELECT schemakit.session_user_id(:'t1') AS user_of_t1;
SELECT s.token_hash = schemakit._token_hash(:'t1') AS hash_stored,
       s.expires_at - s.created_at AS ttl, char_length(s.user_agent) AS ua_length
  FROM schemakit.sessions s WHERE s.id = :sid1;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('NULL token',     $$SELECT schemakit.open_session(1501, NULL, now() + interval '1 day')$$),
    ('NULL expiry',    format($$SELECT schemakit.open_session(1501, %L, NULL)$$, repeat('n', 32))),
    ('31 characters',  $$SELECT schemakit.open_session(1501, repeat('s', 31), now() + interval '1 day')$$),
    ('1401 bytes',     $$SELECT schemakit.open_session(1501, repeat('s', 1401), now() + interval '1 day')$$),
    ('expires now',    $$SELECT schemakit.open_session(1501, repeat('s', 32), now())$$),
    ('367 days',       $$SELECT schemakit.open_session(1501, repeat('s', 32), now() + interval '367 days')$$),
    ('NULL user',      $$SELECT schemakit.open_session(NULL, repeat('s', 32), now() + interval '1 day')$$),
    ('unknown user',   $$SELECT schemakit.open_session(-1, repeat('s', 32), now() + interval '1 day')$$),
    ('token in use',   format($$SELECT schemakit.open_session(1502, %L, now() + interval '1 day')$$, :'t1'))
  ) AS v(label, stmt);
SELECT regress.err($$SELECT schemakit.open_session(1501, repeat('é', 32), now() + interval '1 day') > 0$$) AS multibyte_32;

-- find_session, find_session_by_id, list_user_sessions
SELECT id = :sid1 AS is_sid1, user_id, expires_at > now() AS live, ip_address,
       char_length(user_agent) AS ua_length, last_seen_at = created_at AS unseen
  FROM schemakit.find_session(:'t1');
SELECT count(*) AS rows FROM schemakit.find_session(NULL);
SELECT count(*) AS rows FROM schemakit.find_session(repeat('T', 32));
SELECT count(*) AS rows FROM schemakit.find_session(repeat('T', 1401));
SELECT id = :sid2 AS is_sid2, user_id FROM schemakit.find_session_by_id(:sid2);
SELECT count(*) AS rows FROM schemakit.find_session_by_id(-1);
SELECT count(*) AS rows FROM schemakit.find_session_by_id(NULL);
SELECT id IN (:sid1, :sid2) AS ada_session, user_id FROM schemakit.list_user_sessions(1501)
 WHERE id IN (:sid1, :sid2) ORDER BY id;
SELECT array_agg(id ORDER BY id) = array_agg(id) AS oldest_first
  FROM schemakit.list_user_sessions(1501);
SELECT count(*) AS rows FROM schemakit.list_user_sessions(-1);

-- update_session: a new expiry, NULL keeps it (touch), a past one ends it.
UPDATE schemakit.sessions SET last_seen_at = now() - interval '1 hour' WHERE id = :sid2;
SELECT id = :sid2 AS is_sid2, expires_at = now() + interval '2 days' AS extended,
       last_seen_at = now() AS touched
  FROM schemakit.update_session(:sid2, now() + interval '2 days');
SELECT expires_at AS sid2_expires FROM schemakit.find_session_by_id(:sid2) \gset
SELECT expires_at = :'sid2_expires' AS kept, last_seen_at = now() AS touched
  FROM schemakit.update_session(:sid2, NULL);
SELECT regress.err(format($$SELECT schemakit.update_session(%s, now() + interval '367 days')$$, :sid2)) AS too_far;
SELECT count(*) AS rows FROM schemakit.update_session(:sid2, now() - interval '1 second');
SELECT schemakit.session_user_id(:'t2') IS NULL AS ended;
-- Expired: no row, never brought back; still found (expired) by find_session.
SELECT count(*) AS rows FROM schemakit.update_session(:sid2, now() + interval '1 day');
SELECT count(*) AS rows, bool_and(expires_at <= now()) AS expired FROM schemakit.find_session(:'t2');
SELECT count(*) AS rows FROM schemakit.update_session(-1, NULL);

-- revoke_session_by_id
SELECT schemakit.revoke_session_by_id(:sid1) AS revoked;
SELECT schemakit.revoke_session_by_id(:sid1) AS again,
       schemakit.revoke_session_by_id(:sid2) AS expired_too,
       schemakit.revoke_session_by_id(-1) AS unknown,
       schemakit.revoke_session_by_id(NULL) AS null_id;
SELECT (SELECT count(*) FROM schemakit.find_session(:'t1')) AS find_revoked,
       (SELECT count(*) FROM schemakit.find_session_by_id(:sid1)) AS by_id_revoked,
       (SELECT count(*) FROM schemakit.update_session(:sid1, NULL)) AS update_revoked,
       schemakit.session_user_id(:'t1') IS NULL AS lookup_revoked;

--------------------------------------------------------------------------
-- purge_expired: invitations and verifications too
--------------------------------------------------------------------------

BEGIN;
DELETE FROM schemakit.email_codes;
DELETE FROM schemakit.password_reset_tokens;
DELETE FROM schemakit.sessions;
DELETE FROM schemakit.invitations;
DELETE FROM schemakit.verifications;
INSERT INTO schemakit.invitations (organization_id, email, role, token_hash, expires_at, accepted_at, revoked_at)
SELECT :acme, l || '@v15.example', 'member', sha256(convert_to(l, 'UTF8')), now() + e, now() + a, now() + r
  FROM (VALUES ('live',         interval '1 day',   NULL::interval, NULL::interval),
               ('expired_old',  interval '-2 days', NULL,           NULL),
               ('expired_new',  interval '-1 hour', NULL,           NULL),
               ('accepted_old', interval '1 day',   interval '-2 days', NULL),
               ('revoked_old',  interval '1 day',   NULL,           interval '-2 days')) AS v(l, e, a, r);
INSERT INTO schemakit.verifications (identifier_hash, value, expires_at)
SELECT sha256(convert_to(l, 'UTF8')), l, now() + e
  FROM (VALUES ('live', interval '1 hour'), ('expired_old', interval '-2 days'),
               ('expired_new', interval '-1 hour')) AS v(l, e);
SELECT schemakit.purge_expired() AS purged_default;
SELECT 'invitations' AS tbl, split_part(email, '@', 1) AS kept FROM schemakit.invitations
UNION ALL
SELECT 'verifications', value FROM schemakit.verifications
ORDER BY 1, 2;
SELECT schemakit.purge_expired('0') AS purged_all_dead;
SELECT (SELECT count(*) FROM schemakit.invitations) AS invitations,
       (SELECT count(*) FROM schemakit.verifications) AS verifications;
ROLLBACK;

--------------------------------------------------------------------------
-- grant_app's grants in 1.5
--------------------------------------------------------------------------

CREATE ROLE regress_v15_app NOLOGIN;
SELECT schemakit.grant_app('regress_v15_app');
SELECT c.relname,
       has_table_privilege('regress_v15_app', c.oid, 'SELECT') AS sel,
       has_table_privilege('regress_v15_app', c.oid, 'INSERT') AS ins,
       has_table_privilege('regress_v15_app', c.oid, 'UPDATE') AS upd,
       has_table_privilege('regress_v15_app', c.oid, 'DELETE') AS del,
       has_table_privilege('regress_v15_app', c.oid, 'REFERENCES') AS refs,
       has_any_column_privilege('regress_v15_app', c.oid, 'SELECT') AS any_col_sel,
       has_any_column_privilege('regress_v15_app', c.oid, 'UPDATE') AS any_col_upd
  FROM pg_class c
 WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind = 'r'
 ORDER BY 1;
SELECT a.attname,
       has_column_privilege('regress_v15_app', a.attrelid, a.attnum, 'SELECT') AS sel,
       has_column_privilege('regress_v15_app', a.attrelid, a.attnum, 'UPDATE') AS upd
  FROM pg_attribute a
 WHERE a.attrelid IN ('schemakit.invitations'::regclass, 'schemakit.organizations'::regclass)
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid::regclass::text, a.attnum;
SELECT c.relname, has_sequence_privilege('regress_v15_app', c.oid, 'USAGE') AS usage
  FROM pg_class c
 WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind = 'S'
 ORDER BY 1;
SELECT p.proname, has_function_privilege('regress_v15_app', p.oid, 'EXECUTE') AS app_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace AND p.proname !~ '^_'
   AND p.prorettype <> 'trigger'::regtype
 ORDER BY 1;

-- As the app: the organization functions and member_role work.
GRANT USAGE ON SCHEMA regress TO regress_v15_app;
SET ROLE regress_v15_app;
SELECT schemakit.member_role(:acme, 1502) AS bob_role;
SELECT schemakit.invite_member(:acme, 'hal@v15.example', 'member', 1502) ~ '^[A-Za-z0-9_-]{43}$' AS invited;
SELECT count(*) AS open_invitations FROM schemakit.invitations
 WHERE organization_id = :acme AND accepted_at IS NULL AND revoked_at IS NULL;
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('read token_hash',   $$SELECT token_hash FROM schemakit.invitations$$),
    ('insert org',        $$INSERT INTO schemakit.organizations (slug, name) VALUES ('x', 'x')$$),
    ('write memberships', $$DELETE FROM schemakit.memberships$$),
    ('read sessions',     $$SELECT count(*) FROM schemakit.sessions$$),
    ('_lock_key',         $$SELECT schemakit._lock_key(1, 'x')$$)
  ) AS v(label, stmt);
RESET ROLE;

--------------------------------------------------------------------------
-- Internal helpers of 1.5 (not API; their argument errors)
--------------------------------------------------------------------------

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('_refuse',            $$SELECT schemakit._refuse('SKR99', 'refused', 'the detail', 'the hint')$$),
    ('_refuse no detail',  $$SELECT schemakit._refuse('22023', 'refused', NULL, NULL)$$),
    ('_refuse NULL state', $$SELECT schemakit._refuse(NULL, 'refused', NULL, NULL)$$),
    ('_refuse bad state',  $$SELECT schemakit._refuse('SKR', 'refused', NULL, NULL)$$),
    ('_lock_key 0',        $$SELECT schemakit._lock_key(0, 'x')$$),
    ('_lock_key 256',      $$SELECT schemakit._lock_key(256, 'x')$$),
    ('_lock_key 1',        $$SELECT schemakit._lock_key(1, 'x')$$),
    ('_ttl_expiry',        $$SELECT schemakit._ttl_expiry('1 day', '1 hour', 'thing')$$),
    ('_ttl_expiry NULL',   $$SELECT schemakit._ttl_expiry(NULL, '1 hour', 'thing')$$),
    ('_ttl_expiry ok',     $$SELECT schemakit._ttl_expiry('1 hour', '1 hour', 'thing') = now() + interval '1 hour'$$),
    ('_purge_cutoff',      $$SELECT schemakit._purge_cutoff('2 days', '1 day')$$),
    ('_purge_cutoff ok',   $$SELECT schemakit._purge_cutoff('1 day', '1 day') = now() - interval '1 day'$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- A downgrade to 1.4 is refused while 1.5 data exists.
--------------------------------------------------------------------------

SELECT regress.err($$ALTER EXTENSION schemakit UPDATE TO '1.4'$$, with_detail => false) AS downgrade;
SELECT extversion FROM pg_extension WHERE extname = 'schemakit';

--------------------------------------------------------------------------
-- Clean up.
--------------------------------------------------------------------------

DELETE FROM schemakit.organizations WHERE id = :acme;
DELETE FROM schemakit.users WHERE id BETWEEN 1501 AND 1506;
DELETE FROM schemakit.email_codes WHERE email_key LIKE '%@v15.example';
SELECT (SELECT count(*) FROM schemakit.organizations) AS organizations,
       (SELECT count(*) FROM schemakit.memberships) AS memberships,
       (SELECT count(*) FROM schemakit.invitations) AS invitations,
       (SELECT count(*) FROM schemakit.sessions) AS sessions,
       (SELECT count(*) FROM schemakit.oauth_accounts) AS oauth_accounts,
       (SELECT count(*) FROM schemakit.files) AS files,
       (SELECT count(*) FROM schemakit.email_codes WHERE email_key LIKE '%@v15.example') AS codes;
DROP OWNED BY regress_v15_app;
DROP ROLE regress_v15_app;
