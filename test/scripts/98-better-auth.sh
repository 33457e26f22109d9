#!/usr/bin/env bash
# better-auth on schemakit: clients/node's schemakit/better-auth
# adapter under a real better-auth (pinned in clients/node/package.json),
# connected as an app role set up with schemakit.grant_app().  The flows
# (email and password, getSession, sign-out, listing and revoking sessions,
# email OTP, password reset, OAuth account link, dump and restore) are the
# node --test suite clients/node/test/better-auth/; each top-level test is
# one assertion.  Skips (one TAP skip) only when node or npm is missing.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

PKG=$SK_ROOT/clients/node
DB=sk_better_auth
RESTORED=sk_better_auth_restored
ROLE=sk_better_auth_app
WORK=$(mktemp -d /tmp/sk_better_auth.XXXXXX)
OWNER=${PGUSER:-$(id -un)} OWNER_PASSWORD=${PGPASSWORD:-}
cleanup() {
    export PGUSER=$OWNER PGPASSWORD=$OWNER_PASSWORD
    for d in "$DB" "$RESTORED" sk_better_auth_migrate; do dropdb --if-exists "$d" 2>/dev/null; done
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$PKG" || { fail "clients/node exists"; done_testing; exit; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "ok 1 # SKIP node or npm is unavailable"
    echo "1..1"
    exit 0
fi
want=$(node -p "require('./package.json').devDependencies['better-auth']" 2>&1)
like "$want" '^[0-9]+\.[0-9]+\.[0-9]+$' "package.json pins better-auth exactly ($want)"
is "$(node -p "require('./package-lock.json').packages['node_modules/better-auth'].version" 2>&1)" "$want" \
   "package-lock.json locks better-auth $want"
if [ ! -d node_modules/better-auth ] || [ "$(node -p "require('./node_modules/better-auth/package.json').version" 2>/dev/null)" != "$want" ]; then
    ok_cmd "npm ci installs the locked dependencies" npm ci --no-audit --no-fund --loglevel=error
fi

password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE ROLE $ROLE LOGIN PASSWORD '$password'" >/dev/null
fresh_db "$DB"
sql "$DB" -c "SELECT schemakit.grant_app('$ROLE')" >/dev/null
is "$(sql "$DB" -c "SELECT has_table_privilege('$ROLE', 'schemakit.verifications', 'SELECT, INSERT, UPDATE, DELETE')")" t \
   "grant_app gives the app role schemakit.verifications"
is "$(sql "$DB" -c "SELECT has_table_privilege('$ROLE', 'schemakit.sessions', 'SELECT')")" f \
   "grant_app gives no right on schemakit.sessions"
is "$(sql "$DB" -c "SELECT bool_and(has_function_privilege('$ROLE', p.oid, 'EXECUTE')) FROM pg_proc p WHERE p.pronamespace = 'schemakit'::regnamespace AND p.proname IN ('open_session', 'find_session', 'find_session_by_id', 'list_user_sessions', 'update_session', 'revoke_session_by_id')")" t \
   "grant_app gives EXECUTE on the session functions"

export SK_OWNER_USER=$OWNER SK_OWNER_PASSWORD=$OWNER_PASSWORD SK_DOC_ROOT=$SK_ROOT SK_BA_MIGRATE_DB=sk_better_auth_migrate
export PGUSER=$ROLE PGPASSWORD=$password PGDATABASE=$DB SK_BA_RESTORE_DB=$RESTORED
started=$(date +%s)
node --test --test-reporter=tap test/better-auth/*.test.js >"$WORK/node.tap" 2>&1
status=$?
echo "# node --test: exit $status in $(( $(date +%s) - started ))s"
count=0
mapfile -t lines <"$WORK/node.tap"
for ((i = 0; i < ${#lines[@]}; i++)); do
    line=${lines[$i]}
    if [[ $line =~ ^ok\ [0-9]+\ -\ (.*)$ ]]; then
        pass "better-auth: ${BASH_REMATCH[1]}"; count=$((count + 1))
    elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ (.*)$ ]]; then
        desc=${BASH_REMATCH[1]}; diag=()
        for ((j = i + 1; j < ${#lines[@]} && ${#diag[@]} < 40; j++)); do
            [[ ${lines[$j]} =~ ^(not\ )?ok\ [0-9]+ ]] && break
            [[ ${lines[$j]} =~ ^[[:space:]] ]] && diag+=("${lines[$j]}")
        done
        fail "better-auth: $desc" "${diag[@]}"; count=$((count + 1))
    fi
done
if [ "$count" -ge 11 ]; then pass "node --test reported $count tests"
else fail "node --test reported at least 11 tests" "it reported $count" "$(tail -n 30 "$WORK/node.tap")"; fi
is "$status" 0 "node --test exits 0"
done_testing
