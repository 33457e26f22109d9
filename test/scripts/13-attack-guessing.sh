#!/usr/bin/env bash
# Attack class: guesses that a rollback, a retry or a crowd makes free.
#
# Under 1.4 a caller that rolled back after each wrong verify_email_code also
# rolled back the failure count (every driver in a transaction block does so
# on an error); 32 concurrent wrong guesses passed a limit of 10; two reset
# tokens of one user consumed at once deadlocked.  1.5 counts a failed guess
# in shared memory before it answers, takes per-address and per-user locks,
# and so:
#   rolled back  - 5 wrong guesses kill a code however each transaction ended
#                  (ROLLBACK, ROLLBACK TO SAVEPOINT, an exception block, a
#                  statement that fails later, a cancel, a dropped
#                  connection); the per-address limit (SKR02) likewise;
#   concurrent   - 32 clients at once, in rounds: the per-address limit is
#                  exact, one right code verifies once, one of two reset
#                  tokens of a user wins and nobody deadlocks.
# A control run on 1.4 shows the rollback attack working there.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_guess
ROUNDS=${SK_GUESS_ROUNDS:-5}
N=32
WORK=$(mktemp -d /tmp/sk_guess.XXXXXX)
trap 'rm -rf "$WORK"; dropdb --if-exists $DB 2>/dev/null; dropdb --if-exists ${DB}_14 2>/dev/null' EXIT
tried=0
held=0
attack() { tried=$((tried + 1)); if [ "$1" = "$2" ]; then held=$((held + 1)); pass "$3"; else fail "$3" "got:      $1" "expected: $2"; fi; }

fresh_db $DB
sql $DB -c "ALTER DATABASE $DB SET schemakit.email_code_issue_limit = 1000" >/dev/null

