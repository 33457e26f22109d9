#!/usr/bin/env bash
# Attack class: what an administrator's restore does.  pg_dump writes an
# extension's table rows as entries that depend only on their own table, so
# pg_restore -j loads sessions, snippets and the rest at the same time as
# users; under 1.4 the foreign-key checks then failed and left those tables
# empty.  1.5 keeps the foreign keys (and their cascades) but checks inserts
# with a trigger that trusts a superuser's COPY, the way a restore loads.
#
# Variants: custom and directory format, pg_dump -j, pg_restore -j 2/4/8,
# a data-only restore into an installed database, and the sections restored
# one by one; users loaded last on purpose (the largest tables are loaded
# first, so the other tables are made large).  Every variant must restore
# every row of every table, with the sequences, and leave the references
# enforced for everything but a superuser's COPY.  A control run on 1.4
# shows the loss, so this suite can fail.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

SRC=sk_pr_src
WORK=$(mktemp -d /tmp/sk_pr.XXXXXX)
chmod 0777 "$WORK"
DBS=($SRC)
cleanup() { rm -rf "$WORK"; for d in "${DBS[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done; }
trap cleanup EXIT
tried=0
held=0
attack() { tried=$((tried + 1)); if [ "$1" = "$2" ]; then held=$((held + 1)); pass "$3"; else fail "$3" "got:      $1" "expected: $2"; fi; }

# fill DB: rows in every table pointing at users, with users the largest
# table by far: pg_restore -j starts the largest first, so users is still
# loading while the small tables that point at it finish (the order that
# broke 1.4).
fill() {
    sql "$1" >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email, display_name)
SELECT 'u' || g, 'u' || g || '@example.com', repeat(md5(g::text), 7) FROM generate_series(1, 60000) g;
INSERT INTO schemakit.snippets (owner_id, title, body)
SELECT 1 + g % 60000, 't' || g, md5(g::text) FROM generate_series(1, 5000) g;
INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
SELECT 1 + g % 60000, 'f' || g, 'image/png', g FROM generate_series(1, 3000) g;
SELECT count(schemakit.link_oauth_account(g, 'github', g::text)) FROM generate_series(1, 2000) g;
SELECT count(schemakit.issue_session(1 + g % 60000)) FROM generate_series(1, 3000) g;
SELECT count(schemakit.issue_password_reset_token(1 + g % 60000)) FROM generate_series(1, 1000) g;
SELECT count(schemakit.issue_email_code('u' || g || '@example.com')) FROM generate_series(1, 1000) g;
SQL
}

refs_ok() {   # no row points at a missing user
    sql "$1" -c "SELECT (SELECT count(*) FROM schemakit.snippets s WHERE NOT EXISTS (SELECT 1 FROM schemakit.users u WHERE u.id = s.owner_id))
                      + (SELECT count(*) FROM schemakit.sessions s WHERE NOT EXISTS (SELECT 1 FROM schemakit.users u WHERE u.id = s.user_id))
                      + (SELECT count(*) FROM schemakit.files s WHERE NOT EXISTS (SELECT 1 FROM schemakit.users u WHERE u.id = s.user_id))"
}

fresh_db $SRC
fill $SRC
SNAP=$(data_snapshot $SRC)
echo "# source: $(sql $SRC -c "SELECT string_agg(relname || '=' || pg_size_pretty(pg_total_relation_size(oid)), ', ' ORDER BY relname)
                               FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace AND relkind = 'r'")"
pg_dump -Fc -d $SRC -f "$WORK/src.dump" && pass "pg_dump -Fc" || fail "pg_dump -Fc"
pg_dump -Fd -j 4 -d $SRC -f "$WORK/src.dir" && pass "pg_dump -Fd -j 4" || fail "pg_dump -Fd -j 4"

# restore_check LABEL DB: every row and sequence, the references, and the checks still on.
restore_check() {
    local label=$1 db=$2
    attack "$(data_snapshot "$db")" "$SNAP" "$label: every row of every table and every sequence restored"
    is "$(refs_ok "$db")" 0 "$label: no row points at a missing user"
    is "$(sqlstate "$db" "INSERT INTO schemakit.snippets (owner_id, body) VALUES (999999, 'x')")" 23503 \
       "$label: an INSERT with an unknown user is still refused (23503)"
    is "$(sql "$db" -c "DELETE FROM schemakit.users WHERE id = 7; SELECT count(*) FROM schemakit.sessions WHERE user_id = 7")" 0 \
       "$label: deleting a user still cascades"
}

