#!/usr/bin/env bash
# Dump and restore: a database with rows in every schemakit table survives
# pg_dump -Fc | pg_restore, plain pg_dump | psql, and the --inserts and
# --column-inserts forms.  After each restore every row and identity
# sequence is back, the next insert into each table continues the identity,
# schemakit.migrations holds one row per version with its original
# applied_at, and the secrets the source handed out (an unused email code,
# an unused reset token, a live session token) still work exactly once.
# A dump of a 1.0 database restores and then updates to the default version.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

SRC=sk_dump_src
SRC10=sk_dump10_src
# Every database this suite creates; all are dropped at the end.
DBS=(sk_dump_src sk_dump_fc sk_dump_plain sk_dump_ins sk_dump_colins sk_dump_redump
     sk_dump10_src sk_dump10_plain sk_dump10_pre)
WORK=$(mktemp -d /tmp/sk_dump.XXXXXX)
cleanup() {
    local d
    for d in "${DBS[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

DEFAULT=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$SK_ROOT/schemakit.control")
mapfile -t VERSIONS < <(ls "$SK_ROOT"/sql/schemakit--*.sql | sed -E 's/.*schemakit--//; s/\.sql$//; s/--/\n/' | sort -uV)
# Versions from the oldest up to the default, comma-separated.
chain_to_default() {
    local out=() x
    for x in "${VERSIONS[@]}"; do out+=("$x"); [ "$x" = "$DEFAULT" ] && break; done
    (IFS=,; echo "${out[*]}")
}
ROWS_CHECKED=0

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

version_ge() { [ "$(printf '%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }
extversion() { sql "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'"; }
# version|applied_at, one line per row (the exact stored timestamps).
migrations_full() {
    sql "$1" -c "SELECT version || '|' || applied_at::text FROM schemakit.migrations ORDER BY version"
}
migrations_versions() { sql "$1" -c "SELECT string_agg(version, ',' ORDER BY version) FROM schemakit.migrations"; }
extconfig() {
    sql "$1" -c "SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text)
                   FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'schemakit'"
}

# Rows a data_snapshot (test/lib/tap.sh) covers (sum of the per-table counts).
snapshot_rows() { printf '%s\n' "$1" | awk '$2 ~ /^[0-9]+:/ { split($2, a, ":"); n += a[1] } END { print n + 0 }'; }

# fill_sql DB LABEL <<SQL: runs the script, one assertion that it ran clean.
fill_sql() {
    local out
    if out=$(sql "$1" 2>&1 >/dev/null) && [ -z "$out" ]; then pass "$2"; else fail "$2" "$out"; fi
}

# Realistic rows in every table the installed version has: spent, revoked,
# expired and live codes/tokens/sessions, deleted users (identity gaps, so a
# sequence's last_value is above max(id)), awkward text for COPY and INSERT.
fill() {
    local db=$1 v
    v=$(extversion "$db")
    fill_sql "$db" "fill $v: 1.0 tables" <<'SQL'
INSERT INTO schemakit.users (username, email, display_name, password_hash)
SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g,
       '$argon2id$v=19$m=65536,t=3,p=4$' || md5(g::text) || '$' || md5('pw' || g)
  FROM generate_series(1, 60) g;
INSERT INTO schemakit.users (username, email, display_name, password_hash) VALUES
    ('ada',    'Ada.Lovelace@Example.com', 'Ada Lovelace',  '$argon2id$v=19$m=65536,t=3,p=4$YWRh$aGFzaA'),
    ('grace',  'grace@example.org',        'Grace Hopper',  '$argon2id$v=19$m=65536,t=3,p=4$Z3I$aGFzaA'),
    ('linus',  'linus@example.net',        NULL,            NULL),
    ('zoë',    'zoe@exämple.com',          E'Zoë \u00e9\u4e2d\u6587 🚀', NULL),
    ('tab	name', NULL,                   E'back\\slash ''quote'' "dq"', NULL);
INSERT INTO schemakit.users (username) VALUES ('oauth-only');
-- updated_at moves for some users
UPDATE schemakit.users SET display_name = display_name || ' (edited)' WHERE id % 7 = 0;

INSERT INTO schemakit.snippets (owner_id, title, body, language, is_public)
SELECT 1 + g % 60, 'Snippet ' || g,
       CASE g % 4 WHEN 0 THEN 'print(' || g || ')'
                  WHEN 1 THEN E'line one\nline two\ttabbed \\ backslash ''q'' "dq"'
                  WHEN 2 THEN repeat('x', 3000) || g
                  ELSE E'unicode: \u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9 \u2603 🚀 ' || g END,
       (ARRAY['python', 'sql', 'c', 'text'])[1 + g % 4], g % 2 = 0
  FROM generate_series(1, 200) g;
-- explicit public IDs from another alphabet
INSERT INTO schemakit.snippets (public_id, owner_id, title, body)
SELECT schemakit.public_id(16, '0123456789abcdef'), 61, 'hex ' || g, 'body ' || g
  FROM generate_series(1, 10) g;
SELECT schemakit.record_snippet_view(public_id) FROM schemakit.snippets WHERE id <= 30;
SELECT schemakit.record_snippet_view(public_id) FROM schemakit.snippets WHERE id <= 5;

-- email codes: open, replaced (revoked), used, failed attempts, expired
SELECT schemakit.issue_email_code('user' || g || '@example.com') FROM generate_series(1, 20) g;
SELECT schemakit.issue_email_code('user' || g || '@example.com') FROM generate_series(1, 5) g;
SELECT schemakit.verify_email_code('user' || g || '@example.com', '000000x') FROM generate_series(6, 8) g;
SELECT schemakit.issue_email_code('stranger' || g || '@example.com') FROM generate_series(1, 5) g;
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, created_at)
SELECT 'expired' || g || '@example.com', sha256(convert_to('expired' || g || '@example.com/123456', 'UTF8')),
       now() - interval '1 hour', now() - interval '2 hours'
  FROM generate_series(1, 5) g;
DO $$
DECLARE c text;
BEGIN
    FOR i IN 1..4 LOOP
        c := schemakit.issue_email_code('spent' || i || '@example.com');
        IF NOT schemakit.verify_email_code('spent' || i || '@example.com', c) THEN
            RAISE EXCEPTION 'fill: a fresh code did not verify';
        END IF;
    END LOOP;
END $$;

-- deleted users leave identity gaps (and cascade their rows away)
DELETE FROM schemakit.users WHERE username IN ('user59', 'user60');
SQL
    if version_ge "$v" 1.1; then
        fill_sql "$db" "fill $v: 1.1 tables" <<'SQL'
SELECT schemakit.link_oauth_account(g, 'github', (1000 + g)::text, 'user' || g || '@example.com', 'User ' || g)
  FROM generate_series(1, 30) g;
SELECT schemakit.link_oauth_account(g, 'google', 'g-' || md5(g::text), NULL, NULL)
  FROM generate_series(20, 35) g;
SELECT schemakit.link_oauth_account((SELECT id FROM schemakit.users WHERE username = 'oauth-only'),
                                    'gitlab', '777', 'oauth@example.com', 'OAuth Only');
SELECT schemakit.issue_password_reset_token(g) FROM generate_series(1, 10) g;
SELECT schemakit.issue_password_reset_token(g, '5 minutes') FROM generate_series(1, 3) g;
DO $$
DECLARE t text;
BEGIN
    FOR i IN 11..14 LOOP
        t := schemakit.issue_password_reset_token(i);
        IF schemakit.consume_password_reset_token(t) IS DISTINCT FROM i THEN
            RAISE EXCEPTION 'fill: a fresh reset token did not consume';
        END IF;
    END LOOP;
END $$;
INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at, created_at)
SELECT g, schemakit._token_hash(schemakit.random_token()), now() - interval '1 day', now() - interval '2 days'
  FROM generate_series(15, 18) g;
INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
SELECT 1 + g % 50, 'photo ' || g || '.jpg', 'image/jpeg', g * 1024 FROM generate_series(1, 40) g;
INSERT INTO schemakit.files (user_id, filename, original_name, mime_type, size) VALUES
    (1, 'legacy/0001.bin', E'r\u00e9sum\u00e9 ''final''.pdf', 'application/pdf', 0),
    (2, 'legacy/0002.bin', E'tab\there.txt', 'text/plain', 123456789012);
DELETE FROM schemakit.files WHERE id IN (3, 4);
SQL
    fi
    if version_ge "$v" 1.2; then
        fill_sql "$db" "fill $v: 1.2 tables" <<'SQL'
SELECT schemakit.issue_session(g, '30 days', ('192.0.2.' || g)::inet, 'Mozilla/5.0 (X11; Linux x86_64) ' || g) FROM generate_series(1, 25) g;
SELECT schemakit.issue_session(g, '1 hour', ('2001:db8::' || to_hex(g))::inet, NULL) FROM generate_series(1, 5) g;
SELECT schemakit.issue_session(g, '7 days', NULL, E'Ünïcødé agent \u2603') FROM generate_series(26, 30) g;
SELECT schemakit.revoke_user_sessions(3);
SELECT schemakit.revoke_session(schemakit.issue_session(4));
INSERT INTO schemakit.sessions (user_id, token_hash, created_at, expires_at, last_seen_at)
SELECT g, schemakit._token_hash(schemakit.random_token()), now() - interval '40 days',
       now() - interval '10 days', now() - interval '11 days'
  FROM generate_series(31, 35) g;
UPDATE schemakit.sessions SET last_seen_at = now() - interval '2 hours' WHERE id % 3 = 0;
SQL
    fi
    if version_ge "$v" 1.5; then
        fill_sql "$db" "fill $v: 1.5 tables" <<'SQL'
SELECT schemakit.create_organization(g, E'Org \u00e9 ''' || g, CASE WHEN g % 3 = 0 THEN 'org-' || g END)
  FROM generate_series(1, 14) g;
SELECT schemakit.invite_member(g, 'user' || (g + 20) || '@example.com', 'member', g) FROM generate_series(1, 14) g;
SELECT schemakit.accept_invitation(schemakit.invite_member(g, 'user' || (g + 30) || '@example.com', 'admin', g), g + 30)
  FROM generate_series(1, 8) g;
SELECT schemakit.revoke_invitation(i.id, m.user_id) FROM schemakit.invitations i
  JOIN schemakit.memberships m ON m.organization_id = i.organization_id AND m.role = 'owner'
 WHERE i.organization_id <= 3 AND i.accepted_at IS NULL;
SELECT schemakit.set_member_role(g, g + 30, 'owner', g) FROM generate_series(1, 4) g;
-- better-auth's verification values (hashes of identifiers, keyed values)
INSERT INTO schemakit.verifications (identifier_hash, value, expires_at)
SELECT sha256(convert_to('reset-password:' || g, 'UTF8')), 'hmac:' || md5(g::text), now() + interval '1 hour'
  FROM generate_series(1, 12) g;
UPDATE schemakit.users SET email_verified = true, image = 'https://img.example/' || id WHERE id % 4 = 0;
SQL
    fi
}

uid_of() { sql "$1" -c "SELECT id FROM schemakit.users WHERE username = '$2'"; }

# The next insert into every table continues its identity: the new id is the
# sequence's next value (and so above every restored id).  Runs the inserts
# the way an application would (functions where there is one).
check_next_inserts() {
    local db=$1 label=$2 t exp got uid
    local -a tables=(users snippets email_codes)
    version_ge "$(extversion "$db")" 1.1 && tables+=(oauth_accounts password_reset_tokens files)
    version_ge "$(extversion "$db")" 1.2 && tables+=(sessions)
    version_ge "$(extversion "$db")" 1.5 && tables+=(organizations memberships invitations)
    for t in "${tables[@]}"; do
        exp=$(sql "$db" -c "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM schemakit.${t}_id_seq")
        uid=$(uid_of "$db" after_restore)
        case $t in
            users)
                got=$(sql "$db" -c "INSERT INTO schemakit.users (username, email) VALUES ('after_restore', 'After.Restore@example.com') RETURNING id" 2>&1);;
            snippets)
                got=$(sql "$db" -c "INSERT INTO schemakit.snippets (owner_id, body) VALUES ($uid, 'after restore') RETURNING id" 2>&1);;
            email_codes)
                got=$(sql "$db" -c "SELECT schemakit.issue_email_code('after.restore@example.com')" 2>&1) &&
                got=$(sql "$db" -c "SELECT max(id) FROM schemakit.email_codes");;
            oauth_accounts)
                got=$(sql "$db" -c "SELECT schemakit.link_oauth_account($uid, 'github', 'after-restore')" 2>&1);;
            password_reset_tokens)
                got=$(sql "$db" -c "SELECT schemakit.issue_password_reset_token($uid)" 2>&1) &&
                got=$(sql "$db" -c "SELECT max(id) FROM schemakit.password_reset_tokens");;
            files)
                got=$(sql "$db" -c "INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES ($uid, 'after.txt', 'text/plain', 1) RETURNING id" 2>&1);;
            sessions)
                got=$(sql "$db" -c "SELECT schemakit.issue_session($uid)" 2>&1) &&
                got=$(sql "$db" -c "SELECT max(id) FROM schemakit.sessions");;
            organizations)
                got=$(sql "$db" -c "SELECT schemakit.create_organization($uid, 'After restore')" 2>&1);;
            memberships)
                got=$(sql "$db" -c "SELECT id FROM schemakit.accept_invitation(schemakit.invite_member((SELECT max(id) FROM schemakit.organizations), 'user1@example.com', 'member', $uid), 1)" 2>&1);;
            invitations)
                got=$(sql "$db" -c "SELECT schemakit.invite_member((SELECT max(id) FROM schemakit.organizations), 'user2@example.com', 'member', $uid)" 2>&1) &&
                got=$(sql "$db" -c "SELECT max(id) FROM schemakit.invitations");;
        esac
        is "$got" "$exp" "$label: next insert into $t succeeds and continues the identity"
    done
    # migrations: re-recording a version merges into the existing row (no
    # duplicate key, original applied_at kept); a new version is a new row.
    local before after
    before=$(migrations_full "$db")
    is "$(sqlstate "$db" "INSERT INTO schemakit.migrations (version) VALUES ('1.0')")" 00000 \
       "$label: re-inserting migrations version 1.0 raises nothing"
    is "$(migrations_full "$db")" "$before" "$label: ... and keeps one 1.0 row with its original applied_at"
    is "$(sql "$db" -c "INSERT INTO schemakit.migrations (version) VALUES ('0.0-test') RETURNING version" 2>&1)" \
       0.0-test "$label: a new migrations row inserts"
    sql "$db" -c "DELETE FROM schemakit.migrations WHERE version = '0.0-test'" >/dev/null
}

