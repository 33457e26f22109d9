#!/usr/bin/env bash
# Attack class: every source of a privilege.  Under 1.4, default privileges
# granted before CREATE EXTENSION (ALTER DEFAULT PRIVILEGES ... ON FUNCTIONS
# / ON TABLES) let a role call the SECURITY DEFINER functions (it minted a
# session for user 1) and read sessions; grant_app gave no REFERENCES, so an
# app's own table could not point at users; and any role that could connect
# could block code issuance for an address with pg_advisory_lock.
#
# Checked, for default privileges on tables, sequences, functions, schemas
# and types, to a role and to PUBLIC, before a fresh install and before a
# 1.4 install then updated: after the create or update, such a role holds no
# right at all in schema schemakit, cannot call a definer function, cannot
# read a secret table; roles given grant_app keep exactly what it gives;
# PUBLIC holds nothing on a secret table or a definer or internal function;
# an app role's tables can reference users, snippets, files and
# oauth_accounts; no lock a role can take from SQL blocks issuance.  A
# control run shows the 1.4 hole, so this suite can fail.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DBS=()
ROLES=(sk_dp sk_app sk_nobody)
cleanup() {
    for d in "${DBS[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done
    for r in "${ROLES[@]}"; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
}
trap cleanup EXIT
tried=0
held=0
attack() { tried=$((tried + 1)); if [ "$1" = "$2" ]; then held=$((held + 1)); pass "$3"; else fail "$3" "got:      $1" "expected: $2"; fi; }
PW=sk_priv_$RANDOM$RANDOM
for r in "${ROLES[@]}"; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r LOGIN PASSWORD '$PW'" >/dev/null 2>&1; done
as() { local role=$1 db=$2; shift 2; PGUSER=$role PGPASSWORD=$PW sqlstate "$db" "$*"; }

DEFAULTS="
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO sk_dp;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO sk_dp;
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO sk_dp;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SCHEMAS TO sk_dp;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TYPES TO sk_dp;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;"

# rights ROLE DB: every right ROLE holds on anything in schema schemakit, one per line ('' if none).
rights() {
    sql "$2" <<SQL
SELECT 'schema:' || p FROM unnest(ARRAY['USAGE', 'CREATE']) p
 WHERE has_schema_privilege('$1', 'schemakit', p)
UNION ALL
SELECT c.relname || ':' || p
  FROM pg_class c, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
 WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
   AND has_table_privilege('$1', c.oid, p)
UNION ALL
SELECT c.relname || ':' || p
  FROM pg_class c, unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) p
 WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind = 'S' AND has_sequence_privilege('$1', c.oid, p)
UNION ALL
-- (functions every role may run, through PUBLIC, are not the role's own right)
SELECT p.oid::regprocedure || ':EXECUTE'
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace AND has_function_privilege('$1', p.oid, 'EXECUTE')
   AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY 1;
SQL
}
# rights PUBLIC holds on tables and sequences, and on definer functions or
# internal functions that touch secrets.  (The internal helpers that CHECK
# constraints and triggers call as the inserting role -- _email_ok,
# _public_id_take, _require_user, _check_ttl, _token_hash -- stay PUBLIC's.)
public_rights() {
    sql "$1" <<'SQL'
SELECT c.relname || ':' || a.privilege_type
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'schemakit'::regnamespace AND a.grantee = 0
UNION ALL
SELECT p.oid::regprocedure || ':EXECUTE'
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND (p.prosecdef OR (p.proname ~ '^_' AND p.proname NOT IN
            ('_email_ok', '_public_id_take', '_require_user', '_check_ttl', '_token_hash')))
   AND has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY 1;
SQL
}
app_expected() {   # what grant_app gives, as rights() lists it
    sql "$1" <<'SQL'
SELECT x FROM (
    SELECT 'schema:USAGE' x
    UNION ALL SELECT t || ':' || p FROM unnest(ARRAY['users', 'snippets', 'oauth_accounts', 'files']) t,
                                       unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES']) p
    UNION ALL SELECT 'migrations:SELECT'
    UNION ALL SELECT 'organizations:' || p FROM unnest(ARRAY['SELECT', 'DELETE', 'REFERENCES']) p
    UNION ALL SELECT 'memberships:SELECT'
    UNION ALL SELECT 'verifications:' || p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
    UNION ALL SELECT 'verifications_id_seq:' || p FROM unnest(ARRAY['USAGE', 'SELECT']) p
    UNION ALL SELECT t || ':' || p FROM unnest(ARRAY['users_id_seq', 'snippets_id_seq', 'oauth_accounts_id_seq', 'files_id_seq']) t,
                                       unnest(ARRAY['USAGE', 'SELECT']) p
    UNION ALL SELECT p.oid::regprocedure || ':EXECUTE' FROM pg_proc p
     WHERE p.pronamespace = 'schemakit'::regnamespace AND p.proname !~ '^_' AND p.proname NOT IN ('grant_app', 'distribute')
       AND p.prorettype <> 'trigger'::regtype
       AND NOT has_function_privilege('public', p.oid, 'EXECUTE')) s
ORDER BY 1;
SQL
}

