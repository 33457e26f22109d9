#!/usr/bin/env bash
# Attack class: online maintenance against session_user_id (C).  A lookup
# that trusted the token index's name while REINDEX INDEX CONCURRENTLY ran
# got "could not open relation with OID" (XX000) or a 55000, on the primary
# and on a hot standby replaying the reindex, and REINDEX TABLE deadlocked
# with it.  session_user_id locks the table before it trusts its name, finds the index through the locked table, releases the
# index lock before the refresh, and only refreshes when its lock is free.
#
# 8 clients look sessions up in a loop (every answer checked against the
# expected user) while maintenance runs in turn: REINDEX INDEX CONCURRENTLY,
# REINDEX TABLE [CONCURRENTLY], REINDEX INDEX, VACUUM FULL, CLUSTER, ALTER
# TABLE ADD/DROP COLUMN and ALTER COLUMN TYPE, on the primary and on a hot
# standby replaying it.  Every answer must be right, with no error and no
# deadlock.  Also: FORCE ROW LEVEL SECURITY is honoured as the SQL version
# honoured it, and a token that is not valid UTF-8 in a SQL_ASCII database
# is simply unknown (NULL, not 22021).
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_maint
CLIENTS=8
SECONDS_PER_OP=${SK_MAINT_SECONDS:-3}
PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
WORK=$(mktemp -d /tmp/sk_maint.XXXXXX)
RDATA=$WORK/replica
RPORT=
cleanup() {
    [ -f "$RDATA/postmaster.pid" ] && run_as_cluster_owner "$PGBIN/pg_ctl" -D "$RDATA" -m immediate -w stop >/dev/null 2>&1
    dropdb --if-exists $DB 2>/dev/null; dropdb --if-exists ${DB}_ascii 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
tried=0
held=0
attack() { tried=$((tried + 1)); if [ "$1" = "$2" ]; then held=$((held + 1)); pass "$3"; else fail "$3" "got:      $1" "expected: $2"; fi; }

fresh_db $DB
sql $DB >/dev/null <<'SQL'
INSERT INTO schemakit.users (username) SELECT 'u' || g FROM generate_series(1, 500) g;
CREATE TABLE public.tokens (user_id bigint, token text);
INSERT INTO public.tokens SELECT 1 + g % 500, schemakit.issue_session(1 + g % 500) FROM generate_series(1, 5000) g;
-- a minute-old last_seen_at everywhere, so lookups also try the refresh
UPDATE schemakit.sessions SET last_seen_at = now() - interval '2 minutes';
SQL

# The clients: pgbench, each lookup its own transaction as an app makes it; a
# wrong answer divides by zero and shows as an error.  One transaction in 50
# ages a session, so lookups also run the refresh.
sql $DB -c "ALTER TABLE public.tokens ADD COLUMN n serial" >/dev/null
cat >"$WORK/lookup.pgb" <<'SQL'
\set n random(1, 5000)
SELECT CASE WHEN schemakit.session_user_id(t.token) IS DISTINCT FROM t.user_id THEN 1 / (random() * 0)::int END FROM public.tokens t WHERE t.n = :n;
SQL
cat >"$WORK/age.pgb" <<'SQL'
\set n random(1, 5000)
UPDATE schemakit.sessions SET last_seen_at = now() - interval '2 minutes' WHERE id = :n;
SQL

# under_load PORT LABEL MAINT-SQL...: CLIENTS pgbench clients on PORT, maintenance on the primary meanwhile.
under_load() {
    local port=$1 label=$2 run=$((SECONDS_PER_OP + 1)) m out errs n scripts="-f $WORK/lookup.pgb@50"
    shift 2
    [ "$port" = "$PGPORT" ] && scripts+=" -f $WORK/age.pgb@1" || scripts="-f $WORK/lookup.pgb"
    PGPORT=$port pgbench -n -c $CLIENTS -j 2 -T $run $scripts $DB >"$WORK/pgb.out" 2>"$WORK/pgb.err" &
    local pgb=$!
    sleep 0.3
    local t_end=$((SECONDS + SECONDS_PER_OP)) merr=""
    while [ $SECONDS -lt $t_end ]; do
        for m in "$@"; do
            merr+=$(psql -X -q -d $DB -c "$m" 2>&1 | grep -E 'ERROR|deadlock' || true)
        done
    done
    wait $pgb
    errs=$(grep -E 'ERROR|FATAL|aborted' "$WORK/pgb.err" | sed 's/^pgbench: //' | sort | uniq -c | head -3)
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgb.out")
    attack "errors=[$errs]" "errors=[]" "$label: $CLIENTS clients, ${n:-0} lookups, every answer right, no error"
    is "$(printf '%s' "$merr" | grep -c deadlock)" 0 "$label: the maintenance itself met no deadlock"
}

OPS=(
    "REINDEX INDEX CONCURRENTLY|REINDEX INDEX CONCURRENTLY schemakit.sessions_pkey"
    "REINDEX TABLE CONCURRENTLY|REINDEX TABLE CONCURRENTLY schemakit.sessions"
    "REINDEX INDEX|REINDEX INDEX schemakit.sessions_pkey"
    "REINDEX TABLE|REINDEX TABLE schemakit.sessions"
    "VACUUM FULL|VACUUM FULL schemakit.sessions"
    "CLUSTER|CLUSTER schemakit.sessions USING sessions_pkey"
    "ADD and DROP COLUMN|ALTER TABLE schemakit.sessions ADD COLUMN sk_tmp int;ALTER TABLE schemakit.sessions DROP COLUMN sk_tmp"
    "ALTER COLUMN TYPE|ALTER TABLE schemakit.sessions ALTER COLUMN user_agent TYPE varchar(600);ALTER TABLE schemakit.sessions ALTER COLUMN user_agent TYPE text"
)
for op in "${OPS[@]}"; do
    IFS=';' read -r -a stmts <<<"${op#*|}"
    under_load "$PGPORT" "primary, ${op%%|*}" "${stmts[@]}"
done

# ---------------------------------------------------------------------------
# A hot standby replaying the same maintenance.
# ---------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
chown postgres: "$WORK"; chmod 0700 "$WORK"
if run_as_cluster_owner pg_basebackup -c fast -h localhost -p "$PGPORT" -U postgres -D "$RDATA" -R -X stream >/dev/null 2>&1; then
    {
        for g in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
            echo "$g = $(sql postgres -c "SHOW $g")"
        done
        echo "hot_standby = on"
        echo "shared_preload_libraries = 'schemakit'"
    } >"$RDATA/postgresql.conf"
    cp "$(sql postgres -c 'SHOW hba_file')" "$RDATA/pg_hba.conf"; : >"$RDATA/pg_ident.conf"
    chown postgres: "$RDATA"/*.conf; chmod 0600 "$RDATA"/*.conf
    RPORT=$(free_port)
    if run_as_cluster_owner "$PGBIN/pg_ctl" -D "$RDATA" -o "-p $RPORT -c listen_addresses=localhost -c unix_socket_directories=$RDATA" \
        -l "$WORK/replica.log" -w -t 60 start >/dev/null 2>&1; then
        pass "standby started"
        sleep 1
        for op in "${OPS[@]:0:6}"; do
            IFS=';' read -r -a stmts <<<"${op#*|}"
            under_load "$RPORT" "standby replaying ${op%%|*}" "${stmts[@]}"
        done
        is "$(grep -cE 'could not open relation|XX000' "$WORK/replica.log")" 0 "standby log: no 'could not open relation'"
    else
        fail "standby started" "$(tail -5 "$WORK/replica.log")"
    fi
else
    fail "pg_basebackup for the standby"
fi

# ---------------------------------------------------------------------------
# Row level security, and SQL_ASCII.
# ---------------------------------------------------------------------------
t2=$(sql $DB -c "SELECT token FROM public.tokens WHERE user_id = 2 LIMIT 1")
t3=$(sql $DB -c "SELECT token FROM public.tokens WHERE user_id = 3 LIMIT 1")
# Row level security binds a table owner only when the table forces it and
# the owner is no superuser (superusers bypass it): as the SECURITY DEFINER
# SQL version ran, as the owner.
psql -X -q -c "DROP ROLE IF EXISTS sk_maint_owner" -c "CREATE ROLE sk_maint_owner" >/dev/null
sql $DB >/dev/null <<'SQL'
GRANT USAGE ON SCHEMA schemakit TO sk_maint_owner;
ALTER TABLE schemakit.sessions OWNER TO sk_maint_owner;
ALTER TABLE schemakit.sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY hide_user_2 ON schemakit.sessions USING (user_id <> 2);
SQL
is "$(sql $DB -c "SELECT schemakit.session_user_id('$t2')")" 2 "RLS enabled, not forced: the owner is not subject to it (as the SQL version ran)"
sql $DB -c "ALTER TABLE schemakit.sessions FORCE ROW LEVEL SECURITY" >/dev/null
attack "$(sql $DB -c "SELECT coalesce(schemakit.session_user_id('$t2')::text, 'NULL')")" NULL \
       "FORCE ROW LEVEL SECURITY: a session the policy hides is not found"
is "$(sql $DB -c "SELECT schemakit.session_user_id('$t3')")" 3 "FORCE ROW LEVEL SECURITY: a visible session still answers"
sql $DB >/dev/null <<'SQL'
ALTER TABLE schemakit.sessions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE schemakit.sessions DISABLE ROW LEVEL SECURITY;
DROP POLICY hide_user_2 ON schemakit.sessions;
ALTER TABLE schemakit.sessions OWNER TO CURRENT_USER;
REVOKE USAGE ON SCHEMA schemakit FROM sk_maint_owner;
SQL
psql -X -q -c "DROP ROLE IF EXISTS sk_maint_owner" >/dev/null

dropdb --if-exists ${DB}_ascii 2>/dev/null
psql -X -q -d postgres -c "CREATE DATABASE ${DB}_ascii TEMPLATE template0 ENCODING 'SQL_ASCII' LOCALE 'C'"
sql ${DB}_ascii -c "CREATE EXTENSION schemakit" >/dev/null
attack "$(sql ${DB}_ascii -c "SELECT coalesce(schemakit.session_user_id(convert_from('\\xfffe'::bytea, 'SQL_ASCII'))::text, 'NULL')" 2>&1)" NULL \
       "SQL_ASCII: a token that is not UTF-8 is unknown (NULL), not an error"
attack "$(sql ${DB}_ascii -c "SELECT coalesce(schemakit.session_user_id(convert_from('\\xc3'::bytea, 'SQL_ASCII'))::text, 'NULL')" 2>&1)" NULL \
       "SQL_ASCII: a truncated UTF-8 sequence is unknown (NULL), not 22021"

echo "# maintenance: $tried attacks tried, $held held"
done_testing