# Everything a restore must give back; $1 = restored db, $2 = label.
check_restored() {
    local db=$1 label=$2 snap mig
    snap=$(data_snapshot "$db")
    is "$snap" "$SRC_SNAP" "$label: every row back (count + md5 per table) and every identity sequence's state"
    ROWS_CHECKED=$((ROWS_CHECKED + $(snapshot_rows "$snap")))
    mig=$(migrations_full "$db")
    is "$mig" "$SRC_MIG" "$label: migrations rows with their original applied_at"
    ROWS_CHECKED=$((ROWS_CHECKED + $(printf '%s\n' "$mig" | grep -c .)))
    is "$(sql "$db" -c "SELECT count(*) = count(DISTINCT version) FROM schemakit.migrations")" t \
       "$label: exactly one migrations row per version"
    is "$(extversion "$db")" "$SRC_VERSION" "$label: extversion $SRC_VERSION"
    is "$(extconfig "$db")" "$SRC_CONFIG" "$label: every table and sequence still registered for pg_dump"

    # The live secrets handed out by the source.
    is "$(sql "$db" -c "SELECT schemakit.verify_email_code('LINUS@example.net', '$LIVE_CODE')" 2>&1)" t \
       "$label: the unused email code verifies"
    is "$(sql "$db" -c "SELECT schemakit.verify_email_code('linus@example.net', '$LIVE_CODE')" 2>&1)" f \
       "$label: ... exactly once"
    is "$(sql "$db" -c "SELECT schemakit.consume_password_reset_token('$LIVE_RESET')" 2>&1)" "$GRACE" \
       "$label: the unused reset token consumes to its user"
    is "$(sql "$db" -c "SELECT coalesce(schemakit.consume_password_reset_token('$LIVE_RESET')::text, 'null')" 2>&1)" null \
       "$label: ... exactly once"
    is "$(sql "$db" -c "SELECT schemakit.session_user_id('$LIVE_SESSION')" 2>&1)" "$ADA" \
       "$label: the live session token resolves to its user"
    is "$(sql "$db" -c "SELECT coalesce(schemakit.session_user_id('$DEAD_SESSION')::text, 'null')" 2>&1)" null \
       "$label: a revoked session stays revoked"
    if [ "$HAS_CODE_KEY" = t ]; then
        is "$(sql "$db" -c "SELECT count(*) || ':' || bool_and(encode(key, 'hex') <> '$SRC_KEY') FROM schemakit._code_key")" 1:true \
           "$label: the restore made its own per-database code key (the source's was not dumped)"
        is "$(PGOPTIONS="-c schemakit.code_hmac_key=" sql "$db" -c "SELECT schemakit.verify_email_code('perdb@example.net', '$PERDB_CODE')" 2>&1)" f \
           "$label: a code hashed under the source's per-database key does not verify (documented)"
    fi
    check_next_inserts "$db" "$label"
}

