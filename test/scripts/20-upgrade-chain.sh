#!/usr/bin/env bash
# The version chain: for every pair of versions a < b, a database created at
# a and filled with rows, then ALTER EXTENSION ... UPDATE TO b, keeps every
# row unchanged and has the same catalog fingerprint as a fresh install of b.
# Down-then-up round trips change nothing, a downgrade over data is refused
# and leaves everything in place, and no shortcut path exists.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

FP_SQL="$SK_ROOT/test/lib/fingerprint.sql"
DB=sk_chain
FRESH=sk_chain_fresh

# Every version named by a script in sql/, in version order.
mapfile -t VERSIONS < <(ls "$SK_ROOT"/sql/schemakit--*.sql | sed -E 's/.*schemakit--//; s/\.sql$//; s/--/\n/' | sort -uV)
DEFAULT=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$SK_ROOT/schemakit.control")
echo "# versions: ${VERSIONS[*]} (default $DEFAULT)"

fingerprint() {
    local out
    out=$(psql -X -q -d "$1" -f "$FP_SQL" 2>&1) || { echo "FINGERPRINT FAILED: $out"; return; }
    [ -n "$out" ] || { echo "FINGERPRINT EMPTY"; return; }
    printf '%s\n' "$out"
}

# Realistic rows in every table the installed version has.
fill() {
    local db=$1 v
    v=$(sql "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")
    sql "$db" >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email, display_name, password_hash)
SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g, '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'
  FROM generate_series(1, 50) g;
INSERT INTO schemakit.users (username) VALUES ('oauth-only');
INSERT INTO schemakit.snippets (owner_id, title, body, language, is_public)
SELECT 1 + g % 50, 'Snippet ' || g, 'print(' || g || ')', 'python', g % 2 = 0
  FROM generate_series(1, 200) g;
SELECT schemakit.record_snippet_view(public_id) FROM schemakit.snippets WHERE id <= 20;
SELECT schemakit.issue_email_code('user' || g || '@example.com') FROM generate_series(1, 20) g;
SELECT schemakit.issue_email_code('newcomer@example.com');
SQL
    if [ "$(printf '%s\n' "$v" 1.1 | sort -V | head -n1)" = 1.1 ]; then
        sql "$db" >/dev/null <<'SQL'
SELECT schemakit.link_oauth_account(g, 'github', (1000 + g)::text, 'user' || g || '@example.com', 'User ' || g)
  FROM generate_series(1, 30) g;
SELECT schemakit.issue_password_reset_token(g) FROM generate_series(1, 10) g;
INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
SELECT 1 + g % 50, 'photo' || g || '.jpg', 'image/jpeg', g * 1024 FROM generate_series(1, 40) g;
SQL
    fi
    if [ "$(printf '%s\n' "$v" 1.2 | sort -V | head -n1)" = 1.2 ]; then
        sql "$db" >/dev/null <<'SQL'
SELECT schemakit.issue_session(g, '30 days', '192.0.2.1', 'Mozilla/5.0') FROM generate_series(1, 25) g;
SQL
    fi
    if [ "$(printf '%s\n' "$v" 1.5 | sort -V | head -n1)" = 1.5 ]; then
        sql "$db" >/dev/null <<'SQL'
SELECT schemakit.create_organization(g, 'Org ' || g) FROM generate_series(1, 12) g;
SELECT schemakit.invite_member(g, 'user' || (g + 20) || '@example.com', 'member', g) FROM generate_series(1, 12) g;
SELECT schemakit.accept_invitation(schemakit.invite_member(g, 'user' || (g + 30) || '@example.com', 'admin', g), g + 30)
  FROM generate_series(1, 6) g;
SQL
    fi
}

