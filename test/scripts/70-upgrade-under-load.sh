#!/usr/bin/env bash
# ALTER EXTENSION schemakit UPDATE (FROM -> default) while clients work.
# FROM is the release before the default (SK_LOAD_FROM=1.0 runs the whole
# chain; 1.5 then retires the unkeyed codes 1.0 issued, by design).
#
#   load (superuser)  pgbench, 4 clients, ~12 s, three scripts: insert a user
#                     and a snippet (default public_id); issue and at once
#                     verify a code; issue a code and keep it (side table) to
#                     verify after the update.  ~3 s in, another session runs
#                     ALTER EXTENSION schemakit UPDATE.
#   load (app role)   the same, as a non-superuser role holding the grants
#                     doc/schemakit.md gives for versions before 1.3.
#   window            deterministic: a code issued by the old functions while
#                     the update transaction is open (waiting on a lock, or
#                     an explicit BEGIN ... ALTER ... COMMIT) still verifies.
#   in flight         deterministic: an issue_email_code call that waits on
#                     the update's lock and finishes after COMMIT returns a
#                     code (app role and superuser), and the code verifies.
#
# Checked: the update succeeds; pgbench reports no failed transaction and no
# aborted client; every committed row is there (pgbench's per-transaction
# logs count what committed); no table or index was rewritten (relfilenode);
# every code kept during the load verifies afterwards; extversion is the
# default.  Figures as diagnostics: update time, max client latency during
# the update, rows committed under load.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DEFAULT=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$SK_ROOT/schemakit.control")
FROM=${SK_LOAD_FROM:-1.4}
vge() { [ "$(printf '%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }   # $1 >= $2
DURATION=${SK_LOAD_SECONDS:-12}
UPDATE_AFTER=${SK_LOAD_UPDATE_AFTER:-3}
APP=sk_load_app
APP_PW=sk_load_app_pw_$RANDOM$RANDOM
DBS=(sk_load_su sk_load_app sk_load_win1 sk_load_win2 sk_load_win3)
WORK=$(mktemp -d /tmp/sk_load.XXXXXX)
BG=()
cleanup() {
    local p d
    for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    for d in "${DBS[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done
    psql -X -q -c "DROP ROLE IF EXISTS $APP" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

now_us() { date +%s%6N; }

# The 1.0 relations the chain 1.0 -> default drops on purpose (space-separated,
# with a trailing space).
DROPPED_BY_CHAIN=""
vge 1.3 "$FROM" && DROPPED_BY_CHAIN="email_codes_expires_at_idx "
# Relations the chain rewrites on purpose: 1.5 adds a column (email_key) to
# users and email_codes, so those tables, their TOAST and their indexes get
# new files (an ACCESS EXCLUSIVE rewrite, documented), and it keys sessions
# and password_reset_tokens by token_hash (their primary keys are built
# again; the unique constraints on token_hash they replace are dropped).
REWRITTEN_BY_CHAIN='^$'
vge "$DEFAULT" 1.5 && ! vge "$FROM" 1.5 &&
    REWRITTEN_BY_CHAIN='^((toast-of-|toast-index-of-)?(users|email_codes)|(users|email_codes)_[a-z_]+|(sessions|password_reset_tokens)_pkey) [rit] '
vge "$DEFAULT" 1.5 && ! vge "$FROM" 1.5 &&
    DROPPED_BY_CHAIN="${DROPPED_BY_CHAIN}password_reset_tokens_token_hash_key sessions_token_hash_key "


# Every relation of the schema with its file: tables, indexes, sequences,
# their TOAST tables and TOAST indexes.
relfiles() {
    sql "$1" <<'SQL'
SELECT name || ' ' || relkind || ' ' || relfilenode FROM (
    SELECT c.relname AS name, c.relkind::text AS relkind, c.relfilenode
      FROM pg_class c WHERE c.relnamespace = 'schemakit'::regnamespace
    UNION ALL
    SELECT 'toast-of-' || c.relname, t.relkind::text, t.relfilenode
      FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
     WHERE c.relnamespace = 'schemakit'::regnamespace
    UNION ALL
    SELECT 'toast-index-of-' || c.relname, ti.relkind::text, ti.relfilenode
      FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid JOIN pg_class ti ON ti.oid = i.indexrelid
     WHERE c.relnamespace = 'schemakit'::regnamespace
) r
ORDER BY 1;
SQL
}

count_of() { sql "$1" -c "SELECT count(*) FROM $2"; }

# What an app role holds at FROM: grant_app from 1.3 on, the table grants
# doc/schemakit.md gave before that.
app_grants() {
    if vge "$FROM" 1.3; then
        echo "SELECT schemakit.grant_app('$APP');"
    else
        cat <<SQL
GRANT USAGE ON SCHEMA schemakit TO $APP;
GRANT SELECT, INSERT, UPDATE, DELETE ON schemakit.users, schemakit.snippets TO $APP;
GRANT USAGE ON SEQUENCE schemakit.users_id_seq, schemakit.snippets_id_seq TO $APP;
GRANT SELECT, INSERT, UPDATE, DELETE ON schemakit.email_codes TO $APP;
SQL
    fi
}

# The pgbench scripts. Addresses are drawn from 9e18 values: with 2e9 the
# ~13,000 kept codes of one run shared an address about once in 20 runs, and
# the second issue rightly revoked the first code.
cat >"$WORK/insert.sql" <<'SQL'
WITH u AS (
    INSERT INTO schemakit.users (username) VALUES ('u' || schemakit.public_id(16)) RETURNING id
)
INSERT INTO schemakit.snippets (owner_id, title, body)
SELECT u.id, 'load', 'print("under load")' FROM u;
SQL
cat >"$WORK/code.sql" <<'SQL'
\set n random(1, 9000000000000000000)
SELECT schemakit.issue_email_code('load' || :n || '@example.com') AS code \gset
-- a wrong answer fails the transaction: 1 / 0 when the code does not verify
SELECT 1 / schemakit.verify_email_code('load' || :n || '@example.com', ':code')::integer AS verified;
SQL
cat >"$WORK/pending.sql" <<'SQL'
\set n random(1, 9000000000000000000)
INSERT INTO public.pending_codes (email, code)
SELECT e, schemakit.issue_email_code(e) FROM (SELECT 'pending' || :n || '@example.com' AS e) s;
SQL

# prepare DB: a 1.0 database with some rows and the side table.
prepare() {
    local db=$1 out
    fresh_db "$db" "$FROM"
    out=$(sql "$db" 2>&1 >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email, display_name)
SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 200) g;
INSERT INTO schemakit.snippets (owner_id, title, body, is_public)
SELECT 1 + g % 200, 'Snippet ' || g, repeat('body ', 1 + g % 500), g % 2 = 0 FROM generate_series(1, 1000) g;
SELECT schemakit.issue_email_code('user' || g || '@example.com') FROM generate_series(1, 100) g;
CREATE TABLE public.pending_codes (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email   text NOT NULL,
    code    text NOT NULL,
    kept_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
SQL
)
    is "$out" "" "$db: created at $FROM and filled"
    is "$(sql "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")" "$FROM" "$db: at $FROM"
}

# run_load DB LABEL [ROLE PASSWORD]: pgbench with the three scripts, the update
# after UPDATE_AFTER seconds, then every check.
run_load() {
    local db=$1 label=$2 role=${3:-} pw=${4:-}
    local users0 snippets0 codes0 pending0 rel0 rel1 t0 u0 u1 upd_out upd_st upd_ms pgb_st pgb_out
    local n_ins n_code n_pend n_fail max_win max_all p99_out
    users0=$(count_of "$db" schemakit.users)
    snippets0=$(count_of "$db" schemakit.snippets)
    codes0=$(count_of "$db" schemakit.email_codes)
    pending0=$(count_of "$db" public.pending_codes)
    rel0=$(relfiles "$db")

    mkdir -p "$WORK/logs"
    local prefix="$WORK/logs/$db"
    t0=$(now_us)
    (
        cd "$WORK" || exit 1
        if [ -n "$role" ]; then export PGUSER=$role PGPASSWORD=$pw; fi
        exec pgbench -n -c 4 -j 2 -T "$DURATION" -P 1 -l --log-prefix="$prefix" \
            -f "$WORK/insert.sql@2" -f "$WORK/code.sql@1" -f "$WORK/pending.sql@1" "$db"
    ) >"$WORK/$db.pgbench" 2>&1 &
    local pgb=$!
    BG+=("$pgb")

    sleep "$UPDATE_AFTER"
    u0=$(now_us)
    upd_out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c '\timing on' -c 'ALTER EXTENSION schemakit UPDATE' 2>&1)
    upd_st=$?
    u1=$(now_us)
    wait "$pgb"; pgb_st=$?
    pgb_out=$(cat "$WORK/$db.pgbench")

    if [ $upd_st -eq 0 ]; then pass "$label: ALTER EXTENSION schemakit UPDATE under load succeeds"
    else fail "$label: ALTER EXTENSION schemakit UPDATE under load succeeds" "$upd_out"; fi
    upd_ms=$(printf '%s\n' "$upd_out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n1)
    echo "# $label: update took ${upd_ms:-?} ms (started $(( (u0 - t0) / 1000 )) ms into the load; client-side $(( (u1 - u0) / 1000 )) ms)"
    is "$(sql "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")" "$DEFAULT" "$label: extversion is $DEFAULT"

    # pgbench: exit status, aborted clients, failed transactions.
    local aborted failed_line
    aborted=$(printf '%s\n' "$pgb_out" | grep -E 'aborted|error:|ERROR' | head -10)
    failed_line=$(printf '%s\n' "$pgb_out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' | head -n1)
    if [ $pgb_st -eq 0 ] && [ -z "$aborted" ]; then pass "$label: pgbench exits 0, no client aborted"
    else fail "$label: pgbench exits 0, no client aborted" "exit status $pgb_st" "$aborted"; fi
    is "${failed_line:-missing}" 0 "$label: pgbench reports 0 failed transactions"

    # Per-transaction logs: client txno latency_us|failed script_no epoch_s epoch_us ...
    cat "$prefix".* >"$WORK/$db.log" 2>/dev/null
    n_ins=$(awk '$4 == 0 && $3 ~ /^[0-9]+$/' "$WORK/$db.log" | wc -l)
    n_code=$(awk '$4 == 1 && $3 ~ /^[0-9]+$/' "$WORK/$db.log" | wc -l)
    n_pend=$(awk '$4 == 2 && $3 ~ /^[0-9]+$/' "$WORK/$db.log" | wc -l)
    n_fail=$(awk '$3 !~ /^[0-9]+$/' "$WORK/$db.log" | wc -l)
    is "$n_fail" 0 "$label: no failed transaction in pgbench's per-transaction log"
    is "$(( n_ins + n_code + n_pend ))" \
       "$(printf '%s\n' "$pgb_out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' | head -n1)" \
       "$label: the per-transaction log holds every transaction pgbench reports"
    local during_code during_pend
    during_code=$(awk -v a="$u0" -v b="$u1" '$4 == 1 && $3 ~ /^[0-9]+$/ { e = $5 * 1000000 + $6; if (e >= a && e - $3 <= b) n++ } END { print n + 0 }' "$WORK/$db.log")
    during_pend=$(awk -v a="$u0" -v b="$u1" '$4 == 2 && $3 ~ /^[0-9]+$/ { e = $5 * 1000000 + $6; if (e >= a && e - $3 <= b) n++ } END { print n + 0 }' "$WORK/$db.log")
    echo "# $label: transactions: $n_ins user+snippet, $n_code issue+verify ($during_code overlapping the update), $n_pend kept codes ($during_pend overlapping the update)"
    isnt "$n_ins" 0 "$label: the insert clients got work done"

    # Every committed row is there, and nothing else.
    is "$(count_of "$db" schemakit.users)" "$((users0 + n_ins))" "$label: users = before + committed inserts"
    is "$(count_of "$db" schemakit.snippets)" "$((snippets0 + n_ins))" "$label: snippets = before + committed inserts"
    is "$(count_of "$db" schemakit.email_codes)" "$((codes0 + n_code + n_pend))" "$label: email_codes = before + committed issues"
    is "$(count_of "$db" public.pending_codes)" "$((pending0 + n_pend))" "$label: every kept code recorded"
    is "$(sql "$db" -c "SELECT count(*) FROM schemakit.snippets s LEFT JOIN schemakit.users u ON u.id = s.owner_id WHERE u.id IS NULL")" 0 \
       "$label: every snippet has its user"
    is "$(sql "$db" -c "SELECT count(*) FROM schemakit.email_codes WHERE email LIKE 'load%' AND used_at IS NULL")" 0 \
       "$label: every issue+verify code was used"
    echo "# $label: rows committed under load $(( 2 * n_ins + n_code + n_pend ))"

    # Latency: every transaction that overlapped the update, and the rest.
    max_win=$(awk -v a="$u0" -v b="$u1" '$3 ~ /^[0-9]+$/ { e = $5 * 1000000 + $6; if (e >= a && e - $3 <= b && $3 > m) m = $3 } END { printf "%.1f", m / 1000 }' "$WORK/$db.log")
    max_all=$(awk -v a="$u0" -v b="$u1" '$3 ~ /^[0-9]+$/ { e = $5 * 1000000 + $6; if (!(e >= a && e - $3 <= b) && $3 > m) m = $3 } END { printf "%.1f", m / 1000 }' "$WORK/$db.log")
    p99_out=$(awk -v a="$u0" -v b="$u1" '$3 ~ /^[0-9]+$/ { e = $5 * 1000000 + $6; if (!(e >= a && e - $3 <= b)) print $3 }' "$WORK/$db.log" |
              sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))] / 1000; else print "-" }')
    echo "# $label: max client latency during update $max_win ms (outside the update: max $max_all ms, p99 $p99_out ms)"
    echo "# $label: pgbench: $(printf '%s\n' "$pgb_out" | grep -E '^(number of transactions actually|latency average|tps)' | tr '\n' ';')"

    # No rewrite: every relation 1.0 had keeps its file.
    rel1=$(relfiles "$db")
    like "$(printf '%s\n' "$rel0" | grep -c ' [0-9]*$')" '^[1-9][0-9]+$' "$label: relfilenodes of the 1.0 relations recorded"
    # An index the chain drops is gone, not rewritten: 1.4 drops the unused
    # email_codes_expires_at_idx of 1.0.
    local changed dropped
    dropped=$(printf '%s\n' "$rel0" | awk '{ print $1 }' | grep -vFx -f <(printf '%s\n' "$rel1" | awk '{ print $1 }') | tr '\n' ' ')
    is "$dropped" "$DROPPED_BY_CHAIN" "$label: the update dropped exactly the 1.0 relations the chain drops"
    changed=$(printf '%s\n' "$rel0" | grep -vFx -f <(printf '%s\n' "$rel1") |
              grep -vE "^($(printf '%s' "$DROPPED_BY_CHAIN" | sed 's/ $//; s/ /|/g')) " | grep -vE "$REWRITTEN_BY_CHAIN")
    is "$changed" "" "$label: no other $FROM table, index, sequence or TOAST relation was rewritten (relfilenode unchanged)"
    echo "# $label: $(printf '%s\n' "$rel0" | grep -c .) relations checked, $(( $(printf '%s\n' "$rel1" | grep -c .) - $(printf '%s\n' "$rel0" | grep -c .) )) added by the update"

    # The codes kept during the load verify now, after the update.
    is "$(sql "$db" -c "SELECT count(*) - count(DISTINCT lower(email)) FROM public.pending_codes")" 0 \
       "$label: every kept code has an address of its own"
    local bad
    bad=$(sql "$db" <<'SQL'
SELECT p.id || ' issued ' || to_char(e.created_at, 'HH24:MI:SS.US') ||
       CASE WHEN e.created_at >= (SELECT applied_at FROM schemakit.migrations WHERE version = '1.3')
            THEN ' (after the update transaction began)' ELSE '' END
  FROM public.pending_codes p
  JOIN schemakit.email_codes e ON lower(e.email) = lower(p.email) AND e.used_at IS NULL AND e.revoked_at IS NULL
 WHERE NOT schemakit.verify_email_code(p.email, p.code)
 ORDER BY p.id;
SQL
)
    is "$(printf '%s\n' "$bad" | grep -c .)" 0 "$label: every code kept during the load verifies after the update"
    if [ -n "$bad" ]; then
        echo "# $label: codes that no longer verify (1.3 applied_at $(sql "$db" -c "SELECT to_char(applied_at, 'HH24:MI:SS.US') FROM schemakit.migrations WHERE version = '1.3'" 2>/dev/null)):"
        printf '%s\n' "$bad" | head -10 | sed 's/^/#   /'
    fi
    is "$(sql "$db" -c "SELECT count(*) FROM schemakit.email_codes WHERE email LIKE 'pending%' AND used_at IS NULL")" 0 \
       "$label: ... every one of them is now used"
}