# restore_ok LABEL COMMAND...: passes when the command exits 0 and prints no
# ERROR line; shows the output otherwise.
restore_ok() {
    local label=$1 out st; shift
    out=$("$@" 2>&1); st=$?
    if [ $st -eq 0 ] && ! printf '%s\n' "$out" | grep -q 'ERROR'; then
        pass "$label"
    else
        fail "$label" "exit status $st" "$(printf '%s\n' "$out" | head -20)"
    fi
}

# ---------------------------------------------------------------------------
# source at the default version
# ---------------------------------------------------------------------------

fresh_db "$SRC"
fill "$SRC"
ADA=$(uid_of "$SRC" ada)
GRACE=$(uid_of "$SRC" grace)
LIVE_CODE=$(sql "$SRC" -c "SELECT schemakit.issue_email_code('linus@example.net')")
LIVE_RESET=$(sql "$SRC" -c "SELECT schemakit.issue_password_reset_token($GRACE, '2 hours')")
LIVE_SESSION=$(sql "$SRC" -c "SELECT schemakit.issue_session($ADA, '30 days', '203.0.113.7', 'Mozilla/5.0')")
DEAD_SESSION=$(sql "$SRC" -c "SELECT schemakit.issue_session($ADA)")
sql "$SRC" -c "SELECT schemakit.revoke_session('$DEAD_SESSION')" >/dev/null
like "$LIVE_CODE" '^[0-9]{6}$' "source: a live email code was issued"
# Codes are HMACs under schemakit.code_hmac_key (test/run sets it
# in the server configuration), else under a per-database key that is never
# dumped.  A code issued under the per-database key must not survive a
# restore; one issued under the configured key must.
HAS_CODE_KEY=$(sql "$SRC" -c "SELECT to_regclass('schemakit._code_key') IS NOT NULL")
if [ "$HAS_CODE_KEY" = t ]; then
    echo "# schemakit.code_hmac_key configured: $(sql "$SRC" -c "SELECT current_setting('schemakit.code_hmac_key', true) <> ''")"
    SRC_KEY=$(sql "$SRC" -c "SELECT encode(key, 'hex') FROM schemakit._code_key")
    PERDB_CODE=$(PGOPTIONS="-c schemakit.code_hmac_key=" sql "$SRC" -c "SELECT schemakit.issue_email_code('perdb@example.net')")
    like "$PERDB_CODE" '^[0-9]{6}$' "source: a code under the per-database key was issued"
