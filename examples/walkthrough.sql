-- examples/walkthrough.sql - a realistic session with schemakit, narrated.
-- Run it with examples/walkthrough.sh (it starts a throwaway cluster).
\pset footer off
\set VERBOSITY default
\echo '== CREATE EXTENSION schemakit'
CREATE EXTENSION schemakit;
SELECT extname, extversion FROM pg_extension WHERE extname = 'schemakit';
\echo '   The database records its own version chain:'
SELECT version FROM schemakit.migrations ORDER BY version;

\echo
\echo '== A user signs up (username and email are unique case-insensitively)'
INSERT INTO schemakit.users (username, email, display_name)
VALUES ('ada', 'Ada@Example.com', 'Ada Lovelace')
RETURNING id, username, email;
\echo '   Another sign-up with the same email in other case is refused (23505):'
\set ON_ERROR_STOP 0
INSERT INTO schemakit.users (username, email) VALUES ('ada2', 'ada@example.COM');
\set ON_ERROR_STOP 1
\echo '   Addresses compare under email_key(): ASCII case folded, every other byte exact, in any locale.'
\echo '   A look-alike (here with U+0130, capital I with dot) is another address, not Ada''s:'
SELECT schemakit.email_key('Ada@Example.com') AS ada_key,
       schemakit.email_key('Ada@Example.com') = schemakit.email_key(E'Ada@Example.co\u0130') AS lookalike_is_ada;

\echo
\echo '== She shares a snippet: the internal id stays private, public_id goes in the URL'
INSERT INTO schemakit.snippets (owner_id, title, body, language, is_public)
VALUES (1, 'Note G', 'for n in range(1, 8): print(bernoulli(n))', 'python', true)
RETURNING public_id AS public_id \gset
SELECT :'public_id' AS public_id, 'https://example.com/s/' || :'public_id' AS share_url;
\echo '   Three visitors open the link:'
SELECT schemakit.record_snippet_view(:'public_id') AS views;
SELECT schemakit.record_snippet_view(:'public_id') AS views;
SELECT schemakit.record_snippet_view(:'public_id') AS views;
\echo '   Her snippets, newest first (served by snippets_owner_created_idx):'
SELECT public_id, title, view_count FROM schemakit.snippets WHERE owner_id = 1 ORDER BY created_at DESC, id DESC;

\echo
\echo '== Email login: issue a 6-digit code (mail it; only its hash is stored)'
SELECT schemakit.issue_email_code('ADA@example.com') AS code \gset
\echo '   The code to mail:' :code
SELECT email, encode(code_hash, 'hex') AS stored_hash, expires_at - created_at AS ttl, user_id
  FROM schemakit.email_codes;
\echo '   A wrong guess, the right code, then the right code again (single use):'
SELECT schemakit.verify_email_code('ada@example.com', '000000') AS wrong_guess;
SELECT schemakit.verify_email_code('ada@example.com', :'code') AS right_code;
SELECT schemakit.verify_email_code('ada@example.com', :'code') AS replayed;

\echo
\echo '== Sign-in with GitHub links an OAuth account (idempotent)'
SELECT schemakit.link_oauth_account(1, 'github', '583231', 'ada@example.com', 'Ada') AS link_id;
SELECT schemakit.link_oauth_account(1, 'github', '583231') AS same_link_id;
SELECT schemakit.oauth_user_id('github', '583231') AS user_id;

\echo
\echo '== She forgot her password: a single-use reset token (256 bits, hash stored)'
SELECT schemakit.issue_password_reset_token(1) AS reset_token \gset
SELECT length(:'reset_token') AS token_length;
SELECT schemakit.consume_password_reset_token(:'reset_token') AS user_id_first_use;
SELECT schemakit.consume_password_reset_token(:'reset_token') AS second_use;

\echo
\echo '== Sessions: the cookie holds the token, the table only its hash'
SELECT schemakit.issue_session(1, '30 days', '203.0.113.7', 'Mozilla/5.0') AS session_token \gset
SELECT schemakit.session_user_id(:'session_token') AS who_is_this;
\echo '   After the password reset, log out everywhere:'
SELECT schemakit.revoke_user_sessions(1) AS revoked;
SELECT schemakit.session_user_id(:'session_token') AS who_is_this_now;

\echo
\echo '== File metadata with a UUIDv7 stored name (time-ordered)'
INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
VALUES (1, 'portrait.png', 'image/png', 48213)
RETURNING filename, schemakit.uuidv7_time(filename::uuid) AS created;

\echo
\echo '== The primitives'
SELECT schemakit.public_id() AS public_id,
       schemakit.public_id(8, '0123456789abcdef') AS hex8,
       schemakit.random_code(8) AS code8,
       schemakit.random_token(16) AS token16,
       schemakit.uuidv7() AS uuidv7;
\echo '   Bad input is an error with a SQLSTATE (here 22023):'
\set ON_ERROR_STOP 0
\set VERBOSITY verbose
SELECT schemakit.public_id(0);
SELECT schemakit.public_id(5, 'aa');
\set VERBOSITY default
\set ON_ERROR_STOP 1

\echo
\echo '== Least privilege: the app connects as a role that can log users in but never read a secret'
CREATE ROLE walkthrough_app;
SELECT schemakit.grant_app('walkthrough_app');
SET ROLE walkthrough_app;
SELECT schemakit.issue_email_code('ada@example.com') AS app_code \gset
SELECT schemakit.verify_email_code('ada@example.com', :'app_code') AS app_verified;
\echo '   Reading the code table as the app role is refused (42501):'
\set ON_ERROR_STOP 0
SELECT count(*) FROM schemakit.email_codes;
\set ON_ERROR_STOP 1
RESET ROLE;

\echo
\echo '== Housekeeping: purge what died more than a day ago (schedule it with pg_cron)'
SELECT schemakit.purge_expired() AS purged_now;
\echo
\echo 'Done. The cluster is thrown away when this script ends.'
