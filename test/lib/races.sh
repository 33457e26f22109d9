# test/lib/races.sh - the race driver of the scripted suites (sourced after
# tap.sh): ROUNDS rounds of N clients that start one call at the same moment,
# released by a barrier.  The caller sets DB, ROUNDS, LOCK_BASE (advisory
# key1 = LOCK_BASE + kind number; key2 = the round), BARRIER_TIMEOUT
# (seconds) and WORK (a scratch directory), and defines client_sql_NAME (and
# client_pre_NAME) for each race kind.  Used by test/scripts/30-races.sh and
# 35-org-races.sh.

declare -A N_ERRORS
races_run=0

# run_race KIND_NO NAME N [ERROR_SQLSTATES]: runs ROUNDS rounds of one race kind.
# Clients report errors with VERBOSITY verbose; the only SQLSTATEs a client may
# get are ERROR_SQLSTATES (an ERE alternation such as 'SKR14|40001'; none if
# not given).  N_ERRORS[STATE] counts each one.
# The kind's client_sql_NAME C R prints the call client c makes in round r
# (an SQL expression); client_pre_NAME, if defined, prints setup SQL.
# Results land in $WORK/NAME/client.C.out as "round|epoch|value" lines.
run_race() {
    local name=$2 n=$3 allowed=${4:-} key1=$((LOCK_BASE + $1)) dir="$WORK/$2" r c i t0=$SECONDS
    mkdir -p "$dir"

    # The holder: all rounds locked first, then one barrier per round.
    {
        echo "SELECT pg_advisory_lock($key1, r) FROM generate_series(1, $ROUNDS) r;"
        for ((r = 1; r <= ROUNDS; r++)); do
            cat <<SQL
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    WHILE (SELECT count(*) FROM pg_catalog.pg_locks
            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND classid = $key1 AND objid = $r AND objsubid = 2
              AND mode = 'ShareLock' AND NOT granted) < $n LOOP
        IF clock_timestamp() - t0 > interval '$BARRIER_TIMEOUT seconds' THEN
            RAISE EXCEPTION 'barrier $name round $r: timeout';
        END IF;
        PERFORM pg_sleep(0.002);
    END LOOP;
    PERFORM pg_advisory_unlock($key1, $r);
END
\$\$;
SELECT '$r|released';
SQL
        done
    } >"$dir/holder.sql"
    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -f "$dir/holder.sql" >"$dir/holder.out" 2>"$dir/holder.err" &
    local holder=$!

    # Start the clients only once the holder owns every round's lock.
    local held=0 waited=0
    while [ "$held" -lt "$ROUNDS" ] && [ "$waited" -lt 3000 ]; do
        held=$(sql "$DB" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $key1 AND mode = 'ExclusiveLock' AND granted")
        [ "$held" -lt "$ROUNDS" ] && { sleep 0.01; waited=$((waited + 1)); }
    done
    is "$held" "$ROUNDS" "$name: the holder owns all $ROUNDS round locks before any client starts"

    local pids=()
    for ((c = 1; c <= n; c++)); do
        {
            echo "\\set VERBOSITY verbose"
            if declare -F "client_pre_$name" >/dev/null; then "client_pre_$name"; fi
            for ((r = 1; r <= ROUNDS; r++)); do
                # One statement: the barrier, then at once (CASE evaluates in
                # order) the start time and the call under test.
                echo "SELECT '$r|' || CASE WHEN pg_advisory_lock_shared($key1, $r) IS NULL THEN 'no barrier'"
                echo "       ELSE extract(epoch FROM clock_timestamp()) || '|' || coalesce(($("client_sql_$name" "$c" "$r"))::text, 'NULL') END;"
                echo "SELECT pg_advisory_unlock_shared($key1, $r) \\g /dev/null"
            done
        } >"$dir/client.$c.sql"
        psql -X -q -A -t -d "$DB" -f "$dir/client.$c.sql" >"$dir/client.$c.out" 2>"$dir/client.$c.err" &
        pids+=($!)
    done
    local bad_exit=0
    for i in "${pids[@]}"; do wait "$i" || bad_exit=$((bad_exit + 1)); done
    wait "$holder"; local hst=$?

    is "$hst:$(cat "$dir/holder.err")" "0:" "$name: the holder released every round with all $n clients waiting"
    is "$(grep -c '|released$' "$dir/holder.out")" "$ROUNDS" "$name: $ROUNDS barriers released"
    is "$bad_exit" 0 "$name: every client psql exited 0"
    local errs
    errs=$(cat "$dir"/client.*.err)
    if [ -z "$allowed" ]; then
        is "$errs" "" "$name: no client got an error"
    else
        is "$(printf '%s\n' "$errs" | grep -v -E -e '^$' -e "ERROR:  ($allowed): " -e '^(DETAIL|HINT|CONTEXT|LOCATION): ' \
                  -e '^PL/pgSQL function' -e '^SQL statement' -e '^[[:space:]]')" "" \
           "$name: no client got an error other than $allowed"
        local s
        N_ERRORS=()
        for s in ${allowed//|/ }; do
            N_ERRORS[$s]=$(printf '%s\n' "$errs" | grep -c "ERROR:  $s: ")
        done
    fi
    races_run=$((races_run + ROUNDS))
    echo "# $name: $ROUNDS rounds of $n clients in $((SECONDS - t0))s; calls started within $(start_spread "$name") of each other"
}

# Client output lines are "round|epoch the call started|value".
# round_values NAME R: every client's value for round r, one per line.
round_values() { cat "$WORK/$1"/client.*.out | sed -n "s/^$2|[^|]*|//p"; }
# start_spread NAME: per round, how far apart the N calls started (ms):
# "median max" over the rounds.
start_spread() {
    cat "$WORK/$1"/client.*.out | awk -F'|' 'NF == 3 {
        if (!($1 in lo) || $2 < lo[$1]) lo[$1] = $2
        if (!($1 in hi) || $2 > hi[$1]) hi[$1] = $2
    } END { for (r in lo) printf "%.1f\n", (hi[r] - lo[r]) * 1000 }' |
        sort -n | awk '{ v[NR] = $1 } END { printf "median %s ms, max %s ms", v[int((NR + 1) / 2)], v[NR] }'
}