fi
like "$LIVE_RESET" '^[A-Za-z0-9_-]{43}$' "source: a live reset token was issued"
like "$LIVE_SESSION" '^[A-Za-z0-9_-]{43}$' "source: a live session token was issued"

SRC_SNAP=$(data_snapshot "$SRC")
SRC_MIG=$(migrations_full "$SRC")
SRC_VERSION=$(extversion "$SRC")
SRC_CONFIG=$(extconfig "$SRC")
is "$SRC_VERSION" "$DEFAULT" "source is at the default version"
# Tables pg_dump does not copy: only internal ones (e.g. the per-database
# code key, which must not travel in a dump).
unregistered=$(sql "$SRC" -c "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
                               WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind IN ('r', 'S')
                                 AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'schemakit')::oid[])")
echo "# tables and sequences not registered for pg_dump: ${unregistered:-none}"
like "${unregistered:-}" '^(_[a-z_]*(,_[a-z_]*)*)?$' "source: every table and sequence but internal ones is registered for pg_dump"
few=$(printf '%s\n' "$SRC_SNAP" | awk '$2 ~ /^[0-9]+:/ { split($2, a, ":"); if (a[1] < 10) print $1 "=" a[1] }')
is "$few" "" "source: every table has at least 10 rows"
# The newest user and file are deleted: their sequences are ahead of
# max(id), so a restore that rebuilt them from max(id) would reuse ids.
sql "$SRC" >/dev/null <<'SQL'
INSERT INTO schemakit.users (username) VALUES ('ghost');
DELETE FROM schemakit.users WHERE username = 'ghost';
DELETE FROM schemakit.files WHERE id = (SELECT max(id) FROM schemakit.files);
SQL
SRC_SNAP=$(data_snapshot "$SRC")
is "$(sql "$SRC" -c "SELECT (SELECT last_value FROM schemakit.users_id_seq) > (SELECT max(id) FROM schemakit.users)
                        AND (SELECT last_value FROM schemakit.files_id_seq) > (SELECT max(id) FROM schemakit.files)")" t \
   "source: the users and files sequences are ahead of max(id)"
