#!/usr/bin/env bash
# Bad input to every public function: a table-driven catalog.  Each row runs
# in its own session and states the SQLSTATE it must raise, or 00000 and the
# exact result it must print (psql -A -t, NULL printed as "(null)").  For an
# error row the expected column is "-" or a piece of text the error (message
# or detail) must contain.  Nothing may crash the server: a sentinel session
# opened before the catalog must still be there afterwards, and neither the
# postmaster nor the checkpointer may have restarted.  Injection-shaped input
# goes through literals and through PREPARE/EXECUTE parameters; afterwards
# every table is still there and the users are untouched.
#
# Row format:   SQLSTATE @@ EXPECTED @@ SQL
#   SQL may hold several statements, one per line; " ⏎ " separates lines
#   (a line gets its ";" added unless it ends with a psql \g or \gset).
#
# SK_VERSION installs that extension version instead of the default;
# SK_BAD_INPUT_REPORT=FILE writes every row's observed SQLSTATE and message.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_bad_input
REPORT=${SK_BAD_INPUT_REPORT:-/dev/null}
: >"$REPORT"

ROLE='sk_bad_input; DROP TABLE schemakit.users; --'     # created by a catalog row
fresh_db "$DB" "${SK_VERSION:-}"
sql postgres -c "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
VERSION=$(sql "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")
echo "# schemakit $VERSION"

# Known rows the catalog refers to: users 1 (ada) and 2 (bob), a snippet
# with public_id 'known-snippet'.
sql "$DB" >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email) VALUES ('ada', 'ada@example.com'), ('bob', 'bob@example.com');
INSERT INTO schemakit.snippets (owner_id, public_id, title, body) VALUES (1, 'known-snippet', 't', 'b');
SQL
is "$(sql "$DB" -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM schemakit.users")" "1,2" "setup: users 1 and 2"

