#!/usr/bin/env bash
# sql/fragments/assemble.sh OUTDIR: writes schemakit--1.4--1.5.sql and
# schemakit--1.5--1.4.sql to OUTDIR: this tree's scripts with the
# organizations fragments put where they belong, and the grant_app and
# $rights$ lines they need.  For testing the fragments before they are merged.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: assemble.sh OUTDIR}
mkdir -p "$out"

# Update: the fragment before the $rights$ block; grant_app and $rights$ lines.
FRAG="$here/organizations--1.5.sql" perl -0777 -pe '
    my $frag = do { local (@ARGV, $/) = $ENV{FRAG}; <> };
    s/(-{79}\n-- Rights nobody may hold\.)/$frag\n$1/ or die "no rights block\n";
    s/(    EXECUTE pg_catalog.format\(\x27GRANT SELECT ON TABLE schemakit.migrations TO %s\x27, app\);\n)/$1    EXECUTE pg_catalog.format(\n        \x27GRANT SELECT, UPDATE (slug, name), DELETE, REFERENCES ON TABLE schemakit.organizations TO %s\x27, app);\n    EXECUTE pg_catalog.format(\x27GRANT SELECT ON TABLE schemakit.memberships TO %s\x27, app);\n    EXECUTE pg_catalog.format(\n        \x27GRANT SELECT (id, organization_id, email, email_key, role, invited_by, created_at,\x27\n        \x27 expires_at, accepted_at, accepted_by, revoked_at) ON TABLE schemakit.invitations TO %s\x27, app);\n/ or die "no grant_app\n";
    s/(\x27sessions\x27, \x27sessions_id_seq\x27, \x27_code_key\x27)/$1,\n                    \x27organizations\x27, \x27organizations_id_seq\x27, \x27memberships\x27, \x27memberships_id_seq\x27,\n                    \x27invitations\x27, \x27invitations_id_seq\x27/ or die "no secret list\n";
    s/(                OR p.oid OPERATOR\(pg_catalog.=\) \x27schemakit.email_key\(text\)\x27::pg_catalog.regprocedure)/$1\n                OR p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[\n                    \x27schemakit.create_organization(bigint, text, text)\x27::pg_catalog.regprocedure,\n                    \x27schemakit.member_role(bigint, bigint)\x27::pg_catalog.regprocedure,\n                    \x27schemakit.invite_member(bigint, text, text, bigint, interval)\x27::pg_catalog.regprocedure,\n                    \x27schemakit.accept_invitation(text, bigint)\x27::pg_catalog.regprocedure,\n                    \x27schemakit.revoke_invitation(bigint, bigint)\x27::pg_catalog.regprocedure,\n                    \x27schemakit.set_member_role(bigint, bigint, text, bigint)\x27::pg_catalog.regprocedure,\n                    \x27schemakit.remove_member(bigint, bigint, bigint)\x27::pg_catalog.regprocedure])/ or die "no function list\n";
' "$root/sql/schemakit--1.4--1.5.sql" >"$out/schemakit--1.4--1.5.sql"

# Downgrade: the fragment right after the \echo line.
FRAG="$here/organizations--1.5--1.4.sql" perl -0777 -pe '
    my $frag = do { local (@ARGV, $/) = $ENV{FRAG}; <> };
    s/(\\echo Use [^\n]*\\quit\n)/$1\n$frag/ or die "no echo line\n";
' "$root/sql/schemakit--1.5--1.4.sql" >"$out/schemakit--1.5--1.4.sql"