echo "# source: $(printf '%s\n' "$SRC_SNAP" | tr '\n' ';' | sed 's/;/; /g')"

ok_cmd "pg_dump -Fc succeeds" pg_dump -Fc -d "$SRC" -f "$WORK/src.dump"
ok_cmd "plain pg_dump succeeds" pg_dump -d "$SRC" -f "$WORK/src.sql"
ok_cmd "pg_dump --inserts succeeds" pg_dump --inserts -d "$SRC" -f "$WORK/src-inserts.sql"
ok_cmd "pg_dump --column-inserts succeeds" pg_dump --column-inserts -d "$SRC" -f "$WORK/src-colinserts.sql"
is "$(grep -c '^INSERT INTO schemakit\.users OVERRIDING SYSTEM VALUE VALUES' "$WORK/src-inserts.sql")" \
   "$(sql "$SRC" -c "SELECT count(*) FROM schemakit.users")" "--inserts: one INSERT ... OVERRIDING SYSTEM VALUE per user"
is "$(grep -c '^INSERT INTO schemakit\.sessions ([^)]*) OVERRIDING SYSTEM VALUE VALUES' "$WORK/src-colinserts.sql")" \
   "$(sql "$SRC" -c "SELECT count(*) FROM schemakit.sessions")" "--column-inserts: one INSERT (cols) OVERRIDING SYSTEM VALUE per session"
