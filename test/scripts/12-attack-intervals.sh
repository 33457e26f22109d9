#!/usr/bin/env bash
# Attack class: interval arithmetic.  Intervals compare as if a month were 30
# days and a year 360, so a mixed-sign value can compare small and land far
# away: under 1.4, issue_email_code(e, '200000 years -71999999 days') expired
# in the year 4897, and purge_expired('-100 years 36001 days') deleted every
# live session.  1.5 judges every ttl and older_than by the timestamp it
# produces.
#
# Property test: for each function that takes an interval, thousands of
# random intervals (each field zero, small or huge, of either sign), plus
# the named attacks and the edges.  For each, the expected answer is computed
# independently in SQL: the timestamp now() +/- interval (no timestamp if
# PostgreSQL cannot produce one), inside or outside the bounds.  The function
# must succeed exactly when it is inside (and store exactly that timestamp),
# and raise 22023 otherwise: never 22008, never another code.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DB=sk_intervals
N=${SK_INTERVAL_CASES:-3000}
trap 'dropdb --if-exists $DB 2>/dev/null; dropdb --if-exists ${DB}_14 2>/dev/null' EXIT

fresh_db $DB
sql $DB >/dev/null <<'SQL'
ALTER DATABASE sk_intervals SET schemakit.email_code_issue_limit = 1000;
INSERT INTO schemakit.users (username, email) VALUES ('ivy', 'ivy@example.com');

-- A random interval: each field zero, small or huge, of either sign.
CREATE FUNCTION public.rand_field(small bigint, huge bigint) RETURNS bigint
LANGUAGE sql AS $$
    SELECT (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) *
           CASE floor(random() * 4)::int
                WHEN 0 THEN 0
                WHEN 1 THEN floor(random() * small)::bigint
                WHEN 2 THEN floor(random() * huge)::bigint
                ELSE floor(random() * (huge / 1000 + 1))::bigint END
$$;
CREATE FUNCTION public.rand_interval() RETURNS interval
LANGUAGE sql AS $$
    SELECT make_interval(months => public.rand_field(30, 2147483647)::int)
         + make_interval(days => public.rand_field(800, 2147483647)::int)
         + (public.rand_field(3 * 86400000000, 9000000000000000000) || ' microseconds')::interval
$$;

-- The cases: named attacks, edges, then random ones.
CREATE TABLE public.cases (n serial, iv interval);
INSERT INTO public.cases (iv) VALUES
    ('200000 years -71999999 days'), ('1 year -359 days'), ('-100 years 36001 days'),
    ('1 mon -29 days'), ('1 mon'), ('-1 mon 31 days'), ('1 day'), ('1 day 1 microsecond'),
    ('24 hours'), ('24:00:00.000001'), ('0'), ('-1 microsecond'), ('1 microsecond'),
    ('7 days'), ('7 days 1 second'), ('366 days'), ('367 days'), ('1 year'), ('1 year 1 day'),
    ('100 years'), ('100 years 1 day'), ('-100 years'), ('1200 months -36500 days'),
    ('178000000 years'), ('-178000000 years'), ('2147483647 days'), ('-2147483648 days'),
    ('2147483647 mons -2147483648 days'), ('9223372036854775807 microseconds'),
    ('-9223372036854775807 microseconds'), ('2000 years -730485 days'), ('-10000 years 3652425 days');
SQL
sql $DB -c "INSERT INTO public.cases (iv) SELECT public.rand_interval() FROM generate_series(1, $N)" >/dev/null
# and as many near the bounds: small fields of mixed signs
sql $DB -c "INSERT INTO public.cases (iv)
            SELECT make_interval(months => (floor(random() * 29) - 14)::int, days => (floor(random() * 801) - 400)::int)
                   + ((floor(random() * 4 * 86400000000) - 2 * 86400000000)::bigint || ' microseconds')::interval
              FROM generate_series(1, $N)" >/dev/null
ncases=$(sql $DB -c "SELECT count(*) FROM public.cases")

sql $DB >/dev/null <<'SQL'
-- now() + sign * iv as PostgreSQL computes it, or NULL if it cannot.
CREATE FUNCTION public.shifted(iv interval, sign int) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    RETURN CASE WHEN sign > 0 THEN now() + iv ELSE now() - iv END;
EXCEPTION WHEN datetime_field_overflow THEN
    RETURN NULL;
END $$;

-- judge(kind, iv): '' when the function did what the bounds say, else why not.
CREATE FUNCTION public.judge(kind text, n int, iv interval) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz;
    inside boolean;
    state text := '00000';
    stored timestamptz;
    tok text;
