#!/usr/bin/env bash
# bench/citus.sh - schemakit through a Citus coordinator against a single
# node, in the same run, from the same private PostgreSQL tree (issue #17).
#
# test/lib/citus.sh builds Citus into a private copy of the host's
# PostgreSQL (cached under /var/cache/schemakit/citus) and starts a
# coordinator and two workers on 127.0.0.1; this script starts a fourth,
# single-node server from the same copy (schemakit preloaded, no Citus, the
# same settings and code key file) and runs with pgbench, on both:
#
#   session  schemakit.session_user_id(token) of a random live session
#            (bench/pgbench/sk_session.sql)
#   email    issue_email_code + verify_email_code for a fresh address
#            (bench/pgbench/sk_email.sql)
#
# Two Citus layouts, each in its own database of the same cluster, every
# call through the coordinator: "dist", the supported layout that
# schemakit.distribute() makes (sessions and password_reset_tokens by
# token_hash, email_codes by email_key, the rest reference tables), and
# "ref", every table but migrations a reference table.  Rounds rotate which
# side goes first; the figure is the median tps and the median of the
# per-round ratios layout/single.  Writes
# bench/out/citus.tsv and bench/out/citus.log.  Without the Citus source it
# prints "# SKIP" and exits 0.  Needs root, like test/citus.sh.
#
#   bash bench/citus.sh
#   BENCH_CITUS_ROUNDS=5 BENCH_CLIENTS=8 bash bench/citus.sh
set -uo pipefail
SK_ROOT=${SK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export SK_ROOT
. "$SK_ROOT/test/lib/citus.sh"

ROUNDS=${BENCH_CITUS_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-8}
THREADS=${BENCH_THREADS:-2}
T_SESSION=${BENCH_CITUS_T_SESSION:-5000}
T_EMAIL=${BENCH_CITUS_T_EMAIL:-250}
SESSIONS=${BENCH_CITUS_SESSIONS:-100000}
USERS=${BENCH_CITUS_USERS:-10000}
OUT=$SK_ROOT/bench/out
mkdir -p "$OUT"
TSV=$OUT/citus.tsv
LOG=$OUT/citus.log
: >"$LOG"
say() { printf '%s\n' "$*" | tee -a "$LOG" >&2; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

citus_prepare; st=$?
if [ -n "$CITUS_SKIP" ]; then echo "# SKIP citus bench: $CITUS_SKIP"; exit 0; fi
[ $st -eq 0 ] || { say "citus_prepare failed"; exit 1; }
SINGLE_DIR=
stop_all() {
    [ -n "$SINGLE_DIR" ] && citus_as_pg "$CITUS_PG/pg_ctl" -D "$SINGLE_DIR" -m immediate -w stop >/dev/null 2>&1
    citus_stop
}
trap stop_all EXIT
trap 'exit 130' INT TERM HUP
citus_start || { say "the Citus cluster did not start"; exit 1; }
# The single node: the same configuration as the Citus nodes, without Citus.
SP=$(citus_free_port $((W2_PORT + 1)))
citus_init_node single "$SP" || { say "the single node did not start"; exit 1; }
SINGLE_DIR=$CITUS_TMP/single
sed -i "s/^shared_preload_libraries = 'citus,schemakit'/shared_preload_libraries = 'schemakit'/" "$SINGLE_DIR/postgresql.conf"
citus_as_pg "$CITUS_PG/pg_ctl" -D "$SINGLE_DIR" -l "$CITUS_TMP/single.log" -w restart >/dev/null || exit 1

say "# schemakit Citus bench $(date -u '+%Y-%m-%d %H:%M:%SZ'): $ROUNDS rounds, pgbench -c $CLIENTS -j $THREADS -M prepared, session $T_SESSION and email $T_EMAIL transactions per client"
say "# $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
say "# $(cq "$SP" postgres -c 'SELECT version()'); Citus $(cq "$CN_PORT" postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'citus'")"

LOAD="INSERT INTO schemakit.users (username, email) SELECT 'user' || g, 'user' || g || '@example.com' FROM generate_series(1, $USERS) g;
INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, last_seen_at, ip_address, user_agent)
SELECT 1 + (g - 1) % $USERS, schemakit._token_hash('s' || lpad(g::text, 42, '0')),
       now() + interval '30 days', now() + interval '1 day', '192.0.2.1', 'Mozilla/5.0 (bench)'
  FROM generate_series(1, $SESSIONS) g;"
# Citus: reference tables first, then the rows (INSERT ... SELECT through the coordinator).
citus_db sk_bench >/dev/null 2>&1 && cq "$CN_PORT" sk_bench -c "CREATE EXTENSION schemakit" || exit 1
for t in users organizations snippets email_codes oauth_accounts password_reset_tokens files sessions memberships invitations verifications _code_key; do
    cq "$CN_PORT" sk_bench -c "SET citus.enable_unsafe_triggers = on" -c "SET citus.enable_local_reference_table_foreign_keys = off" \
        -c "SELECT create_reference_table('schemakit.$t')" >/dev/null 2>>"$LOG" || { say "reference $t failed"; exit 1; }