# install_14 DB: schemakit 1.4 as a 1.4 install made it: 1.0's script and
# the updates (CREATE EXTENSION ... VERSION '1.4' now takes the 1.5 script
# and the downgrade, and 1.5's script leaves no default-privilege grant).
install_14() {
    sql "$1" -c "CREATE EXTENSION schemakit VERSION '1.0'" -c "ALTER EXTENSION schemakit UPDATE TO '1.4'" >/dev/null
}

check_db() {   # check_db DB LABEL
    local db=$1 label=$2
    attack "$(rights sk_dp "$db" | paste -sd' ')" "" "$label: a default-privileges grantee holds no right in schemakit"
    attack "$(public_rights "$db" | paste -sd' ')" "" "$label: PUBLIC holds nothing on a table or a definer or internal function"
    attack "$(as sk_dp "$db" "SELECT schemakit.issue_session(1)")" 42501 "$label: the grantee cannot mint a session (42501)"
    attack "$(as sk_dp "$db" "SELECT count(*) FROM schemakit.sessions")" 42501 "$label: the grantee cannot read sessions (42501)"
    attack "$(as sk_dp "$db" "SELECT count(*) FROM schemakit._code_key")" 42501 "$label: the grantee cannot read the code key (42501)"
    attack "$(as sk_dp "$db" "SELECT schemakit._lock_key(1, 'a@b')")" 42501 "$label: the grantee cannot take schemakit's locks (42501)"
    sql "$db" -c "SELECT schemakit.grant_app('sk_app')" >/dev/null
    is "$(rights sk_app "$db")" "$(app_expected "$db")" "$label: grant_app gives exactly what it documents (with REFERENCES)"
    attack "$(as sk_app "$db" "SELECT count(*) FROM schemakit.sessions")" 42501 "$label: the app role cannot read sessions (42501)"
    attack "$(as sk_app "$db" "SELECT schemakit._code_failed(1, now(), now())")" 42501 "$label: the app role cannot call internal functions (42501)"
    is "$(as sk_app "$db" "SELECT schemakit.issue_session((SELECT min(id) FROM schemakit.users)) IS NOT NULL")" 00000 "$label: the app role opens a session"
    attack "$(as sk_nobody "$db" "SELECT schemakit.public_id()")" 42501 "$label: a role with no grant cannot even reach the schema (42501)"
}

# ---------------------------------------------------------------------------
# A fresh 1.5 install under default privileges.
# ---------------------------------------------------------------------------
db=sk_priv_fresh; DBS+=($db)
dropdb --if-exists $db 2>/dev/null; createdb $db
sql $db -c "$DEFAULTS" >/dev/null
sql $db -c "CREATE EXTENSION schemakit" >/dev/null
sql $db -c "INSERT INTO schemakit.users (username) VALUES ('target')" >/dev/null
check_db $db "fresh"

# ---------------------------------------------------------------------------
# 1.4 installed under default privileges (the hole), an app set up, then 1.5.
# ---------------------------------------------------------------------------
db=sk_priv_up; DBS+=($db)
dropdb --if-exists $db 2>/dev/null; createdb $db
sql $db -c "$DEFAULTS" >/dev/null
install_14 $db
sql $db -c "INSERT INTO schemakit.users (username) VALUES ('target')" >/dev/null
is "$(as sk_dp $db "SELECT schemakit.issue_session(1) IS NOT NULL")" 00000 \
   "control: on 1.4 the default-privileges grantee mints a session for user 1"