is "$(grep -E '^INSERT INTO schemakit\.[a-z_]+ ' "$WORK/src-inserts.sql" | grep -v migrations | grep -vc 'OVERRIDING SYSTEM VALUE')" 0 \
   "--inserts: every insert into an identity table overrides the identity"

# -Fc -> pg_restore
createdb sk_dump_fc
restore_ok "pg_restore --exit-on-error of the -Fc dump: no error" \
    pg_restore --exit-on-error -d sk_dump_fc "$WORK/src.dump"
# Before anything changes it: a dump of the restored database holds the same data.
pg_dump -d sk_dump_fc -f "$WORK/fc-redump.sql"
is "$(grep -vE '^(--|\\(un)?restrict )' "$WORK/fc-redump.sql" | sort | md5sum)" \
   "$(grep -vE '^(--|\\(un)?restrict )' "$WORK/src.sql" | sort | md5sum)" \
   "pg_restore: dumping the restored database gives the same dump"
check_restored sk_dump_fc "pg_restore"

# plain -> psql
createdb sk_dump_plain
restore_ok "psql -v ON_ERROR_STOP=1 -f of the plain dump: no error" \
    psql -X -q -v ON_ERROR_STOP=1 -d sk_dump_plain -f "$WORK/src.sql"
check_restored sk_dump_plain "plain"

# --inserts / --column-inserts -> psql
createdb sk_dump_ins
restore_ok "psql of the --inserts dump: no error" \
    psql -X -q -v ON_ERROR_STOP=1 -d sk_dump_ins -f "$WORK/src-inserts.sql"
check_restored sk_dump_ins "--inserts"
createdb sk_dump_colins
restore_ok "psql of the --column-inserts dump: no error" \
    psql -X -q -v ON_ERROR_STOP=1 -d sk_dump_colins -f "$WORK/src-colinserts.sql"
