-- test/lib/public-functions.sql - the public functions of the installed
-- schemakit, one signature a line, sorted: what grant_app counts as public
-- (members of the extension, not "_"-prefixed, not trigger functions).
-- Shared by test/scripts/18-regress-coverage.sh, 25-smoke.sh and test/citus.sh.
SELECT p.oid::regprocedure::text
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'schemakit'
 WHERE p.proname !~ '^_' AND p.prorettype <> 'trigger'::regtype
 ORDER BY 1;