done
cq "$CN_PORT" sk_bench -c "SET citus.enable_unsafe_triggers = on" -c "$LOAD" >>"$LOG" 2>&1 || { say "loading Citus failed"; exit 1; }
# The distribute() layout: made while empty, then the rows through the coordinator.
citus_db sk_dbench >/dev/null 2>&1 && cq "$CN_PORT" sk_dbench -c "CREATE EXTENSION schemakit" -c "SELECT count(*) FROM schemakit.distribute()" >>"$LOG" 2>&1 &&
    cq "$CN_PORT" sk_dbench -c "$LOAD" >>"$LOG" 2>&1 || { say "loading the distribute() layout failed"; exit 1; }
cq "$SP" postgres -c "CREATE DATABASE sk_bench" >/dev/null && cq "$SP" sk_bench -c "CREATE EXTENSION schemakit" -c "$LOAD" >>"$LOG" 2>&1 || exit 1
for p in "$CN_PORT" "$W1_PORT" "$W2_PORT" "$SP"; do cq "$p" sk_bench -c "VACUUM ANALYZE" >/dev/null 2>&1; done
for p in "$CN_PORT" "$W1_PORT" "$W2_PORT"; do cq "$p" sk_dbench -c "VACUUM ANALYZE" >/dev/null 2>&1; done
say "# loaded $USERS users and $SESSIONS sessions on each side; ref: $(cq "$CN_PORT" sk_bench -c "SELECT count(*) FROM pg_dist_partition") reference tables; dist: $(cq "$CN_PORT" sk_dbench -c "SELECT string_agg(partmethod::text, '' ORDER BY partmethod) FROM pg_dist_partition") (h: hash-distributed, n: reference)"

PGB=("$CITUS_PG/pgbench" -n -M prepared -h "$CITUS_TMP" -U postgres)
pgb() {   # PORT SCRIPT T [DB]: tps, or empty
    local out
    out=$("${PGB[@]}" -p "$1" -c "$CLIENTS" -j "$THREADS" -t "$3" -D "sessions=$SESSIONS" -f "$SK_ROOT/bench/pgbench/$2.sql" "${4:-sk_bench}" 2>&1)
    printf '== %s %s %s\n%s\n' "$1" "$2" "${4:-sk_bench}" "$out" >>"$LOG"
    grep -Eq 'aborted|number of failed transactions: [1-9]' <<<"$out" && return 1
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out"
}
declare -A tps ratio
SIDES=(dist ref single)
for ((r = 1; r <= ROUNDS; r++)); do
    for w in session email; do
        script=sk_$w; t=$T_SESSION; [ $w = email ] && t=$T_EMAIL
        # rotate which side goes first
        order=("${SIDES[@]:$(((r - 1) % 3))}" "${SIDES[@]:0:$(((r - 1) % 3))}")
        declare -A last=()
        for side in "${order[@]}"; do
            port=$SP db=sk_bench
            [ $side = ref ] && port=$CN_PORT
            [ $side = dist ] && port=$CN_PORT db=sk_dbench
            v=$(pgb "$port" "$script" "$t" "$db") && [ -n "$v" ] || { say "pgbench $side $w failed (see $LOG)"; exit 1; }
            tps[$side.$w]="${tps[$side.$w]:-} $v"; last[$side]=$v
        done
        for side in dist ref; do ratio[$side.$w]="${ratio[$side.$w]:-} $(calc "${last[$side]} / ${last[single]}")"; done
        say "# round $r $w: dist $(calc "${last[dist]}" 0) tps, ref $(calc "${last[ref]}" 0) tps, single $(calc "${last[single]}" 0) tps; dist/single $(calc "${last[dist]} / ${last[single]}"), ref/single $(calc "${last[ref]} / ${last[single]}")"
    done
done
# Every email transaction verified its code, on every side.
for x in "$CN_PORT sk_bench" "$CN_PORT sk_dbench" "$SP sk_bench"; do
    set -- $x
    left=$(cq "$1" "$2" -c "SELECT count(*) FROM schemakit.email_codes WHERE used_at IS NULL")
    [ "$left" = 0 ] || { say "port $1 $2: $left codes were not verified"; exit 1; }
done
printf 'workload\tlayout\tcitus_tps\tsingle_tps\tratio_median\tratios_per_round\trounds_citus\trounds_single\n' >"$TSV"
for w in session email; do
    s=$(median ${tps[single.$w]})
    for side in dist ref; do
        c=$(median ${tps[$side.$w]})
        printf '%s\t%s\t%.0f\t%.0f\t%s\t%s\t%s\t%s\n' "$w" "$side" "$c" "$s" "$(median ${ratio[$side.$w]})" "$(echo ${ratio[$side.$w]} | tr ' ' ,)" \
            "$(echo ${tps[$side.$w]} | tr ' ' ,)" "$(echo ${tps[single.$w]} | tr ' ' ,)" >>"$TSV"
        say "# $w $side: Citus $(calc "$c" 0) tps, single $(calc "$s" 0) tps; ratio $side/single, median of rounds $(median ${ratio[$side.$w]}) (rounds: $(echo ${ratio[$side.$w]} | tr ' ' ,))"
    done
done
say "# load at end $(cut -d' ' -f1-3 /proc/loadavg); $TSV"
