#!/usr/bin/env bash
# Attack class: secrets in places a role, a log reader or a backup can see.
# Under 1.4 the code key lived in a setting: ALTER SYSTEM wrote it into
# postgresql.auto.conf (so into every base backup), a reload logged it in
# clear, and pg_read_all_settings (every pg_monitor role) could SHOW it.
# debug_print_plan and an SKR02 raised for a literal code put the code in
# the log.
#
# 1.5 reads the key from schemakit.code_key_file, once, in the postmaster.
# On a cluster of its own (the setting is read at start), this suite checks:
# codes work under the file key; the key is in no setting (SHOW, pg_settings,
# pg_file_settings), in no log line, in no base backup and in no dump; a
# pg_monitor role sees only the path; a file that others can read, one
# inside the data directory, a short one, or one that is missing, stops the
# server without printing the key; the file and the old setting together are
# refused; an SKR01/SKR02 leaves no STATEMENT line; the code functions'
# internal plans never carry the code.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
WORK=$(mktemp -d /tmp/sk_secrets.XXXXXX)
DATA=$WORK/data
LOG=$WORK/server.log
KEYDIR=$WORK/keys
KEY=skfile$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORT=
stop() { [ -f "$DATA/postmaster.pid" ] && run_as_cluster_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1; }
trap 'stop; rm -rf "$WORK"' EXIT
tried=0
held=0
attack() { tried=$((tried + 1)); if [ "$1" = "$2" ]; then held=$((held + 1)); pass "$3"; else fail "$3" "got:      $1" "expected: $2"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

mkdir -p "$KEYDIR"
chown -R postgres: "$WORK"; chmod 0700 "$WORK"
printf '%s\n' "$KEY" >"$KEYDIR/code.key"
chown postgres: "$KEYDIR/code.key"; chmod 0600 "$KEYDIR/code.key"
run_as_cluster_owner "$PGBIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null 2>&1 || { fail "initdb"; done_testing; exit 1; }
cat >>"$DATA/postgresql.conf" <<EOF
shared_preload_libraries = 'schemakit'
schemakit.code_key_file = '$KEYDIR/code.key'
listen_addresses = ''
log_min_messages = debug1
log_min_error_statement = error
wal_level = replica
EOF
PORT=$(free_port)
start() {   # start: 0 when the server came up
    : >"$LOG"; chown postgres: "$LOG"
    run_as_cluster_owner "$PGBIN/pg_ctl" -D "$DATA" -o "-p $PORT -c unix_socket_directories=$WORK" -l "$LOG" -w -t 30 start >/dev/null 2>&1
}
q() { PGHOST=$WORK PGPORT=$PORT PGUSER=postgres sql "$@"; }
qs() { PGHOST=$WORK PGPORT=$PORT PGUSER=postgres sqlstate "$@"; }
everywhere() {   # where the key shows up: log, data directory, and what a query returns
    { grep -rl -- "$KEY" "$LOG" "$DATA" 2>/dev/null; } | sed "s|$WORK|WORK|" | paste -sd' '
}

if start; then pass "the server starts with a key file (mode 0600, outside the data directory)"; else
    fail "the server starts with a key file" "$(tail -5 "$LOG")"; done_testing; exit 1; fi
q postgres -c "CREATE EXTENSION schemakit" >/dev/null
code=$(q postgres -c "SELECT schemakit.issue_email_code('ada@example.com')")
is "$(q postgres -c "SELECT schemakit.verify_email_code('ada@example.com', '$code')")" t "a code issued under the file key verifies"
# the stored hash is HMAC under the file's key: the same message, computed in SQL with the key, matches
q postgres -c "CREATE EXTENSION IF NOT EXISTS pgcrypto" >/dev/null 2>&1
code2=$(q postgres -c "SELECT schemakit.issue_email_code('bea@example.com')")
is "$(q postgres -c "SELECT code_hash = hmac('schemakit/email-code/bea@example.com/$code2', '$KEY', 'sha256')
                     FROM schemakit.email_codes WHERE email = 'bea@example.com' AND used_at IS NULL")" t \
   "the stored hash is HMAC-SHA256 under the file's key"

q postgres -c "CREATE ROLE sk_mon LOGIN; GRANT pg_monitor TO sk_mon" >/dev/null
attack "$(PGHOST=$WORK PGPORT=$PORT PGUSER=sk_mon sql postgres -c "SELECT string_agg(coalesce(setting, '') || reset_val || coalesce(boot_val, ''), '') FROM pg_settings" | grep -c -- "$KEY")" 0 \
       "a pg_monitor role finds the key in no setting (pg_settings)"
attack "$(PGHOST=$WORK PGPORT=$PORT PGUSER=sk_mon sql postgres -c "SHOW schemakit.code_hmac_key" 2>&1 | grep -c -- "$KEY")" 0 \
       "a pg_monitor role: SHOW schemakit.code_hmac_key does not give the key"
is "$(PGHOST=$WORK PGPORT=$PORT PGUSER=sk_mon sql postgres -c "SHOW schemakit.code_key_file" 2>&1)" "$KEYDIR/code.key" \
   "... SHOW schemakit.code_key_file gives only the path"
attack "$(q postgres -c "SELECT count(*) FROM pg_file_settings WHERE setting LIKE '%$KEY%'")" 0 "the key is in no configuration file the server reads"
q postgres -c "SELECT pg_reload_conf()" >/dev/null; sleep 0.5

# Base backup and dump.
run_as_cluster_owner pg_basebackup -c fast -h "$WORK" -p "$PORT" -U postgres -D "$WORK/backup" -X fetch >/dev/null 2>&1
attack "$(grep -rl -- "$KEY" "$WORK/backup" 2>/dev/null | wc -l)" 0 "a base backup carries no copy of the key"
is "$(grep -c 'code_key_file' "$WORK/backup/postgresql.conf")" 1 "... only the path, in postgresql.conf"
PGHOST=$WORK PGPORT=$PORT PGUSER=postgres pg_dump -d postgres -f "$WORK/dump.sql" 2>/dev/null
attack "$(grep -c -- "$KEY" "$WORK/dump.sql")" 0 "a logical dump carries no copy of the key"

# Limit errors with the code as a literal: no STATEMENT line.
q postgres -c "ALTER DATABASE postgres SET schemakit.email_code_verify_limit = 1" >/dev/null
c3=$(q postgres -c "SELECT schemakit.issue_email_code('cal@example.com')")
q postgres -c "SELECT schemakit.verify_email_code('cal@example.com', '000000')" >/dev/null 2>&1
st=$(qs postgres "SELECT schemakit.verify_email_code('cal@example.com', '$c3')")
is "$st" SKR02 "SKR02 for the right code after the limit"
attack "$(grep -c "STATEMENT:.*$c3" "$LOG")" 0 "the SKR02 of a call with a literal code leaves no STATEMENT line with the code"
q postgres -c "ALTER DATABASE postgres RESET schemakit.email_code_verify_limit" >/dev/null

# debug_print_plan (any role may set it): with the code bound as a parameter
# (pgbench -M prepared uses the extended protocol) and a generic plan, no
# plan -- the caller's or the function's own -- carries the code, neither as
# text nor as a Const's bytes.  (A custom plan does print bound values:
# keep debug_print_plan off in production, or plan_cache_mode generic.)
c4=$(q postgres -c "SELECT schemakit.issue_email_code('dan@example.com')")
printf 'SELECT schemakit.verify_email_code(:e, :c);\n' >"$WORK/verify.pgb"
PGHOST=$WORK PGPORT=$PORT PGUSER=postgres PGOPTIONS="-c debug_print_plan=on -c plan_cache_mode=force_generic_plan" \
    pgbench -n -M prepared -t 1 -D e=dan@example.com -D "c=$c4" -f "$WORK/verify.pgb" postgres >/dev/null 2>&1
is "$(q postgres -c "SELECT used_at IS NOT NULL FROM schemakit.email_codes WHERE email = 'dan@example.com'")" t \
   "debug_print_plan: the verification ran (the code was used)"
bytes=$(printf '%s' "$c4" | od -An -tu1 | tr -s ' ' | sed 's/^ //; s/ $//')
attack "$(grep -c -- "$c4" "$LOG")|$(grep -c -- "$bytes" "$LOG")|$(grep -c 'PLANNEDSTMT' "$LOG")" "0|0|$(grep -c 'PLANNEDSTMT' "$LOG")" \
       "debug_print_plan: plans were printed, none carries the code (as text or as bytes $bytes)"
c5=$(q postgres -c "SELECT schemakit.issue_email_code('eve@example.com')")
attack "$(grep -c -- "$c5" "$LOG")" 0 "debug_print_plan off: issuing puts the code in no log line"

attack "$(everywhere)" "" "after all of this the key is in no log line and no file of the data directory"

# Both the file and the old setting: refused.
q postgres -c "ALTER SYSTEM SET schemakit.code_hmac_key = 'another-key-of-at-least-32-characters'" >/dev/null
q postgres -c "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
is "$(qs postgres "SELECT schemakit.issue_email_code('fay@example.com')")" 55000 "the file and schemakit.code_hmac_key together are refused (55000)"
q postgres -c "ALTER SYSTEM RESET schemakit.code_hmac_key" >/dev/null
stop

# Files the server must refuse, each stopping it without printing the key.
refuse() {   # refuse LABEL EXPECTED-MESSAGE
    if start; then fail "$1: the server refuses to start" "it started"; stop; return; fi
    attack "$(grep -c -- "$2" "$LOG")|$(grep -c -- "$KEY" "$LOG")" "1|0" "$1: the server refuses to start, naming the problem, not the key"
}
chmod 0644 "$KEYDIR/code.key"; refuse "mode 0644" "must be owned by the server's user and have mode 0600 or 0400"
chmod 0640 "$KEYDIR/code.key"; refuse "mode 0640" "must be owned by the server's user and have mode 0600 or 0400"
chmod 0644 "$KEYDIR/code.key"; chown root: "$KEYDIR/code.key"; refuse "owned by root" "must be owned by the server's user"
chmod 0600 "$KEYDIR/code.key"
chown postgres: "$KEYDIR/code.key"
cp -p "$KEYDIR/code.key" "$DATA/code.key"
sed -i "s|^schemakit.code_key_file = .*|schemakit.code_key_file = '$DATA/code.key'|" "$DATA/postgresql.conf"
refuse "inside the data directory" "is inside the data directory"
ln -s "$DATA/code.key" "$KEYDIR/link.key"
sed -i "s|^schemakit.code_key_file = .*|schemakit.code_key_file = '$KEYDIR/link.key'|" "$DATA/postgresql.conf"
refuse "a link into the data directory" "is inside the data directory"
rm -f "$DATA/code.key"
printf 'short\n' >"$KEYDIR/short.key"; chown postgres: "$KEYDIR/short.key"; chmod 0600 "$KEYDIR/short.key"
sed -i "s|^schemakit.code_key_file = .*|schemakit.code_key_file = '$KEYDIR/short.key'|" "$DATA/postgresql.conf"
refuse "a 5-byte key" "must hold a key of at least 32 bytes"
sed -i "s|^schemakit.code_key_file = .*|schemakit.code_key_file = '$KEYDIR/missing.key'|" "$DATA/postgresql.conf"
refuse "a missing file" "could not resolve schemakit.code_key_file"
sed -i "s|^schemakit.code_key_file = .*|schemakit.code_key_file = '$KEYDIR'|" "$DATA/postgresql.conf"
refuse "a directory" "is not a regular file"

# Back to the good file: the codes issued before still verify after a restart.
sed -i "s|^schemakit.code_key_file = .*|schemakit.code_key_file = '$KEYDIR/code.key'|" "$DATA/postgresql.conf"
if start; then
    is "$(q postgres -c "SELECT schemakit.verify_email_code('bea@example.com', '$code2')")" t "after a restart the file key still verifies older codes"
    stop
else
    fail "restart with the good file" "$(tail -3 "$LOG")"
fi

# A full guard table answers nothing a guesser could use: with room for 1024
# codes, 1024 codes each guessed once fill it; then a guess on a new code is
# refused (53400) before it is judged, whether it is right or wrong, so the
# answer tells nothing.
echo "schemakit.code_guard_size = 1024" >>"$DATA/postgresql.conf"
if start; then
    q postgres -c "ALTER DATABASE postgres SET schemakit.email_code_issue_limit = 1000" >/dev/null
    q postgres >/dev/null <<'SQL'
CREATE TABLE public.filler AS
SELECT g, schemakit.issue_email_code('fill' || g || '@example.com') AS code FROM generate_series(1, 1024) g;
SELECT count(schemakit.verify_email_code('fill' || g || '@example.com',
                                         lpad(((code::int + 1) % 1000000)::text, 6, '0'))) FROM public.filler;
SQL
    right=$(q postgres -c "SELECT schemakit.issue_email_code('late@example.com')")
    wrong=$(printf '%06d' $(( (10#$right + 1) % 1000000 )))
    attack "$(qs postgres "SELECT schemakit.verify_email_code('late@example.com', '$wrong')")|$(qs postgres "SELECT schemakit.verify_email_code('late@example.com', '$right')")" \
           "53400|53400" "full guard table: a wrong and a right guess on a new code get the same 53400, unjudged"
    is "$(q postgres -c "SELECT failed_attempts FROM schemakit.email_codes WHERE email = 'late@example.com'")" 0 \
       "... and neither was counted as a failure in the table (nor judged)"
    # a code that already has an entry is judged as usual (its entry remembers
    # the failed guess until the limit window is over, so it stays)
    f1=$(q postgres -c "SELECT code FROM public.filler WHERE g = 1")
    is "$(q postgres -c "SELECT schemakit.verify_email_code('fill1@example.com', '$f1')" 2>&1)" t \
       "a code that already has an entry still verifies when the table is full"
    stop
else
    fail "start with schemakit.code_guard_size = 1024" "$(tail -3 "$LOG")"
fi

echo "# secrets: $tried attacks tried, $held held"
done_testing
