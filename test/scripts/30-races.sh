#!/usr/bin/env bash
# Exactly-once under concurrency.  Each race kind runs ROUNDS rounds; in every
# round N separate client sessions (one background psql process each) make
# the same call at the same moment, and the round is checked on its own:
#
#   verify   32 clients verify the right code of one email: one true, 31 false
#   consume  32 clients consume one reset token: one user id, 31 NULL
#   revoke   32 clients revoke one session: one true, 31 false
#   wrong    32 clients each submit a different wrong code for one email:
#            all false, failed_attempts ends at exactly 5, the right code is dead
#   issue    16 clients issue a code for one email: one open row, and exactly
#            one of the 16 returned codes verifies
#   link     16 clients link one provider account to one user: same id, one row
#   limit    (only where issue_email_code enforces schemakit.email_code_issue_limit,
#            1.3+) 16 clients issue for one email under a limit of 5: exactly 5
#            get a code, 11 get SKR01, 5 rows, one open
#
# The barrier: a holder session takes pg_advisory_lock(KIND, r) for every
# round r before the clients start.  Each client runs all rounds in one
# session; its statement for round r first blocks on
# pg_advisory_lock_shared(KIND, r) and then, in the same statement, makes the
# call under test, so no client round trip separates release and call.  The
# holder releases round r only when pg_locks shows all N clients waiting on
# it, so every round starts with all N sessions released at once, and a round
# cannot start before every client has finished the previous one.  The
# diagnostics report how close together the calls started.
#
# SK_RACE_ROUNDS overrides the number of rounds per kind (default 30);
# SK_VERSION installs that extension version instead of the default.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/races.sh"

DB=sk_races
ROUNDS=${SK_RACE_ROUNDS:-30}
LOCK_BASE=424200            # advisory key1 = LOCK_BASE + kind number; key2 = round
BARRIER_TIMEOUT=60          # seconds the holder waits for the clients of one round
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
t_start=$SECONDS

fresh_db "$DB" "${SK_VERSION:-}"
echo "# schemakit $(sql "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'"), $ROUNDS rounds per race kind"
# The issue race needs 16 codes per address at once: lift the per-address
# issuance limit (1.3+; a harmless placeholder setting before that).
sql "$DB" -c "ALTER DATABASE $DB SET schemakit.email_code_issue_limit = 1000" >/dev/null
# Helpers for the checks only (public schema of this suite's own database).
sql "$DB" >/dev/null <<'SQL'
-- The summary of one issue round: the rows of the email, the open ones,
-- then how many distinct returned codes match the open row's hash; the one
-- that matches must then verify through verify_email_code.  (Wrong codes
-- are not tried: from 1.5 on no reset of failed_attempts takes a failed
-- guess back, so 15 wrong tries would lock the address.)
CREATE FUNCTION public.check_issue(p_email text, p_codes text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    n_rows int; n_open int; n_distinct int; n_verified int := 0; c text; open_hash bytea;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE used_at IS NULL AND revoked_at IS NULL)
      INTO n_rows, n_open
      FROM schemakit.email_codes WHERE lower(email) = lower(p_email);
    SELECT count(DISTINCT x) INTO n_distinct FROM unnest(p_codes) x;
    SELECT code_hash INTO open_hash FROM schemakit.email_codes
     WHERE lower(email) = lower(p_email) AND used_at IS NULL AND revoked_at IS NULL;
    FOR c IN SELECT DISTINCT x FROM unnest(p_codes) x LOOP
        IF schemakit._code_hash_keyed(p_email, c) = open_hash
           AND schemakit.verify_email_code(p_email, c) THEN
            n_verified := n_verified + 1;
        END IF;
    END LOOP;
    RETURN format('rows=%s open=%s codes_verifying=%s of %s distinct', n_rows, n_open, n_verified, n_distinct);
END
$$;
SQL


# counts of each distinct value, "value*count" sorted, comma-separated.
tally_values() { LC_ALL=C sort | uniq -c | awk '{print $2 "*" $1}' | LC_ALL=C sort | paste -sd, -; }

# --- verify: 32 clients, the right code ------------------------------------
N=32
declare -A CODE
while IFS='|' read -r r code; do CODE[$r]=$code; done < <(sql "$DB" -c \
    "SELECT r || '|' || schemakit.issue_email_code('race-verify-' || r || '@example.com') FROM generate_series(1, $ROUNDS) r")
