#!/usr/bin/env bash
# The Python example (examples/python): psycopg 3 from Debian's
# python3-psycopg, run by /usr/bin/python3 (not whatever python3 is first on
# PATH).  The example's unittest suite prints TAP; it runs against a fresh
# database with schemakit, connected as an application role set up with
# schemakit.grant_app(); each test becomes one assertion here.  It covers
# every flow, the Python types, the SQLSTATEs, and what psycopg's default
# transaction mode means for verify_email_code (a rolled-back wrong guess
# still counts).  Skips (one TAP skip) only when psycopg cannot be had.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

PY_DIR=$SK_ROOT/examples/python
PY=${SK_PYTHON:-/usr/bin/python3}
DB=sk_python
ROLE=sk_python_app
WORK=$(mktemp -d /tmp/sk_python.XXXXXX)
cleanup() {
    dropdb --if-exists "$DB" 2>/dev/null
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$PY_DIR" || { fail "examples/python exists"; done_testing; exit; }

have_psycopg() { "$PY" -c 'import psycopg' >/dev/null 2>&1; }
if ! have_psycopg; then
    echo "# installing python3-psycopg (test/deps.sh, SK_DEPS_EXTRA)"
    SK_DEPS_EXTRA="python3 python3-psycopg" "$SK_ROOT/test/deps.sh" 2>&1 | sed 's/^/# /'
fi
if ! have_psycopg; then
    echo "ok 1 # SKIP psycopg 3 is unavailable to $PY and python3-psycopg could not be installed"
    echo "1..1"
    exit 0
fi
version=$("$PY" -c 'import psycopg; print(psycopg.__version__)' 2>&1)
like "$version" '^3\.' "psycopg 3 is importable by $PY ($version)"

# A fresh database, and an application role with exactly what grant_app gives.
fresh_db "$DB"
password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE ROLE $ROLE LOGIN PASSWORD '$password'" >/dev/null
sql "$DB" -c "SELECT schemakit.grant_app('$ROLE')" >/dev/null
is "$(sql "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")" 1.5 \
   "the database has schemakit 1.5"
is "$(sql "$DB" -c "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = '$ROLE'")" f \
   "the tests run as $ROLE: no superuser, CREATEDB or CREATEROLE"

started=$(date +%s)
PGUSER=$ROLE PGPASSWORD=$password PGDATABASE=$DB PYTHONDONTWRITEBYTECODE=1 \
    "$PY" test_schemakit_app.py >"$WORK/py.tap" 2>&1
status=$?
echo "# python: exit $status in $(( $(date +%s) - started ))s"
mapfile -t lines <"$WORK/py.tap"
count=0
for ((i = 0; i < ${#lines[@]}; i++)); do
    line=${lines[$i]}
    if [[ $line =~ ^ok\ [0-9]+\ -\ (.*)$ ]]; then
        pass "python: ${BASH_REMATCH[1]}"
        count=$((count + 1))
    elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ (.*)$ ]]; then
        desc=${BASH_REMATCH[1]}
        diag=()
        for ((j = i + 1; j < ${#lines[@]} && ${#diag[@]} < 40; j++)); do
            [[ ${lines[$j]} =~ ^#\  ]] || break
            diag+=("${lines[$j]#\# }")
        done
        fail "python: $desc" "${diag[@]}"
        count=$((count + 1))
    elif [[ $line =~ ^#\ psycopg ]]; then
        echo "$line"
    fi
done
if [ "$count" -ge 30 ]; then
    pass "the Python suite reported $count tests"
else
    fail "the Python suite reported at least 30 tests" "it reported $count" "$(tail -n 30 "$WORK/py.tap")"
fi
is "$status" 0 "the Python suite exits 0"

done_testing
