#!/usr/bin/env bash
# test/lib/matrix-xmajor.sh - cross-major dump and restore (TAP), run by
# test/matrix.sh inside a cluster test/run configured (schemakit preloaded,
# schemakit.code_hmac_key = $SK_CODE_HMAC_KEY, the same in every cluster).
#
#   SK_MATRIX_XROLE=dump    SK_MATRIX_LABEL=13  a database with rows in every
#       table, a code/reset token/session issued and not yet used, dumped
#       (pg_dump -Fc) to $SK_MATRIX_DUMPS/13.dump with its data_snapshot and
#       secrets beside it.
#   SK_MATRIX_XROLE=restore SK_MATRIX_FROM="15 13"  each of those dumps
#       restored here: every row and sequence as dumped, identities
#       continuing, the secrets still working exactly once.
# No role (a plain `prove test/lib`): nothing to do, one passing line.
set -uo pipefail
. "$(dirname "$0")/tap.sh"

ROLE=${SK_MATRIX_XROLE:-}
DIR=${SK_MATRIX_DUMPS:-}
DEFAULT=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$SK_ROOT/schemakit.control")
server=$(sql postgres -c "SHOW server_version_num")
major=$((server / 10000))

if [ -z "$ROLE" ] || [ -z "$DIR" ]; then
    pass "cross-major: no role given (SK_MATRIX_XROLE), nothing to do"
    done_testing; exit
fi

is "$(sql postgres -c "SELECT current_setting('schemakit.code_hmac_key', true)")" "${SK_CODE_HMAC_KEY:-<unset SK_CODE_HMAC_KEY>}" \
   "PostgreSQL $major: schemakit.code_hmac_key is the matrix's key"
like "$(sql postgres -c "SHOW shared_preload_libraries")" '(^|[ ,])schemakit($|[ ,])' "PostgreSQL $major: schemakit preloaded"

extversion() { sql "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'"; }
# Identity sequences: table|last_value+1 if called (else last_value)|max(id)+1
next_ids() {
    sql "$1" <<'SQL'
SELECT c.relname || '|' ||
       (xpath('/row/n/text()', query_to_xml(format(
           'SELECT (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s) || ''|'' || coalesce(max(id), 0) + 1 AS n FROM schemakit.%I',
           pg_get_serial_sequence('schemakit.' || quote_ident(c.relname), 'id'), c.relname), false, true, '')))[1]::text
  FROM pg_extension e, unnest(e.extconfig) AS t (oid)
  JOIN pg_class c ON c.oid = t.oid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id' AND a.attidentity <> ''
 WHERE e.extname = 'schemakit' AND c.relkind = 'r'
 ORDER BY 1;
SQL
}

if [ "$ROLE" = dump ]; then
    label=${SK_MATRIX_LABEL:-$major}
    DB=sk_xmajor_src
    avail=$(sql postgres -c "SELECT count(*) FROM pg_available_extension_versions WHERE name = 'schemakit' AND version = '$DEFAULT'")
    is "$avail" 1 "PostgreSQL $major: schemakit $DEFAULT (this tree's default) is installed here"
    fresh_db "$DB" "$DEFAULT"
    out=$(sql "$DB" 2>&1 >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email, display_name, password_hash)
SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g, '$argon2id$v=19$m=65536,t=3,p=4$' || md5(g::text)
  FROM generate_series(1, 40) g;
INSERT INTO schemakit.users (username, email, display_name) VALUES
    ('zoë', 'zoe@exämple.com', E'Zoë \u00e9\u4e2d\u6587 🚀'), ('tab	name', NULL, E'back\\slash ''q'' "dq"');
INSERT INTO schemakit.users (username) VALUES ('gone');
-- identity gaps, and the newest user gone: the sequence is ahead of max(id)
DELETE FROM schemakit.users WHERE username IN ('user39', 'user40', 'gone');
INSERT INTO schemakit.snippets (owner_id, title, body, language, is_public)
SELECT 1 + g % 38, 'Snippet ' || g, E'line\n\t' || repeat('x', g * 30) || ' 🚀', 'python', g % 2 = 0
  FROM generate_series(1, 100) g;
SELECT schemakit.record_snippet_view(public_id) FROM schemakit.snippets WHERE id <= 10;
SELECT schemakit.issue_email_code('user' || g || '@example.com') FROM generate_series(1, 10) g;
SELECT schemakit.verify_email_code('user' || g || '@example.com', 'nope00') FROM generate_series(1, 3) g;
SELECT schemakit.link_oauth_account(g, 'github', (1000 + g)::text, 'user' || g || '@example.com', 'User ' || g)
  FROM generate_series(1, 20) g;
