#!/usr/bin/env bash
# bench/lib/suite.sh - the benchmarks, run by bench/run inside the throwaway
# cluster (PGHOST, PGPORT, ... come from pg_virtualenv).  Writes
# bench/out/results.tsv (section, name, value, unit, note), bench/out/bench.log
# (every raw pgbench and psql output) and bench/out/ratios.png.
set -euo pipefail
cd "${SK_ROOT:?}"

quick=${BENCH_QUICK:-0}
q() { if [ "$quick" = 1 ]; then echo "$1"; else echo "$2"; fi; }   # q QUICK FULL

# ID generation: calls per query, rounds (median taken), interleaved.
ID_CALLS=${BENCH_ID_CALLS:-$(q 200000 1000000)}
NANOID_CALLS=${BENCH_NANOID_CALLS:-$ID_CALLS}
ID_ROUNDS=${BENCH_ID_ROUNDS:-$(q 3 5)}
# pgbench pairs: clients, threads, rounds, transactions per client.
CLIENTS=${BENCH_CLIENTS:-8}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
T_EMAIL=${BENCH_T_EMAIL:-$(q 250 1000)}
T_RESET=${BENCH_T_RESET:-$(q 500 2000)}
T_SESSION=${BENCH_T_SESSION:-$(q 2500 10000)}
T_SNIPPET=${BENCH_T_SNIPPET:-$(q 500 2000)}
PAIR_SESSIONS=${BENCH_PAIR_SESSIONS:-100000}
PAIR_HISTORY=${BENCH_PAIR_HISTORY:-100000}   # old email codes per side, existing snippets
# Growth: table sizes, transactions per lookup run (one client).
GROWTH_SIZES=${BENCH_GROWTH_SIZES:-$(q "10000 100000" "10000 100000 1000000")}
GROWTH_T=${BENCH_GROWTH_T:-$(q 5000 20000)}
# Upgrade chain: rows created at 1.0.
UPG_USERS=${BENCH_UPGRADE_USERS:-$(q 100000 1000000)}
UPG_SNIPPETS=${BENCH_UPGRADE_SNIPPETS:-$UPG_USERS}
UPG_CODES=${BENCH_UPGRADE_CODES:-$UPG_USERS}
SECTIONS=${BENCH_SECTIONS:-"ids pairs growth upgrade"}
# BENCH_VERSION: the extension version the pairs run against (default: the default version)

OUT=bench/out
TSV=$OUT/results.tsv
LOG=$OUT/bench.log
mkdir -p "$OUT"
: >"$LOG"
printf 'section\tname\tvalue\tunit\tnote\n' >"$TSV"

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
PGBENCH=(pgbench -n -M prepared)

say() { printf '%s\n' "$*" | tee -a "$LOG" >&2; }
emit() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$TSV"; }
has() { [[ " $SECTIONS " == *" $1 "* ]]; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
calc() { awk "BEGIN { printf \"%.${2:-4}f\", $1 }"; }
now_s() { date +%s.%N; }
fresh_db() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1"; }
copy_db() {   # copy_db FROM TO (retried: an autovacuum worker in FROM makes it fail)
    local try
    for ((try = 1; try <= 60; try++)); do
        psql -X -q -d postgres -c "CREATE DATABASE $2 TEMPLATE $1" >>"$LOG" 2>&1 && return 0
        sleep 1
    done
    say "could not copy $1 to $2"; exit 1
}

START=$(now_s)
say "# schemakit bench $(date -u '+%Y-%m-%d %H:%M:%SZ')  quick=$quick  sections: $SECTIONS"
say "# $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
say "# $("${PSQL[@]}" -d postgres -c 'SELECT version()')"
say "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
emit meta date "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "" ""
emit meta nproc "$(nproc)" "" ""
emit meta memory_gib "$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)" GiB ""
emit meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "" ""
emit meta postgres "$("${PSQL[@]}" -d postgres -c 'SHOW server_version')" "" ""
emit meta schemakit "$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" schemakit.control)" "" "default_version"
if command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
    emit meta git "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- sql src || echo +dirty)" "" "commit; +dirty: sql/ or src/ differ from it"
fi
emit meta loadavg_start "$(cut -d' ' -f1 /proc/loadavg)" "" "1-minute load average when the run started"