# ----------------------------------------------------------------------------
# The catalog.  Lines starting with # are comments.
# ----------------------------------------------------------------------------
read -r -d '' CATALOG <<'ROWS'
# --- public_id(size integer = 10, alphabet text) — C, STRICT ---------------
00000 @@ (null) @@ SELECT schemakit.public_id(NULL)
00000 @@ (null) @@ SELECT schemakit.public_id(10, NULL)
00000 @@ (null) @@ SELECT schemakit.public_id(NULL, NULL)
22023 @@ public_id size must be between 1 and 1024 @@ SELECT schemakit.public_id(0)
22023 @@ The size given was -1. @@ SELECT schemakit.public_id(-1)
22023 @@ The size given was 1025. @@ SELECT schemakit.public_id(1025)
22023 @@ The size given was 2147483647. @@ SELECT schemakit.public_id(2147483647)
22023 @@ The size given was -2147483648. @@ SELECT schemakit.public_id(-2147483648)
42883 @@ - @@ SELECT schemakit.public_id(2147483648)
22P02 @@ - @@ SELECT schemakit.public_id('ten')
42883 @@ - @@ SELECT schemakit.public_id(1, 'ab', 3)
00000 @@ 1 @@ SELECT char_length(schemakit.public_id(1))
00000 @@ 1024 @@ SELECT char_length(schemakit.public_id(1024))
22023 @@ The alphabet has 0. @@ SELECT schemakit.public_id(5, '')
22023 @@ The alphabet has 1. @@ SELECT schemakit.public_id(5, 'a')
22023 @@ The alphabet has 1. @@ SELECT schemakit.public_id(5, 'α')
22023 @@ Symbol "a" at position 2 appears earlier. @@ SELECT schemakit.public_id(5, 'aa')
22023 @@ Symbol "a" at position 4 appears earlier. @@ SELECT schemakit.public_id(5, 'abca')
22023 @@ Symbol "α" at position 3 appears earlier. @@ SELECT schemakit.public_id(5, 'αβα')
22023 @@ Symbol "😀" at position 3 appears earlier. @@ SELECT schemakit.public_id(5, '😀😁😀')
# A single-byte repeat after a multibyte symbol, in a session whose cached
# alphabet parse held 4-byte symbols: the detail printed stale bytes
# ("a\333U") before 38e3541; it must name just the repeated symbol.
22023 @@ Symbol "a" at position 3 appears earlier. @@ SELECT char_length(schemakit.public_id(3, (SELECT string_agg(chr(c), '') FROM generate_series(128512, 128767) c))) ⏎ SELECT schemakit.public_id(3, 'aβa')
22023 @@ at most 256 symbols @@ SELECT schemakit.public_id(5, (SELECT string_agg(chr(c), '') FROM generate_series(33, 289) c))
22023 @@ at most 256 symbols @@ SELECT schemakit.public_id(5, repeat('x', 1048576))
22023 @@ at most 256 symbols @@ SELECT schemakit.public_id(5, repeat('αβγ', 174763))
22023 @@ must not repeat a symbol @@ SELECT schemakit.public_id(5, '''; DROP TABLE schemakit.users; --')
00000 @@ 1024 @@ SELECT char_length(schemakit.public_id(1024, (SELECT string_agg(chr(c), '') FROM generate_series(33, 288) c)))
00000 @@ 1024 @@ SELECT char_length(schemakit.public_id(1024, (SELECT string_agg(chr(c), '') FROM generate_series(128512, 128767) c)))
00000 @@ t @@ SELECT schemakit.public_id(8, 'αβ') ~ '^[αβ]{8}$'
00000 @@ t @@ SELECT schemakit.public_id(8, '😀😁') ~ '^(😀|😁){8}$'
00000 @@ t @@ SELECT schemakit.public_id(12, 'aαβ😀') ~ '^(a|α|β|😀){12}$'
00000 @@ t @@ SELECT schemakit.public_id(16, '$%') ~ '^[$%]{16}$'
# --- random_code(digits integer = 6) — C, STRICT ----------------------------
00000 @@ (null) @@ SELECT schemakit.random_code(NULL)
22023 @@ The number of digits given was 0. @@ SELECT schemakit.random_code(0)
22023 @@ The number of digits given was 13. @@ SELECT schemakit.random_code(13)
22023 @@ The number of digits given was -2147483648. @@ SELECT schemakit.random_code(-2147483648)
22023 @@ The number of digits given was 2147483647. @@ SELECT schemakit.random_code(2147483647)
00000 @@ t @@ SELECT schemakit.random_code(1) ~ '^[0-9]$'
00000 @@ t @@ SELECT schemakit.random_code(12) ~ '^[0-9]{12}$'
22P02 @@ - @@ SELECT schemakit.random_code('six')
42883 @@ - @@ SELECT schemakit.random_code(6, 7)
# --- random_token(nbytes integer = 32) — C, STRICT --------------------------
00000 @@ (null) @@ SELECT schemakit.random_token(NULL)
22023 @@ The number of bytes given was 15. @@ SELECT schemakit.random_token(15)
22023 @@ The number of bytes given was 1025. @@ SELECT schemakit.random_token(1025)
22023 @@ The number of bytes given was 0. @@ SELECT schemakit.random_token(0)
22023 @@ The number of bytes given was 2147483647. @@ SELECT schemakit.random_token(2147483647)
22023 @@ The number of bytes given was -2147483648. @@ SELECT schemakit.random_token(-2147483648)
00000 @@ 22 @@ SELECT char_length(schemakit.random_token(16))
00000 @@ t @@ SELECT t ~ '^[A-Za-z0-9_-]+$' AND char_length(t) = 1366 FROM (SELECT schemakit.random_token(1024) AS t) s
42883 @@ - @@ SELECT schemakit.random_token(32, 1)
# --- uuidv7() and uuidv7_time(id uuid) — C, STRICT --------------------------
42883 @@ - @@ SELECT schemakit.uuidv7(1)
00000 @@ (null) @@ SELECT schemakit.uuidv7_time(NULL)
22P02 @@ - @@ SELECT schemakit.uuidv7_time('not-a-uuid')
42883 @@ - @@ SELECT schemakit.uuidv7_time(42)
42883 @@ - @@ SELECT schemakit.uuidv7_time(schemakit.uuidv7(), 1)
22023 @@ Its version field is 4. @@ SELECT schemakit.uuidv7_time('8f4c2a59-3b1e-4c7d-9a2f-1e5b6c7d8e9f')
22023 @@ Its version field is 0. @@ SELECT schemakit.uuidv7_time('00000000-0000-0000-0000-000000000000')
22023 @@ Its version field is 15. @@ SELECT schemakit.uuidv7_time('ffffffff-ffff-ffff-ffff-ffffffffffff')
# Version 7 with a non-RFC variant: the detail names the variant.
22023 @@ Its variant bits are not those of RFC 9562. @@ SELECT schemakit.uuidv7_time('00000000-0000-7000-0000-000000000000')
00000 @@ 1970-01-01 00:00:00+00 @@ SELECT schemakit.uuidv7_time('00000000-0000-7000-8000-000000000000')
00000 @@ 10889-08-02 05:31:50.655+00 @@ SELECT schemakit.uuidv7_time('ffffffff-ffff-7fff-bfff-ffffffffffff')
# --- record_snippet_view(public_id text) — STRICT ---------------------------
00000 @@ (null) @@ SELECT schemakit.record_snippet_view(NULL)
00000 @@ (null) @@ SELECT schemakit.record_snippet_view('')
00000 @@ (null) @@ SELECT schemakit.record_snippet_view(repeat('x', 1048576))
00000 @@ (null) @@ SELECT schemakit.record_snippet_view('''; DROP TABLE schemakit.users; --')
00000 @@ (null) @@ PREPARE q(text) AS SELECT schemakit.record_snippet_view($1) ⏎ EXECUTE q('known-snippet''; DROP TABLE schemakit.snippets; --')
00000 @@ (null) @@ SELECT schemakit.record_snippet_view('%s %n %x %%')
00000 @@ 1 @@ SELECT schemakit.record_snippet_view('known-snippet')
42883 @@ - @@ SELECT schemakit.record_snippet_view('a', 'b')
# --- issue_email_code(email text, ttl interval = '10 minutes') --------------
22004 @@ must not be NULL @@ SELECT schemakit.issue_email_code(NULL)
22004 @@ must not be NULL @@ SELECT schemakit.issue_email_code('ttl-null@example.com', NULL)
22004 @@ must not be NULL @@ SELECT schemakit.issue_email_code(NULL, NULL)
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code('')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code('@')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code('no-at-sign.example.com')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code('a b@example.com')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code(E'tab\t@example.com')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code(E'nl@example.com\n')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code('a@b@example.com')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code(repeat('a', 244) || '@example.com')
00000 @@ t @@ SELECT schemakit.issue_email_code(repeat('b', 243) || '@example.com') ~ '^[0-9]{6}$'
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code(repeat('x', 1048576) || '@example.com')
22023 @@ invalid email address @@ SELECT schemakit.issue_email_code('''; DROP TABLE schemakit.users; --')
22023 @@ invalid email address @@ PREPARE q(text) AS SELECT schemakit.issue_email_code($1) ⏎ EXECUTE q('x@example.com''; DROP TABLE schemakit.users; --')
00000 @@ t @@ PREPARE q(text) AS SELECT schemakit.issue_email_code($1) ~ '^[0-9]{6}$' ⏎ EXECUTE q('%s%n$$--''@example.com')
00000 @@ t @@ SELECT schemakit.issue_email_code('ünïcødé@例え.jp') ~ '^[0-9]{6}$'
22023 @@ The ttl given was 00:00:00. @@ SELECT schemakit.issue_email_code('ttl0@example.com', '0')
22023 @@ The ttl given was -00:01:00. @@ SELECT schemakit.issue_email_code('ttl-neg@example.com', '-1 minute')
22023 @@ The ttl given was 100 years. @@ SELECT schemakit.issue_email_code('ttl-100y@example.com', '100 years')
22023 @@ The ttl given was 24:00:00.000001. @@ SELECT schemakit.issue_email_code('ttl-1d1us@example.com', '24:00:00.000001')
22023 @@ The ttl given was 1 mon. @@ SELECT schemakit.issue_email_code('ttl-1mon@example.com', '1 mon')
22023 @@ - @@ SELECT schemakit.issue_email_code('ttl-huge@example.com', '178000000 years')
# PostgreSQL 15 has no infinite interval: the literal fails before the call.
22007 @@ - @@ SELECT schemakit.issue_email_code('ttl-inf@example.com', 'infinity')
00000 @@ t @@ SELECT schemakit.issue_email_code('ttl-1d@example.com', '1 day') ~ '^[0-9]{6}$'
42883 @@ - @@ SELECT schemakit.issue_email_code('x@example.com', '1 hour', 1)
# --- verify_email_code(email text, code text): false, never an error -------
00000 @@ f @@ SELECT schemakit.verify_email_code(NULL, '123456')
00000 @@ f @@ SELECT schemakit.verify_email_code('ada@example.com', NULL)
00000 @@ f @@ SELECT schemakit.verify_email_code(NULL, NULL)
00000 @@ f @@ SELECT schemakit.verify_email_code('', '')
00000 @@ f @@ SELECT schemakit.verify_email_code('@', '123456')
00000 @@ f @@ SELECT schemakit.verify_email_code(repeat('x', 1048576), '123456')
00000 @@ f @@ SELECT schemakit.verify_email_code('ttl-1d@example.com', repeat('1', 1048576))
00000 @@ f @@ SELECT schemakit.verify_email_code(repeat('x', 1048576), repeat('1', 1048576))
00000 @@ f @@ SELECT schemakit.verify_email_code('''; DROP TABLE schemakit.users; --', '$$')
00000 @@ f @@ SELECT schemakit.verify_email_code($x$'; DROP TABLE schemakit.email_codes; --$x$, $x$' OR '1'='1$x$)
00000 @@ f @@ PREPARE q(text, text) AS SELECT schemakit.verify_email_code($1, $2) ⏎ EXECUTE q('ttl-1d@example.com''; DROP TABLE schemakit.users; --', ''' OR ''1''=''1')
00000 @@ f @@ SELECT schemakit.verify_email_code('ttl-1d@example.com', E'\\x00')
00000 @@ f @@ SELECT schemakit.verify_email_code('%s %n %x@example.com', '%s%n')
# A NUL byte cannot reach the function: the server refuses it in the literal.
22021 @@ - @@ SELECT schemakit.verify_email_code('ttl-1d@example.com', E'\x00')
42883 @@ - @@ SELECT schemakit.verify_email_code('ada@example.com')
42883 @@ - @@ SELECT schemakit.verify_email_code('ada@example.com', '123456', 'x')
# --- link_oauth_account(user_id, provider, provider_id, email, display_name)
22004 @@ must not be NULL @@ SELECT schemakit.link_oauth_account(1, NULL, 'x')
22004 @@ must not be NULL @@ SELECT schemakit.link_oauth_account(1, 'github', NULL)
22004 @@ user_id must not be NULL @@ SELECT schemakit.link_oauth_account(NULL, 'github', 'x')
22023 @@ provider must have 1 to 50 characters @@ SELECT schemakit.link_oauth_account(1, '', 'x')
22023 @@ provider must have 1 to 50 characters @@ SELECT schemakit.link_oauth_account(1, repeat('p', 51), 'x')
22023 @@ provider_id 1 to 255 @@ SELECT schemakit.link_oauth_account(1, 'github', '')
22023 @@ provider_id 1 to 255 @@ SELECT schemakit.link_oauth_account(1, 'github', repeat('i', 256))
22023 @@ provider_id 1 to 255 @@ SELECT schemakit.link_oauth_account(1, 'github', repeat('i', 1048576))
22023 @@ invalid email address @@ SELECT schemakit.link_oauth_account(1, 'github', 'x', 'not-an-email')
22023 @@ invalid email address @@ SELECT schemakit.link_oauth_account(1, 'github', 'x', repeat('e', 244) || '@example.com')
22023 @@ invalid email address @@ SELECT schemakit.link_oauth_account(1, 'github', 'x', repeat('e', 1048576))
23503 @@ user 999999 does not exist @@ SELECT schemakit.link_oauth_account(999999, 'github', 'x')
23503 @@ user -1 does not exist @@ SELECT schemakit.link_oauth_account(-1, 'github', 'x')
22023 @@ display_name must have at most 255 characters @@ SELECT schemakit.link_oauth_account(1, 'github', 'long-name', NULL, repeat('d', 256))
22023 @@ display_name must have at most 255 characters @@ SELECT schemakit.link_oauth_account(1, 'github', 'long-name', NULL, repeat('d', 1048576))
00000 @@ t @@ PREPARE q(bigint, text, text) AS SELECT schemakit.link_oauth_account($1, $2, $3) IS NOT NULL ⏎ EXECUTE q(1, '''; DROP TABLE schemakit.users; --', '$$ %s %n')
23505 @@ already linked to another user @@ PREPARE q(bigint, text, text) AS SELECT schemakit.link_oauth_account($1, $2, $3) ⏎ EXECUTE q(2, '''; DROP TABLE schemakit.users; --', '$$ %s %n')
42883 @@ - @@ SELECT schemakit.link_oauth_account(1, 'github')
22P02 @@ - @@ SELECT schemakit.link_oauth_account('one', 'github', 'x')
# --- oauth_user_id(provider text, provider_id text) — STRICT ----------------
00000 @@ (null) @@ SELECT schemakit.oauth_user_id(NULL, 'x')
00000 @@ (null) @@ SELECT schemakit.oauth_user_id('github', NULL)
00000 @@ (null) @@ SELECT schemakit.oauth_user_id('', '')
00000 @@ (null) @@ SELECT schemakit.oauth_user_id(repeat('p', 1048576), repeat('i', 1048576))
00000 @@ (null) @@ SELECT schemakit.oauth_user_id('github', ''' OR ''1''=''1')
00000 @@ 1 @@ PREPARE q(text, text) AS SELECT schemakit.oauth_user_id($1, $2) ⏎ EXECUTE q('''; DROP TABLE schemakit.users; --', '$$ %s %n')
42883 @@ - @@ SELECT schemakit.oauth_user_id('github')
# --- issue_password_reset_token(user_id bigint, ttl interval = '1 hour') ----
22004 @@ user_id must not be NULL @@ SELECT schemakit.issue_password_reset_token(NULL)
22004 @@ ttl must not be NULL @@ SELECT schemakit.issue_password_reset_token(1, NULL)
23503 @@ user 999999 does not exist @@ SELECT schemakit.issue_password_reset_token(999999)
23503 @@ user 0 does not exist @@ SELECT schemakit.issue_password_reset_token(0)
23503 @@ user 9223372036854775807 does not exist @@ SELECT schemakit.issue_password_reset_token(9223372036854775807)
42883 @@ - @@ SELECT schemakit.issue_password_reset_token(9223372036854775808)
22P02 @@ - @@ SELECT schemakit.issue_password_reset_token('abc')
22023 @@ The ttl given was 00:00:00. @@ SELECT schemakit.issue_password_reset_token(1, '0')
22023 @@ The ttl given was -01:00:00. @@ SELECT schemakit.issue_password_reset_token(1, '-1 hour')
22023 @@ The ttl given was 7 days 00:00:01. @@ SELECT schemakit.issue_password_reset_token(1, '7 days 1 second')
22023 @@ The ttl given was 100 years. @@ SELECT schemakit.issue_password_reset_token(1, '100 years')
00000 @@ 43 @@ SELECT char_length(schemakit.issue_password_reset_token(1, '7 days'))
42883 @@ - @@ SELECT schemakit.issue_password_reset_token(1, '1 hour', 1)
# --- consume_password_reset_token(token text): NULL, never an error --------
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token(NULL)
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token('')
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token(repeat('x', 1400))
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token(repeat('x', 1401))
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token(repeat('é', 701))
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token(repeat('x', 1048576))
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token('''; DROP TABLE schemakit.users; --')
00000 @@ (null) @@ PREPARE q(text) AS SELECT schemakit.consume_password_reset_token($1) ⏎ EXECUTE q(''' OR ''1''=''1'' --')
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token('%s %n %x')
00000 @@ (null) @@ SELECT schemakit.consume_password_reset_token(E'\\x00')
42883 @@ - @@ SELECT schemakit.consume_password_reset_token('a', 'b')
# --- issue_session(user_id, ttl = '30 days', ip_address inet, user_agent) ---
22004 @@ user_id must not be NULL @@ SELECT schemakit.issue_session(NULL)
22004 @@ session ttl must not be NULL @@ SELECT schemakit.issue_session(1, NULL)
23503 @@ user 999999 does not exist @@ SELECT schemakit.issue_session(999999)
22023 @@ The ttl given was 00:00:00. @@ SELECT schemakit.issue_session(1, '0')
22023 @@ The ttl given was -1 days. @@ SELECT schemakit.issue_session(1, '-1 day')
22023 @@ The ttl given was 366 days 00:00:01. @@ SELECT schemakit.issue_session(1, '366 days 1 second')
22023 @@ The ttl given was 100 years. @@ SELECT schemakit.issue_session(1, '100 years')
22P02 @@ - @@ SELECT schemakit.issue_session(1, '1 day', 'not-an-ip')
22P02 @@ - @@ SELECT schemakit.issue_session(1, '1 day', '''; DROP TABLE schemakit.users; --')
00000 @@ 43 @@ SELECT char_length(schemakit.issue_session(1, '1 year'))
00000 @@ 43 @@ SELECT char_length(schemakit.issue_session(1, '366 days'))
# Months count as calendar months: 12 months and 6 days end about 371 days out.
22023 @@ The ttl given was 1 year 6 days. @@ SELECT schemakit.issue_session(1, '12 mons 6 days')
00000 @@ 43 @@ SELECT char_length(schemakit.issue_session(1, '12 mons'))
# A huge User-Agent does not fail the login: stored cut to 512 characters.
00000 @@ 43|512 @@ SELECT char_length(schemakit.issue_session(1, '1 day', NULL, repeat('u', 1048576))) AS toklen \gset ⏎ SELECT :toklen, char_length(user_agent) FROM schemakit.sessions ORDER BY id DESC LIMIT 1
00000 @@ 43|'; DROP TABLE schemakit.users; -- %s %n $$ @@ PREPARE q(bigint, text) AS SELECT char_length(schemakit.issue_session($1, '1 day', '::1', $2)) AS toklen ⏎ EXECUTE q(1, '''; DROP TABLE schemakit.users; -- %s %n $$') \gset ⏎ SELECT :toklen, user_agent FROM schemakit.sessions ORDER BY id DESC LIMIT 1
42883 @@ - @@ SELECT schemakit.issue_session(1, '1 day', '192.0.2.1', 'ua', 'extra')
# --- session_user_id(token text): NULL, never an error ----------------------
00000 @@ (null) @@ SELECT schemakit.session_user_id(NULL)
00000 @@ (null) @@ SELECT schemakit.session_user_id('')
00000 @@ (null) @@ SELECT schemakit.session_user_id(repeat('x', 1400))
00000 @@ (null) @@ SELECT schemakit.session_user_id(repeat('x', 1401))
00000 @@ (null) @@ SELECT schemakit.session_user_id(repeat('x', 1048576))
00000 @@ (null) @@ PREPARE q(text) AS SELECT schemakit.session_user_id($1) ⏎ EXECUTE q(''' OR 1=1; DROP TABLE schemakit.sessions; --')
00000 @@ (null) @@ SELECT schemakit.session_user_id('%s %n')
# --- revoke_session(token text): false, never an error ----------------------
00000 @@ f @@ SELECT schemakit.revoke_session(NULL)
00000 @@ f @@ SELECT schemakit.revoke_session('')
00000 @@ f @@ SELECT schemakit.revoke_session(repeat('x', 1401))
00000 @@ f @@ SELECT schemakit.revoke_session(repeat('x', 1048576))
00000 @@ f @@ SELECT schemakit.revoke_session('''; DROP TABLE schemakit.users; --')
00000 @@ f @@ PREPARE q(text) AS SELECT schemakit.revoke_session($1) ⏎ EXECUTE q(''' OR ''1''=''1')
42883 @@ - @@ SELECT schemakit.revoke_session()
# --- revoke_user_sessions(user_id bigint) — STRICT --------------------------
00000 @@ (null) @@ SELECT schemakit.revoke_user_sessions(NULL)
00000 @@ 0 @@ SELECT schemakit.revoke_user_sessions(999999)
00000 @@ 0 @@ SELECT schemakit.revoke_user_sessions(-1)
22P02 @@ - @@ SELECT schemakit.revoke_user_sessions('x')
22P02 @@ - @@ SELECT schemakit.revoke_user_sessions('1; DROP TABLE schemakit.users')
42883 @@ - @@ SELECT schemakit.revoke_user_sessions(1, 2)
# --- purge_expired(older_than interval = '1 day') ---------------------------
22004 @@ older_than must not be NULL @@ SELECT schemakit.purge_expired(NULL)
22023 @@ The interval given was -1 days. @@ SELECT schemakit.purge_expired('-1 day')
22023 @@ The interval given was -00:00:00.000001. @@ SELECT schemakit.purge_expired('-1 microsecond')
00000 @@ 0 @@ SELECT schemakit.purge_expired('100 years')
22023 @@ older_than must be between 0 and 100 years @@ SELECT schemakit.purge_expired('1000 years')
22023 @@ older_than must be between 0 and 100 years @@ SELECT schemakit.purge_expired('1000000 years')
22023 @@ older_than must be between 0 and 100 years @@ SELECT schemakit.purge_expired('178000000 years')
22007 @@ - @@ SELECT schemakit.purge_expired('infinity')
22007 @@ - @@ SELECT schemakit.purge_expired('1 day''; DROP TABLE schemakit.users; --')
42883 @@ - @@ SELECT schemakit.purge_expired(1)
00000 @@ t @@ SELECT schemakit.purge_expired('0') >= 0
ROWS

# Rows for functions that only newer versions have.
read -r -d '' CATALOG_13 <<'ROWS'
# --- grant_app(app regrole) -------------------------------------------------
22004 @@ grant_app role must not be NULL @@ SELECT schemakit.grant_app(NULL)
42704 @@ role "no_such_role_sk" does not exist @@ SELECT schemakit.grant_app('no_such_role_sk')
42704 @@ role "public" does not exist @@ SELECT schemakit.grant_app('public')
42602 @@ invalid name syntax @@ SELECT schemakit.grant_app('x; DROP TABLE schemakit.users; --')
42883 @@ - @@ SELECT schemakit.grant_app()
# A regrole that names no role (0, or a dangling OID) is refused up front.
42704 @@ role with OID 0 does not exist @@ SELECT schemakit.grant_app(0::regrole)
42704 @@ role with OID 4294967295 does not exist @@ SELECT schemakit.grant_app(4294967295::oid::regrole)
# A role whose name is an injection string is quoted, and granted exactly.
00000 @@ t|f @@ CREATE ROLE "sk_bad_input; DROP TABLE schemakit.users; --" ⏎ SELECT schemakit.grant_app('"sk_bad_input; DROP TABLE schemakit.users; --"') \g /dev/null ⏎ SELECT has_function_privilege(r.oid, 'schemakit.verify_email_code(text, text)', 'EXECUTE'), has_table_privilege(r.oid, 'schemakit.sessions', 'SELECT') FROM pg_roles r WHERE r.rolname = 'sk_bad_input; DROP TABLE schemakit.users; --'
# --- issuance and verification limits ---------------------------------------
SKR01 @@ too many email codes issued for this address @@ DO $$ BEGIN FOR i IN 1..5 LOOP PERFORM schemakit.issue_email_code('issue-limit@example.com'); END LOOP; END $$ ⏎ SELECT schemakit.issue_email_code('ISSUE-LIMIT@example.com')
SKR02 @@ too many failed code verifications for this address @@ DO $$ BEGIN FOR i IN 1..2 LOOP PERFORM schemakit.issue_email_code('verify-limit@example.com'); FOR j IN 1..5 LOOP PERFORM schemakit.verify_email_code('verify-limit@example.com', 'nope'); END LOOP; END LOOP; END $$ ⏎ SELECT schemakit.verify_email_code('Verify-Limit@example.com', '000000')
00000 @@ f @@ SELECT schemakit.verify_email_code('verify-limit@example.com', NULL)
ROWS
if [ "$(printf '%s\n' "$VERSION" 1.3 | sort -V | head -n1)" = 1.3 ]; then
    CATALOG+=$'\n'$CATALOG_13
fi

# ----------------------------------------------------------------------------
# Crash detectors, taken before the catalog.
# ----------------------------------------------------------------------------
# pg_postmaster_start_time() alone misses a backend crash: the postmaster
# survives it and reinitialises, restarting the checkpointer among others.
postmaster_start() { sql "$DB" -c "SELECT pg_postmaster_start_time()"; }
checkpointer_start() { sql "$DB" -c "SELECT backend_start FROM pg_stat_activity WHERE backend_type = 'checkpointer'"; }
tables() {
    sql "$DB" -c "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
                   WHERE relnamespace = 'schemakit'::regnamespace AND relkind = 'r'"
}
users() { sql "$DB" -c "SELECT string_agg(id || ':' || username || ':' || coalesce(email, '-'), ',' ORDER BY id) FROM schemakit.users"; }
before_postmaster=$(postmaster_start)
before_checkpointer=$(checkpointer_start)
before_tables=$(tables)
before_users=$(users)
echo "# before: postmaster started $before_postmaster, checkpointer $before_checkpointer"

# A session that lives through the whole catalog: a crashing backend would
# take it down with every other one.
PGAPPNAME=sk_bad_input_sentinel psql -X -q -d "$DB" -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
sentinel=$!
for _ in $(seq 100); do
    [ "$(sql "$DB" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sk_bad_input_sentinel' AND state = 'active'")" = 1 ] && break
    sleep 0.05
done

# ----------------------------------------------------------------------------
# Run the catalog.
# ----------------------------------------------------------------------------
tried=0
while IFS= read -r line; do
    case "$line" in ''|\#*) continue;; esac
    want_state=${line%% @@ *}
    rest=${line#* @@ }
    want=${rest%% @@ *}
    query=${rest#* @@ }
    query=${query// ⏎ /$'\n'}
    # every line is a statement: end it with ";" unless it ends in a meta-command
    query=$(printf '%s\n' "$query" | sed -E '/\\g|;$/! s/$/;/')
    fn=$(printf '%s\n' "$query" | grep -o 'schemakit\.[a-z][a-z0-9_]*(' | head -n1 | sed 's/^schemakit\.//; s/($//')
    tried=$((tried + 1))

    errfile=$(mktemp)
    got=$(printf '%s\n' "$query" | PGTZ=UTC psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
              -P null='(null)' -d "$DB" 2>"$errfile")
    rc=$?
    err=$(cat "$errfile"); rm -f "$errfile"
    if [ "$rc" -eq 0 ]; then
        state=00000
    else
        state=$(printf '%s\n' "$err" | sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\): .*$/\1/p' | head -n1)
        [ -n "$state" ] || state="none(psql exit $rc)"
    fi
    msg=$(printf '%s\n' "$err" | sed -n 's/^.*\(ERROR\|FATAL\|PANIC\):  [0-9A-Z]\{5\}: //p' | head -n1)
    detail=$(printf '%s\n' "$err" | sed -n 's/^DETAIL:  //p' | head -n1)
    short=$(printf '%s' "$query" | tr '\n' ' ' | cut -c1-150)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${fn:-?}" "$state" "$msg" "$detail" "$short" \
        "$(printf '%s' "$got" | tr '\n' ' ' | cut -c1-80)" >>"$REPORT"

    desc="$fn: $short"
    if [ "$want_state" = 00000 ]; then
        if [ "$state" = 00000 ] && [ "$got" = "$want" ]; then
            pass "$desc -> $want"
        else
            fail "$desc -> $want" "got SQLSTATE $state, result: $(printf '%s' "$got" | cut -c1-200)" \
                 "expected SQLSTATE 00000, result: $want" "$(printf '%s' "$err" | head -n3)"
        fi
    else
        if [ "$state" = "$want_state" ] && { [ "$want" = - ] || printf '%s\n' "$err" | grep -Fq -- "$want"; }; then
            pass "$desc -> $want_state"
        else
            fail "$desc -> $want_state" "got SQLSTATE $state: $(printf '%s' "$err" | head -n4 | cut -c1-300)" \
                 "expected SQLSTATE $want_state${want:+ with \"$want\"}"
        fi
    fi
done <<<"$CATALOG"

# ----------------------------------------------------------------------------
# Afterwards: nothing crashed, nothing was dropped, nobody was touched.
# ----------------------------------------------------------------------------
after_postmaster=$(postmaster_start)
after_checkpointer=$(checkpointer_start)
echo "# after:  postmaster started $after_postmaster, checkpointer $after_checkpointer"
is "$after_postmaster" "$before_postmaster" "pg_postmaster_start_time() unchanged: the server never restarted"
is "$after_checkpointer" "$before_checkpointer" "the checkpointer's start unchanged: no backend crash reinitialised the server"
is "$(sql "$DB" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sk_bad_input_sentinel' AND state = 'active'")" 1 \
   "the sentinel session opened before the catalog is still alive"
sql "$DB" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sk_bad_input_sentinel'" >/dev/null
wait "$sentinel" 2>/dev/null
is "$(tables)" "$before_tables" "every schemakit table still exists"
like "$before_tables" "(^|,)users(,|$)" "schemakit.users is among them"
is "$(users)" "$before_users" "schemakit.users is unchanged"
is "$(sql "$DB" -c "SELECT count(*) FROM schemakit.snippets WHERE public_id = 'known-snippet'")" 1 "the known snippet is still there"

echo "# bad inputs tried: $tried"
dropdb --if-exists "$DB"
sql postgres -c "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null
done_testing