BEGIN
    IF kind = 'purge_expired' THEN
        t := public.shifted(iv, -1);
        inside := t IS NOT NULL AND t <= now() AND t >= now() - interval '100 years';
    ELSE
        t := public.shifted(iv, 1);
        inside := t IS NOT NULL AND t > now() AND t <= now() + CASE kind
            WHEN 'issue_email_code' THEN interval '1 day'
            WHEN 'issue_password_reset_token' THEN interval '7 days'
            ELSE interval '366 days' END;
    END IF;
    BEGIN
        CASE kind
        WHEN 'issue_email_code' THEN
            PERFORM schemakit.issue_email_code('case' || n || '@example.com', iv);
            SELECT expires_at INTO stored FROM schemakit.email_codes WHERE email = 'case' || n || '@example.com';
        WHEN 'issue_password_reset_token' THEN
            tok := schemakit.issue_password_reset_token(1, iv);
            SELECT expires_at INTO stored FROM schemakit.password_reset_tokens WHERE token_hash = sha256(convert_to(tok, 'UTF8'));
        WHEN 'issue_session' THEN
            tok := schemakit.issue_session(1, iv);
            SELECT expires_at INTO stored FROM schemakit.sessions WHERE token_hash = sha256(convert_to(tok, 'UTF8'));
        WHEN 'purge_expired' THEN
            PERFORM schemakit.purge_expired(iv);
        END CASE;
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    IF inside AND state <> '00000' THEN
        RETURN format('%s(%s): inside the bounds (%s) but raised %s', kind, iv, t, state);
    ELSIF NOT inside AND state <> '22023' THEN
        RETURN format('%s(%s): outside the bounds (%s) but got %s', kind, iv, coalesce(t::text, 'no timestamp'), state);
    ELSIF inside AND kind <> 'purge_expired' AND stored IS DISTINCT FROM t THEN
        RETURN format('%s(%s): stored expiry %s, not %s', kind, iv, stored, t);
    END IF;
    RETURN '';
END $$;
SQL

tried=0
held=0
for fn in issue_email_code issue_password_reset_token issue_session purge_expired; do
    out=$(sql $DB -c "SELECT coalesce(string_agg(r, E'\n') FILTER (WHERE r <> ''), '') || '|' || count(*) || '|' ||
                             count(*) FILTER (WHERE r = '')
                        FROM (SELECT public.judge('$fn', n, iv) AS r FROM public.cases ORDER BY n) s" 2>&1)
    bad=${out%%|*}
    rest=${out#*|}
    total=${rest%%|*}
    ok=${rest#*|}
    tried=$((tried + total))
    held=$((held + ok))
    is "$ok/$total" "$ncases/$ncases" "$fn: every one of $ncases intervals judged by the timestamp it produces (22023 outside, never 22008)"
    [ -n "$bad" ] && printf '%s\n' "$bad" | head -10 | sed 's/^/#   /'
done
inside=$(sql $DB -c "SELECT count(*) FILTER (WHERE public.shifted(iv, 1) BETWEEN now() AND now() + interval '366 days')
                     FROM public.cases")
echo "# $inside of $ncases intervals land inside a session's bounds; the rest must be refused"

# The named attacks, one by one, with their SQLSTATE.
is "$(sqlstate $DB "SELECT schemakit.issue_email_code('a1@example.com', '200000 years -71999999 days')")" 22023 \
   "issue_email_code('200000 years -71999999 days') is 22023 (1.4: expiry in 4897)"
is "$(sqlstate $DB "SELECT schemakit.issue_email_code('a2@example.com', '1 year -359 days')")" 22023 \
   "issue_email_code('1 year -359 days') is 22023 (1.4: a 6-day code)"
sql $DB -c "SELECT schemakit.issue_session(1)" >/dev/null
live0=$(sql $DB -c "SELECT count(*) FROM schemakit.sessions WHERE revoked_at IS NULL AND expires_at > now()")
is "$(sqlstate $DB "SELECT schemakit.purge_expired('-100 years 36001 days')")" 22023 \
   "purge_expired('-100 years 36001 days') is 22023 (1.4: purged every live session)"
is "$(sql $DB -c "SELECT count(*) FROM schemakit.sessions WHERE revoked_at IS NULL AND expires_at > now()")" "$live0" \
   "... and all $live0 live sessions are still there"

# Control: 1.4 accepts the attacks, so this suite can fail.
fresh_db ${DB}_14 1.4
is "$(sqlstate ${DB}_14 "SELECT schemakit.issue_email_code('a1@example.com', '200000 years -71999999 days')")" 00000 \
   "control: 1.4 accepts issue_email_code('200000 years -71999999 days')"

echo "# intervals: $tried attacks tried, $held held"
done_testing