###############################################################################
# 1. ID generation: SELECT count(f()) FROM generate_series(1, N), interleaved.
###############################################################################
declare -A ID_SQL=(
    [floor]="count(*)"
    [public_id]="count(schemakit.public_id())"
    [uuidv7]="count(schemakit.uuidv7())"
    [gen_random_uuid]="count(gen_random_uuid())"
    [nanoid_plpgsql]="count(bench_nanoid())"
    [public_id_21]="count(schemakit.public_id(21, '_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'))"
)
ID_ORDER=(floor public_id uuidv7 gen_random_uuid nanoid_plpgsql public_id_21)

id_script() {   # id_script ROUND CALLS NANOID_CALLS: one interleaved round, rotated per round
    local r=$1 n=$2 nn=$3 k=${#ID_ORDER[@]} i name calls
    echo "SET jit = off;"
    echo "SET max_parallel_workers_per_gather = 0;"
    echo "\\timing on"
    for ((i = 0; i < k; i++)); do
        name=${ID_ORDER[$(((i + r) % k))]}
        calls=$n
        [ "$name" = nanoid_plpgsql ] && calls=$nn
        echo "\\echo @@ $name"
        echo "SELECT ${ID_SQL[$name]} FROM generate_series(1, $calls);"
        if [ "$name" = nanoid_plpgsql ] && [ "$nn" != "$n" ]; then   # floor at the nanoid size too
            echo "\\echo @@ floor_nanoid"
            echo "SELECT count(*) FROM generate_series(1, $calls);"
        fi
    done
}

section_ids() {
    say "## ID generation: $ID_CALLS calls per query ($NANOID_CALLS for the plpgsql nanoid), $ID_ROUNDS rounds"
    fresh_db sk_ids
    "${PSQL[@]}" -d sk_ids -f bench/sql/ids.sql >>"$LOG" 2>&1

    # What each generator produces (shape checks, not timed).
    local shape
    shape=$("${PSQL[@]}" -d sk_ids <<'SQL'
SELECT concat_ws(' ',
  (SELECT bool_and(x ~ '^[0-9A-Za-z]{10}$') FROM (SELECT schemakit.public_id() x FROM generate_series(1, 2000)) s),
  (SELECT bool_and(x ~ '^[_0-9A-Za-z-]{21}$') FROM (SELECT bench_nanoid() x FROM generate_series(1, 2000)) s),
  (SELECT bool_and(x ~ '^[_0-9A-Za-z-]{21}$') FROM (SELECT schemakit.public_id(21, '_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') x FROM generate_series(1, 2000)) s),
  (SELECT bool_and(substr(x::text, 15, 1) = '7') FROM (SELECT schemakit.uuidv7() x FROM generate_series(1, 2000)) s),
  (SELECT count(DISTINCT x) = 62 FROM (SELECT substr(schemakit.public_id(), 1, 1) x FROM generate_series(1, 20000)) s),
  (SELECT count(DISTINCT x) = 64 FROM (SELECT substr(bench_nanoid(), 1, 1) x FROM generate_series(1, 20000)) s))
SQL
)
    say "# shape checks (public_id, nanoid, public_id_21, uuidv7 version, 62 and 64 symbols seen): $shape"
    [ "$shape" = "t t t t t t" ] || { say "ID shape check failed"; exit 1; }

    # Warm-up round (small, not counted): loads libraries, caches plans.
    id_script 0 20000 2000 | "${PSQL[@]}" -d sk_ids >>"$LOG" 2>&1

    declare -A ms
    local r out name
    for ((r = 1; r <= ID_ROUNDS; r++)); do
        out=$(id_script "$r" "$ID_CALLS" "$NANOID_CALLS" | psql -X -d sk_ids -v ON_ERROR_STOP=1 2>&1)
        printf '%s\n' "$out" >>"$LOG"
        while read -r name t; do
            ms[$name]="${ms[$name]:-} $t"
        done < <(printf '%s\n' "$out" | awk '/^@@ / {name = $2} /^Time: / && name {print name, $2; name = ""}')
        say "# round $r: $(for n in "${ID_ORDER[@]}"; do printf '%s=%s ' "$n" "$(echo ${ms[$n]} | awk '{print $NF}')"; done)"
    done

    local floor_ms floor_n_ms
    floor_ms=$(median ${ms[floor]})
    floor_n_ms=$floor_ms
    [ "$NANOID_CALLS" != "$ID_CALLS" ] && floor_n_ms=$(median ${ms[floor_nanoid]})
    declare -gA ID_GROSS ID_NET
    for name in "${ID_ORDER[@]}"; do
        local med calls fl
        med=$(median ${ms[$name]})
        calls=$ID_CALLS; fl=$floor_ms
        [ "$name" = nanoid_plpgsql ] && calls=$NANOID_CALLS && fl=$floor_n_ms
        # per-call nanoseconds, gross and net of the executor floor
        ID_GROSS[$name]=$(calc "$med * 1e6 / $calls" 1)
        ID_NET[$name]=$(calc "($med - $fl) * 1e6 / $calls" 1)
        emit ids "${name}_ms" "$(calc "$med" 1)" ms "median of $ID_ROUNDS; $calls calls; rounds:$(echo ${ms[$name]} | tr ' ' ',')"
        emit ids "${name}_ns_per_call_gross" "${ID_GROSS[$name]}" ns ""
        [ "$name" != floor ] && emit ids "${name}_ns_per_call_net" "${ID_NET[$name]}" ns "minus the count(*) floor"
    done
    local p g u n
    p=${ID_NET[public_id]}; g=${ID_NET[gen_random_uuid]}; u=${ID_NET[uuidv7]}; n=${ID_NET[nanoid_plpgsql]}
    emit ratio public_id_vs_gen_random_uuid "$(calc "$p / $g")" x "net of floor; gross $(calc "${ID_GROSS[public_id]} / ${ID_GROSS[gen_random_uuid]}")"
    emit ratio uuidv7_vs_gen_random_uuid "$(calc "$u / $g")" x "net of floor; gross $(calc "${ID_GROSS[uuidv7]} / ${ID_GROSS[gen_random_uuid]}")"
    emit ratio nanoid_vs_public_id "$(calc "$n / $p" 1)" x "net of floor; gross $(calc "${ID_GROSS[nanoid_plpgsql]} / ${ID_GROSS[public_id]}" 1)"
    emit ratio nanoid_vs_public_id_21 "$(calc "$n / ${ID_NET[public_id_21]}" 1)" x "same length and alphabet; net of floor; gross $(calc "${ID_GROSS[nanoid_plpgsql]} / ${ID_GROSS[public_id_21]}" 1)"
    dropdb sk_ids
}

###############################################################################
# 2. pgbench pairs: schemakit beside the hand-written baseline, same run.
###############################################################################
PGB_TPS=""; PGB_LAT=""
pgb() {   # pgb DB SCRIPT CLIENTS THREADS TXNS [pgbench options...] -> PGB_TPS, PGB_LAT
    local db=$1 script=$2 c=$3 j=$4 t=$5 out
    shift 5
    if ! out=$("${PGBENCH[@]}" -c "$c" -j "$j" -t "$t" "$@" -f "bench/pgbench/$script.sql" "$db" 2>&1); then
        printf '%s\n' "$out" >>"$LOG"
        say "pgbench $script failed:"; printf '%s\n' "$out" | tail -5 >&2
        exit 1
    fi
    printf '== %s\n%s\n' "$script" "$out" >>"$LOG"
    if printf '%s\n' "$out" | grep -Eq 'aborted|number of failed transactions: [1-9]'; then
        say "pgbench $script: aborted or failed transactions"; exit 1
    fi
    PGB_TPS=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
    PGB_LAT=$(printf '%s\n' "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
    PGB_OUT=$out
}

PAIRS=(email reset session snippet)
declare -A PAIR_T=([email]=$T_EMAIL [reset]=$T_RESET [session]=$T_SESSION [snippet]=$T_SNIPPET)
declare -A PAIR_DESC=(
    [email]="issue+verify an email code: schemakit.issue_email_code + verify_email_code vs client-made code, plaintext INSERT, SELECT, UPDATE"
    [reset]="consume a pre-issued reset token: schemakit.consume_password_reset_token vs UPDATE ... SET used = true ... RETURNING user_id"
    [session]="session_user_id(token) on a live session vs a bare primary-key SELECT on schemakit.sessions"
    [snippet]="INSERT into schemakit.snippets with the public_id default vs the same INSERT with an explicit public_id"
)

section_pairs() {
    local users reset_tokens
    reset_tokens=$((ROUNDS * CLIENTS * T_RESET + 100))
    users=$((reset_tokens > 100000 ? reset_tokens : 100000))
    say "## pgbench pairs: -c $CLIENTS -j $THREADS -M prepared, $ROUNDS rounds, transactions per client: email $T_EMAIL, reset $T_RESET, session $T_SESSION, snippet $T_SNIPPET"
    say "# setup: $users users, $reset_tokens reset tokens per side, $PAIR_SESSIONS sessions, $PAIR_HISTORY old codes per side and snippets"
    fresh_db sk_pairs
    local t0; t0=$(now_s)
    "${PSQL[@]}" -d sk_pairs -v users="$users" -v reset_tokens="$reset_tokens" -v sessions="$PAIR_SESSIONS" -v history="$PAIR_HISTORY" \
        ${BENCH_VERSION:+-v sk_version="$BENCH_VERSION"} -f bench/sql/pairs.sql >>"$LOG" 2>&1
    say "# setup took $(calc "$(now_s) - $t0" 1) s"
    local common=(-D "users=$users" -D "sessions=$PAIR_SESSIONS")
    declare -A tps
    local r w side
    for ((r = 1; r <= ROUNDS; r++)); do
        for w in "${PAIRS[@]}"; do
            # alternate which side goes first, round by round
            local order="sk app"
            ((r % 2)) || order="app sk"
            for side in $order; do
                pgb sk_pairs "${side}_$w" "$CLIENTS" "$THREADS" "${PAIR_T[$w]}" "${common[@]}"
                tps[$side.$w]="${tps[$side.$w]:-} $PGB_TPS"
            done
            say "# round $r $w: schemakit $(echo ${tps[sk.$w]} | awk '{print $NF}') tps, baseline $(echo ${tps[app.$w]} | awk '{print $NF}') tps"
        done
    done

    # Every transaction did its job: codes verified, tokens consumed.
    local chk
    chk=$("${PSQL[@]}" -d sk_pairs <<'SQL'
SELECT concat_ws(' ',
  (SELECT count(*) FILTER (WHERE used_at IS NULL) FROM schemakit.email_codes),
  (SELECT count(*) FILTER (WHERE used_at IS NULL) FROM app_email_codes),
  (SELECT count(*) FILTER (WHERE used_at IS NOT NULL) FROM schemakit.password_reset_tokens) - (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM bench_sk_reset_seq),
  (SELECT count(*) FILTER (WHERE used) FROM app_reset_tokens) - (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM bench_app_reset_seq))
SQL
)
    say "# checks (unverified codes sk/app, consumed tokens minus transactions sk/app; all 0): $chk"
    [ "$chk" = "0 0 0 0" ] || { say "pairs check failed"; exit 1; }

    for w in "${PAIRS[@]}"; do
        local ms ma ratio ratios="" i a b
        ms=$(median ${tps[sk.$w]}); ma=$(median ${tps[app.$w]})
        read -r -a a <<<"${tps[sk.$w]}"; read -r -a b <<<"${tps[app.$w]}"
        for ((i = 0; i < ${#a[@]}; i++)); do ratios+="$(calc "${a[$i]} / ${b[$i]}" 2),"; done
        ratio=$(calc "$ms / $ma")
        emit pairs "${w}_schemakit_tps" "$(calc "$ms" 0)" tps "median of $ROUNDS; rounds:$(echo ${tps[sk.$w]} | tr ' ' ',')"
        emit pairs "${w}_baseline_tps" "$(calc "$ma" 0)" tps "median of $ROUNDS; rounds:$(echo ${tps[app.$w]} | tr ' ' ',')"
        emit ratio "${w}_schemakit_vs_baseline" "$ratio" x "median tps ratio; per-round ratios ${ratios%,}; ${PAIR_DESC[$w]}"
    done
    dropdb sk_pairs
}

###############################################################################
# 3. Growth: lookups at 10k, 100k, 1M rows.
###############################################################################
section_growth() {
    say "## growth: sizes $GROWTH_SIZES; one client, $GROWTH_T transactions per run, $ROUNDS rounds"
    fresh_db sk_growth
    "${PSQL[@]}" -d sk_growth >>"$LOG" 2>&1 <<'SQL'
CREATE EXTENSION schemakit;
INSERT INTO schemakit.users (username, email)
SELECT 'user' || g, 'user' || g || '@example.com' FROM generate_series(1, 1000) g;
SQL
    local have=0 size t0 r
    for size in $GROWTH_SIZES; do
        t0=$(now_s)
        # Bulk load: public_id from the real column default; the retry trigger
        # and the owner FK check are skipped (session_replication_role) to keep
        # loading fast - they cannot fire on this data anyway.
        "${PSQL[@]}" -d sk_growth >>"$LOG" 2>&1 <<SQL
SET session_replication_role = replica;
INSERT INTO schemakit.snippets (owner_id, title, body)
SELECT 1 + g % 1000, 'Snippet ' || g, 'print(' || g || ')' FROM generate_series($((have + 1)), $size) g;
INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, last_seen_at)
SELECT 1 + g % 1000, schemakit._token_hash('s' || lpad(g::text, 42, '0')),
       now() + interval '30 days', now() + interval '1 day'
  FROM generate_series($((have + 1)), $size) g;
RESET session_replication_role;
VACUUM ANALYZE schemakit.snippets;
VACUUM ANALYZE schemakit.sessions;
CHECKPOINT;
SQL
        have=$size
        say "# loaded to $size rows in $(calc "$(now_s) - $t0" 1) s; $("${PSQL[@]}" -d sk_growth -c "SELECT 'public_id index ' || pg_size_pretty(pg_relation_size('schemakit.snippets_public_id_key')) || ', token_hash index ' || pg_size_pretty(pg_relation_size(coalesce(to_regclass('schemakit.sessions_token_hash_key'), 'schemakit.sessions_pkey')))")"
        local pl="" pt="" sl=""
        for ((r = 1; r <= ROUNDS; r++)); do
            pgb sk_growth growth_public_id 1 1 "$GROWTH_T" -r -D "rows=$size"
            pl+=" $(printf '%s\n' "$PGB_OUT" | awk '/WHERE public_id = / {print $1; exit}')"
            pt+=" $PGB_LAT"
            pgb sk_growth growth_session 1 1 "$GROWTH_T" -D "rows=$size"
            sl+=" $PGB_LAT"
        done
        emit growth "public_id_lookup_ms_at_$size" "$(median $pl)" ms "statement latency (pgbench -r), median of $ROUNDS; script with key pick: $(median $pt) ms"
        emit growth "session_user_id_ms_at_$size" "$(median $sl)" ms "latency average, median of $ROUNDS"
        say "# $size rows: public_id lookup $(median $pl) ms, session_user_id $(median $sl) ms"
    done
    dropdb sk_growth
}

###############################################################################
# 4. The upgrade chain 1.0 -> default on large tables.
###############################################################################
section_upgrade() {
    local default; default=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" schemakit.control)
    say "## upgrade 1.0 -> $default: $UPG_USERS users, $UPG_SNIPPETS snippets, $UPG_CODES email codes created at 1.0"
    fresh_db sk_upgrade
    local t0; t0=$(now_s)
    "${PSQL[@]}" -d sk_upgrade >>"$LOG" 2>&1 <<SQL
CREATE EXTENSION schemakit VERSION '1.0';
INSERT INTO schemakit.users (username, email, display_name, password_hash)
SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g, '\$argon2id\$v=19\$m=65536,t=3,p=4\$c2FsdA\$aGFzaA'
  FROM generate_series(1, $UPG_USERS) g;
-- Bulk loads: public_id and code hashes are computed as 1.0 computes them;
-- the snippet retry trigger and FK checks are skipped to load fast.
SET session_replication_role = replica;
INSERT INTO schemakit.snippets (owner_id, title, body, language, is_public)
SELECT 1 + g % $UPG_USERS, 'Snippet ' || g, 'print(' || g || ')', 'python', g % 2 = 0
  FROM generate_series(1, $UPG_SNIPPETS) g;
-- 1.0 has no purge: codes pile up.  A third were used, the others revoked
-- by a newer code; the newest code of each address is still open (and long
-- expired), as the 1.0 unique index allows one open code per address.
INSERT INTO schemakit.email_codes (user_id, email, code_hash, expires_at, used_at, revoked_at, created_at)
SELECT u, 'user' || u || '@example.com',
       schemakit._code_hash('user' || u || '@example.com', lpad((g % 1000000)::text, 6, '0')),
       ts + interval '10 minutes',
       CASE WHEN g % 3 = 0 THEN ts + interval '1 minute' END,
       CASE WHEN g % 3 <> 0 AND g <= $UPG_CODES - $UPG_USERS THEN ts + interval '2 minutes' END,
       ts
  FROM (SELECT g, 1 + g % $UPG_USERS AS u,
               now() - interval '30 days' + g * (interval '30 days' / $UPG_CODES) AS ts
          FROM generate_series(1, $UPG_CODES) g) s;
RESET session_replication_role;
VACUUM ANALYZE;
CHECKPOINT;
SQL
    say "# loaded in $(calc "$(now_s) - $t0" 1) s; database $("${PSQL[@]}" -d sk_upgrade -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"

    # A copy at 1.0 for the step-by-step timings.
    copy_db sk_upgrade sk_upgrade_steps

    # Every relation of the 1.0 install (tables, indexes, sequences, TOAST).
    "${PSQL[@]}" -d sk_upgrade >>"$LOG" 2>&1 <<'SQL'
CREATE TABLE public.bench_rel_before AS
SELECT c.oid, c.relname, c.relkind, c.relfilenode
  FROM pg_class c
 WHERE c.relnamespace = 'schemakit'::regnamespace
    OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace)
    OR c.oid IN (SELECT i.indexrelid FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                  WHERE t.oid IN (SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace));
CREATE TABLE public.bench_rows_before AS
SELECT (SELECT count(*) FROM schemakit.users) u, (SELECT count(*) FROM schemakit.snippets) s,
       (SELECT count(*) FROM schemakit.email_codes) c;
SQL

    # Probes: other sessions, connected beforehand, each send one statement
    # once the ALTER has started and time it (psql \timing): what a read or
    # a write waits for while the update holds its locks.
    declare -A PROBES=(
        [read_users]="SELECT count(*) FROM schemakit.users WHERE id <= 100"
        [read_snippet]="SELECT count(*) FROM schemakit.snippets WHERE public_id = (SELECT public_id FROM schemakit.snippets WHERE id = 1)"
        [insert_snippet]="INSERT INTO schemakit.snippets (owner_id, body) VALUES (1, 'probe')"
        [insert_user]="INSERT INTO schemakit.users (username) VALUES ('probe-user')"
        [issue_email_code]="SELECT schemakit.issue_email_code('probe@example.com')"
        [issue_email_code_late]="SELECT schemakit.issue_email_code('probe-late@example.com')"
    )
    # most probes go out 50 ms after the ALTER starts; the late one at 500 ms,
    # when the 1.2 step is building its index on email_codes
    declare -A DELAY=([issue_email_code_late]=0.5)
    local p
    for p in "${!PROBES[@]}"; do
        psql -X -At -d sk_upgrade -v ON_ERROR_STOP=1 >"$OUT/upgrade.probe.$p" 2>&1 <<SQL &
SET lock_timeout = '10min';
DO \$\$ BEGIN
    FOR i IN 1..6000 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE 'ALTER EXTENSION%' AND state = 'active');
        PERFORM pg_sleep(0.005);
    END LOOP;
END \$\$;
SELECT pg_sleep(${DELAY[$p]:-0.05});
SELECT 'probe_start=' || extract(epoch FROM clock_timestamp());
\\timing on
${PROBES[$p]};
SQL
    done
    sleep 1   # let the probes connect

    # The whole chain in one transaction, as ALTER EXTENSION runs it.  While it
    # runs, probes in other sessions measure what waits for its locks.
    local alter_out="$OUT/upgrade.alter.out"
    psql -X -At -v ON_ERROR_STOP=1 -d sk_upgrade >"$alter_out" 2>&1 <<'SQL' &
BEGIN;
SELECT 'txn_start=' || extract(epoch FROM now());
ALTER EXTENSION schemakit UPDATE;
SELECT 'alter_done=' || extract(epoch FROM clock_timestamp());
-- The locks this transaction holds on relations that existed at 1.0.
SELECT 'lock=' || b.relname || ':' || string_agg(l.mode, ',' ORDER BY l.mode)
  FROM pg_locks l JOIN public.bench_rel_before b ON b.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
 GROUP BY b.relname ORDER BY b.relname;
SELECT 'newlocks=' || count(*) FILTER (WHERE l.mode = 'AccessExclusiveLock') || ' AccessExclusiveLock on relations created by the update'
  FROM pg_locks l
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
   AND l.relation NOT IN (SELECT oid FROM public.bench_rel_before)
   AND l.relation IN (SELECT oid FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace);
COMMIT;
SELECT 'commit_done=' || extract(epoch FROM clock_timestamp());
SQL
    wait
    cat "$alter_out" >>"$LOG"
    local ts ad cd
    ts=$(sed -n 's/^txn_start=//p' "$alter_out"); ad=$(sed -n 's/^alter_done=//p' "$alter_out"); cd=$(sed -n 's/^commit_done=//p' "$alter_out")
    [ -n "$ts" ] && [ -n "$cd" ] || { say "upgrade failed:"; cat "$alter_out" >&2; exit 1; }
    emit upgrade alter_extension_update_s "$(calc "$ad - $ts" 3)" s "1.0 -> $default, one transaction"
    emit upgrade locks_held_s "$(calc "$cd - $ts" 3)" s "BEGIN to end of COMMIT: every lock is held this long"
    local locks; locks=$(sed -n 's/^lock=//p' "$alter_out" | tr '\n' ' ')
    emit upgrade locks_on_1.0_relations "${locks% }" "" "lock modes the update holds on relations that existed at 1.0, until commit"
    emit upgrade new_relation_locks "$(sed -n 's/^newlocks=//p' "$alter_out")" "" ""
    local pst pms
    for p in $(printf '%s\n' "${!PROBES[@]}" | sort); do
        cat "$OUT/upgrade.probe.$p" >>"$LOG"
        pst=$(sed -n 's/^probe_start=//p' "$OUT/upgrade.probe.$p")
        pms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$OUT/upgrade.probe.$p" | tail -1)
        if [ -n "$pms" ] && [ -n "$pst" ]; then
            emit upgrade "probe_${p}_ms" "$(calc "$pms" 1)" ms "sent $(calc "($pst - $ts) * 1000" 0) ms after BEGIN; ${PROBES[$p]}"
        else
            emit upgrade "probe_${p}_ms" "" ms "failed: $(tail -1 "$OUT/upgrade.probe.$p")"
        fi
    done
    rm -f "$OUT"/upgrade.probe.* "$alter_out"

    local rw rows
    rw=$("${PSQL[@]}" -d sk_upgrade -c "SELECT count(*) || ' of ' || (SELECT count(*) FROM public.bench_rel_before) || coalesce(': ' || string_agg(b.relname, ' '), '') FROM public.bench_rel_before b JOIN pg_class c ON c.oid = b.oid WHERE c.relfilenode <> b.relfilenode")
    rows=$("${PSQL[@]}" -d sk_upgrade -c "SELECT (SELECT count(*) FROM schemakit.users) >= u AND (SELECT count(*) FROM schemakit.snippets) >= s AND (SELECT count(*) FROM schemakit.email_codes) >= c FROM public.bench_rows_before")
    emit upgrade rewrites "${rw%% *}" relations "relfilenode changed: $rw (tables, indexes, sequences and TOAST of 1.0); rows kept: $rows"
    say "# ALTER EXTENSION UPDATE $(calc "$ad - $ts" 3) s, locks held $(calc "$cd - $ts" 3) s; rewrites: $rw; locks on 1.0 relations: $locks"

    # Step by step on the copy: which step costs what.
    local v prev=1.0 s
    for v in $("${PSQL[@]}" -d sk_upgrade_steps -c "SELECT version FROM pg_available_extension_versions WHERE name = 'schemakit' ORDER BY string_to_array(version, '.')::int[]"); do
        [ "$(printf '%s\n' "$v" 1.0 | sort -V | tail -1)" = 1.0 ] && continue
        [ "$(printf '%s\n' "$v" "$default" | sort -V | tail -1)" = "$default" ] || continue
        s=$(now_s)
        "${PSQL[@]}" -d sk_upgrade_steps -c "ALTER EXTENSION schemakit UPDATE TO '$v'" >>"$LOG" 2>&1
        emit upgrade "step_${prev}_to_${v}_s" "$(calc "$(now_s) - $s" 3)" s "on a copy, one step per transaction"
        prev=$v
    done
    dropdb sk_upgrade_steps
    dropdb sk_upgrade
}

###############################################################################
# Run, then judge, print and chart.
###############################################################################
has ids && section_ids
has pairs && section_pairs
has growth && section_growth
has upgrade && section_upgrade
emit meta loadavg_end "$(cut -d' ' -f1 /proc/loadavg)" "" "1-minute load average when the run ended"
emit meta duration_s "$(calc "$(now_s) - $START" 0)" s "inside the cluster"

bash bench/lib/report.sh "$TSV"
