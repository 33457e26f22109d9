#!/usr/bin/env bash
# The node-postgres example (examples/node): pg is pinned and locked, the
# dependencies install with `npm ci`, and the example's own tests
# (node --test, TAP reporter) pass against a fresh database with schemakit,
# connected as an application role set up with schemakit.grant_app().  Each
# top-level node test becomes one assertion here; demo.js runs to the end.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

NODE_DIR=$SK_ROOT/examples/node
DB=sk_node
ROLE=sk_node_app
WORK=$(mktemp -d /tmp/sk_node.XXXXXX)
cleanup() {
    dropdb --if-exists "$DB" 2>/dev/null
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$NODE_DIR" || { fail "examples/node exists"; done_testing; exit; }

# node and npm: Debian's packages when missing (Debian 12 has node 18).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "# installing nodejs and npm"
    SUDO=
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq >/dev/null 2>&1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1
fi
node_version=$(node --version 2>/dev/null || true)
node_major=${node_version#v}
node_major=${node_major%%.*}
if [ -n "$node_version" ] && [ "${node_major:-0}" -ge 18 ]; then
    pass "node $node_version is available (18+ has node --test and the TAP reporter)"
else
    fail "node 18+ is available" "node --version: ${node_version:-missing}"
    done_testing
    exit
fi

# The pin: an exact version in package.json, the same one in the lockfile.
pinned=$(node -p "require('./package.json').dependencies.pg" 2>&1)
like "$pinned" '^[0-9]+\.[0-9]+\.[0-9]+$' "package.json pins pg to an exact version ($pinned)"
is "$(node -p "require('./package-lock.json').packages['node_modules/pg'].version" 2>&1)" "$pinned" \
   "package-lock.json locks the pinned pg"
if git -C "$SK_ROOT" rev-parse -q --verify HEAD >/dev/null 2>&1; then
    is "$(git -C "$SK_ROOT" check-ignore -q examples/node/node_modules/pg && echo ignored)" ignored \
       "node_modules is ignored by git"
fi

if [ -d node_modules ]; then
    pass "npm ci # SKIP node_modules is already installed"
else
    ok_cmd "npm ci installs the locked dependencies" npm ci --no-audit --no-fund
fi
is "$(node -p "require('pg/package.json').version" 2>&1)" "$pinned" "the installed pg is the pinned version"

# A fresh database, and an application role with exactly what grant_app gives.
fresh_db "$DB"
password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
sql "$DB" -c "CREATE ROLE $ROLE LOGIN PASSWORD '$password'" >/dev/null
ok_cmd "the app role $ROLE is set up with schemakit.grant_app()" sql "$DB" -c "SELECT schemakit.grant_app('$ROLE')"
export PGUSER=$ROLE PGPASSWORD=$password
export PGDATABASE=$DB

# The example's tests; each top-level TAP result of node becomes one of ours.
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
if [ "$count" -ge 20 ]; then
    pass "node --test reported $count tests"
else
    fail "node --test reported at least 20 tests" "it reported $count" "$(tail -n 30 "$WORK/node.tap")"
fi
is "$status" 0 "node --test exits 0"

out=$(node demo.js 2>&1)
st=$?
if [ "$st" -eq 0 ] && printf '%s\n' "$out" | grep -q '^== Errors carry SQLSTATEs'; then
    pass "demo.js walks through to the end"
else
    fail "demo.js walks through to the end" "exit $st" "$(printf '%s\n' "$out" | tail -n 20)"
fi

done_testing
