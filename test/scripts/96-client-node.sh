#!/usr/bin/env bash
# The Node client package (clients/node): Drizzle table
# definitions, typed function wrappers and error classes, the drizzle-kit
# configuration for apps with tables next to schemakit's, the Drizzle
# example app, and doc/porting.md (every sql block run in order against a
# fresh database, test/porting.test.js).  Dependencies install with `npm ci` from the committed lock;
# the package's node --test suite runs as an application role set up with
# schemakit.grant_app(); each top-level node test becomes one assertion.
# Skips (one TAP skip) only when node or npm cannot be had at all.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

PKG=$SK_ROOT/clients/node
DB=sk_client_node
KIT=sk_client_node_kit       # drizzle-kit push from scratch
KIT2=sk_client_node_kit2     # drizzle-kit generate + migrate, then push
PORT=sk_client_node_port     # doc/porting.md, block by block
ROLE=sk_client_node_app
WORK=$(mktemp -d /tmp/sk_client_node.XXXXXX)
OWNER=${PGUSER:-$(id -un)} OWNER_PASSWORD=${PGPASSWORD:-}
cleanup() {
    # as the owner: PGUSER is the app role by the time this runs
    export PGUSER=$OWNER PGPASSWORD=$OWNER_PASSWORD
    for d in "$DB" "$KIT" "$KIT2" "$PORT"; do dropdb --if-exists "$d" 2>/dev/null; done
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$PKG" || { fail "clients/node exists"; done_testing; exit; }

# node and npm: Debian's packages when missing (Debian 12 has node 18).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "# installing nodejs and npm"
    SUDO=
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=sudo
    $SUDO apt-get update -qq >/dev/null 2>&1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "ok 1 # SKIP node or npm is unavailable and could not be installed (apt-get install nodejs npm failed)"
    echo "1..1"
    exit 0
fi
node_version=$(node --version)
node_major=${node_version#v}; node_major=${node_major%%.*}
if [ "$node_major" -ge 18 ]; then
    pass "node $node_version is available (18+: node --test, TAP reporter, package self-reference)"
else
    fail "node 18+ is available" "node --version: $node_version"
    done_testing; exit
fi

# Pins: every dependency exact in package.json and the same in the lockfile.
for dep in drizzle-orm pg drizzle-kit typescript; do
    want=$(node -p "require('./package.json').devDependencies['$dep']" 2>&1)
    like "$want" '^[0-9]+\.[0-9]+\.[0-9]+$' "package.json pins $dep exactly ($want)"
    is "$(node -p "require('./package-lock.json').packages['node_modules/$dep'].version" 2>&1)" "$want" \
       "package-lock.json locks $dep $want"
done
is "$(node -p "require('./package.json').private" 2>&1)" true "the package is private (never published)"

ok_cmd "npm ci installs the locked dependencies" npm ci --no-audit --no-fund --loglevel=error

# Databases: the extension in each, an app role with exactly what grant_app
# gives, and CREATE on schema public where drizzle-kit makes the app's tables.
password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE ROLE $ROLE LOGIN PASSWORD '$password'" >/dev/null
for d in "$DB" "$KIT" "$KIT2"; do
    fresh_db "$d"
    sql "$d" -c "SELECT schemakit.grant_app('$ROLE')" >/dev/null
done
for d in "$DB" "$KIT" "$KIT2"; do
    sql "$d" -c "GRANT CREATE ON SCHEMA public TO $ROLE" >/dev/null
done
# doc/porting.md installs the extension and calls grant_app itself (as the
# owner), so its database starts empty but for CREATE on public.
dropdb --if-exists "$PORT" 2>/dev/null
createdb "$PORT"
sql "$PORT" -c "GRANT CREATE ON SCHEMA public TO $ROLE" >/dev/null
is "$(sql "$DB" -c "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = '$ROLE'")" f \
   "the tests run as $ROLE: no superuser, CREATEDB or CREATEROLE"
export SK_OWNER_USER=$OWNER SK_OWNER_PASSWORD=$OWNER_PASSWORD
export PGUSER=$ROLE PGPASSWORD=$password PGDATABASE=$DB SK_KIT_DATABASE=$KIT SK_KIT_DATABASE2=$KIT2
export SK_PORT_DATABASE=$PORT
export SK_DOC_ROOT=$SK_ROOT

started=$(date +%s)
node --test --test-reporter=tap test/*.test.js >"$WORK/node.tap" 2>&1
status=$?
echo "# node --test: exit $status in $(( $(date +%s) - started ))s"
mapfile -t lines <"$WORK/node.tap"
count=0
for ((i = 0; i < ${#lines[@]}; i++)); do
    line=${lines[$i]}
    if [[ $line =~ ^ok\ [0-9]+\ -\ (.*)$ ]]; then
        pass "node: ${BASH_REMATCH[1]}"
        count=$((count + 1))
    elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ (.*)$ ]]; then
        desc=${BASH_REMATCH[1]}
        diag=()
        for ((j = i + 1; j < ${#lines[@]} && ${#diag[@]} < 40; j++)); do
            [[ ${lines[$j]} =~ ^(not\ )?ok\ [0-9]+ ]] && break
            [[ ${lines[$j]} =~ ^[[:space:]] ]] && diag+=("${lines[$j]}")
        done
        fail "node: $desc" "${diag[@]}"
        count=$((count + 1))
    fi
done
if [ "$count" -ge 40 ]; then
    pass "node --test reported $count tests"
else
    fail "node --test reported at least 40 tests" "it reported $count" "$(tail -n 30 "$WORK/node.tap")"
fi
is "$status" 0 "node --test exits 0"

done_testing