# Row counts and ids only: what a downgrade that proceeds must keep.
row_ids() {
    sql "$1" <<'SQL'
SELECT c.relname || ' ' ||
       (xpath('/row/n/text()', query_to_xml(format(
           'SELECT count(*) || '':'' || coalesce(md5(string_agg(t.id::text, '','' ORDER BY t.id)), ''-'') AS n FROM schemakit.%I t',
           c.relname), false, true, '')))[1]::text
  FROM pg_extension e, unnest(e.extconfig) AS t (oid)
  JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'schemakit' AND c.relkind = 'r' AND c.relname <> 'migrations'
 ORDER BY 1;
SQL
}

# The user-data tables a version has.
config_tables() {
    sql "$1" -c "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_extension e, unnest(e.extconfig) AS t (oid) JOIN pg_class c ON c.oid = t.oid WHERE e.extname = 'schemakit' AND c.relkind = 'r'"
}

migrations() { sql "$1" -c "SELECT string_agg(version, ',' ORDER BY version) FROM schemakit.migrations"; }
extversion() { sql "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'"; }

# The migration rows a database at version v should have: every version up to v.
expected_migrations() {
    local v=$1 out=() x
    for x in "${VERSIONS[@]}"; do
        out+=("$x")
        [ "$x" = "$v" ] && break
    done
    (IFS=,; echo "${out[*]}")
}

declare -A FP
for v in "${VERSIONS[@]}"; do
    fresh_db "$FRESH" "$v"
    FP[$v]=$(fingerprint "$FRESH")
    like "${FP[$v]}" "^extension\|$v$" "fresh $v: fingerprint taken"
    is "$(migrations "$FRESH")" "$(expected_migrations "$v")" "fresh $v: migrations rows"
done

# Only the default version's script set is the real install path; check it is
# reached through the chain and the fresh default matches.
is "$(printf '%s\n' "${VERSIONS[@]}" | tail -n1)" "$DEFAULT" "the newest version is the default_version"

