#!/usr/bin/env bash
# The security model: a real non-superuser application role can do
# what an app needs and cannot read a secret; SECURITY DEFINER functions pin
# their search_path and resist hostile objects; code hashes are keyed with a
# key that is not in the dump; issuance and verification are limited; no
# secret reaches the server log, even at debug5.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_security
APP=sk_app_role
APPPW=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
fresh_db "$DB"
sql "$DB" >/dev/null <<SQL
DROP ROLE IF EXISTS $APP;
DROP ROLE IF EXISTS sk_nobody;
CREATE ROLE $APP LOGIN PASSWORD '$APPPW';
CREATE ROLE sk_nobody LOGIN PASSWORD '$APPPW';
GRANT USAGE ON SCHEMA schemakit TO sk_nobody;
SELECT schemakit.grant_app('$APP');
INSERT INTO schemakit.users (username, email) VALUES ('owner', 'owner@example.com');
SQL

as_app() { PGUSER=$APP PGPASSWORD=$APPPW sql "$DB" "$@"; }
app_state() { PGUSER=$APP PGPASSWORD=$APPPW sqlstate "$DB" "$1"; }
nobody_state() { PGUSER=sk_nobody PGPASSWORD=$APPPW sqlstate "$DB" "$1"; }

# --- what an app needs works as the app role -------------------------------
out=$(as_app <<'SQL' 2>&1
CREATE TEMP TABLE s AS SELECT 1 AS k;
INSERT INTO schemakit.users (username, email) VALUES ('app-user', 'app@example.com');
INSERT INTO schemakit.snippets (owner_id, body)
  SELECT id, 'x' FROM schemakit.users WHERE username = 'app-user';
SELECT schemakit.record_snippet_view(public_id) FROM schemakit.snippets;
SELECT length(schemakit.public_id()), length(schemakit.random_code()), length(schemakit.random_token()),
       schemakit.uuidv7_time(schemakit.uuidv7()) IS NOT NULL;
SELECT schemakit.link_oauth_account(u.id, 'github', 'app-1') > 0 FROM schemakit.users u WHERE u.username = 'app-user';
SELECT schemakit.oauth_user_id('github', 'app-1') = u.id FROM schemakit.users u WHERE u.username = 'app-user';
INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
  SELECT id, 'a.txt', 'text/plain', 1 FROM schemakit.users WHERE username = 'app-user';
CREATE TEMP TABLE secrets AS
  SELECT schemakit.issue_email_code('app@example.com') AS code,
         schemakit.issue_password_reset_token(u.id) AS reset,
         schemakit.issue_session(u.id) AS session, u.id AS uid
    FROM schemakit.users u WHERE u.username = 'app-user';
SELECT schemakit.verify_email_code('app@example.com', code),
       schemakit.consume_password_reset_token(reset) = uid,
       schemakit.session_user_id(session) = uid,
       schemakit.revoke_session(session),
       schemakit.revoke_user_sessions(uid) = 0,
       schemakit.purge_expired() >= 0
  FROM secrets;
SELECT version FROM schemakit.migrations ORDER BY 1 LIMIT 1;
SQL
)
is "$(printf '%s\n' "$out" | tr '\n' ' ')" "1 10|6|43|t t t t|t|t|t|t|t 1.0 " "app role: every intended call works (users, snippets, IDs, OAuth, files, codes, resets, sessions, purge)"

# --- and nothing secret is readable or writable ----------------------------
for t in email_codes password_reset_tokens sessions _code_key; do
    is "$(app_state "SELECT * FROM schemakit.$t")" 42501 "app role: SELECT on schemakit.$t is denied"
    is "$(app_state "DELETE FROM schemakit.$t")" 42501 "app role: DELETE on schemakit.$t is denied"
