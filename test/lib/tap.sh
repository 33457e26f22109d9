# test/lib/tap.sh - TAP output for the scripted suites (sourced, not run).
#
# Every scripted suite prints TAP ("ok N - ...", "not ok N - ...") so the
# runner counts individual assertions.  Connection settings come from the
# environment pg_virtualenv sets (PGHOST, PGPORT, PGUSER, PGPASSWORD).

SK_ROOT=${SK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
_tap_n=0
_tap_failed=0

# pass/fail with a description; diagnostics go to stdout as "# " lines.
pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
    _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $1"
    shift
    for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}

# is GOT EXPECTED DESCRIPTION
is() {
    if [ "$1" == "$2" ]; then pass "$3"; else fail "$3" "got:      $1" "expected: $2"; fi
}

# isnt GOT UNEXPECTED DESCRIPTION
isnt() {
    if [ "$1" != "$2" ]; then pass "$3"; else fail "$3" "got the value it must not be: $1"; fi
}

# like GOT EXTENDED-REGEX DESCRIPTION
like() {
    # (a here-string, not a pipe: grep -q stops reading at the first match, and
    # under pipefail the writer's SIGPIPE would turn a match into a failure)
    if grep -Eq -- "$2" <<<"$1"; then pass "$3"; else fail "$3" "got:      $1" "expected to match: $2"; fi
}

# ok_cmd DESCRIPTION COMMAND...: passes when the command exits 0.
ok_cmd() {
    local desc=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc" "$out"; fi
}

# done_testing: prints the plan; exit status tells prove whether all passed.
done_testing() {
    echo "1..$_tap_n"
    [ "$_tap_failed" -eq 0 ]
}

# psql against database $1, unaligned, tuples only, stopping at the first error.
sql() {
    local db=$1; shift
    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# sqlstate DB QUERY: runs QUERY and prints the SQLSTATE it raised ("00000" if none).
sqlstate() {
    local out
    out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$1" -c "$2" 2>&1)
    if [ $? -eq 0 ]; then echo 00000; return; fi
    printf '%s\n' "$out" | sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\): .*$/\1/p' | head -n1
}

# fresh_db NAME [VERSION]: drops and recreates NAME with schemakit installed.
fresh_db() {
    dropdb --if-exists "$1" 2>/dev/null
    createdb "$1"
    if [ -n "${2:-}" ]; then
        sql "$1" -c "CREATE EXTENSION schemakit VERSION '$2'" >/dev/null
    else
        sql "$1" -c "CREATE EXTENSION schemakit" >/dev/null
    fi
}

# run_as_cluster_owner CMD...: pg_ctl and friends must run as the OS user that
# owns the data directory; under pg_virtualenv as root that is "postgres".
run_as_cluster_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# data_snapshot DB: every user-data table (those registered for pg_dump, but
# the migrations record, which gains rows by design) as its row count and an
# md5 of its rows in id order, and every dumped sequence's state: what
# upgrades, downgrades and restores must leave exactly as it was.  A row is
# its stored columns; generated columns (1.5's email_key) are derived from
# them, and columns no row uses yet (all NULL or false, as a column a newer
# version just added) hold no data: both come and go with versions.
data_snapshot() {
    sql "$1" <<'SQL'
WITH cfg AS (
    SELECT c.relname, c.relkind,
           (SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY a.attnum)
              FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attgenerated = ''
               -- email_key is derived from email (generated, or filled and
               -- checked): data a version adds, not data it keeps
               AND a.attname <> 'email_key'
               -- a column whose every value is NULL or false holds no data
               -- (a column a later version added, before anything used it)
               AND (c.relkind <> 'r' OR (xpath('/row/e/text()', query_to_xml(format(
                       'SELECT coalesce(bool_and(%1$I IS NULL OR %1$I::text IN (''false'', ''f'')), true) AS e FROM schemakit.%2$I',
                       a.attname, c.relname), false, true, '')))[1]::text = 'false')) AS cols
      FROM pg_extension e, unnest(e.extconfig) AS t (oid)
      JOIN pg_class c ON c.oid = t.oid
     WHERE e.extname = 'schemakit' AND c.relname <> 'migrations'
)
SELECT relname || ' ' ||
       (xpath('/row/n/text()', query_to_xml(format(
           CASE relkind WHEN 'r'
             THEN 'SELECT count(*) || '':'' || coalesce(md5(string_agg(ROW(%2$s)::text, E''\n'' ORDER BY t.id)), ''-'') AS n FROM schemakit.%1$I t'
             ELSE 'SELECT ''last_value='' || last_value || '' is_called='' || is_called AS n FROM schemakit.%1$I' END,
           relname, cols), false, true, '')))[1]::text
  FROM cfg
 ORDER BY relkind DESC, relname;
SQL
}