check_restored sk_dump_colins "--column-inserts"

# The source itself was not changed by any of it.
is "$(data_snapshot "$SRC")" "$SRC_SNAP" "source unchanged by dumping"
if [ "$HAS_CODE_KEY" = t ]; then
    n=0
    for f in "$WORK/src.sql" "$WORK/src-inserts.sql" "$WORK/src-colinserts.sql"; do
        n=$((n + $(grep -ci "$SRC_KEY" "$f")))
    done
    n=$((n + $(pg_restore -f - "$WORK/src.dump" | grep -ci "$SRC_KEY")))
    is "$n" 0 "no dump contains the per-database code key"
    # Control: the per-database code is good where its key is.
    is "$(PGOPTIONS="-c schemakit.code_hmac_key=" sql "$SRC" -c "SELECT schemakit.verify_email_code('perdb@example.net', '$PERDB_CODE')" 2>&1)" t \
       "source: the per-database code verifies where its key lives"
fi

# A second restore into a database that a restore already filled fails
# loudly rather than duplicating rows (primary keys), except migrations,
# which merges.
restore_err=$(pg_restore --exit-on-error -d sk_dump_fc --data-only -t users "$WORK/src.dump" 2>&1)
like "$restore_err" 'duplicate key value violates unique constraint "users_pkey"' \
     "restoring the users rows twice is refused by the primary key"

# ---------------------------------------------------------------------------
# a 1.0 database: dump, restore, then ALTER EXTENSION UPDATE
# ---------------------------------------------------------------------------

fresh_db "$SRC10" 1.0
fill "$SRC10"
LIVE10_CODE=$(sql "$SRC10" -c "SELECT schemakit.issue_email_code('linus@example.net')")
SRC10_SNAP=$(data_snapshot "$SRC10")
SRC10_MIG=$(migrations_full "$SRC10")
SRC10_T=$(sql "$SRC10" -c "SELECT applied_at FROM schemakit.migrations WHERE version = '1.0'")
is "$(migrations_versions "$SRC10")" 1.0 "1.0 source: one migrations row"
ok_cmd "1.0 source: pg_dump -Fc succeeds" pg_dump -Fc -d "$SRC10" -f "$WORK/src10.dump"
ok_cmd "1.0 source: plain pg_dump succeeds" pg_dump -d "$SRC10" -f "$WORK/src10.sql"

# 1.0 tables of a snapshot (tables added later are compared separately).
v10_part() { printf '%s\n' "$1" | grep -E '^(users|snippets|email_codes)(_id_seq)? '; }
new_tables_empty() {
    sql "$1" -c "SELECT string_agg(x, ',' ORDER BY x) FROM (
                   SELECT 'oauth_accounts' x WHERE EXISTS (SELECT 1 FROM schemakit.oauth_accounts)
                   UNION ALL SELECT 'password_reset_tokens' WHERE EXISTS (SELECT 1 FROM schemakit.password_reset_tokens)
                   UNION ALL SELECT 'files' WHERE EXISTS (SELECT 1 FROM schemakit.files)
                   UNION ALL SELECT 'sessions' WHERE EXISTS (SELECT 1 FROM schemakit.sessions)) s"
}
check_10_updated() {
    local db=$1 label=$2 snap
    is "$(extversion "$db")" "$DEFAULT" "$label: at $DEFAULT after ALTER EXTENSION UPDATE"
    snap=$(data_snapshot "$db")
    is "$(v10_part "$snap")" "$(v10_part "$SRC10_SNAP")" "$label: every 1.0 row and sequence unchanged"
    ROWS_CHECKED=$((ROWS_CHECKED + $(snapshot_rows "$(v10_part "$snap")")))
    is "$(new_tables_empty "$db")" "" "$label: the tables added after 1.0 are empty"
    is "$(migrations_versions "$db")" "$(chain_to_default)" "$label: migrations rows $(chain_to_default)"
    is "$(sql "$db" -c "SELECT applied_at FROM schemakit.migrations WHERE version = '1.0'")" "$SRC10_T" \
       "$label: migrations 1.0 keeps its original applied_at"
    is "$(sql "$db" -c "SELECT bool_and(applied_at > '$SRC10_T') FROM schemakit.migrations WHERE version <> '1.0'")" t \
       "$label: the later steps are recorded at restore/update time"
    # 1.0 stored codes hashed without a key; 1.5 no longer accepts that form
    # (the user asks for a new code, which replaces it).
    is "$(sql "$db" -c "SELECT schemakit.verify_email_code('linus@example.net', '$LIVE10_CODE')" 2>&1)" f \
       "$label: the unkeyed code issued at 1.0 does not verify at 1.5"
    local fresh_code
    fresh_code=$(sql "$db" -c "SELECT schemakit.issue_email_code('linus@example.net')" 2>&1)
    is "$(sql "$db" -c "SELECT schemakit.verify_email_code('linus@example.net', '$fresh_code')" 2>&1)" t \
       "$label: ... a new code for the address replaces it and verifies"
    local uid
    uid=$(sql "$db" -c "INSERT INTO schemakit.users (username) VALUES ('after_update') RETURNING id" 2>&1)
    is "$uid" "$(( $(printf '%s\n' "$SRC10_SNAP" | sed -n 's/^users_id_seq last_value=\([0-9]*\) .*/\1/p') + 1 ))" \
       "$label: the next user continues the identity"
    like "$(sql "$db" -c "SELECT schemakit.issue_session($uid)" 2>&1)" '^[A-Za-z0-9_-]{43}$' \
       "$label: the updated database issues sessions"
}