issue() { sql "$1" -c "SELECT schemakit.issue_email_code('$2')"; }
wrong_of() { printf '%06d' $(( (10#$1 + 1) % 1000000 )); }   # a code that is not $1
verify() { sql "$1" -c "SELECT schemakit.verify_email_code('$2', '$3')" 2>&1; }

# ---------------------------------------------------------------------------
# Rolled back, five ways, then the right code.
# ---------------------------------------------------------------------------
rolled_back() {   # rolled_back DB WAY ADDRESS CODE: five wrong guesses, each undone the given way
    local db=$1 way=$2 a=$3 code=$4 i w
    for i in 1 2 3 4 5; do
        w=$(printf '%06d' $(( (10#$code + i) % 1000000 )))
        case $way in
            rollback)  psql -X -q -d "$db" -c "BEGIN" -c "SELECT schemakit.verify_email_code('$a', '$w')" -c "ROLLBACK" >/dev/null 2>&1;;
            savepoint) psql -X -q -d "$db" -c "BEGIN" -c "SAVEPOINT s" -c "SELECT schemakit.verify_email_code('$a', '$w')" \
                            -c "ROLLBACK TO SAVEPOINT s" -c "COMMIT" >/dev/null 2>&1;;
            exception) sql "$db" -c "DO \$\$ BEGIN PERFORM schemakit.verify_email_code('$a', '$w'); RAISE EXCEPTION 'undo';
                                     EXCEPTION WHEN raise_exception THEN NULL; END \$\$" >/dev/null 2>&1;;
            # (the division runs after the guess: a constant 1 / 0 would fail at plan time)
            statement) sql "$db" -c "SELECT CASE WHEN schemakit.verify_email_code('$a', '$w') IS NOT NULL
                                          THEN 1 / (random() * 0)::int END" >/dev/null 2>&1;;
            cancel)    sql "$db" -c "SET statement_timeout = '200ms'; SELECT schemakit.verify_email_code('$a', '$w'), pg_sleep(5)" >/dev/null 2>&1;;
            disconnect) printf "BEGIN;\nSELECT schemakit.verify_email_code('%s', '%s');\n" "$a" "$w" | psql -X -q -d "$db" >/dev/null 2>&1;;
        esac
    done
}
for way in rollback savepoint exception statement cancel disconnect; do
    a="rb-$way@example.com"
    code=$(issue $DB "$a")
    rolled_back $DB $way "$a" "$code"
    is "$(sql $DB -c "SELECT failed_attempts FROM schemakit.email_codes WHERE email = '$a'")" 0 \
       "rolled back ($way): the table's count was rolled back (0)"
    attack "$(verify $DB "$a" "$code")" f "rolled back ($way): after 5 undone wrong guesses the right code is refused"
done
# Four undone wrong guesses leave the code alive (the count is exact, not a lockout).
a=rb-four@example.com
code=$(issue $DB $a)
for i in 1 2 3 4; do
    psql -X -q -d $DB -c "BEGIN" -c "SELECT schemakit.verify_email_code('$a', '$(printf '%06d' $(( (10#$code + i) % 1000000 )))')" -c "ROLLBACK" >/dev/null 2>&1
done
is "$(verify $DB $a "$code")" t "rolled back: after 4 undone wrong guesses the right code still verifies"

# The per-address limit counts undone guesses too: 2 codes x 5 undone wrong
# guesses reach the limit of 10; the third code, right, gets SKR02.
a=rb-limit@example.com
for k in 1 2; do code=$(issue $DB $a); rolled_back $DB rollback $a "$code"; done
code=$(issue $DB $a)
attack "$(sqlstate $DB "SELECT schemakit.verify_email_code('$a', '$code')")" SKR02 \
       "rolled back: 10 undone wrong guesses on 2 codes trip the per-address limit (SKR02)"

# ---------------------------------------------------------------------------
# 32 at once, in rounds.
# ---------------------------------------------------------------------------
# race KEY N CLIENT_FN: N psql clients released together by an advisory lock;
# CLIENT_FN c prints client c's SQL.  Output of client c in $WORK/out.c, errors in $WORK/err.c.
race() {
    local key=$1 n=$2 fn=$3 c i waiting=0 pids=()
    rm -f "$WORK"/out.* "$WORK"/err.*
    psql -X -q -d $DB -c "SELECT pg_advisory_lock($key)" \
        -c "DO \$\$ BEGIN WHILE (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $key AND NOT granted) < $n
                        LOOP PERFORM pg_sleep(0.005); END LOOP; END \$\$" \
        -c "SELECT pg_advisory_unlock($key)" >/dev/null 2>&1 &
    local holder=$!
    for ((i = 0; i < 500; i++)); do
        [ "$(sql $DB -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $key AND granted")" = 1 ] && break
        sleep 0.01
    done
    for ((c = 1; c <= n; c++)); do
        psql -X -q -A -t -v VERBOSITY=verbose -d $DB -c "SELECT pg_advisory_lock_shared($key)" -c "$("$fn" "$c")" \
            >"$WORK/out.$c" 2>"$WORK/err.$c" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    wait "$holder"
}

# (1) the per-address limit under a crowd: limit 3, 32 wrong guesses at once.
sql $DB -c "ALTER DATABASE $DB SET schemakit.email_code_verify_limit = 3" >/dev/null
for ((r = 1; r <= ROUNDS; r++)); do
    A="crowd-$r@example.com"
    CODE=$(issue $DB "$A")
    client_wrong() { echo "SELECT schemakit.verify_email_code('$A', '$(printf '%06d' $(( (10#$CODE + $1) % 1000000 )))')"; }
    race $((9100 + r)) $N client_wrong
    nf=$(cat "$WORK"/out.* | grep -c '^f$')
    nskr=$(cat "$WORK"/err.* | grep -c 'ERROR:  SKR02')
    other=$(cat "$WORK"/err.* | grep 'ERROR:' | grep -vc 'SKR02')
    attack "$nf false, $nskr SKR02, $other other" "3 false, 29 SKR02, 0 other" \
           "crowd round $r: 32 wrong guesses at once against a limit of 3: exactly 3 judged"
done
sql $DB -c "ALTER DATABASE $DB RESET schemakit.email_code_verify_limit" >/dev/null

# (2) the right code, 32 at once: exactly one true.
for ((r = 1; r <= ROUNDS; r++)); do
    A="right-$r@example.com"
    CODE=$(issue $DB "$A")
    client_right() { echo "SELECT schemakit.verify_email_code('$A', '$CODE')"; }
    race $((9200 + r)) $N client_right
    attack "$(cat "$WORK"/out.* | grep -c '^t$')/$(cat "$WORK"/err.* | grep -c 'ERROR:')" "1/0" \
           "right code round $r: 32 verifications at once, exactly one true, no error"
done

# (3) two reset tokens of one user, 16 consumers each: one wins, nobody deadlocks.
for ((r = 1; r <= ROUNDS; r++)); do
    uid=$(sql $DB -c "INSERT INTO schemakit.users (username) VALUES ('reset-$r') RETURNING id")
    T1=$(sql $DB -c "SELECT schemakit.issue_password_reset_token($uid)")
    T2=$(sql $DB -c "SELECT schemakit.issue_password_reset_token($uid)")
    client_reset() { if [ $(($1 % 2)) = 0 ]; then echo "SELECT coalesce(schemakit.consume_password_reset_token('$T1')::text, 'null')";
                     else echo "SELECT coalesce(schemakit.consume_password_reset_token('$T2')::text, 'null')"; fi; }
    race $((9300 + r)) $N client_reset
    attack "$(cat "$WORK"/out.* | grep -c "^$uid\$") won, $(cat "$WORK"/out.* | grep -c '^null$') null, $(cat "$WORK"/err.* | grep -c 'ERROR:') errors" \
           "1 won, 31 null, 0 errors" "reset round $r: two tokens of one user, 32 consumers: one wins, no 40P01"
done

# (4) issue and verify for one address at once: the counts stay consistent.
for ((r = 1; r <= ROUNDS; r++)); do
    A="mixed-$r@example.com"
    CODE=$(issue $DB "$A")
    client_mixed() { if [ $(($1 % 2)) = 0 ]; then echo "SELECT schemakit.issue_email_code('$A') IS NOT NULL";
                     else echo "SELECT schemakit.verify_email_code('$A', '000000')"; fi; }
    race $((9400 + r)) $N client_mixed
    attack "$(cat "$WORK"/err.* | grep 'ERROR:' | grep -vc 'SKR0[12]')|$(sql $DB -c "SELECT count(*) FROM schemakit.email_codes WHERE email = '$A' AND used_at IS NULL AND revoked_at IS NULL")" \
           "0|1" "mixed round $r: 16 issues and 16 guesses at once: no unexpected error, one open code"
done

# ---------------------------------------------------------------------------
# Control: on 1.4 rolled-back guesses are free, so this suite can fail.
# ---------------------------------------------------------------------------
fresh_db ${DB}_14 1.4
a=control@example.com
code=$(issue ${DB}_14 $a)
rolled_back ${DB}_14 rollback $a "$code"
is "$(verify ${DB}_14 $a "$code")" t "control: on 1.4 the right code still verifies after 5 rolled-back wrong guesses"

echo "# guessing: $tried attacks tried, $held held"
done_testing