SELECT schemakit.issue_password_reset_token(g) FROM generate_series(1, 8) g;
INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
SELECT 1 + g % 38, 'photo' || g || '.jpg', 'image/jpeg', g * 1024 FROM generate_series(1, 30) g;
SELECT schemakit.issue_session(g, '30 days', '192.0.2.1', 'Mozilla/5.0') FROM generate_series(1, 15) g;
SQL
)
    # 1.5: organizations, memberships, invitations (open, accepted, revoked)
    if [ "$(sql "$DB" -c "SELECT to_regproc('schemakit.create_organization') IS NOT NULL")" = t ]; then
        out+=$(sql "$DB" 2>&1 >/dev/null <<'SQL'
SELECT schemakit.create_organization(g, 'Org ' || g || ' 🚀', 'org-' || g) FROM generate_series(1, 5) g;
SELECT schemakit.invite_member(o.id, 'user' || (10 + o.id) || '@example.com', 'member', o.id)
  FROM schemakit.organizations o;
SELECT schemakit.accept_invitation(schemakit.invite_member(1, 'USER20@example.com', 'admin', 1), 20);
SELECT schemakit.revoke_invitation(i.id, 2) FROM schemakit.invitations i WHERE i.organization_id = 2;
SQL
)
    fi
    # 1.5: better-auth verification values, and sessions under a drawn token
    if [ "$(sql "$DB" -c "SELECT to_regclass('schemakit.verifications') IS NOT NULL")" = t ]; then
        out+=$(sql "$DB" 2>&1 >/dev/null <<'SQL'
INSERT INTO schemakit.verifications (identifier_hash, value, expires_at)
SELECT sha256(convert_to('email-verification:user' || g || '@example.com', 'UTF8')), '{"v":' || g || '}', now() + interval '1 hour'
  FROM generate_series(1, 6) g;
SELECT schemakit.open_session(g, schemakit.random_token(), now() + interval '1 day') FROM generate_series(1, 3) g;
SQL
)
    fi
    is "$out" "" "PostgreSQL $major: rows in every table"
    # The secrets the app handed out before the dump, not yet used.
    code=$(sql "$DB" -c "SELECT schemakit.issue_email_code('keep@example.com', '1 day')")
    reset=$(sql "$DB" -c "SELECT schemakit.issue_password_reset_token(5, '1 day')")
    sess=$(sql "$DB" -c "SELECT schemakit.issue_session(7, '1 day')")
    like "$code" '^[0-9]{6}$' "PostgreSQL $major: a code issued before the dump"
    empty=$(sql "$DB" -c "SELECT string_agg(c.relname, ' ') FROM pg_extension e, unnest(e.extconfig) t (oid) JOIN pg_class c ON c.oid = t.oid
                          WHERE e.extname = 'schemakit' AND c.relkind = 'r'
                            AND (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM schemakit.%I', c.relname), false, true, '')))[1]::text = '0'")
    is "$empty" "" "PostgreSQL $major: no user-data table is empty"
    rm -f "$DIR/$label".*
    data_snapshot "$DB" >"$DIR/$label.snapshot"
    next_ids "$DB" >"$DIR/$label.next"
    printf 'code=%s\nreset=%s\nsess=%s\nversion=%s\nserver=%s\n' "$code" "$reset" "$sess" "$(extversion "$DB")" "$server" >"$DIR/$label.secrets"
    ok_cmd "PostgreSQL $major: pg_dump -Fc" pg_dump -Fc -d "$DB" -f "$DIR/$label.dump"
    dropdb --if-exists "$DB"
    done_testing; exit
fi

[ "$ROLE" = restore ] || { fail "unknown SK_MATRIX_XROLE=$ROLE"; done_testing; exit; }
for from in ${SK_MATRIX_FROM:-}; do
    t="$from -> $major"
    DB=sk_xmajor_from$from
    if [ ! -s "$DIR/$from.dump" ] || [ ! -s "$DIR/$from.secrets" ]; then
        fail "$t: the dump from PostgreSQL $from is there" "no $DIR/$from.dump (its dump step failed or did not run)"
        continue
    fi
    pass "$t: the dump from PostgreSQL $from is there"
    val() { sed -n "s/^$1=//p" "$DIR/$from.secrets"; }
    dropdb --if-exists "$DB" 2>/dev/null; createdb "$DB"
    ok_cmd "$t: pg_restore --exit-on-error" pg_restore --exit-on-error -d "$DB" "$DIR/$from.dump"
    is "$(extversion "$DB")" "$(val version)" "$t: extension version as dumped"
    snap=$(data_snapshot "$DB")
    is "$snap" "$(cat "$DIR/$from.snapshot")" "$t: every row and sequence as dumped ($(printf '%s\n' "$snap" | wc -l) tables and sequences)"
    is "$(next_ids "$DB")" "$(cat "$DIR/$from.next")" "$t: every identity continues where it was"
    # identities continue: a new row gets the next id, no collision
    want=$(sed -n 's/^users|\([0-9]*\)|.*/\1/p' "$DIR/$from.next")
    is "$(sql "$DB" -c "INSERT INTO schemakit.users (username) VALUES ('after-restore') RETURNING id")" "$want" "$t: a new user gets the next id"
    like "$(sql "$DB" -c "INSERT INTO schemakit.snippets (owner_id, body) VALUES (1, 'new') RETURNING id")" '^[0-9]+$' "$t: a new snippet inserts"
    # secrets issued before the dump work once under the same key
    is "$(sql "$DB" -c "SELECT schemakit.verify_email_code('keep@example.com', '$(val code)')")" t "$t: a code issued before the dump verifies"
    is "$(sql "$DB" -c "SELECT schemakit.verify_email_code('keep@example.com', '$(val code)')")" f "$t: ... exactly once"
    is "$(sql "$DB" -c "SELECT schemakit.consume_password_reset_token('$(val reset)')")" 5 "$t: a reset token issued before the dump is consumed"
    is "$(sql "$DB" -c "SELECT schemakit.session_user_id('$(val sess)')")" 7 "$t: a session issued before the dump is live"
    dropdb --if-exists "$DB"
done
done_testing