# ---------------------------------------------------------------------------
# load as a superuser
# ---------------------------------------------------------------------------

prepare sk_load_su
run_load sk_load_su "load (superuser)"

# ---------------------------------------------------------------------------
# load as an application role with the pre-1.3 grants
# ---------------------------------------------------------------------------

psql -X -q -c "DROP ROLE IF EXISTS $APP" -c "CREATE ROLE $APP LOGIN PASSWORD '$APP_PW'" >/dev/null
prepare sk_load_app
sql sk_load_app >/dev/null <<SQL
$(app_grants)
GRANT SELECT, INSERT ON public.pending_codes TO $APP;
SQL
is "$(PGUSER=$APP PGPASSWORD=$APP_PW sql sk_load_app -c "SELECT schemakit.issue_email_code('probe@example.com') ~ '^[0-9]{6}$'" 2>&1)" t \
   "app role: can issue codes at $FROM with the documented grants"
run_load sk_load_app "load (app role)" "$APP" "$APP_PW"
is "$(PGUSER=$APP PGPASSWORD=$APP_PW sql sk_load_app -c "SELECT schemakit.issue_email_code('probe2@example.com') ~ '^[0-9]{6}$'" 2>&1)" t \
   "app role: still issues codes after the update (EXECUTE kept)"

