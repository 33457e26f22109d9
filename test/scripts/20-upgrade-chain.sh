#!/usr/bin/env bash
# The version chain.  The reference shape of each version v is a 1.0
# install updated step by step to v.  A fresh install of v (for the newest
# version, its own full script; for older ones whatever path CREATE
# EXTENSION picks) must have exactly that catalog fingerprint; the check
# fails on a planted difference of every kind the fingerprint covers.  For
# every pair a < b, a database created at a and filled with rows, then
# updated to b, keeps every row and has b's fingerprint.  Down-then-up round
# trips change nothing, a downgrade over data is refused and leaves
# everything in place, or proceeds and keeps every row, and no shortcut
# path exists.
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

# The reference: 1.0 (the oldest full script) updated to v.
declare -A FP
for v in "${VERSIONS[@]}"; do
    fresh_db "$FRESH" "${VERSIONS[0]}"
    [ "$v" = "${VERSIONS[0]}" ] || sql "$FRESH" -c "ALTER EXTENSION schemakit UPDATE TO '$v'" >/dev/null
    FP[$v]=$(fingerprint "$FRESH")
    like "${FP[$v]}" "^extension\|$v$" "${VERSIONS[0]} updated to $v: fingerprint taken"
done

# A fresh install of every version has the reference shape.
for v in "${VERSIONS[@]}"; do
    fresh_db "$FRESH" "$v"
    is "$(fingerprint "$FRESH")" "${FP[$v]}" "fresh $v: catalog fingerprint equals ${VERSIONS[0]} updated to $v"
    is "$(migrations "$FRESH")" "$(expected_migrations "$v")" "fresh $v: migrations rows"
done

# The newest version has a full install script of its own: that is what
# makes the comparison above a real check for it.
newest_script=$SK_ROOT/sql/schemakit--$DEFAULT.sql
if [ -f "$newest_script" ]; then pass "the default version $DEFAULT has a full install script"; else fail "the default version $DEFAULT has a full install script"; fi

# The comparison can fail: each kind of planted difference, made in a fresh
# install of the default version, changes the fingerprint.  (Made as the
# extension's own script would make it, so every kind is one a script can
# get wrong.)
plant() {
    local what=$1 stmt=$2
    fresh_db "$FRESH"
    if ! sql "$FRESH" >/dev/null 2>&1 <<SQL
SET client_min_messages = warning;
$stmt
SQL
    then
        fail "planted difference ($what): statement ran"
        return
    fi
    isnt "$(fingerprint "$FRESH")" "${FP[$DEFAULT]}" "planted difference is detected: $what"
}
plant "function body" "DO \$\$ DECLARE d text; BEGIN
  d := pg_catalog.pg_get_functiondef('schemakit.revoke_session(text)'::regprocedure);
  EXECUTE pg_catalog.replace(d, 'RETURN FOUND;', 'RETURN FOUND; -- planted');
END \$\$;"
plant "function property" "ALTER FUNCTION schemakit.oauth_user_id(text, text) VOLATILE;"
plant "function comment" "COMMENT ON FUNCTION schemakit.uuidv7() IS 'planted';"
plant "function right" "GRANT EXECUTE ON FUNCTION schemakit._code_hash_keyed(text, text) TO PUBLIC;"
plant "column default" "ALTER TABLE schemakit.snippets ALTER COLUMN language SET DEFAULT 'plain';"
plant "column not null" "ALTER TABLE schemakit.users ALTER COLUMN display_name SET NOT NULL;"
plant "column comment" "COMMENT ON COLUMN schemakit.files.size IS 'planted';"
plant "column order" "ALTER TABLE schemakit.files DROP COLUMN size; ALTER TABLE schemakit.files ADD COLUMN size bigint NOT NULL DEFAULT 0 CHECK (size >= 0);"
plant "table comment" "COMMENT ON TABLE schemakit.files IS 'planted';"
plant "table option" "ALTER TABLE schemakit.sessions SET (fillfactor = 90);"
plant "table right" "GRANT SELECT ON schemakit.sessions TO PUBLIC;"
plant "check constraint" "ALTER TABLE schemakit.files DROP CONSTRAINT files_size_check; ALTER TABLE schemakit.files ADD CONSTRAINT files_size_check CHECK (size > 0) NOT VALID;"
plant "index" "CREATE INDEX sessions_planted_idx ON schemakit.sessions (created_at);"
plant "index definition" "DROP INDEX schemakit.sessions_dead_at_idx; CREATE INDEX sessions_dead_at_idx ON schemakit.sessions (expires_at);"
plant "trigger" "DROP TRIGGER files_user_exists ON schemakit.files;"
plant "trigger disabled" "ALTER TABLE schemakit.files DISABLE TRIGGER files_user_exists;"
plant "foreign key check enabled" "ALTER TABLE schemakit.files ENABLE TRIGGER ALL;"
plant "sequence" "ALTER SEQUENCE schemakit.files_id_seq CACHE 10;"
plant "extension member" "ALTER EXTENSION schemakit DROP SEQUENCE schemakit.files_id_seq;"
plant "schema right" "GRANT CREATE ON SCHEMA schemakit TO PUBLIC;"
plant "row level security" "ALTER TABLE schemakit.files ENABLE ROW LEVEL SECURITY;"

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
