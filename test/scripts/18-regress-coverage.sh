#!/usr/bin/env bash
# The pg_regress suite (`make installcheck`: test/sql/*.sql against the
# expected outputs in expected/) calls every public function of the default
# version.  The public functions are read from a fresh install (extension
# members whose names do not start with "_" and that are not trigger
# functions, as grant_app counts them); each must appear as a call,
# `schemakit.<name>(`, in test/sql/*.sql outside a "--" comment.  A new
# public function without a regress test fails here.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_regress_coverage
fresh_db "$DB"
names=$(sql "$DB" <"$SK_ROOT/test/lib/public-functions.sql" | sed 's/^schemakit\.//; s/(.*//' | sort -u)
n=$(printf '%s\n' "$names" | grep -c .)
like "$n" '^[1-9][0-9]*$' "a fresh install lists its public functions ($n)"

files=("$SK_ROOT"/test/sql/*.sql)
if [ ! -f "${files[0]}" ]; then
    fail "test/sql holds the regress inputs" "no test/sql/*.sql under $SK_ROOT"
    done_testing; exit
fi
# The regress inputs without their "--" comments (a function named only in
# a comment is not tested).
code=$(sed 's/--.*$//' "${files[@]}")

while read -r f; do
    [ -n "$f" ] || continue
    if grep -Eq "schemakit\.$f[[:space:]]*\(" <<<"$code"; then
        pass "test/sql calls schemakit.$f"
    else
        fail "test/sql calls schemakit.$f" \
            "no call schemakit.$f( in test/sql/*.sql: add a regress test (and its expected output)"
    fi
done <<<"$names"

dropdb --if-exists "$DB"
done_testing