# ---------------------------------------------------------------------------
# the update window, deterministically
# ---------------------------------------------------------------------------

# (1) The update waits for a lock (an open transaction on users); meanwhile
# the old functions issue a code.  After the update commits, it verifies.
prepare sk_load_win1
BEFORE_CODE=$(sql sk_load_win1 -c "SELECT schemakit.issue_email_code('before@example.com')")
psql -X -q -d sk_load_win1 -c "BEGIN" -c "INSERT INTO schemakit.users (username) VALUES ('holder')" \
     -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null 2>&1 &
holder=$!; BG+=("$holder")
sleep 0.5
psql -X -q -v ON_ERROR_STOP=1 -d sk_load_win1 -c "ALTER EXTENSION schemakit UPDATE" >"$WORK/win1.alter" 2>&1 &
alter=$!; BG+=("$alter")
waiting=""
for ((i = 0; i < 50; i++)); do
    waiting=$(sql sk_load_win1 -c "SELECT wait_event_type FROM pg_stat_activity WHERE query LIKE 'ALTER EXTENSION%' AND state = 'active'")
    [ "$waiting" = Lock ] && break
    sleep 0.05
done
is "$waiting" Lock "window (lock wait): the update waits for the open transaction"
t_issue=$(now_us)
WIN1_CODE=$(sql sk_load_win1 -c "SELECT schemakit.issue_email_code('window@example.com')" 2>&1)
t_issued=$(now_us)
like "$WIN1_CODE" '^[0-9]{6}$' "window (lock wait): a code is issued while the update waits ($(( (t_issued - t_issue) / 1000 )) ms)"
wait "$holder"; wait "$alter"; alter_st=$?
is "$alter_st" 0 "window (lock wait): the update then succeeds"
is "$(sql sk_load_win1 -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")" "$DEFAULT" "window (lock wait): at $DEFAULT"
is "$(sql sk_load_win1 -c "SELECT schemakit.verify_email_code('before@example.com', '$BEFORE_CODE')" 2>&1)" t \
   "window (lock wait): a code issued before the update verifies"
