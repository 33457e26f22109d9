#!/usr/bin/env bash
# Organizations under concurrency.  Each race kind runs ROUNDS rounds;
# in every round N separate client sessions make their call at the same
# moment (the barrier of test/lib/races.sh), and the round is checked on its own.
# Each call goes through public.try(), which returns ERR:<SQLSTATE> for an
# error, so every client reports in every round and each round's errors are
# counted on their own:
#
#   accept      32 clients accept one invitation for its user: one gets the
#               membership, 31 get SKR13 (already accepted); one member row
#   remove      32 clients, two owners A and B: 16 call remove_member(B) as A,
#               16 remove_member(A) as B.  One true; the winner's side gets
#               false (already gone), the loser's side 42501 (no longer a
#               member); exactly one owner is left
#   demote      the same with set_member_role(..., 'member', ...): one true,
#               15 false, 16 42501; one owner and one member left
#   leave       32 owners of one organization all leave at once: 31 true, one
#               SKR14 (last owner); exactly one owner is left
#   selfdemote  32 owners all demote themselves at once: 31 true, one SKR14
#   leave_rr    "leave" under REPEATABLE READ (each statement's snapshot is
#               taken before the barrier): each call returns true, SKR14 or
#               40001, and the owners left are exactly those whose call did
#               not return true (never none)
#   invite      16 clients invite one address at once: 16 rows, one open, and
#               exactly one of the 16 returned tokens accepts
#
# SK_RACE_ROUNDS overrides the number of rounds per kind (default 20).
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/races.sh"

DB=sk_org_races
ROUNDS=${SK_RACE_ROUNDS:-20}
LOCK_BASE=424300            # advisory key1 = LOCK_BASE + kind number; key2 = round
BARRIER_TIMEOUT=60          # seconds the holder waits for the clients of one round
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
t_start=$SECONDS

fresh_db "$DB"
if [ "$(sql "$DB" -c "SELECT to_regprocedure('schemakit.accept_invitation(text, bigint)') IS NOT NULL")" != t ]; then
    echo "# schemakit $(sql "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'") has no organizations"
    dropdb --if-exists "$DB"
    echo "1..0 # SKIP no organizations in this version"
    exit 0
fi
echo "# schemakit $(sql "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'"), $ROUNDS rounds per race kind"

# Users: a, b, the owners o1..o32, and one invitee per round.
sql "$DB" >/dev/null <<SQL
INSERT INTO schemakit.users (username, email) VALUES ('a', 'a@race.example'), ('b', 'b@race.example');
INSERT INTO schemakit.users (username, email) SELECT 'o' || g, 'o' || g || '@race.example' FROM generate_series(1, 32) g;
INSERT INTO schemakit.users (username, email) SELECT 'acc' || r, 'Acc-' || r || '@Race.example' FROM generate_series(1, $ROUNDS) r;
-- make_org(slug, owners): an organization whose owners are the named users,
-- each added through an invitation, as an app would.
CREATE FUNCTION public.make_org(p_slug text, p_owners text[]) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE org bigint; first bigint; o text;
BEGIN
    SELECT id INTO first FROM schemakit.users WHERE username = p_owners[1];
    org := schemakit.create_organization(first, 'Race ' || p_slug, p_slug);
    FOREACH o IN ARRAY p_owners[2:] LOOP
        PERFORM schemakit.accept_invitation(
            schemakit.invite_member(org, (SELECT email FROM schemakit.users WHERE username = o), 'owner', first),
            (SELECT id FROM schemakit.users WHERE username = o));
    END LOOP;
    RETURN org;