for spec in "custom -j 2:$WORK/src.dump:-j 2" "custom -j 4:$WORK/src.dump:-j 4" "custom -j 8:$WORK/src.dump:-j 8" \
            "directory -j 4:$WORK/src.dir:-j 4"; do
    label="pg_restore ${spec%%:*}"
    rest=${spec#*:}; file=${rest%%:*}; opts=${rest#*:}
    db=sk_pr_dst$((${#DBS[@]}))
    DBS+=($db)
    dropdb --if-exists $db 2>/dev/null; createdb $db
    out=$(pg_restore $opts -d $db "$file" 2>&1)
    attack "$?|$out" "0|" "$label: exits 0 with no error"
    restore_check "$label" $db
done

# Data only, in parallel, into a database where schemakit is already installed.
db=sk_pr_dataonly; DBS+=($db)
fresh_db $db
out=$(pg_restore --data-only -j 4 -d $db "$WORK/src.dump" 2>&1)
attack "$?|$(printf '%s' "$out" | grep -c 'error')" "0|0" "pg_restore --data-only -j 4 into an installed database: no error"
restore_check "data only -j 4" $db

# Section by section: pre-data, then data with -j 4, then post-data.
db=sk_pr_sections; DBS+=($db)
dropdb --if-exists $db 2>/dev/null; createdb $db
out=$( { pg_restore --section=pre-data -d $db "$WORK/src.dump" && pg_restore --section=data -j 4 -d $db "$WORK/src.dump" &&
         pg_restore --section=post-data -d $db "$WORK/src.dump"; } 2>&1)
attack "$?|$out" "0|" "pg_restore --section pre-data, data -j 4, post-data: no error"
restore_check "sections" $db

# Only a superuser's COPY is trusted: an app role's COPY is checked.
db=sk_pr_dst1
PW=sk_pr_$RANDOM$RANDOM
psql -X -q -c "DROP ROLE IF EXISTS sk_pr_app" -c "CREATE ROLE sk_pr_app LOGIN PASSWORD '$PW'" >/dev/null
sql $db -c "SELECT schemakit.grant_app('sk_pr_app')" >/dev/null
out=$(printf '999999\tbody\n' | PGUSER=sk_pr_app PGPASSWORD=$PW psql -X -q -v VERBOSITY=verbose -d $db -c "COPY schemakit.snippets (owner_id, body) FROM STDIN" 2>&1)
attack "$(printf '%s' "$out" | grep -o 'ERROR:  23503')" "ERROR:  23503" "an app role's COPY with an unknown user is refused (23503)"
is "$(sqlstate $db "INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (999999, 'a', 'a/b', 1)")" 23503 \
   "a superuser's INSERT (not a COPY) with an unknown user is refused (23503)"
is "$(sqlstate $db "UPDATE schemakit.files SET user_id = 999999 WHERE id = 1")" 23503 \
   "an UPDATE to an unknown user is refused (23503)"
psql -X -q -c "DROP OWNED BY sk_pr_app" -d $db >/dev/null 2>&1
psql -X -q -c "DROP ROLE IF EXISTS sk_pr_app" >/dev/null 2>&1

# Control: a 1.4 source loses rows in the same parallel restore.
db=sk_pr_src14; DBS+=($db)
fresh_db $db 1.4
fill $db
pg_dump -Fc -d $db -f "$WORK/src14.dump"
db2=sk_pr_dst14; DBS+=($db2)
fresh_db $db2 1.4   # (a plain restore would install the default version, 1.5, and succeed)
pg_restore --data-only -j 4 -d $db2 "$WORK/src14.dump" >/dev/null 2>&1
st=$?
is "$st|$(sql $db2 -c "SELECT count(*) < 3000 FROM schemakit.sessions")" "1|t" \
   "control: on 1.4 pg_restore -j 4 fails and loses sessions (the loss this suite guards against)"

echo "# restore: $tried attacks tried, $held held"
done_testing
