#!/usr/bin/env bash
# pg_cron runs schemakit.purge_expired() on schedule, as the README shows:
# a job scheduled from cron.database_name (postgres) with
# cron.schedule_in_database() into a schemakit database runs, succeeds,
# deletes the rows dead for more than a day in email_codes,
# password_reset_tokens and sessions, and keeps live and recently dead rows.
#
# Needs a cluster with shared_preload_libraries = 'pg_cron' (test/run starts
# one, with cron.use_background_workers = on).  pg_cron fires at most once a
# minute, so this suite waits up to SK_CRON_WAIT seconds (default 75) for
# the first run.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_cron
JOB=schemakit-purge-test
WAIT=${SK_CRON_WAIT:-75}
CRON_DB=$(sql postgres -c "SELECT current_setting('cron.database_name', true)")
CRON_DB=${CRON_DB:-postgres}

like "$(sql postgres -c "SHOW shared_preload_libraries")" '(^|[ ,])pg_cron($|[ ,])' \
     "pg_cron is in shared_preload_libraries"
if [ "$_tap_failed" -ne 0 ]; then
    echo "# this suite needs a cluster started with -o shared_preload_libraries=pg_cron (see test/run)"
    done_testing
    exit 1
fi
is "$CRON_DB" postgres "cron.database_name is postgres (the default)"

# A schemakit database with rows dead for more than a day, rows dead for
# less than a day, and live rows, in each of the three purged tables.
# Labels are kept in the rows: the email's local part, or the preimage of
# token_hash.
fresh_db "$DB"
sql "$DB" >/dev/null <<'SQL'
INSERT INTO schemakit.users (username, email) VALUES ('cron-ada', 'ada@cron.example');
-- email_codes
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, used_at, revoked_at, created_at)
SELECT l || '@cron.example', sha256(convert_to(l, 'UTF8')), now() + e, now() + us, now() + r, now() - interval '4 days'
  FROM (VALUES ('dead_expired',  interval '-2 days',  NULL::interval,    NULL::interval),
               ('dead_used',     interval '-2 days',  interval '-3 days', NULL),
               ('dead_revoked',  interval '1 hour',   NULL,              interval '-30 hours'),
               ('recent',        interval '-1 hour',  NULL,              NULL)) AS v(l, e, us, r);
SELECT schemakit.issue_email_code('ada@cron.example');
-- the bulk of dead codes: more than one 5000-row batch
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, created_at)
SELECT 'bulk' || g || '@cron.example', sha256(g::text::bytea), now() - interval '3 days', now() - interval '4 days'
  FROM generate_series(1, 6000) g;
-- password_reset_tokens (purged by expiry: the used and revoked ones have
-- expired too)
INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at, used_at, revoked_at)
SELECT u.id, sha256(convert_to(l, 'UTF8')), now() + e, now() + us, now() + r
  FROM schemakit.users u,
       (VALUES ('dead_expired',  interval '-2 days',  NULL::interval,    NULL::interval),
               ('dead_used',     interval '-2 days',  interval '-3 days', NULL),
               ('dead_revoked',  interval '-2 days',  NULL,              interval '-3 days'),
               ('recent',        interval '-1 hour',  interval '-2 hours', NULL)) AS v(l, e, us, r)
 WHERE u.username = 'cron-ada';
SELECT schemakit.issue_password_reset_token(u.id) FROM schemakit.users u WHERE u.username = 'cron-ada';
-- sessions
INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, revoked_at)
SELECT u.id, sha256(convert_to(l, 'UTF8')), now() + e, now() + r
  FROM schemakit.users u,
       (VALUES ('dead_expired',  interval '-2 days',  NULL::interval),
               ('dead_revoked',  interval '20 days',  interval '-2 days'),
               ('recent',        interval '-1 hour',  NULL)) AS v(l, e, r)
 WHERE u.username = 'cron-ada';
SELECT schemakit.issue_session(u.id) FROM schemakit.users u WHERE u.username = 'cron-ada';
SQL

# "dead live recent" counts of one table: dead = dead for more than a day.
COUNTS_SQL="
SELECT format('%s %s %s',
         count(*) FILTER (WHERE LEAST(expires_at, used_at, revoked_at) < now() - interval '1 day'),
         count(*) FILTER (WHERE LEAST(expires_at, used_at, revoked_at) IS NULL
                             OR LEAST(expires_at, used_at, revoked_at) > now()),
         count(*) FILTER (WHERE LEAST(expires_at, used_at, revoked_at) BETWEEN now() - interval '1 day' AND now()))
  FROM schemakit.%s"