done
is "$(app_state "UPDATE schemakit.email_codes SET failed_attempts = 0")" 42501 "app role: cannot reset failed attempts"
is "$(app_state "INSERT INTO schemakit.sessions (user_id, token_hash, expires_at) VALUES (1, sha256('x'), now() + interval '1 day')")" 42501 "app role: cannot plant a session hash"
is "$(app_state "SELECT schemakit._code_hmac('x', NULL)")" 42883 "app role: cannot use the keyed hash as an oracle (1.5 dropped the 1.3 helper _code_hmac)"
is "$(app_state "SELECT schemakit._code_hash_keyed('a@b.io', '123456')")" 42501 "app role: cannot call _code_hash_keyed"
is "$(app_state "SELECT schemakit.grant_app('$APP')")" 42501 "app role: cannot run grant_app"
is "$(app_state "SET schemakit.email_code_issue_limit = 1000")" 42501 "app role: cannot lift the issuance limit"
is "$(app_state "SHOW schemakit.code_hmac_key")" 42501 "app role: cannot read the code key setting"
is "$(app_state "SELECT current_setting('schemakit.code_hmac_key')")" 42501 "app role: cannot read the code key via current_setting"
is "$(nobody_state "SELECT schemakit.issue_session(1)")" 42501 "role with only schema USAGE: definer functions are not executable"
is "$(nobody_state "SELECT schemakit.verify_email_code('a@b.io', '123456')")" 42501 "role with only schema USAGE: verify is not executable"
is "$(nobody_state "SELECT schemakit.session_user_id('x')")" 42501 "role with only schema USAGE: session_user_id (C) is not executable"

# --- session_user_id reads in C; its refresh writes as the table owner -------
sql "$DB" >/dev/null <<'SQL'
CREATE TABLE public.sk_refresh_tok AS
SELECT schemakit.issue_session(u.id) AS session, u.id AS uid FROM schemakit.users u WHERE u.username = 'owner';
GRANT SELECT ON public.sk_refresh_tok TO PUBLIC;
UPDATE schemakit.sessions SET last_seen_at = now() - interval '2 minutes'
 WHERE token_hash = sha256(convert_to((SELECT session FROM public.sk_refresh_tok), 'UTF8'));
SQL
is "$(as_app -c "SELECT schemakit.session_user_id(session) = uid, current_user = '$APP' FROM public.sk_refresh_tok")" "t|t" \
   "app role (EXECUTE only): session_user_id answers for a session due a refresh"
is "$(sql "$DB" -c "SELECT last_seen_at > now() - interval '10 seconds' FROM schemakit.sessions
                    WHERE token_hash = sha256(convert_to((SELECT session FROM public.sk_refresh_tok), 'UTF8'))")" t \
   "app role: ... and the refresh of last_seen_at was written, as the table owner"
is "$(app_state "SELECT * FROM schemakit.sessions")" 42501 "app role: still cannot read schemakit.sessions after calling session_user_id"
is "$(as_app -c "SET search_path = public; SELECT current_setting('search_path'), current_user FROM public.sk_refresh_tok, LATERAL (SELECT schemakit.session_user_id(session)) s")" "public|$APP" \
   "app role: after session_user_id (and a refresh) the caller's search_path and user are back"
sql "$DB" -c "DROP TABLE public.sk_refresh_tok" >/dev/null
is "$(sql "$DB" -c "SELECT l.lanname || ' ' || p.prosecdef || ' ' || coalesce(p.proconfig::text, '-') FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                    WHERE p.oid = 'schemakit.session_user_id(text)'::regprocedure")" "c false -" \
   "session_user_id is C: no SECURITY DEFINER frame, no SET clause"
is "$(sql "$DB" -c "SELECT count(*) FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                    WHERE p.oid = 'schemakit.session_user_id(text)'::regprocedure AND a.grantee = 0")" 0 \
   "session_user_id: no EXECUTE for PUBLIC (it reads a secret table)"
is "$(PGUSER=sk_nobody PGPASSWORD=$APPPW sqlstate "$DB" "SELECT length(schemakit.public_id())")" 00000 "role with only schema USAGE: plain generators still work"

# --- definer functions: pinned path, no PUBLIC execute ----------------------
is "$(sql "$DB" -c "SELECT coalesce(string_agg(oid::regprocedure::text, ', '), '') FROM pg_proc
      WHERE pronamespace = 'schemakit'::regnamespace AND prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
        AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)")" "" \
   "every SQL and PL/pgSQL function pins search_path = pg_catalog, pg_temp"
is "$(sql "$DB" -c "SELECT coalesce(string_agg(oid::regprocedure::text, ', '), '') FROM pg_proc
      WHERE pronamespace = 'schemakit'::regnamespace AND prosecdef
        AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)")" "" \
   "no SECURITY DEFINER function lacks a pinned search_path"
is "$(sql "$DB" -c "SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') FROM pg_proc p
      WHERE p.pronamespace = 'schemakit'::regnamespace AND p.prosecdef
        AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')")" "" \
   "no SECURITY DEFINER function is executable by PUBLIC"
