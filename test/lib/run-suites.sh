#!/usr/bin/env bash
# test/lib/run-suites.sh - runs the suites inside the throwaway cluster that
# test/run started, prints each suite's TAP, and totals the assertions.
set -uo pipefail
cd "${SK_ROOT:?}"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit regress pgtap scripts matrix citus)

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
total_pass=0
total_fail=0
total_skip=0

# Counts "ok"/"not ok" lines of a TAP log; a suite that exited non-zero
# without a failing assertion (a crash, a bad plan) counts as one failure.
tally() {
    local name=$1 status=$2 log=$3 p f
    p=$(grep -cE '^[[:space:]]*ok [0-9]+' "$log")
    f=$(grep -cE '^[[:space:]]*not ok [0-9]+' "$log")
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    # A suite that says why it skipped (test/citus.sh without the Citus
    # source) counts as skipped, not as one that ran no test.
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && grep -q "^# SKIP $name:" "$log"; then
        echo "# suite $name: skipped"; total_skip=$((total_skip + 1)); return
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "# $name ran no test"; fi
    echo "# suite $name: $p passed, $f failed"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

# pg_regress output as TAP: one line per test, either format (PG <= 15
# prints "test x ... ok", PG 16+ prints "ok N - x").
regress_tap() {
    make -s installcheck >"$logdir/regress.raw" 2>&1
    local st=$?
    awk '/\.\.\. ok|^ok [0-9]/ { n++; print "ok " n " - " $0 }
         /\.\.\. FAILED|^not ok [0-9]/ { n++; print "not ok " n " - " $0 }' "$logdir/regress.raw"
    if [ "$st" -ne 0 ]; then
        sed 's/^/# /' "$logdir/regress.raw" | tail -20
        [ -f regression.diffs ] && sed 's/^/# /' regression.diffs | head -200
        return 1
    fi
}

for suite in "${suites[@]}"; do
    echo "=== suite: $suite"
    log="$logdir/$suite.log"
    case "$suite" in
        unit)
            make -s -C test/unit run 2>&1 | tee "$log"; st=${PIPESTATUS[0]};;
        regress)
            regress_tap | tee "$log"; st=${PIPESTATUS[0]};;
        pgtap)
            db=schemakit_pgtap
            dropdb --if-exists "$db"; createdb "$db"
            psql -X -q -d "$db" -c "CREATE EXTENSION pgtap; CREATE EXTENSION schemakit;" >/dev/null
            pg_prove -v -d "$db" test/pgtap/*.sql 2>&1 | tee "$log"; st=${PIPESTATUS[0]};;
        scripts)
            prove -v ${SK_SCRIPTS:-test/scripts/*.sh} 2>&1 | tee "$log"; st=${PIPESTATUS[0]};;
        matrix)   # its own closing line as a comment: one closing line at the end
            if [ "$(id -u)" -eq 0 ]; then m=(bash); else m=(sudo --preserve-env=SK_CODE_HMAC_KEY bash); fi
            "${m[@]}" test/matrix.sh 2>&1 | sed -u -E 's/^[0-9]+ passed, [0-9]+ failed$/# matrix: &/' | tee "$log"
            st=${PIPESTATUS[0]};;
        citus)    # a real Citus cluster of its own (test/citus.sh; root); its closing line as a comment
            if [ "$(id -u)" -eq 0 ]; then m=(bash); else m=(sudo bash); fi
            "${m[@]}" test/citus.sh 2>&1 | sed -u -E 's/^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/# citus: &/' | tee "$log"
            st=${PIPESTATUS[0]};;
        *)
            echo "unknown suite: $suite" | tee "$log"; st=1;;
    esac
    tally "$suite" "$st" "$log"
done

if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