got=$(sql sk_load_win1 -c "SELECT schemakit.verify_email_code('window@example.com', '$WIN1_CODE')" 2>&1)
is "$got" t "window (lock wait): the code issued while the update waited verifies"
[ "$got" = t ] || echo "# window (lock wait): code created_at $(sql sk_load_win1 -c "SELECT created_at FROM schemakit.email_codes WHERE email = 'window@example.com'"), migrations: $(sql sk_load_win1 -c "SELECT string_agg(version || '=' || applied_at, ', ' ORDER BY version) FROM schemakit.migrations")"

# (2) The update inside BEGIN ... COMMIT (doc/schemakit.md: "it can run
# inside BEGIN ... COMMIT with your own schema changes"); a code issued after
# BEGIN, before the ALTER, verifies after COMMIT.
prepare sk_load_win2
psql -X -q -v ON_ERROR_STOP=1 -d sk_load_win2 -c "BEGIN" -c "SELECT pg_sleep(1.5)" \
     -c "ALTER EXTENSION schemakit UPDATE" -c "COMMIT" >"$WORK/win2.alter" 2>&1 &
alter=$!; BG+=("$alter")
sleep 0.5
WIN2_CODE=$(sql sk_load_win2 -c "SELECT schemakit.issue_email_code('window@example.com')" 2>&1)
like "$WIN2_CODE" '^[0-9]{6}$' "window (BEGIN ... ALTER ... COMMIT): a code is issued inside the update's transaction window"
wait "$alter"; alter_st=$?
is "$alter_st" 0 "window (BEGIN ... ALTER ... COMMIT): the update succeeds"
got=$(sql sk_load_win2 -c "SELECT schemakit.verify_email_code('window@example.com', '$WIN2_CODE')" 2>&1)
is "$got" t "window (BEGIN ... ALTER ... COMMIT): the code verifies after COMMIT"
[ "$got" = t ] || echo "# window (BEGIN): code created_at $(sql sk_load_win2 -c "SELECT created_at FROM schemakit.email_codes WHERE email = 'window@example.com'"), migrations: $(sql sk_load_win2 -c "SELECT string_agg(version || '=' || applied_at, ', ' ORDER BY version) FROM schemakit.migrations")"