is "$(sql "$DB" -c "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc
      WHERE pronamespace = 'schemakit'::regnamespace AND prosecdef")" \
   "accept_invitation,consume_password_reset_token,create_organization,find_session,find_session_by_id,invite_member,issue_email_code,issue_password_reset_token,issue_session,list_user_sessions,open_session,purge_expired,remove_member,revoke_invitation,revoke_session,revoke_session_by_id,revoke_user_sessions,set_member_role,update_session,verify_email_code" \
   "SECURITY DEFINER exactly where secret tables are touched through SQL (session_user_id reads in C; the better-auth session functions too), or memberships written (apps may only read them)"
is "$(sql "$DB" -c "SELECT coalesce(string_agg(c.relname, ','), '') FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
      WHERE c.relnamespace = 'schemakit'::regnamespace AND a.grantee = 0")" "" \
   "PUBLIC has no privilege on any schemakit table"

# --- hostile objects in public and pg_temp cannot hijack anything -----------
hijack=$(sql "$DB" 2>&1 <<'SQL'
CREATE TABLE public.hijack_log (what text);
GRANT ALL ON public.hijack_log TO PUBLIC;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql
    AS $$ INSERT INTO public.hijack_log VALUES ('lower'); SELECT 'hijacked' $$;
CREATE FUNCTION public.hijack_eq(bytea, bytea) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO public.hijack_log VALUES ('bytea ='); SELECT true $$;
CREATE OPERATOR public.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = public.hijack_eq);
CREATE FUNCTION public.hijack_text_eq(text, text) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO public.hijack_log VALUES ('text ='); SELECT true $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack_text_eq);
CREATE FUNCTION public.sha256(bytea) RETURNS bytea LANGUAGE sql
    AS $$ INSERT INTO public.hijack_log VALUES ('sha256'); SELECT '\x00'::bytea $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql
    AS $$ INSERT INTO public.hijack_log VALUES ('now'); SELECT 'infinity'::timestamptz $$;
SET search_path = public, pg_catalog;
CREATE TEMP TABLE email_codes (email text, code_hash bytea);
CREATE TEMP TABLE users (id bigint, email text);
CREATE TEMP TABLE sessions (id bigint, token_hash bytea);
CREATE FUNCTION pg_temp.lower(text) RETURNS text LANGUAGE sql
    AS $$ INSERT INTO public.hijack_log VALUES ('pg_temp.lower'); SELECT 'hijacked' $$;
CREATE TEMP TABLE r AS
SELECT schemakit.issue_email_code('Victim@Example.com') AS code,
       schemakit.issue_session((SELECT min(id) FROM schemakit.users)) AS session,
       schemakit.issue_password_reset_token((SELECT min(id) FROM schemakit.users)) AS reset;
UPDATE schemakit.sessions ss SET last_seen_at = pg_catalog.now() OPERATOR(pg_catalog.-) interval '2 minutes'
  FROM r WHERE ss.token_hash OPERATOR(pg_catalog.=) pg_catalog.sha256(pg_catalog.convert_to(r.session, 'UTF8'));
SELECT schemakit.verify_email_code('victim@example.com', '999999x') AS wrong,
       schemakit.verify_email_code('victim@example.com', code) AS right,
       schemakit.session_user_id(session) = (SELECT min(id) FROM schemakit.users) AS session_ok,
       schemakit.session_user_id('forged') IS NULL AS forged_null,
       schemakit.consume_password_reset_token(reset) = (SELECT min(id) FROM schemakit.users) AS reset_ok,
       schemakit.record_snippet_view('no-such-id') IS NULL AS unknown_view,
       schemakit.oauth_user_id('github', 'nobody') IS NULL AS unknown_oauth,
       schemakit.purge_expired() >= 0 AS purge_ok
  FROM r;
SELECT ss.last_seen_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 minute') AS refreshed
  FROM schemakit.sessions ss, r WHERE ss.token_hash OPERATOR(pg_catalog.=) pg_catalog.sha256(pg_catalog.convert_to(r.session, 'UTF8'));
SELECT count(*) FROM public.hijack_log;
SQL
)
is "$(printf '%s\n' "$hijack" | tr '\n' ' ')" "f|t|t|t|t|t|t|t t 0 " \
   "a fake lower(), =, sha256() and now() in public and pg_temp, and shadow temp tables, change no result and never run (session refresh included)"
