#!/usr/bin/env bash
# Smoke walk: every public function of the installed default version (from
# pg_proc: extension members not "_"-prefixed and not trigger functions, as
# grant_app counts them) is called once by test/lib/smoke.sql with a sane
# result.  A public function without a smoke call fails here, so a new one
# needs a line in smoke.sql.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_smoke
fresh_db "$DB"
public=$(sql "$DB" <"$SK_ROOT/test/lib/public-functions.sql")
like "$(printf '%s\n' "$public" | wc -l)" '^[1-9][0-9]*$' "pg_proc lists the public functions ($(printf '%s\n' "$public" | wc -l))"

errs=$(mktemp)
out=$(psql -X -q -d "$DB" -f "$SK_ROOT/test/lib/smoke.sql" 2>"$errs")
declare -A got
while IFS='|' read -r sig res; do [ -n "$sig" ] && got[$sig]=$res; done <<<"$out"

while read -r f; do
    [ -n "$f" ] || continue
    if [ -z "${got[$f]+x}" ]; then
        fail "smoke: $f" "no smoke result (no call in test/lib/smoke.sql, or it raised an error)" "$(cat "$errs")"
    else
        is "${got[$f]}" t "smoke: $f"
    fi
done <<<"$public"
# A smoke line for a function that is not public (renamed, dropped): stale.
for f in "${!got[@]}"; do
    grep -qxF -- "$f" <<<"$public" || fail "smoke: $f is not a public function of this version" "stale line in test/lib/smoke.sql"
done
is "$(cat "$errs")" "" "smoke.sql ran without errors"

rm -f "$errs"
dropdb --if-exists "$DB"
done_testing
