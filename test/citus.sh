#!/usr/bin/env bash
# test/citus.sh - schemakit on a real Citus cluster (issue #17): a
# coordinator and two workers on 127.0.0.1 (test/lib/citus.sh builds Citus
# once into a private copy of the host's PostgreSQL tree and caches it).
#
# For each layout an operator can choose for schemakit's tables - left
# local, every table a reference table, some reference and some local,
# hash-distributed where Citus accepts it, citus local tables (which Citus
# refuses) - every public function is called from the coordinator (the
# smoke walk of test/lib/smoke.sql) and compared with the single-node
# answers; from a worker the reads and verifications of what the
# coordinator wrote.  A session that existed before its table was
# distributed and was revoked after must be refused on every node.
#
# Output: TAP, ending with "N passed, N failed".  Without the Citus source
# (a user's machine) it prints "# SKIP citus: <why>" and ends
# "0 passed, 0 failed, 1 skipped", exit 0.  Needs root (the copy is cached
# in /var/cache/schemakit/citus, the servers run as postgres).
set -uo pipefail
SK_ROOT=${SK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export SK_ROOT
. "$SK_ROOT/test/lib/tap.sh"
. "$SK_ROOT/test/lib/citus.sh"
T0=$SECONDS

citus_prepare
st=$?
if [ -n "$CITUS_SKIP" ]; then
    echo "# SKIP citus: $CITUS_SKIP"
    echo "1..0 # SKIP $CITUS_SKIP"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if [ $st -ne 0 ]; then
    fail "Citus and schemakit are built into the private tree"
    echo "0 passed, 1 failed"; exit 1
fi
pass "Citus and schemakit are built into the private tree ($CITUS_TREE)"
trap 'citus_stop' EXIT
trap 'exit 130' INT TERM HUP
if ! citus_start; then
    fail "a coordinator and two workers start"
    echo "1 passed, 1 failed"; exit 1
fi
pass "a coordinator and two workers start (ports $CN_PORT $W1_PORT $W2_PORT)"
citus_log "cluster up after $((SECONDS - T0)) s"

TABLES="users organizations snippets email_codes oauth_accounts password_reset_tokens files sessions memberships invitations verifications _code_key"
# What an operator must set for Citus to take schemakit's tables at all: the
# triggers (citus.enable_unsafe_triggers), and no conversion of the other
# local tables into citus local tables (which Citus cannot do with
# extension-owned identity sequences).
ALLOW=(-c "SET citus.enable_unsafe_triggers = on" -c "SET citus.enable_local_reference_table_foreign_keys = off")

# new_db DB: the database on every node, the workers registered, schemakit
# created on the coordinator (Citus propagates CREATE EXTENSION).
new_db() {
    citus_db "$1" >/dev/null 2>&1 && cq "$CN_PORT" "$1" -c "CREATE EXTENSION schemakit" >/dev/null
}

# reference DB TABLE...: those tables reference tables, in foreign key order.
reference() {
    local db=$1 t; shift
    for t in "$@"; do
        cq "$CN_PORT" "$db" "${ALLOW[@]}" -c "SELECT create_reference_table('schemakit.$t')" >/dev/null 2>&1 || return 1
    done
}

# The public functions, as test/scripts/25-smoke.sh lists them.
public_functions() {
    cq "$1" "$2" <<'SQL'
SELECT p.oid::regprocedure::text
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'schemakit'
 WHERE p.proname !~ '^_' AND p.prorettype <> 'trigger'::regtype
 ORDER BY 1;
SQL
}

# walk TAG PORT DB [SKIP-REGEX]: the smoke walk on that node; every public
# function answers as on a single node (t).  SKIP-REGEX: functions Citus
# refuses on that node by design (roles are made on the coordinator only).
walk() {
    local tag=$1 port=$2 db=$3 skip=${4:-^$} errs out f bad=0
    errs=$(mktemp)
    out=$("$CITUS_PG/psql" -X -q -h "$CITUS_TMP" -p "$port" -U postgres -d "$db" \
        -f "$SK_ROOT/test/lib/smoke.sql" 2>"$errs")
    declare -A got=()
    while IFS='|' read -r sig res; do [ -n "$sig" ] && got[$sig]=$res; done <<<"$out"
    while read -r f; do
        [ -n "$f" ] || continue
        grep -Eq -- "$skip" <<<"$f" && continue
        if [ "${got[$f]:-}" != t ]; then
            bad=$((bad + 1))
            fail "$tag: $f answers as on a single node" "got: ${got[$f]:-an error}" "$(grep -v 'syntax error\|no rows returned' "$errs" | head -5)"
        else
            pass "$tag: $f"
        fi
    done < <(public_functions "$port" "$db")
    rm -f "$errs"
    return $bad
}

layout_is() {   # DB EXPECTED DESCRIPTION: pg_dist_partition, as table:method
    is "$(cq "$CN_PORT" "$1" -c "SELECT coalesce(string_agg(replace(logicalrelid::text, 'schemakit.', '') || ':' || partmethod::text, ' ' ORDER BY logicalrelid::text), '-') FROM pg_dist_partition")" "$2" "$3"
}

# ---------------------------------------------------------------------------
echo "# (a) tables left local, Citus loaded"
new_db sk_local || fail "sk_local created"
layout_is sk_local "-" "(a) no schemakit table in Citus's metadata"
keys=$(for p in "$CN_PORT" "$W1_PORT" "$W2_PORT"; do cq "$p" sk_local -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'"; done | tr '\n' ' ')
is "$keys" "1.5 1.5 1.5 " "CREATE EXTENSION on the coordinator reaches both workers"
keyfiles=$(for p in "$CN_PORT" "$W1_PORT" "$W2_PORT"; do cq "$p" postgres -c "SHOW schemakit.code_key_file"; done | sort -u | wc -l)
is "$keyfiles" 1 "every node reads the same code key file"
walk "(a) local, coordinator" "$CN_PORT" sk_local
walk "(a) local, worker (its own tables)" "$W1_PORT" sk_local 'grant_app'
is "$(cstate "$W1_PORT" sk_local "SELECT schemakit.grant_app('postgres')")" XX000 "(a) a worker refuses grant_app (Citus: grants from the coordinator)"

# ---------------------------------------------------------------------------
echo "# (b) every table a reference table"
new_db sk_ref
# Before distribution: a user, two sessions, a reset token, a code.
uid=$(cq "$CN_PORT" sk_ref -c "INSERT INTO schemakit.users (username, email) VALUES ('ada', 'ada@example.com') RETURNING id")
s_old=$(cq "$CN_PORT" sk_ref -c "SELECT schemakit.issue_session($uid, '1 hour')")
s_keep=$(cq "$CN_PORT" sk_ref -c "SELECT schemakit.issue_session($uid, '1 hour')")
is "$(cq "$CN_PORT" sk_ref -c "SELECT schemakit.session_user_id('$s_old')")" "$uid" "(b) before distribution: the session is live"
is "$(cstate "$CN_PORT" sk_ref "SELECT create_reference_table('schemakit.users')")" XX000 \
    "(b) with Citus's defaults a table with triggers is refused (citus.enable_unsafe_triggers)"
if reference sk_ref $TABLES; then pass "(b) every table but migrations is a reference table"; else fail "(b) every table but migrations is a reference table"; fi
isnt "$(cstate "$CN_PORT" sk_ref "SET citus.enable_unsafe_triggers = on; SELECT create_reference_table('schemakit.migrations')")" 00000 \
    "(b) migrations stays local: Citus refuses it (its merge trigger would query from a shard)"
layout_is sk_ref "_code_key:n email_codes:n files:n invitations:n memberships:n oauth_accounts:n organizations:n password_reset_tokens:n sessions:n snippets:n users:n verifications:n" \
    "(b) the reference tables in Citus's metadata"
for p in "$CN_PORT" "$W1_PORT" "$W2_PORT"; do
    is "$(cq "$p" sk_ref -c "SELECT schemakit.session_user_id('$s_old')")" "$uid" "(b) a session made before distribution is live on node $p"
done
is "$(cq "$CN_PORT" sk_ref -c "SELECT schemakit.revoke_session('$s_old')")" t "(b) revoking it after distribution (coordinator)"
for p in "$CN_PORT" "$W1_PORT" "$W2_PORT"; do
    is "$(cq "$p" sk_ref -c "SELECT schemakit.session_user_id('$s_old') IS NULL")" t "(b) the revoked session is refused on node $p (not the coordinator's stale heap)"
    is "$(cq "$p" sk_ref -c "SELECT schemakit.session_user_id('$s_keep')")" "$uid" "(b) the other session stays live on node $p"
    is "$(cq "$p" sk_ref -c "SELECT s.user_id FROM schemakit.find_session('$s_keep') s")" "$uid" "(b) find_session on node $p"
done
walk "(b) reference, coordinator" "$CN_PORT" sk_ref
# From a worker: what the coordinator wrote.
code=$(cq "$CN_PORT" sk_ref -c "SELECT schemakit.issue_email_code('grace@example.com')")
like "$code" '^[0-9]{6}$' "(b) a code issued via the coordinator"
is "$(cq "$W1_PORT" sk_ref -c "SELECT schemakit.verify_email_code('Grace@example.com', '$code')")" t "(b) ... verifies once on a worker (the same key on every node)"
is "$(cq "$W2_PORT" sk_ref -c "SELECT schemakit.verify_email_code('grace@example.com', '$code')")" f "(b) ... and never again, on the other worker"
tok=$(cq "$CN_PORT" sk_ref -c "SELECT schemakit.issue_password_reset_token($uid)")
is "$(cq "$W2_PORT" sk_ref -c "SELECT schemakit.consume_password_reset_token('$tok')")" "$uid" "(b) a reset token issued via the coordinator is consumed on a worker"
is "$(cq "$W1_PORT" sk_ref -c "SELECT schemakit.consume_password_reset_token('$tok') IS NULL")" t "(b) ... exactly once"
is "$(cq "$W1_PORT" sk_ref -c "SELECT schemakit.revoke_user_sessions($uid)")" 1 "(b) revoke_user_sessions on a worker"
is "$(cq "$CN_PORT" sk_ref -c "SELECT schemakit.session_user_id('$s_keep') IS NULL")" t "(b) ... seen by the coordinator"
is "$(cstate "$CN_PORT" sk_ref "INSERT INTO schemakit.snippets (owner_id, title, body) VALUES (999999, 'x', 'y')")" 23503 \
    "(b) a snippet of an unknown user is refused (the shard's foreign key checks on the shards)"
is "$(cq "$CN_PORT" sk_ref -c "SELECT count(*) FROM schemakit.users")" "$(cq "$W1_PORT" sk_ref -c "SELECT count(*) FROM schemakit.users")" \
    "(b) a worker reads the same users"

# ---------------------------------------------------------------------------
echo "# (c) citus local tables"
new_db sk_cl
is "$(cstate "$CN_PORT" sk_cl "SET citus.enable_unsafe_triggers = on; SELECT citus_add_local_table_to_metadata('schemakit.users', cascade_via_foreign_keys => true)")" 2BP01 \
    "(c) Citus refuses citus local tables (it cannot move schemakit's identity sequences)"
layout_is sk_cl "-" "(c) nothing was added to Citus's metadata"
walk "(c) after the refusal, coordinator" "$CN_PORT" sk_cl

# ---------------------------------------------------------------------------
echo "# (d) hash-distributed where Citus accepts it"
new_db sk_hash
is "$(cstate "$CN_PORT" sk_hash "SET citus.enable_unsafe_triggers = on; SELECT create_distributed_table('schemakit.users', 'id')")" 0A000 \
    "(d) users cannot be hash-distributed (a unique key without the distribution column)"
is "$(cstate "$CN_PORT" sk_hash "SET citus.enable_unsafe_triggers = on; SELECT create_distributed_table('schemakit.sessions', 'user_id')")" 42P16 \
    "(d) sessions cannot be hash-distributed (a foreign key to a local table, unique token_hash)"
is "$(cstate "$CN_PORT" sk_hash "SELECT create_distributed_table('schemakit.verifications', 'id')")" 00000 \
    "(d) verifications can be hash-distributed as it is"
layout_is sk_hash "verifications:h" "(d) verifications is hash-distributed"
cq "$CN_PORT" sk_hash -c "INSERT INTO schemakit.verifications (identifier_hash, value, expires_at)
    SELECT sha256(convert_to('v' || i, 'UTF8')), 'x', now() + CASE WHEN i % 2 = 0 THEN interval '1 day' ELSE interval '-3 days' END
      FROM generate_series(1, 20) i" >/dev/null
is "$(cq "$CN_PORT" sk_hash -c "SELECT schemakit.purge_expired()")" 10 "(d) purge_expired deletes the 10 dead verification values of a hash-distributed table"
is "$(cq "$CN_PORT" sk_hash -c "SELECT count(*) FROM schemakit.verifications")" 10 "(d) ... and keeps the 10 live ones"
walk "(d) verifications hash-distributed, coordinator" "$CN_PORT" sk_hash

# ---------------------------------------------------------------------------
echo "# (m) a mix: users, sessions, organizations, memberships reference; the rest local"
new_db sk_mix
if reference sk_mix users sessions organizations memberships; then pass "(m) the mix is made"; else fail "(m) the mix is made"; fi
layout_is sk_mix "memberships:n organizations:n sessions:n users:n" "(m) four reference tables"
walk "(m) mix, coordinator" "$CN_PORT" sk_mix

citus_log "suite took $((SECONDS - T0)) s"
done_testing >/dev/null
echo "1..$_tap_n"
echo "$((_tap_n - _tap_failed)) passed, $_tap_failed failed"
[ "$_tap_failed" -eq 0 ]