# (3) Calls in flight across the commit: a session calls issue_email_code
# while the update's transaction (BEGIN ... ALTER ... COMMIT) is open; the
# old function body waits on the update's lock on email_codes and finishes
# after COMMIT.  As the application role (pre-1.3 grants, which the update
# says it keeps working) and as a superuser, the call must return a code
# that verifies.
prepare sk_load_win3
sql sk_load_win3 >/dev/null <<SQL
$(app_grants)
SQL
PGUSER=$APP PGPASSWORD=$APP_PW sql sk_load_win3 -c "SELECT schemakit.issue_email_code('warm@example.com')" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d sk_load_win3 -c "BEGIN" -c "ALTER EXTENSION schemakit UPDATE" \
     -c "SELECT pg_sleep(2)" -c "COMMIT" >"$WORK/win3.alter" 2>&1 &
alter=$!; BG+=("$alter")
sleep 0.7
PGUSER=$APP PGPASSWORD=$APP_PW psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d sk_load_win3 \
    -c "SELECT schemakit.issue_email_code('inflight-app@example.com')" >"$WORK/win3.app" 2>&1 &
app_call=$!; BG+=("$app_call")
psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d sk_load_win3 \
    -c "SELECT schemakit.issue_email_code('inflight-su@example.com')" >"$WORK/win3.su" 2>&1 &
su_call=$!; BG+=("$su_call")
sleep 0.5
is "$(sql sk_load_win3 -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%inflight-%' AND wait_event_type = 'Lock'")" 2 \
   "in flight: both calls wait on the update's lock"
wait "$alter"; alter_st=$?
wait "$app_call"; wait "$su_call"
is "$alter_st" 0 "in flight: the update succeeds"
APP_CODE=$(cat "$WORK/win3.app") SU_CODE=$(cat "$WORK/win3.su")
like "$APP_CODE" '^[0-9]{6}$' "in flight (app role): issue_email_code returns a code, no error"
like "$SU_CODE" '^[0-9]{6}$' "in flight (superuser): issue_email_code returns a code, no error"
if [[ "$APP_CODE" =~ ^[0-9]{6}$ ]]; then
    is "$(sql sk_load_win3 -c "SELECT schemakit.verify_email_code('inflight-app@example.com', '$APP_CODE')" 2>&1)" t \
       "in flight (app role): the code verifies"
fi
is "$(sql sk_load_win3 -c "SELECT schemakit.verify_email_code('inflight-su@example.com', '$SU_CODE')" 2>&1)" t \
   "in flight (superuser): the code verifies"

done_testing