is "$(as sk_dp $db "SELECT count(*) FROM schemakit.sessions")" 00000 "control: ... and reads sessions"
sql $db -c "SELECT schemakit.grant_app('sk_app')" >/dev/null
sql $db -c "ALTER EXTENSION schemakit UPDATE" >/dev/null
is "$(sql $db -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")" 1.5 "updated to 1.5"
is "$(as sk_app $db "SELECT schemakit.issue_session(1) IS NOT NULL")" 00000 "update: the app role set up at 1.4 keeps working"
check_db $db "1.4 -> 1.5"

# Default privileges created between 1.4 and the update apply to what 1.5 creates.
db=sk_priv_late; DBS+=($db)
dropdb --if-exists $db 2>/dev/null; createdb $db
install_14 $db
sql $db -c "$DEFAULTS" >/dev/null
sql $db -c "ALTER EXTENSION schemakit UPDATE" >/dev/null
sql $db -c "INSERT INTO schemakit.users (username) VALUES ('target')" >/dev/null
check_db $db "defaults set before the update"

# ---------------------------------------------------------------------------
# REFERENCES: an app role's own tables point at schemakit's.
# ---------------------------------------------------------------------------
db=sk_priv_fresh
sql $db -c "GRANT CREATE ON SCHEMA public TO sk_app" >/dev/null
for t in users snippets files oauth_accounts; do
    attack "$(as sk_app $db "CREATE TABLE public.app_$t (id bigint PRIMARY KEY, ref bigint REFERENCES schemakit.$t (id) ON DELETE CASCADE)")" 00000 \
           "the app role creates a table referencing schemakit.$t"
done
uid=$(sql $db -c "SELECT min(id) FROM schemakit.users")
is "$(as sk_app $db "INSERT INTO public.app_users VALUES (1, $uid)")" 00000 "... and inserts a row pointing at a user"
is "$(sql $db -c "DELETE FROM schemakit.users WHERE id = $uid" -c "SELECT count(*) FROM public.app_users" 2>&1)" 0 "... which goes when the user goes"

# ---------------------------------------------------------------------------
# No lock a role can take from SQL blocks issuance.
# ---------------------------------------------------------------------------
sql $db -c "GRANT CONNECT ON DATABASE $db TO sk_nobody" >/dev/null
sql $db -c "ALTER DATABASE $db SET schemakit.email_code_issue_limit = 100" >/dev/null
e='victim@example.com'
for lock in "pg_advisory_lock(29547, hashtext(lower('$e')))" "pg_advisory_lock(hashtext(lower('$e')))" \
            "pg_advisory_lock(hashtextextended('$e', 1))" "pg_advisory_lock(hashtextextended('$e', 0))" \
            "pg_advisory_lock((hashtextextended('$e', 1) >> 32)::int, hashtextextended('$e', 1)::bit(32)::int)" \
            "pg_advisory_lock(29547, 1)"; do
    PGUSER=sk_nobody PGPASSWORD=$PW psql -X -q -d $db -c "SELECT $lock" -c "SELECT pg_sleep(4)" >/dev/null 2>&1 &
    holder=$!
    sleep 0.5
    got=$(PGOPTIONS="-c lock_timeout=2s" sql $db -c "SELECT schemakit.issue_email_code('$e') ~ '^[0-9]{6}$'" 2>&1)
    attack "$got" t "issuance is not blocked by a role holding $lock"
    kill $holder 2>/dev/null; wait $holder 2>/dev/null
done

# Control: on 1.4 a role with no schemakit right blocks issuance this way.
db=sk_priv_14lock; DBS+=($db)
fresh_db $db 1.4
sql $db -c "GRANT CONNECT ON DATABASE $db TO sk_nobody" >/dev/null
PGUSER=sk_nobody PGPASSWORD=$PW psql -X -q -d $db -c "SELECT pg_advisory_lock(29547, hashtext(lower('$e')))" -c "SELECT pg_sleep(4)" >/dev/null 2>&1 &
holder=$!
sleep 0.5
is "$(PGOPTIONS="-c lock_timeout=1s" sqlstate $db "SELECT schemakit.issue_email_code('$e')")" 55P03 \
   "control: on 1.4 pg_advisory_lock(29547, hashtext(lower(email))) by a role with no rights blocks issuance"
kill $holder 2>/dev/null; wait $holder 2>/dev/null

echo "# privileges: $tried attacks tried, $held held"
done_testing