counts() {
    local tbl=$1 q
    q=${COUNTS_SQL//schemakit.%s/schemakit.$tbl}
    [ "$tbl" = sessions ] && q=${q//used_at, /}
    sql "$DB" -c "$q"
}
is "$(counts email_codes)" "6003 1 1" "before: email_codes has 6003 dead, 1 live, 1 recently dead"
is "$(counts password_reset_tokens)" "3 1 1" "before: password_reset_tokens has 3 dead, 1 live, 1 recently dead"
is "$(counts sessions)" "2 1 1" "before: sessions has 2 dead, 1 live, 1 recently dead"

# Schedule from the cron database.  pg_cron may already be installed there;
# only drop it at the end if this suite created it.
had_cron=$(sql "$CRON_DB" -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'")
ok_cmd "CREATE EXTENSION IF NOT EXISTS pg_cron in $CRON_DB" \
    sql "$CRON_DB" -c "CREATE EXTENSION IF NOT EXISTS pg_cron"
sql "$CRON_DB" -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = '$JOB'" >/dev/null 2>&1
jobid=$(sql "$CRON_DB" -c "SELECT cron.schedule_in_database('$JOB', '* * * * *', 'SELECT schemakit.purge_expired()', '$DB')" 2>&1)
like "$jobid" '^[0-9]+$' "cron.schedule_in_database returns a job id"
is "$(sql "$CRON_DB" -c "SELECT format('%s|%s|%s|%s', schedule, command, database, active) FROM cron.job WHERE jobid = ${jobid:-0}")" \
   "* * * * *|SELECT schemakit.purge_expired()|$DB|t" "the job runs purge_expired() every minute in $DB"

# Wait for a succeeded run and for the dead rows to be gone.
status=
start=$SECONDS
while [ $((SECONDS - start)) -lt "$WAIT" ]; do
    status=$(sql "$CRON_DB" -c "SELECT string_agg(status, ',' ORDER BY runid) FROM cron.job_run_details WHERE jobid = ${jobid:-0}" 2>/dev/null)
    case ",$status," in
        *,succeeded,*)
            [ "$(counts email_codes | cut -d' ' -f1)" = 0 ] && break;;
        *,failed,*)
            break;;
    esac
    sleep 2
done
echo "# waited $((SECONDS - start)) s; run statuses: ${status:-none}"
like ",$status," ',succeeded,' "a run of the job succeeded within $WAIT s"
is "$(sql "$CRON_DB" -c "SELECT count(*) FROM cron.job_run_details WHERE jobid = ${jobid:-0} AND status = 'failed'")" 0 \
   "no run of the job failed"
is "$(sql "$CRON_DB" -c "SELECT format('%s|%s', database, return_message) FROM cron.job_run_details WHERE jobid = ${jobid:-0} AND status = 'succeeded' ORDER BY runid LIMIT 1")" \
   "$DB|SELECT 1" "the succeeded run ran in $DB and returned one row"

# The dead rows are gone; live and recently dead rows remain.
is "$(counts email_codes)" "0 1 1" "after: email_codes keeps only the live and the recently dead code"
is "$(counts password_reset_tokens)" "0 1 1" "after: password_reset_tokens keeps only the live and the recently dead token"
is "$(counts sessions)" "0 1 1" "after: sessions keeps only the live and the recently dead session"
is "$(sql "$DB" -c "SELECT string_agg(split_part(email, '@', 1), ',' ORDER BY email) FROM schemakit.email_codes WHERE email NOT LIKE 'ada@%'")" \
   "recent" "the labelled code left is the recently dead one"
is "$(sql "$DB" -c "SELECT count(*) FROM schemakit.sessions WHERE token_hash IN (sha256('recent'), sha256('dead_expired'), sha256('dead_revoked'))")" \
   1 "of the labelled sessions only the recently dead one is left"
is "$(sql "$DB" -c "SELECT count(*) FROM schemakit.users")" 1 "the user is untouched"

# Unschedule; no further run is queued.
is "$(sql "$CRON_DB" -c "SELECT cron.unschedule('$JOB')")" t "cron.unschedule removes the job"
is "$(sql "$CRON_DB" -c "SELECT count(*) FROM cron.job WHERE jobname = '$JOB'")" 0 "the job is gone from cron.job"

# Clean up: the run history of this job, pg_cron if this suite created it,
# and the database (a finishing cron worker may still be connected: FORCE).
sql "$CRON_DB" -c "DELETE FROM cron.job_run_details WHERE jobid = ${jobid:-0}" >/dev/null
[ "$had_cron" = 0 ] && sql "$CRON_DB" -c "DROP EXTENSION pg_cron" >/dev/null
ok_cmd "drop database $DB" dropdb --if-exists --force "$DB"
done_testing