# Upgrades with data, every pair a < b.
n=${#VERSIONS[@]}
for ((i = 0; i < n; i++)); do
    for ((j = i + 1; j < n; j++)); do
        a=${VERSIONS[$i]} b=${VERSIONS[$j]}
        fresh_db "$DB" "$a"
        fill "$DB"
        before=$(data_snapshot "$DB")
        if sql "$DB" -c "ALTER EXTENSION schemakit UPDATE TO '$b'" >/dev/null 2>&1; then
            pass "$a -> $b: ALTER EXTENSION UPDATE succeeds with data"
        else
            fail "$a -> $b: ALTER EXTENSION UPDATE succeeds with data"
        fi
        after=$(data_snapshot "$DB")
        # Tables that exist only in b are empty; compare the tables a had.
        is "$(printf '%s\n' "$after" | grep -Fx -f <(printf '%s\n' "$before") | sort)" \
           "$(printf '%s\n' "$before" | sort)" "$a -> $b: every row and sequence unchanged"
        is "$(fingerprint "$DB")" "${FP[$b]}" "$a -> $b: catalog fingerprint equals a fresh $b"
        is "$(migrations "$DB")" "$(expected_migrations "$b")" "$a -> $b: migrations rows"
    done
done

# Plain ALTER EXTENSION UPDATE (no TO) goes from the oldest to the default.
fresh_db "$DB" "${VERSIONS[0]}"
sql "$DB" -c "ALTER EXTENSION schemakit UPDATE" >/dev/null
is "$(extversion "$DB")" "$DEFAULT" "ALTER EXTENSION schemakit UPDATE reaches the default version"

# Round trips on empty databases: b -> a -> b for adjacent versions, and the
# newest all the way down to the oldest and back.
for ((i = 0; i + 1 < n; i++)); do
    a=${VERSIONS[$i]} b=${VERSIONS[$((i + 1))]}
    fresh_db "$DB" "$b"
    sql "$DB" -c "ALTER EXTENSION schemakit UPDATE TO '$a'" >/dev/null 2>&1
    is "$(fingerprint "$DB")" "${FP[$a]}" "$b -> $a: downgrade equals a fresh $a"
    is "$(migrations "$DB")" "$(expected_migrations "$a")" "$b -> $a: migrations rows"
    sql "$DB" -c "ALTER EXTENSION schemakit UPDATE TO '$b'" >/dev/null 2>&1
    is "$(fingerprint "$DB")" "${FP[$b]}" "$b -> $a -> $b: back to a fresh $b"
done
oldest=${VERSIONS[0]} newest=${VERSIONS[$((n - 1))]}
fresh_db "$DB" "$newest"
sql "$DB" -c "ALTER EXTENSION schemakit UPDATE TO '$oldest'" >/dev/null 2>&1
is "$(fingerprint "$DB")" "${FP[$oldest]}" "$newest -> $oldest: equals a fresh $oldest"
sql "$DB" -c "ALTER EXTENSION schemakit UPDATE TO '$newest'" >/dev/null 2>&1
is "$(fingerprint "$DB")" "${FP[$newest]}" "$newest -> $oldest -> $newest: equals a fresh $newest"

# A downgrade over data: refused with 55000 and nothing changed when the
# newer version added tables that hold rows; otherwise it proceeds and keeps
# every row of every table.
declare -A TABLES
for v in "${VERSIONS[@]}"; do
    fresh_db "$FRESH" "$v"
    TABLES[$v]=$(config_tables "$FRESH")
done
for ((i = 0; i + 1 < n; i++)); do
    a=${VERSIONS[$i]} b=${VERSIONS[$((i + 1))]}
    fresh_db "$DB" "$b"
    fill "$DB"
    if [ "${TABLES[$a]}" != "${TABLES[$b]}" ]; then
        before=$(data_snapshot "$DB")
        is "$(sqlstate "$DB" "ALTER EXTENSION schemakit UPDATE TO '$a'")" 55000 "$b -> $a with data: refused with 55000"
        is "$(extversion "$DB")" "$b" "$b -> $a with data: still at $b"
        is "$(data_snapshot "$DB")" "$before" "$b -> $a with data: every row kept"
        is "$(fingerprint "$DB")" "${FP[$b]}" "$b -> $a with data: catalog unchanged"
    else
        before=$(row_ids "$DB")
        is "$(sqlstate "$DB" "ALTER EXTENSION schemakit UPDATE TO '$a'")" 00000 "$b -> $a with data: no new tables, downgrade proceeds"
        is "$(row_ids "$DB")" "$before" "$b -> $a with data: every row kept"
        is "$(fingerprint "$DB")" "${FP[$a]}" "$b -> $a with data: equals a fresh $a"
    fi
done

# No shortcut: every path walks the adjacent steps, one per version apart.
paths=$(sql "$DB" -c "SELECT source || ' ' || target || ' ' || coalesce(path, '-') FROM pg_extension_update_paths('schemakit')")
bad=0
while read -r s t p; do
    si=-1 ti=-1
    for ((k = 0; k < n; k++)); do
        [ "${VERSIONS[$k]}" = "$s" ] && si=$k
        [ "${VERSIONS[$k]}" = "$t" ] && ti=$k
    done
    steps=$(( si > ti ? si - ti : ti - si ))
    want=$(for ((k = si; k != ti; k += (ti > si ? 1 : -1))); do printf '%s--' "${VERSIONS[$k]}"; done; echo "$t")
    if [ "$p" != "$want" ] || [ "$steps" -lt 1 ]; then
        bad=1; echo "# unexpected path $s -> $t: $p (want $want)"
    fi
done <<<"$paths"
is "$bad" 0 "pg_extension_update_paths: every path is the chain of adjacent steps"
is "$(printf '%s\n' "$paths" | wc -l)" "$((n * (n - 1)))" "pg_extension_update_paths: every ordered pair is reachable"

dropdb --if-exists "$DB"
dropdb --if-exists "$FRESH"
done_testing
