#!/usr/bin/env bash
# Organizations (1.5) across versions and dumps:
#   - 1.4 with data -> 1.5 keeps every row; organizations work at once
#   - 1.5 -> 1.4 is refused with 55000 while any of organizations,
#     memberships or invitations holds a row, and changes nothing
#   - emptied, 1.5 -> 1.4 proceeds and keeps every other row; 1.4 -> 1.5
#     again works
#   - pg_dump -Fc and pg_restore -j 4 (tables loaded in any order) give back
#     every row; a live invitation accepts once in the restored database,
#     and the owner rule holds there
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_org_chain
DST=sk_org_restored
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

extversion() { sql "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'"; }
# count and md5 of the ids of every other registered table (their rows'
# text changes between versions, e.g. users.email_key in 1.5).
other_ids() {
    sql "$1" <<'SQL'
SELECT c.relname || ' ' ||
       (xpath('/row/n/text()', query_to_xml(format(
           'SELECT count(*) || '':'' || coalesce(md5(string_agg(t.id::text, '','' ORDER BY t.id)), ''-'') AS n FROM schemakit.%I t',
           c.relname), false, true, '')))[1]::text
  FROM pg_extension e, unnest(e.extconfig) AS t (oid)
  JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'schemakit' AND c.relkind = 'r'
   AND c.relname NOT IN ('migrations', 'organizations', 'memberships', 'invitations')
 ORDER BY 1;
SQL
}
org_rows() {
    sql "$1" -c "SELECT (SELECT count(*) FROM schemakit.organizations) || '/' || (SELECT count(*) FROM schemakit.memberships)
                        || '/' || (SELECT count(*) FROM schemakit.invitations)"
}

fresh_db "$DB" 1.4
sql "$DB" >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email)
SELECT 'user' || g, 'user' || g || '@example.com' FROM generate_series(1, 40) g;
SELECT schemakit.issue_session(g) FROM generate_series(1, 10) g;
SELECT schemakit.issue_password_reset_token(g) FROM generate_series(1, 5) g;
SQL
before=$(other_ids "$DB")
is "$(sqlstate "$DB" "ALTER EXTENSION schemakit UPDATE TO '1.5'")" 00000 "1.4 with data -> 1.5 succeeds"
is "$(other_ids "$DB")" "$before" "1.4 -> 1.5: every row of 1.4 kept"
is "$(org_rows "$DB")" "0/0/0" "1.4 -> 1.5: the organization tables start empty"

# Organizations in use: owners, admins, open, accepted and revoked invitations.
LIVE=$(sql "$DB" <<'SQL'
SELECT schemakit.create_organization(g, 'Org ' || g) FROM generate_series(1, 10) g \g /dev/null
SELECT schemakit.accept_invitation(schemakit.invite_member(g, 'user' || (g + 10) || '@example.com', 'admin', g), g + 10)
  FROM generate_series(1, 10) g \g /dev/null
SELECT schemakit.invite_member(g, 'user' || (g + 20) || '@example.com', 'member', g) FROM generate_series(2, 10) g \g /dev/null
SELECT schemakit.invite_member(1, 'gone@example.com', 'member', 1) \g /dev/null
SELECT schemakit.revoke_invitation((SELECT max(id) FROM schemakit.invitations), 1) \g /dev/null
SELECT schemakit.invite_member(1, 'user21@example.com', 'member', 1);
SQL
)
like "$LIVE" '^[A-Za-z0-9_-]{43}$' "1.5: organizations, memberships and invitations in use; a live invitation issued"
is "$(org_rows "$DB")" "10/20/21" "1.5: 10 organizations, 20 memberships, 21 invitations"

snap=$(data_snapshot "$DB")
is "$(sqlstate "$DB" "ALTER EXTENSION schemakit UPDATE TO '1.4'")" 55000 "1.5 -> 1.4 with organization rows: refused with 55000"
is "$(extversion "$DB")" 1.5 "... still at 1.5"
is "$(data_snapshot "$DB")" "$snap" "... every row kept"
is "$(sql "$DB" -c "SELECT schemakit.member_role(1, 1)")" owner "... and organizations still work"

# pg_dump -Fc, pg_restore -j 4 into an empty database.
pg_dump -Fc -f "$WORK/orgs.dump" "$DB"
dropdb --if-exists "$DST" 2>/dev/null; createdb "$DST"
out=$(pg_restore -j 4 --exit-on-error -d "$DST" "$WORK/orgs.dump" 2>&1)
is "$?:$out" "0:" "pg_restore -j 4: no error"
is "$(data_snapshot "$DST")" "$snap" "pg_restore -j 4: every row and sequence back"
is "$(sql "$DST" -c "SELECT role FROM schemakit.accept_invitation('$LIVE', 21)" 2>&1)" member \
   "restored: the live invitation accepts"
is "$(sqlstate "$DST" "SELECT schemakit.accept_invitation('$LIVE', 21)")" SKR13 "restored: ... exactly once"
is "$(sqlstate "$DST" "SELECT schemakit.remove_member(1, 1, 1)")" SKR14 "restored: the last owner cannot leave"
is "$(sqlstate "$DST" "INSERT INTO schemakit.memberships (organization_id, user_id, role) VALUES (999, 1, 'member')")" 23503 \
   "restored: a membership of an unknown organization is refused"
is "$(sql "$DST" -c "SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('schemakit.memberships'::regclass, 'schemakit.invitations'::regclass) AND tgenabled = 'D'")" 10 \
   "restored: the insert-side foreign key checks are disabled as in a fresh install"
dropdb --if-exists "$DST" 2>/dev/null

# Emptied, the downgrade proceeds; and back up again.
sql "$DB" -c "DELETE FROM schemakit.organizations" >/dev/null
rest=$(other_ids "$DB")
is "$(sqlstate "$DB" "ALTER EXTENSION schemakit UPDATE TO '1.4'")" 00000 "emptied: 1.5 -> 1.4 proceeds"
is "$(extversion "$DB")" 1.4 "... at 1.4"
is "$(sql "$DB" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace AND relname ~ '^(organizations|memberships|invitations)'")" 0 \
   "... the organization tables, sequences and indexes are gone"
is "$(other_ids "$DB")" "$rest" "... every other row kept"
is "$(sqlstate "$DB" "ALTER EXTENSION schemakit UPDATE TO '1.5'")" 00000 "1.4 -> 1.5 again"
AGAIN=$(sql "$DB" -c "SELECT schemakit.create_organization(3, 'Again')")
is "$(sql "$DB" -c "SELECT schemakit.member_role($AGAIN, 3)")" owner "... and organizations work"
dropdb --if-exists "$DB"
done_testing