client_sql_verify() {
    echo "schemakit.verify_email_code('race-verify-$2@example.com', '${CODE[$2]}')::text"
}
run_race 1 verify $N
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values verify "$r" | tally_values)" "false*$((N - 1)),true*1" "verify round $r: exactly one of $N clients got true, the rest false"
done
is "$(sql "$DB" -c "SELECT count(*) FILTER (WHERE used_at IS NOT NULL AND failed_attempts = 0) FROM schemakit.email_codes WHERE email LIKE 'race-verify-%'")" \
   "$ROUNDS" "verify: every round's code is used once, with no failed attempt counted"

# --- consume: 32 clients, one reset token -----------------------------------
# One user per round: consuming a token also revokes the user's other tokens.
declare -A TOKEN UID_OF
while IFS='|' read -r r uid token; do TOKEN[$r]=$token; UID_OF[$r]=$uid; done < <(sql "$DB" <<SQL
WITH u AS (
    INSERT INTO schemakit.users (username, email)
    SELECT 'race-consume-' || r, 'race-consume-' || r || '@example.com' FROM generate_series(1, $ROUNDS) r
    RETURNING id, username)
SELECT substr(username, 14) || '|' || id || '|' || schemakit.issue_password_reset_token(id) FROM u;
SQL
)
client_sql_consume() {
    echo "schemakit.consume_password_reset_token('${TOKEN[$2]}')::text"
}
run_race 2 consume $N
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values consume "$r" | tally_values)" "${UID_OF[$r]}*1,NULL*$((N - 1))" \
       "consume round $r: exactly one of $N clients got the user id, the rest NULL"
done
is "$(sql "$DB" -c "SELECT count(*) FILTER (WHERE t.used_at IS NOT NULL) || '/' || count(*) FROM schemakit.password_reset_tokens t JOIN schemakit.users u ON u.id = t.user_id WHERE u.username LIKE 'race-consume-%'")" \
   "$ROUNDS/$ROUNDS" "consume: every round's token is used exactly once"

# --- revoke: 32 clients, one session ----------------------------------------
declare -A SESSION
SESS_UID=$(sql "$DB" -c "INSERT INTO schemakit.users (username) VALUES ('race-revoke') RETURNING id")
while IFS='|' read -r r token; do SESSION[$r]=$token; done < <(sql "$DB" -c \
    "SELECT r || '|' || schemakit.issue_session($SESS_UID, '1 day', ('192.0.2.' || r)::inet, 'race/' || r) FROM generate_series(1, $ROUNDS) r")
client_sql_revoke() {
    echo "schemakit.revoke_session('${SESSION[$2]}')::text"
}
run_race 3 revoke $N
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values revoke "$r" | tally_values)" "false*$((N - 1)),true*1" "revoke round $r: exactly one of $N clients got true, the rest false"
done
is "$(sql "$DB" -c "SELECT count(*) FILTER (WHERE revoked_at IS NOT NULL) || '/' || count(*) FROM schemakit.sessions WHERE user_id = $SESS_UID")" \
   "$ROUNDS/$ROUNDS" "revoke: every round's session is revoked"

# --- wrong: 32 clients, 32 different wrong codes ----------------------------
declare -A WCODE
while IFS='|' read -r r code; do WCODE[$r]=$code; done < <(sql "$DB" -c \
    "SELECT r || '|' || schemakit.issue_email_code('race-wrong-' || r || '@example.com') FROM generate_series(1, $ROUNDS) r")