sql "$DB" -c "DROP TABLE public.hijack_log CASCADE; DROP OPERATOR public.= (bytea, bytea); DROP OPERATOR public.= (text, text);
              DROP FUNCTION public.lower(text), public.hijack_eq(bytea, bytea), public.hijack_text_eq(text, text), public.sha256(bytea), public.now();" >/dev/null

# --- keyed code hashes --------------------------------------------------------
key=$(sql "$DB" -c "SHOW schemakit.code_hmac_key")
if [ ${#key} -ge 32 ]; then pass "the test cluster has schemakit.code_hmac_key set (${#key} characters)"; else fail "the test cluster has schemakit.code_hmac_key set"; fi
keys=$(sql "$DB" -v key="$key" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TEMP TABLE k AS SELECT schemakit.issue_email_code('keyed@example.com') AS code;
SELECT e.code_hash = pgcrypto_hmac FROM (
  SELECT ec.code_hash,
         public.hmac(convert_to('schemakit/email-code/keyed@example.com/' || k.code, 'UTF8'), convert_to(:'key', 'UTF8'), 'sha256') AS pgcrypto_hmac,
         sha256(convert_to('schemakit/email-code/keyed@example.com/' || k.code, 'UTF8')) AS plain_msg,
         sha256(convert_to(k.code, 'UTF8')) AS plain_code,
         public.hmac(convert_to('schemakit/email-code/keyed@example.com/' || k.code, 'UTF8'), (SELECT key FROM schemakit._code_key), 'sha256') AS db_key_hmac
    FROM schemakit.email_codes ec, k WHERE ec.email = 'keyed@example.com') e;
SELECT ec.code_hash <> sha256(convert_to('schemakit/email-code/keyed@example.com/' || k.code, 'UTF8'))
   AND ec.code_hash <> sha256(convert_to(k.code, 'UTF8'))
   AND ec.code_hash <> public.hmac(convert_to('schemakit/email-code/keyed@example.com/' || k.code, 'UTF8'), 'wrong-key-wrong-key-wrong-key-!!', 'sha256')
  FROM schemakit.email_codes ec, k WHERE ec.email = 'keyed@example.com';
-- Every one of the 10^6 codes hashed without the key: none matches.
SELECT count(*) FROM schemakit.email_codes ec, generate_series(0, 999999) g
 WHERE ec.email = 'keyed@example.com'
   AND ec.code_hash = sha256(convert_to('schemakit/email-code/keyed@example.com/' || lpad(g::text, 6, '0'), 'UTF8'));
SET schemakit.code_hmac_key = '';
CREATE TEMP TABLE k2 AS SELECT schemakit.issue_email_code('fallback@example.com') AS code;
SELECT ec.code_hash = public.hmac(convert_to('schemakit/email-code/fallback@example.com/' || k2.code, 'UTF8'), (SELECT key FROM schemakit._code_key), 'sha256')
  FROM schemakit.email_codes ec, k2 WHERE ec.email = 'fallback@example.com';
SELECT schemakit.verify_email_code('fallback@example.com', code) FROM k2;
SQL
)
is "$(printf '%s\n' "$keys" | tr '\n' ' ')" "t t 0 t t " \
   "stored code = HMAC-SHA256 under schemakit.code_hmac_key; no unkeyed hash of any of the 10^6 codes matches; unset key falls back to the per-database key"
is "$(sqlstate "$DB" "ALTER DATABASE $DB SET schemakit.code_hmac_key = '0123456789abcdef0123456789abcdef'")" 22023 "the key cannot be set per database (it would travel in a dump)"
is "$(sqlstate "$DB" "ALTER ROLE $APP SET schemakit.code_hmac_key = '0123456789abcdef0123456789abcdef'")" 22023 "the key cannot be set per role"
is "$(sqlstate "$DB" "SET schemakit.code_hmac_key = 'too-short'")" 22023 "a key shorter than 32 characters is refused"
dumpfile=$(mktemp)
pg_dump -d "$DB" >"$dumpfile"
dbkey=$(sql "$DB" -c "SELECT encode(key, 'hex') FROM schemakit._code_key")
dbkey_b64=$(sql "$DB" -c "SELECT encode(key, 'base64') FROM schemakit._code_key")
if grep -q "$key" "$dumpfile"; then fail "pg_dump output does not contain schemakit.code_hmac_key"; else pass "pg_dump output does not contain schemakit.code_hmac_key"; fi
if grep -qF -e "$dbkey" -e "$dbkey_b64" "$dumpfile"; then fail "pg_dump output does not contain the per-database key"; else pass "pg_dump output does not contain the per-database key"; fi
like "$(grep -c 'COPY schemakit.email_codes' "$dumpfile")" "^1$" "pg_dump output still carries the email_codes rows"
rm -f "$dumpfile"

# --- issuance and verification limits ----------------------------------------
lim=$(sql "$DB" 2>&1 <<'SQL'
SELECT count(schemakit.issue_email_code('limited@example.com')) FROM generate_series(1, 5);
SQL
)
is "$lim" 5 "five codes for one address within the window are issued"
is "$(sqlstate "$DB" "SELECT schemakit.issue_email_code('limited@example.com')")" SKR01 "the sixth code within the window raises SKR01"
is "$(sqlstate "$DB" "SELECT schemakit.issue_email_code('other@example.com')")" 00000 "another address is not affected"
is "$(sqlstate "$DB" "SET schemakit.email_code_issue_limit = 2; SELECT schemakit.issue_email_code('two@example.com'), schemakit.issue_email_code('two@example.com'), schemakit.issue_email_code('two@example.com')")" SKR01 "the limit follows schemakit.email_code_issue_limit"
ver=$(sql "$DB" 2>&1 <<'SQL'
CREATE TEMP TABLE c AS SELECT schemakit.issue_email_code('guess@example.com') AS code;
SELECT count(*) FILTER (WHERE NOT schemakit.verify_email_code('guess@example.com', 'wrong' || g)) FROM generate_series(1, 5) g;
CREATE TEMP TABLE c2 AS SELECT schemakit.issue_email_code('guess@example.com') AS code;
SELECT count(*) FILTER (WHERE NOT schemakit.verify_email_code('guess@example.com', 'wrong' || g)) FROM generate_series(1, 5) g;
SELECT sum(failed_attempts) FROM schemakit.email_codes WHERE email = 'guess@example.com';
SQL
)
is "$(printf '%s\n' "$ver" | tr '\n' ' ')" "5 5 10 " "ten failed attempts across two codes are counted"
is "$(sqlstate "$DB" "CREATE TEMP TABLE c3 AS SELECT schemakit.issue_email_code('guess@example.com') AS code; SELECT schemakit.verify_email_code('guess@example.com', code) FROM c3")" SKR02 \
   "after schemakit.email_code_verify_limit failures in the window even the right code raises SKR02"
is "$(sql "$DB" -c "SELECT setting || ' ' || unit FROM pg_settings WHERE name = 'schemakit.email_code_window'") $(sql "$DB" -c "SHOW schemakit.email_code_issue_limit") $(sql "$DB" -c "SHOW schemakit.email_code_verify_limit")" \
   "900 s 5 10" "documented defaults: window 900 s, 5 codes, 10 failures"

# --- nothing secret in the server log, even at debug5 -------------------------
logfile=$(pg_lsclusters -h 2>/dev/null | awk '{print $7}' | head -n1)
if [ -n "$logfile" ] && [ -r "$logfile" ]; then
    start=$(wc -c <"$logfile")
    secrets=$(sql "$DB" 2>/dev/null <<'SQL'
SET log_min_messages = debug5;
SET log_statement = none;
SET client_min_messages = warning;
CREATE TEMP TABLE out AS
SELECT schemakit.issue_email_code('logged' || g || '@example.com') AS code,
       schemakit.issue_password_reset_token((SELECT min(id) FROM schemakit.users)) AS reset,
       schemakit.issue_session((SELECT min(id) FROM schemakit.users)) AS session,
       g
  FROM generate_series(1, 5) g;
SELECT count(*) FILTER (WHERE schemakit.verify_email_code('logged' || g || '@example.com', code)),
       count(*) FILTER (WHERE schemakit.verify_email_code('logged' || g || '@example.com', '000000x')),
       count(schemakit.consume_password_reset_token(reset)),
       count(schemakit.session_user_id(session)),
       count(*) FILTER (WHERE schemakit.revoke_session(session))
  FROM out;
CREATE TEMP TABLE hashes AS
SELECT encode(code_hash, 'hex') AS h FROM schemakit.email_codes WHERE email LIKE 'logged%'
UNION ALL SELECT encode(token_hash, 'hex') FROM schemakit.sessions
UNION ALL SELECT encode(token_hash, 'hex') FROM schemakit.password_reset_tokens;
SELECT schemakit.purge_expired('0');
RESET log_min_messages;
SELECT code FROM out UNION ALL SELECT reset FROM out UNION ALL SELECT session FROM out
UNION ALL SELECT h FROM hashes;
SQL
)
    sleep 1
    newlog=$(tail -c +"$((start + 1))" "$logfile")
    nlines=$(printf '%s\n' "$newlog" | grep -c DEBUG)
    if [ "$nlines" -gt 10 ]; then pass "debug5 logging was on ($nlines DEBUG lines)"; else fail "debug5 logging was on" "only $nlines DEBUG lines"; fi
    found=0 checked=0
    while read -r s; do
        [ -n "$s" ] || continue
        checked=$((checked + 1))
        if [[ "$s" =~ ^[0-9]{6}$ ]]; then
            printf '%s\n' "$newlog" | grep -Eq "(^|[^0-9.:[])$s([^0-9]|$)" && { found=$((found + 1)); echo "# in log: code $s"; }
        else
            grep -qF -- "$s" <<<"$newlog" && { found=$((found + 1)); echo "# in log: $s"; }
        fi
    done < <(printf '%s\n' "$secrets" | grep -Ev '^[0-9]+\|' | grep -Ev '^[0-9]+$|^(SET|RESET)$' ; printf '%s\n' "$secrets" | grep -E '^[0-9]{6}$')
    if [ "$checked" -ge 30 ] && [ "$found" -eq 0 ]; then
        pass "none of $checked secrets (codes, tokens, session tokens, stored hashes) appears in the server log"
    else
        fail "none of the secrets appears in the server log" "checked $checked, found $found"
    fi
else
    fail "server log is readable" "log file: '$logfile'"
fi

# --- upgrading 1.2 -> 1.3 keeps exactly the abilities roles had ---------------
UP=sk_security_up
fresh_db "$UP" 1.2
sql "$UP" >/dev/null <<'SQL'
DROP ROLE IF EXISTS sk_sessions_reader;
DROP ROLE IF EXISTS sk_reporting;
CREATE ROLE sk_sessions_reader;
CREATE ROLE sk_reporting;
GRANT USAGE ON SCHEMA schemakit TO sk_sessions_reader, sk_reporting;
GRANT SELECT ON schemakit.sessions TO sk_sessions_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA schemakit GRANT SELECT ON TABLES TO sk_reporting;
ALTER DEFAULT PRIVILEGES IN SCHEMA schemakit GRANT EXECUTE ON FUNCTIONS TO sk_reporting;
ALTER EXTENSION schemakit UPDATE TO '1.3';
SQL
is "$(sql "$UP" -c "SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
      WHERE p.pronamespace = 'schemakit'::regnamespace AND p.prosecdef
        AND has_function_privilege('sk_sessions_reader', p.oid, 'EXECUTE')")" "session_user_id" \
   "1.2 -> 1.3: a role that could read sessions keeps session_user_id, and gains no other definer function"
is "$(sql "$UP" -c "SELECT has_table_privilege('sk_reporting', 'schemakit._code_key', 'SELECT'),
                           has_function_privilege('sk_reporting', 'schemakit._code_hmac(text, bytea)', 'EXECUTE'),
                           has_function_privilege('sk_reporting', 'schemakit._code_hash_keyed(text, text)', 'EXECUTE')")" "f|f|f" \
   "1.2 -> 1.3: default privileges do not open the code key or the keyed-hash functions"
sql "$UP" -c "DROP OWNED BY sk_sessions_reader, sk_reporting" >/dev/null 2>&1
dropdb --if-exists "$UP"
sql postgres -c "DROP ROLE IF EXISTS sk_sessions_reader; DROP ROLE IF EXISTS sk_reporting" >/dev/null

# --- purging cannot reset the limits -------------------------------------------
is "$(sqlstate "$DB" "SELECT schemakit.purge_expired('0'); SELECT schemakit.issue_email_code('limited@example.com')")" SKR01 \
   "after purge_expired('0') the issuance limit still holds (codes of the window are kept)"

sql "$DB" -c "DROP OWNED BY $APP, sk_nobody" >/dev/null 2>&1
dropdb --if-exists "$DB"
sql postgres -c "DROP ROLE IF EXISTS $APP; DROP ROLE IF EXISTS sk_nobody" >/dev/null
done_testing