END
\$\$;
-- try(call): the call's result as text, or ERR:<SQLSTATE> for an error,
-- so every client reports a value in every round and a round's errors can
-- be counted on their own.  (A subtransaction, as a driver's savepoint.)
CREATE FUNCTION public.try(q text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE r text;
BEGIN
    EXECUTE 'SELECT (' || q || ')::text' INTO r;
    RETURN coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERR:' || SQLSTATE;
END
\$\$;
-- roles(org): "owner*N,member*M" as the organization stands.
CREATE FUNCTION public.roles(org bigint) RETURNS text LANGUAGE sql AS \$\$
    SELECT coalesce(string_agg(role || '*' || n, ',' ORDER BY role), 'none')
      FROM (SELECT role, count(*) AS n FROM schemakit.memberships WHERE organization_id = org GROUP BY role) x
\$\$;
-- check_invite(org, email, tokens): rows and open invitations for the
-- address, and how many of the tokens accept (each try in its own
-- subtransaction; the one that accepts makes the membership).
CREATE FUNCTION public.check_invite(org bigint, p_email text, p_user bigint, p_tokens text[]) RETURNS text
LANGUAGE plpgsql AS \$\$
DECLARE n_rows int; n_open int; n_ok int := 0; t text;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE accepted_at IS NULL AND revoked_at IS NULL) INTO n_rows, n_open
      FROM schemakit.invitations WHERE organization_id = org AND email_key = schemakit.email_key(p_email);
    FOREACH t IN ARRAY p_tokens LOOP
        BEGIN
            PERFORM schemakit.accept_invitation(t, p_user);
            n_ok := n_ok + 1;
        EXCEPTION WHEN SQLSTATE 'SKR12' THEN NULL;
        END;
    END LOOP;
    RETURN format('rows=%s open=%s accepted=%s', n_rows, n_open, n_ok);
END
\$\$;
SQL
uid() { sql "$DB" -c "SELECT id FROM schemakit.users WHERE username = '$1'"; }
A=$(uid a) B=$(uid b)
declare -A O
while IFS='|' read -r c id; do O[$c]=$id; done < <(sql "$DB" -c "SELECT substr(username, 2) || '|' || id FROM schemakit.users WHERE username ~ '^o[0-9]+$'")
OWNERS32="ARRAY[$(for ((c = 1; c <= 32; c++)); do printf "%s'o%d'" "$([ "$c" -gt 1 ] && echo ,)" "$c"; done)]"


# counts of each distinct value, "value*count" sorted, comma-separated.
tally_values() { LC_ALL=C sort | uniq -c | awk '{print $2 "*" $1}' | LC_ALL=C sort | paste -sd, -; }


# --- accept: 32 clients accept one invitation ----------------------------
N=32
declare -A TOK ACC ACC_ORG
while IFS='|' read -r r org acc tok; do ACC_ORG[$r]=$org; ACC[$r]=$acc; TOK[$r]=$tok; done < <(sql "$DB" -c "
    SELECT r || '|' || org || '|' || (SELECT id FROM schemakit.users WHERE username = 'acc' || r) || '|'
           || schemakit.invite_member(org, 'acc-' || r || '@race.example', 'member', $A)
      FROM (SELECT r, public.make_org('acc-' || r, ARRAY['a']) AS org FROM generate_series(1, $ROUNDS) r) x")
client_sql_accept() { echo "public.try(\$q\$(schemakit.accept_invitation('${TOK[$2]}', ${ACC[$2]})).role\$q\$)"; }
run_race 1 accept $N
declare -A ACC_STATE
while IFS='|' read -r r st; do ACC_STATE[$r]=$st; done < <(sql "$DB" -c "
    SELECT r || '|' || public.roles(org) || ' accepted_by_invitee='
           || (SELECT count(*) FROM schemakit.invitations i WHERE i.organization_id = org AND i.accepted_by = acc)
      FROM (VALUES $(for ((r = 1; r <= ROUNDS; r++)); do printf "%s(%d,%d,%d)" "$([ "$r" -gt 1 ] && echo ,)" "$r" "${ACC_ORG[$r]}" "${ACC[$r]}"; done)) v (r, org, acc)")
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values accept "$r" | tally_values)" "ERR:SKR13*$((N - 1)),member*1" "accept round $r: exactly one of $N clients got the membership, $((N - 1)) SKR13"
    is "${ACC_STATE[$r]}" "member*1,owner*1 accepted_by_invitee=1" "accept round $r: one new member, the invitation accepted once"
done

# --- remove / demote: two owners act on each other --------------------------
declare -A RM DM
while IFS='|' read -r r rm dm; do RM[$r]=$rm; DM[$r]=$dm; done < <(sql "$DB" -c "
    SELECT r || '|' || public.make_org('rm-' || r, ARRAY['a', 'b']) || '|' || public.make_org('dm-' || r, ARRAY['a', 'b'])
      FROM generate_series(1, $ROUNDS) r")
client_sql_remove() {
    if (( $1 % 2 )); then echo "public.try('schemakit.remove_member(${RM[$2]}, $B, $A)')"
    else echo "public.try('schemakit.remove_member(${RM[$2]}, $A, $B)')"; fi
}
run_race 2 remove $N
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values remove "$r" | tally_values)" "ERR:42501*$((N / 2)),false*$((N / 2 - 1)),true*1" \
       "remove round $r: exactly one removal; the winner's other calls false, the loser's 42501"
    is "$(sql "$DB" -c "SELECT public.roles(${RM[$r]})")" "owner*1" "remove round $r: exactly one owner left"
done

client_sql_demote() {
    if (( $1 % 2 )); then echo "public.try(\$q\$schemakit.set_member_role(${DM[$2]}, $B, 'member', $A)\$q\$)"
    else echo "public.try(\$q\$schemakit.set_member_role(${DM[$2]}, $A, 'member', $B)\$q\$)"; fi
}
run_race 3 demote $N
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values demote "$r" | tally_values)" "ERR:42501*$((N / 2)),false*$((N / 2 - 1)),true*1" \
       "demote round $r: exactly one demotion; the winner's other calls false, the loser's 42501"
    is "$(sql "$DB" -c "SELECT public.roles(${DM[$r]})")" "member*1,owner*1" "demote round $r: one owner, one member"
done

# --- leave / selfdemote: 32 owners at once ----------------------------------
declare -A LV SD LR
while IFS='|' read -r r lv sd lr; do LV[$r]=$lv; SD[$r]=$sd; LR[$r]=$lr; done < <(sql "$DB" -c "
    SELECT r || '|' || public.make_org('lv-' || r, $OWNERS32) || '|' || public.make_org('sd-' || r, $OWNERS32)
           || '|' || public.make_org('lr-' || r, $OWNERS32)
      FROM generate_series(1, $ROUNDS) r")
client_sql_leave() { echo "public.try('schemakit.remove_member(${LV[$2]}, ${O[$1]}, ${O[$1]})')"; }
run_race 4 leave $N
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values leave "$r" | tally_values)" "ERR:SKR14*1,true*$((N - 1))" "leave round $r: $((N - 1)) owners left, the last got SKR14"
    is "$(sql "$DB" -c "SELECT public.roles(${LV[$r]})")" "owner*1" "leave round $r: exactly one owner remains"
done

client_sql_selfdemote() { echo "public.try(\$q\$schemakit.set_member_role(${SD[$2]}, ${O[$1]}, 'member', ${O[$1]})\$q\$)"; }
run_race 5 selfdemote $N
for ((r = 1; r <= ROUNDS; r++)); do
    is "$(round_values selfdemote "$r" | tally_values)" "ERR:SKR14*1,true*$((N - 1))" "selfdemote round $r: $((N - 1)) owners stepped down, the last got SKR14"
    is "$(sql "$DB" -c "SELECT public.roles(${SD[$r]})")" "member*$((N - 1)),owner*1" "selfdemote round $r: exactly one owner remains"
done

client_pre_leave_rr() { echo "SET default_transaction_isolation = 'repeatable read';"; }
client_sql_leave_rr() { echo "public.try('schemakit.remove_member(${LR[$2]}, ${O[$1]}, ${O[$1]})')"; }
run_race 6 leave_rr $N
echo "# leave_rr: $(cat "$WORK"/leave_rr/client.*.out | sed -n 's/^[0-9]*|[^|]*|//p' | tally_values) over $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
    trues=$(round_values leave_rr "$r" | grep -c '^true$')
    like "$(round_values leave_rr "$r" | tally_values)" '^(ERR:40001\*[0-9]+,?)?(ERR:SKR14\*[0-9]+,?)?(true\*[0-9]+)?$' \
         "leave_rr round $r: every call returned true, SKR14 or 40001"
    isnt "$trues" "$N" "leave_rr round $r: not all $N owners left"
    is "$(sql "$DB" -c "SELECT public.roles(${LR[$r]})")" "owner*$((N - trues))" \
       "leave_rr round $r: $trues left, $((N - trues)) owners remain (at least one)"
done

# --- invite: 16 clients invite one address --------------------------------
N=16
declare -A INV INVITEE
while IFS='|' read -r r org acc; do INV[$r]=$org; INVITEE[$r]=$acc; done < <(sql "$DB" -c "
    SELECT r || '|' || public.make_org('inv-' || r, ARRAY['a']) || '|' || (SELECT id FROM schemakit.users WHERE username = 'acc' || r)
      FROM generate_series(1, $ROUNDS) r")
client_sql_invite() { echo "schemakit.invite_member(${INV[$2]}, 'ACC-$2@race.example', 'admin', $A)"; }
run_race 7 invite $N
for ((r = 1; r <= ROUNDS; r++)); do
    toks=$(round_values invite "$r")
    is "$(printf '%s\n' "$toks" | grep -cE '^[A-Za-z0-9_-]{43}$')" "$N" "invite round $r: all $N clients got a token"
    arr=$(printf '%s\n' "$toks" | sed "s/.*/'&'/" | paste -sd, -)
    is "$(sql "$DB" -c "SELECT public.check_invite(${INV[$r]}, 'acc-$r@race.example', ${INVITEE[$r]}, ARRAY[$arr]::text[])")" \
       "rows=$N open=1 accepted=1" "invite round $r: one open invitation, and exactly one returned token accepts"
done

# No token in the server log: only hashes are stored, and refusals hide the
# statement.  (Checked where the log is readable.)
logfile=$(sql "$DB" -c "SELECT CASE WHEN current_setting('logging_collector') = 'on'
                                    THEN current_setting('data_directory') || '/' || current_setting('log_directory') END" 2>/dev/null)
if [ -n "$logfile" ] && [ -r "$logfile" ]; then
    hits=0
    for ((r = 1; r <= ROUNDS; r++)); do
        hits=$((hits + $(cat "$logfile"/* 2>/dev/null | grep -cF "${TOK[$r]}")))
    done
    is "$hits" 0 "no invitation token of the accept race appears in the server log"
else
    echo "# server log not readable here: token-in-log check skipped"
fi

echo "# races run: $races_run"
echo "# elapsed: $((SECONDS - t_start))s"
dropdb --if-exists "$DB"
done_testing