client_sql_wrong() {
    # client c submits right + c (mod 10^6): never the right code, all different
    local wrong
    wrong=$(printf '%06d' $(( (10#${WCODE[$2]} + $1) % 1000000 )))
    echo "schemakit.verify_email_code('race-wrong-$2@example.com', '$wrong')::text"
}
run_race 4 wrong $N
declare -A WSTATE
while IFS='|' read -r r st; do WSTATE[$r]=$st; done < <(sql "$DB" -c "
    SELECT r || '|' || 'failed_attempts=' || coalesce((SELECT string_agg(failed_attempts::text, ',') FROM schemakit.email_codes
                                                  WHERE email = 'race-wrong-' || r || '@example.com'), 'none')
      FROM generate_series(1, $ROUNDS) r")
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values wrong "$r" | tally_values)" "false*$N" "wrong round $r: all $N wrong codes refused"
    is "${WSTATE[$r]}" "failed_attempts=5" "wrong round $r: failed_attempts stopped at exactly 5"
done
while IFS='|' read -r r ok; do
    is "$ok" "false" "wrong round $r: the right code is dead after 5 failures"
done < <(sql "$DB" -c "SELECT r || '|' || schemakit.verify_email_code('race-wrong-' || r || '@example.com', c)
                         FROM (VALUES $(for ((r = 1; r <= ROUNDS; r++)); do printf "%s(%d,'%s')" "$([ "$r" -gt 1 ] && echo ,)" "$r" "${WCODE[$r]}"; done)) v (r, c)
                        ORDER BY r")

# --- issue: 16 clients issue for one email -----------------------------------
N=16
client_sql_issue() {
    echo "schemakit.issue_email_code('race-issue-$2@example.com')"
}
run_race 5 issue $N
for ((r = 1; r <= ROUNDS; r++)); do
    codes=$(round_values issue "$r")
    is "$(printf '%s\n' "$codes" | grep -cE '^[0-9]{6}$')" "$N" "issue round $r: all $N clients got a 6-digit code"
    arr=$(printf '%s\n' "$codes" | sed "s/.*/'&'/" | paste -sd, -)
    ndistinct=$(printf '%s\n' "$codes" | sort -u | grep -c .)
    is "$(sql "$DB" -c "SELECT public.check_issue('race-issue-$r@example.com', ARRAY[$arr]::text[])")" \
       "rows=$N open=1 codes_verifying=1 of $ndistinct distinct" \
       "issue round $r: one open row, and exactly one returned code verifies"
done

# --- link: 16 clients link one provider account to one user -----------------
LINK_UID=$(sql "$DB" -c "INSERT INTO schemakit.users (username) VALUES ('race-link') RETURNING id")
client_sql_link() {
    echo "schemakit.link_oauth_account($LINK_UID, 'github', 'race-$2', 'race-link@example.com', 'Racer $1')::text"
}
run_race 6 link $N
declare -A LINK_ROW
while IFS='|' read -r r st; do LINK_ROW[$r]=$st; done < <(sql "$DB" -c "
    SELECT substr(provider_id, 6) || '|' || string_agg(id::text || ':' || user_id, ',')
      FROM schemakit.oauth_accounts WHERE provider = 'github' AND provider_id LIKE 'race-%' GROUP BY provider_id")
for ((r = 1; r <= ROUNDS; r++)); do
    vals=$(round_values link "$r" | tally_values)
    like "$vals" "^[0-9]+\*$N$" "link round $r: all $N clients got the same link id"
    is "${LINK_ROW[$r]:-none}" "${vals%\**}:$LINK_UID" "link round $r: exactly one row, with that id, for the user"
done

# --- limit: 16 clients issue for one email under the issuance limit -------
if [ "$(sql "$DB" -c "SELECT prosrc LIKE '%email_code_issue_limit%' FROM pg_proc WHERE oid = 'schemakit.issue_email_code(text, interval)'::regprocedure")" = t ]; then
    N=16 LIMIT=5
    client_pre_limit() { echo "SET schemakit.email_code_issue_limit = $LIMIT;"; }
    client_sql_limit() {
        echo "schemakit.issue_email_code('race-limit-$2@example.com')"
    }
    run_race 7 limit $N SKR01
    is "${N_ERRORS[SKR01]}" "$((ROUNDS * (N - LIMIT)))" "limit: $((N - LIMIT)) clients per round got SKR01 (too many codes)"
    declare -A LIMIT_ROWS
    while IFS='|' read -r r st; do LIMIT_ROWS[$r]=$st; done < <(sql "$DB" -c "
        SELECT r || '|rows=' || count(c.id) || ' open=' || count(c.id) FILTER (WHERE c.used_at IS NULL AND c.revoked_at IS NULL)
          FROM generate_series(1, $ROUNDS) r
          LEFT JOIN schemakit.email_codes c ON c.email = 'race-limit-' || r || '@example.com'
         GROUP BY r")
    for ((r = 1; r <= ROUNDS; r++)); do
        is "$(round_values limit "$r" | grep -cE '^[0-9]{6}$')" "$LIMIT" "limit round $r: exactly $LIMIT of $N clients got a code"
        is "${LIMIT_ROWS[$r]}" "rows=$LIMIT open=1" "limit round $r: $LIMIT rows, one open"
    done
else
    echo "# limit race skipped: this issue_email_code has no issuance limit"
fi

echo "# races run: $races_run"
echo "# elapsed: $((SECONDS - t_start))s"
dropdb --if-exists "$DB"
done_testing
