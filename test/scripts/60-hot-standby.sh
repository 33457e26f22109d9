#!/usr/bin/env bash
# Hot standby: a streaming replica of the test cluster (pg_basebackup over
# loopback) answers every read-only schemakit call -- the generators,
# session_user_id() (which must skip its last_seen_at refresh there),
# oauth_user_id(), uuidv7_time(), plain SELECTs -- and every call that
# writes fails cleanly with SQLSTATE 25006 (read_only_sql_transaction),
# leaving the secrets it was given usable on the primary.  Rows written on
# the primary afterwards reach the replica.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_standby
PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
WORK=$(mktemp -d /tmp/sk_standby.XXXXXX)
RDATA=$WORK/data
RLOG=$WORK/replica.log
RPORT=

cleanup() {
    if [ -f "$RDATA/postmaster.pid" ]; then
        run_as_cluster_owner "$PGBIN/pg_ctl" -D "$RDATA" -m immediate -w stop >/dev/null 2>&1
    fi
    dropdb --if-exists "$DB" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# A TCP port nobody listens on (bound and released; the server takes it next).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# rsql / rsqlstate: sql and sqlstate against the replica.
rsql() { PGPORT=$RPORT sql "$@"; }
rsqlstate() { PGPORT=$RPORT sqlstate "$@"; }
# rerror DB QUERY: "SQLSTATE: message" of the error QUERY raises on the replica, or "no error: <output>".
rerror() {
    local out
    if out=$(PGPORT=$RPORT psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$1" -c "$2" 2>&1); then
        echo "no error: $out"
    else
        printf '%s\n' "$out" | sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\): \(.*\)$/\1: \2/p' | head -n1
    fi
}

# wait_replay: until the replica has replayed everything the primary wrote so far.
wait_replay() {
    local lsn i r
    lsn=$(sql postgres -c "SELECT pg_current_wal_lsn()")
    for ((i = 0; i < 600; i++)); do
        r=$(rsql postgres -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn" 2>/dev/null)
        [ "$r" = t ] && return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------
# the replica
# ---------------------------------------------------------------------------

chown postgres: "$WORK"
chmod 0700 "$WORK"
out=$(run_as_cluster_owner pg_basebackup -h localhost -p "$PGPORT" -U postgres -D "$RDATA" -R -X stream 2>&1)
if [ $? -eq 0 ]; then pass "pg_basebackup -R -X stream over loopback"; else fail "pg_basebackup -R -X stream over loopback" "$out"; fi

# The Debian cluster keeps its configuration outside the data directory, so
# the copy has none: give it the primary's access rules and the settings a
# hot standby needs at least as high as its primary.
{
    echo "# replica of the schemakit test cluster (test/scripts/60-hot-standby.sh)"
    for g in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
        echo "$g = $(sql postgres -c "SHOW $g")"
    done
    echo "hot_standby = on"
    echo "log_line_prefix = '%m [%p] %q%u@%d '"
} >"$RDATA/postgresql.conf"
cp "$(sql postgres -c 'SHOW hba_file')" "$RDATA/pg_hba.conf"
ident=$(sql postgres -c 'SHOW ident_file')
if [ -f "$ident" ]; then cp "$ident" "$RDATA/pg_ident.conf"; else : >"$RDATA/pg_ident.conf"; fi
chown postgres: "$RDATA/postgresql.conf" "$RDATA/pg_hba.conf" "$RDATA/pg_ident.conf"
chmod 0600 "$RDATA/postgresql.conf" "$RDATA/pg_hba.conf" "$RDATA/pg_ident.conf"

started=0
for attempt in 1 2 3; do
    RPORT=$(free_port)
    if run_as_cluster_owner "$PGBIN/pg_ctl" -D "$RDATA" \
        -o "-p $RPORT -c listen_addresses=localhost -c unix_socket_directories=$RDATA -c shared_preload_libraries= -c hot_standby=on" \
        -l "$RLOG" -w -t 60 start >/dev/null 2>&1; then
        started=1; break
    fi
done
if [ $started -eq 1 ]; then
    pass "replica started on port $RPORT"
else
    fail "replica started" "$(tail -20 "$RLOG" 2>/dev/null)"
    done_testing; exit 1
fi
is "$(rsql postgres -c "SELECT pg_is_in_recovery()")" t "replica: pg_is_in_recovery() is true"
# "started" means accepting connections; the WAL receiver may connect a
# moment later (CI once looked too early), so wait up to 30 s for it.
streaming=0
for _ in $(seq 1 60); do
    streaming=$(sql postgres -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
    [ "$streaming" = 1 ] && break
    sleep 0.5
done
is "$streaming" 1 "primary: one streaming standby"

# ---------------------------------------------------------------------------
# the primary: a database at the default version with rows and live secrets
# ---------------------------------------------------------------------------

fresh_db "$DB"
VERSION=$(sql "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")
out=$(sql "$DB" 2>&1 >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email, display_name)
SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 20) g;
INSERT INTO schemakit.snippets (owner_id, title, body, is_public)
SELECT 1 + g % 20, 'Snippet ' || g, 'print(' || g || ')', g % 2 = 0 FROM generate_series(1, 50) g;
SELECT schemakit.record_snippet_view(public_id) FROM schemakit.snippets WHERE id <= 5;
SELECT schemakit.issue_email_code('user' || g || '@example.com') FROM generate_series(2, 6) g;
SELECT schemakit.link_oauth_account(g, 'github', (1000 + g)::text, 'user' || g || '@example.com', 'User ' || g)
  FROM generate_series(1, 10) g;
SELECT schemakit.issue_password_reset_token(g) FROM generate_series(2, 5) g;
INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
SELECT 1 + g % 20, 'photo' || g || '.jpg', 'image/jpeg', g * 1024 FROM generate_series(1, 10) g;
SELECT schemakit.issue_session(g, '30 days', '192.0.2.1', 'Mozilla/5.0') FROM generate_series(2, 10) g;
-- dead rows, so purge_expired() has something it would delete
INSERT INTO schemakit.sessions (user_id, token_hash, created_at, expires_at, last_seen_at)
SELECT g, schemakit._token_hash(schemakit.random_token()), now() - interval '40 days',
       now() - interval '10 days', now() - interval '11 days'
  FROM generate_series(11, 15) g;
SQL
)
is "$out" "" "primary: $DB at $VERSION filled"
UID1=$(sql "$DB" -c "SELECT id FROM schemakit.users WHERE username = 'user1'")
CODE=$(sql "$DB" -c "SELECT schemakit.issue_email_code('user1@example.com')")
RESET=$(sql "$DB" -c "SELECT schemakit.issue_password_reset_token($UID1)")
SESSION=$(sql "$DB" -c "SELECT schemakit.issue_session($UID1, '30 days', '203.0.113.7', 'Mozilla/5.0')")
PUBLIC_ID=$(sql "$DB" -c "SELECT public_id FROM schemakit.snippets WHERE id = 1")
# An old last_seen_at: a call on the primary would refresh it, so one on the
# replica would try to, were it not for the recovery check.
sql "$DB" -c "UPDATE schemakit.sessions SET last_seen_at = now() - interval '1 hour' WHERE token_hash = schemakit._token_hash('$SESSION')" >/dev/null
SEEN=$(sql "$DB" -c "SELECT last_seen_at FROM schemakit.sessions WHERE token_hash = schemakit._token_hash('$SESSION')")
like "$CODE" '^[0-9]{6}$' "primary: live email code issued"
like "$RESET" '^[A-Za-z0-9_-]{43}$' "primary: live reset token issued"
like "$SESSION" '^[A-Za-z0-9_-]{43}$' "primary: live session issued (last_seen_at an hour ago)"

if wait_replay; then pass "replica replayed the primary's WAL"; else fail "replica replayed the primary's WAL" "$(tail -20 "$RLOG")"; fi

# ---------------------------------------------------------------------------
# reads on the replica
# ---------------------------------------------------------------------------

is "$(rsql "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")" "$VERSION" "replica: extension at $VERSION"
snapshot() {
    "$@" <<'SQL'
SELECT c.relname || ' ' ||
       (xpath('/row/n/text()', query_to_xml(format(
           'SELECT count(*) || '':'' || coalesce(md5(string_agg(t::text, E''\n'' ORDER BY t.id)), ''-'') AS n FROM schemakit.%I t',
           c.relname), false, true, '')))[1]::text
  FROM pg_extension e, unnest(e.extconfig) AS x (oid) JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'schemakit' AND c.relkind = 'r' AND c.relname <> 'migrations'
 ORDER BY 1;
SQL
}
PSNAP=$(snapshot sql "$DB")
is "$(snapshot rsql "$DB")" "$PSNAP" "replica: SELECT from every table gives the primary's rows"
is "$(rsql "$DB" -c "SELECT string_agg(version, ',' ORDER BY version) FROM schemakit.migrations")" \
   "$(sql "$DB" -c "SELECT string_agg(version, ',' ORDER BY version) FROM schemakit.migrations")" "replica: migrations rows"

like "$(rsql "$DB" -c "SELECT schemakit.public_id()" 2>&1)" '^[0-9A-Za-z]{10}$' "replica: public_id()"
like "$(rsql "$DB" -c "SELECT schemakit.public_id(8, '0123456789abcdef')" 2>&1)" '^[0-9a-f]{8}$' "replica: public_id(8, hex)"
like "$(rsql "$DB" -c "SELECT schemakit.random_code()" 2>&1)" '^[0-9]{6}$' "replica: random_code()"
like "$(rsql "$DB" -c "SELECT schemakit.random_token()" 2>&1)" '^[A-Za-z0-9_-]{43}$' "replica: random_token()"
if [ "$(rsql "$DB" -c "SELECT to_regprocedure('schemakit.uuidv7()') IS NOT NULL")" = t ]; then
    like "$(rsql "$DB" -c "SELECT schemakit.uuidv7()" 2>&1)" '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "replica: uuidv7()"
    is "$(rsql "$DB" -c "SELECT bool_and(a < b) FROM (SELECT u AS a, lead(u) OVER (ORDER BY n) AS b FROM (SELECT n, schemakit.uuidv7() AS u FROM generate_series(1, 1000) n) s) x WHERE b IS NOT NULL" 2>&1)" t \
       "replica: uuidv7() strictly increasing"
    is "$(rsql "$DB" -c "SELECT abs(extract(epoch FROM schemakit.uuidv7_time(schemakit.uuidv7()) - clock_timestamp())) < 5" 2>&1)" t \
       "replica: uuidv7_time(uuidv7()) is now"
    is "$(rsql "$DB" -c "SELECT schemakit.uuidv7_time('01a2018e-fd30-71aa-853e-df411cf2abac') = (SELECT schemakit.uuidv7_time('01a2018e-fd30-71aa-853e-df411cf2abac'))" 2>&1)" t \
       "replica: uuidv7_time(literal) answers"
fi

is "$(rsql "$DB" -c "SELECT schemakit.session_user_id('$SESSION')" 2>&1)" "$UID1" \
   "replica: session_user_id(live token) returns the user (no error from the skipped refresh)"
is "$(rsql "$DB" -c "SELECT schemakit.session_user_id('$SESSION')" 2>&1)" "$UID1" "replica: ... and again"
is "$(rsql "$DB" -c "SELECT coalesce(schemakit.session_user_id(schemakit.random_token())::text, 'null')" 2>&1)" null \
   "replica: session_user_id(unknown token) is NULL"
is "$(rsql "$DB" -c "SELECT last_seen_at FROM schemakit.sessions WHERE token_hash = schemakit._token_hash('$SESSION')")" "$SEEN" \
   "replica: last_seen_at untouched"
is "$(rsql "$DB" -c "BEGIN; SELECT schemakit.session_user_id('$SESSION'); COMMIT;" 2>&1)" "$UID1" \
   "replica: session_user_id inside an explicit transaction"
is "$(rsql "$DB" -c "SELECT schemakit.oauth_user_id('github', '1003')" 2>&1)" "$(sql "$DB" -c "SELECT id FROM schemakit.users WHERE username = 'user3'")" \
   "replica: oauth_user_id(linked account) returns the user"
is "$(rsql "$DB" -c "SELECT coalesce(schemakit.oauth_user_id('github', 'nobody')::text, 'null')" 2>&1)" null \
   "replica: oauth_user_id(unknown) is NULL"
is "$(rsql "$DB" -c "SELECT count(*) FROM schemakit.snippets s JOIN schemakit.users u ON u.id = s.owner_id WHERE s.public_id = '$PUBLIC_ID'")" 1 \
   "replica: a snippet looked up by public_id"
is "$(rsql "$DB" -c "SELECT coalesce(schemakit.consume_password_reset_token(NULL)::text, 'null')" 2>&1)" null \
   "replica: consume_password_reset_token(NULL) answers NULL without writing"
is "$(rsql "$DB" -c "SELECT schemakit.verify_email_code(NULL, '123456')" 2>&1)" f \
   "replica: verify_email_code(NULL, ...) answers false without writing"
# Idempotent re-link of an existing account needs no write.
is "$(rsql "$DB" -c "SELECT schemakit.link_oauth_account($UID1, 'github', '1001')" 2>&1)" \
   "$(sql "$DB" -c "SELECT id FROM schemakit.oauth_accounts WHERE provider = 'github' AND provider_id = '1001'")" \
   "replica: link_oauth_account of an already linked account answers (read-only path)"

# ---------------------------------------------------------------------------
# writes on the replica: each fails with 25006 and nothing else
# ---------------------------------------------------------------------------

declare -a WRITES=(
    "issue_email_code|SELECT schemakit.issue_email_code('user7@example.com')"
    "issue_email_code (new address)|SELECT schemakit.issue_email_code('newcomer@example.com')"
    "verify_email_code (live code)|SELECT schemakit.verify_email_code('user1@example.com', '$CODE')"
    "verify_email_code (wrong code)|SELECT schemakit.verify_email_code('user1@example.com', 'nope')"
    "record_snippet_view|SELECT schemakit.record_snippet_view('$PUBLIC_ID')"
    "link_oauth_account (new link)|SELECT schemakit.link_oauth_account($UID1, 'github', 'replica-new')"
    "issue_password_reset_token|SELECT schemakit.issue_password_reset_token($UID1)"
    "consume_password_reset_token (live token)|SELECT schemakit.consume_password_reset_token('$RESET')"
    "issue_session|SELECT schemakit.issue_session($UID1)"
    "revoke_session (live token)|SELECT schemakit.revoke_session('$SESSION')"
    "revoke_user_sessions|SELECT schemakit.revoke_user_sessions($UID1)"
    "purge_expired|SELECT schemakit.purge_expired()"
    "purge_expired('0')|SELECT schemakit.purge_expired('0')"
    "INSERT INTO users|INSERT INTO schemakit.users (username) VALUES ('replica')"
    "INSERT INTO snippets (default public_id)|INSERT INTO schemakit.snippets (owner_id, body) VALUES ($UID1, 'x')"
    "UPDATE users|UPDATE schemakit.users SET display_name = 'x' WHERE id = $UID1"
    "DELETE FROM snippets|DELETE FROM schemakit.snippets WHERE id = 1"
    "nextval(users_id_seq)|SELECT nextval('schemakit.users_id_seq')"
)
if [ "$(rsql "$DB" -c "SELECT to_regprocedure('schemakit.grant_app(regrole)') IS NOT NULL")" = t ]; then
    WRITES+=("grant_app|SELECT schemakit.grant_app('pg_monitor')")
fi
unclean=()
for w in "${WRITES[@]}"; do
    name=${w%%|*} q=${w#*|}
    err=$(rerror "$DB" "$q")
    if [ "${err%%:*}" = 25006 ]; then
        pass "replica: $name fails with 25006"
        echo "#   $err"
    else
        fail "replica: $name fails with 25006" "got: $err"
        unclean+=("$name -> $err")
    fi
done
if [ ${#unclean[@]} -gt 0 ]; then
    echo "# calls that did not fail cleanly with 25006 on the replica:"
    printf '#   %s\n' "${unclean[@]}"
fi
is "$(snapshot rsql "$DB")" "$PSNAP" "replica: rows unchanged after the refused writes"

# ---------------------------------------------------------------------------
# the primary still honours the secrets; new rows reach the replica
# ---------------------------------------------------------------------------

is "$(sql "$DB" -c "SELECT last_seen_at FROM schemakit.sessions WHERE token_hash = schemakit._token_hash('$SESSION')")" "$SEEN" \
   "primary: last_seen_at still the old value (the replica wrote nothing)"
is "$(sql "$DB" -c "BEGIN READ ONLY; SELECT schemakit.session_user_id('$SESSION'); COMMIT;" 2>&1)" "$UID1" \
   "primary: session_user_id in a READ ONLY transaction answers without refreshing"
is "$(sql "$DB" -c "SELECT last_seen_at FROM schemakit.sessions WHERE token_hash = schemakit._token_hash('$SESSION')")" "$SEEN" \
   "primary: ... last_seen_at unchanged by it"
is "$(sql "$DB" -c "SELECT schemakit.session_user_id('$SESSION')" 2>&1)" "$UID1" "primary: session_user_id(live token)"
is "$(sql "$DB" -c "SELECT last_seen_at > now() - interval '1 minute' FROM schemakit.sessions WHERE token_hash = schemakit._token_hash('$SESSION')")" t \
   "primary: ... refreshed last_seen_at"
is "$(sql "$DB" -c "SELECT schemakit.verify_email_code('user1@example.com', '$CODE')" 2>&1)" t \
   "primary: the code the replica refused still verifies"
is "$(sql "$DB" -c "SELECT schemakit.consume_password_reset_token('$RESET')" 2>&1)" "$UID1" \
   "primary: the reset token the replica refused still consumes"
out=$(sql "$DB" 2>&1 <<'SQL'
INSERT INTO schemakit.users (username, email) VALUES ('late', 'late@example.com');
INSERT INTO schemakit.snippets (owner_id, title, body)
SELECT id, 'late snippet', 'late body' FROM schemakit.users WHERE username = 'late';
SELECT schemakit.link_oauth_account(id, 'gitlab', 'late-1') FROM schemakit.users WHERE username = 'late';
SQL
)
LATE_SESSION=$(sql "$DB" -c "SELECT schemakit.issue_session(id) FROM schemakit.users WHERE username = 'late'")
LATE_UID=$(sql "$DB" -c "SELECT id FROM schemakit.users WHERE username = 'late'")
PSNAP=$(snapshot sql "$DB")
if wait_replay; then pass "replica replayed the later writes"; else fail "replica replayed the later writes"; fi
is "$(snapshot rsql "$DB")" "$PSNAP" "replica: the later rows are there (every table equals the primary)"
is "$(rsql "$DB" -c "SELECT schemakit.session_user_id('$LATE_SESSION')" 2>&1)" "$LATE_UID" \
   "replica: a session issued later on the primary resolves"
is "$(rsql "$DB" -c "SELECT schemakit.oauth_user_id('gitlab', 'late-1')" 2>&1)" "$LATE_UID" \
   "replica: an account linked later on the primary resolves"
is "$(rsql "$DB" -c "SELECT last_seen_at > now() - interval '1 minute' FROM schemakit.sessions WHERE token_hash = schemakit._token_hash('$SESSION')")" t \
   "replica: sees the primary's last_seen_at refresh"
is "$(rsql "$DB" -c "SELECT used_at IS NOT NULL FROM schemakit.email_codes WHERE lower(email) = 'user1@example.com' AND revoked_at IS NULL")" t \
   "replica: sees the code used on the primary"
is "$(rsql "$DB" -c "SELECT schemakit.verify_email_code(NULL, NULL)" 2>&1)" f "replica: still answering"

# Nothing in the replica's log but the refused statements.
others=$(grep -E 'ERROR|FATAL|PANIC' "$RLOG" | grep -vE 'read-only transaction|while recovery is in progress' | head -5)
is "$others" "" "replica log: no error other than the refused writes"

done_testing