# (a) The ordinary way: pg_dump records no extension version, so the
# restore's CREATE EXTENSION installs the default version and the 1.0 rows
# land in its tables.  ALTER EXTENSION UPDATE then has nothing to do.
createdb sk_dump10_plain
restore_ok "1.0 dump: pg_restore --exit-on-error: no error" \
    pg_restore --exit-on-error -d sk_dump10_plain "$WORK/src10.dump"
echo "# 1.0 dump restored with pg_restore is at version $(extversion sk_dump10_plain) (pg_dump does not record the extension version)"
restore_ok "1.0 dump (restored by pg_restore): ALTER EXTENSION schemakit UPDATE succeeds" \
    sql sk_dump10_plain -c "ALTER EXTENSION schemakit UPDATE"
check_10_updated sk_dump10_plain "1.0 dump via pg_restore"

# (b) Restoring into a database where the extension was created at 1.0
# first (the schema entry is skipped: the extension made it), then updating
# for real: 1.0 -> ... -> default over restored rows.
createdb sk_dump10_pre
sql sk_dump10_pre -c "CREATE EXTENSION schemakit VERSION '1.0'" >/dev/null
pg_restore -l "$WORK/src10.dump" | grep -v ' SCHEMA - schemakit ' >"$WORK/src10.list"
restore_ok "1.0 dump into a 1.0 install: pg_restore --exit-on-error -L: no error" \
    pg_restore --exit-on-error -L "$WORK/src10.list" -d sk_dump10_pre "$WORK/src10.dump"
is "$(extversion sk_dump10_pre)" 1.0 "1.0 dump into a 1.0 install: still at 1.0"
is "$(data_snapshot sk_dump10_pre)" "$SRC10_SNAP" "1.0 dump into a 1.0 install: every row and sequence back"
is "$(migrations_full sk_dump10_pre)" "$SRC10_MIG" "1.0 dump into a 1.0 install: migrations row with its original applied_at"
restore_ok "1.0 dump into a 1.0 install: ALTER EXTENSION schemakit UPDATE succeeds" \
    sql sk_dump10_pre -c "ALTER EXTENSION schemakit UPDATE"
check_10_updated sk_dump10_pre "1.0 restored then updated"

# And the plain 1.0 dump through psql.
createdb sk_dump_redump
restore_ok "1.0 plain dump: psql -v ON_ERROR_STOP=1: no error" \
    psql -X -q -v ON_ERROR_STOP=1 -d sk_dump_redump -f "$WORK/src10.sql"
restore_ok "1.0 plain dump: ALTER EXTENSION schemakit UPDATE succeeds" \
    sql sk_dump_redump -c "ALTER EXTENSION schemakit UPDATE"
check_10_updated sk_dump_redump "1.0 plain dump"

echo "# rows checked: $ROWS_CHECKED"
done_testing
