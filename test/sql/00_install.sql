--
-- 00_install: CREATE EXTENSION, its guard, member objects, pg_dump
-- registrations and the migrations record of schemakit 1.0.
--
-- The extension is installed as VERSION '1.0' explicitly: these files test
-- that version, whatever default_version the control file names.
--
-- Also creates the test-only schema "regress" with the helper the later
-- files use to show an error's SQLSTATE together with its message.
--
\set SHOW_CONTEXT never

SELECT getdatabaseencoding();

CREATE SCHEMA regress;

-- regress.err(stmt): runs stmt and returns 'SQLSTATE: message', followed by
-- the DETAIL and HINT when there are any, or 'no error'.  A DETAIL of the
-- form "Failing row contains (...)" holds ids and timestamps and is left
-- out; with_detail => false leaves out every DETAIL (for ones that name a
-- random value).  Each call runs in a subtransaction, so an error does not
-- abort an enclosing transaction block.
CREATE FUNCTION regress.err(stmt text, with_detail boolean DEFAULT true)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    st text;
    msg text;
    det text;
    hnt text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    msg := st || ': ' || msg;
    IF with_detail AND det <> '' AND det NOT LIKE 'Failing row contains (%' THEN
        msg := msg || ' DETAIL: ' || det;
    END IF;
    IF hnt <> '' THEN
        msg := msg || ' HINT: ' || hnt;
    END IF;
    RETURN msg;
END
$$;

--
-- The install guard: a schema "schemakit" that already holds objects, or
-- that a less privileged role owns, is refused.
--
CREATE SCHEMA schemakit;
CREATE TABLE schemakit.squatter (x integer);
SELECT regress.err('CREATE EXTENSION schemakit VERSION ''1.0''');
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'schemakit';
DROP SCHEMA schemakit CASCADE;

CREATE ROLE regress_schemakit_owner NOLOGIN;
CREATE SCHEMA schemakit AUTHORIZATION regress_schemakit_owner;
SELECT regress.err('CREATE EXTENSION schemakit VERSION ''1.0''');
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'schemakit';
DROP SCHEMA schemakit;
DROP ROLE regress_schemakit_owner;

-- A schema that exists but is empty and owned by us is accepted ...
CREATE SCHEMA schemakit;
CREATE EXTENSION schemakit VERSION '1.0';
SELECT extname, extversion, extnamespace::regnamespace AS schema, extrelocatable
  FROM pg_extension WHERE extname = 'schemakit';
-- ... and DROP EXTENSION leaves it behind, empty, for the next install.
DROP EXTENSION schemakit;
SELECT nspname FROM pg_namespace WHERE nspname = 'schemakit';
DROP SCHEMA schemakit;

-- The install the later tests use: the schema comes from the control file.
CREATE EXTENSION schemakit VERSION '1.0';
SELECT extname, extversion, extnamespace::regnamespace AS schema, extrelocatable
  FROM pg_extension WHERE extname = 'schemakit';
SELECT regress.err('CREATE EXTENSION schemakit VERSION ''1.0''');

-- Every member object of the extension.
SELECT pg_describe_object(classid, objid, objsubid) AS member
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'schemakit')
   AND deptype = 'e'
 ORDER BY 1;

-- Nothing in the schema escapes membership.
SELECT c.oid::regclass AS not_a_member
  FROM pg_class c
 WHERE c.relnamespace = 'schemakit'::regnamespace
   AND c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1;

-- Constraints, indexes and triggers of the tables.
SELECT conrelid::regclass AS tab, conname, pg_get_constraintdef(oid) AS definition
  FROM pg_constraint
 WHERE connamespace = 'schemakit'::regnamespace
 ORDER BY conrelid::regclass::text, conname;
SELECT tablename, indexname, indexdef
  FROM pg_indexes
 WHERE schemaname = 'schemakit'
 ORDER BY tablename, indexname;
SELECT tgrelid::regclass AS tab, tgname, pg_get_triggerdef(oid) AS definition
  FROM pg_trigger
 WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace)
   AND NOT tgisinternal
 ORDER BY tgrelid::regclass::text, tgname;

-- Functions: argument lists, volatility, strictness, parallel safety and
-- the search_path pinned on the non-C ones.
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       l.lanname AS lang, p.provolatile AS vol, p.proisstrict AS strict,
       p.proparallel AS par, p.proconfig AS config
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'schemakit'::regnamespace
 ORDER BY p.oid::regprocedure::text;

-- Argument defaults of the public functions.
SELECT p.oid::regprocedure AS function,
       pg_get_function_arguments(p.oid) AS arguments
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace AND p.pronargdefaults > 0
 ORDER BY p.oid::regprocedure::text;

-- Tables, sequences and sequence state that pg_dump keeps (extconfig), and
-- their filter conditions (all empty: every row is dumped).
SELECT cfg::regclass AS dumped, cond = '' AS whole_table
  FROM pg_extension e,
       unnest(e.extconfig, e.extcondition) AS u(cfg, cond)
 WHERE e.extname = 'schemakit'
 ORDER BY cfg::regclass::text;

-- The migrations record holds exactly this version.
SELECT version FROM schemakit.migrations ORDER BY version;
SELECT applied_at <= now() AS applied_in_the_past FROM schemakit.migrations;

-- migrations_merge: a restored row for a version already recorded keeps
-- one row with the earlier applied_at, whichever order they arrive in.
BEGIN;
INSERT INTO schemakit.migrations (version, applied_at)
VALUES ('1.0', '2000-01-01 00:00:00+00');
SELECT version, applied_at = '2000-01-01 00:00:00+00' AS earliest_kept
  FROM schemakit.migrations;
INSERT INTO schemakit.migrations (version, applied_at)
VALUES ('1.0', '2010-01-01 00:00:00+00');
SELECT version, applied_at = '2000-01-01 00:00:00+00' AS earliest_kept
  FROM schemakit.migrations;
-- A new version is inserted as usual.
INSERT INTO schemakit.migrations (version) VALUES ('0.9');
SELECT version FROM schemakit.migrations ORDER BY version;
ROLLBACK;
SELECT version FROM schemakit.migrations ORDER BY version;

-- The table and function comments are installed.
SELECT c.oid::regclass AS relation, obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class c
 WHERE c.relnamespace = 'schemakit'::regnamespace AND c.relkind = 'r'
 ORDER BY c.oid::regclass::text;
SELECT p.oid::regprocedure AS function, obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc p
 WHERE p.pronamespace = 'schemakit'::regnamespace
   AND obj_description(p.oid, 'pg_proc') IS NOT NULL
 ORDER BY p.oid::regprocedure::text;
