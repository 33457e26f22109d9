-- test/lib/fingerprint.sql - a catalog fingerprint of the installed schemakit:
-- everything that must be identical between a fresh install of a version and
-- an install upgraded (or downgraded) to it.  One sorted line per fact, no
-- OIDs, no timestamps.  Used by test/scripts/20-upgrade-chain.sh.
\set ON_ERROR_STOP 1
SET search_path = pg_catalog;
\pset format unaligned
\pset tuples_only on

-- ACLs are compared by meaning: NULL (the default) equals the same grants
-- written out, and entries are sorted.
CREATE FUNCTION pg_temp.acl_text(acl aclitem[], kind text, owner oid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(x, ',' ORDER BY x), '-')
      FROM (SELECT CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE e.grantee::regrole::text END
                   || ':' || e.privilege_type || CASE WHEN e.is_grantable THEN '*' ELSE '' END AS x
              FROM aclexplode(coalesce(acl, acldefault(kind::"char", owner))) e) s
$$;

WITH ext AS (
    SELECT oid, extversion, extconfig, extcondition
      FROM pg_extension WHERE extname = 'schemakit'
), ns AS (
    SELECT 'schemakit'::regnamespace AS oid
), rels AS (
    SELECT c.* FROM pg_class c, ns WHERE c.relnamespace = ns.oid
)
SELECT line FROM (
    SELECT 'extension|' || e.extversion AS line FROM ext e
    UNION ALL
    SELECT 'schema-acl|' || pg_temp.acl_text(n.nspacl, 'n', n.nspowner)
      FROM pg_namespace n, ns WHERE n.oid = ns.oid
    UNION ALL
    SELECT 'relation|' || c.relname || '|' || c.relkind::text || '|' || c.relpersistence::text
           || '|acl=' || pg_temp.acl_text(c.relacl, CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END, c.relowner)
           || '|comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
           || '|options=' || coalesce(c.reloptions::text, '-')
           || '|rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
           || '|replident=' || c.relreplident::text
      FROM rels c
    UNION ALL
    -- The column's place among the live columns: a column dropped by a
    -- downgrade leaves a gap in attnum that is not part of the shape.
    SELECT 'column|' || c.relname || '|'
           || (SELECT count(*) FROM pg_attribute b WHERE b.attrelid = c.oid AND b.attnum > 0
                  AND NOT b.attisdropped AND b.attnum <= a.attnum) || '|' || a.attname || '|'
           || format_type(a.atttypid, a.atttypmod)
           || '|notnull=' || a.attnotnull
           || '|identity=' || a.attidentity::text
           || '|generated=' || a.attgenerated::text
           || '|default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
           || '|collation=' || coalesce(a.attcollation::regcollation::text, '-')
           || '|comment=' || coalesce(col_description(c.oid, a.attnum), '-')
      FROM rels c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relkind IN ('r', 'p', 'v', 'm')
    UNION ALL
    SELECT 'constraint|' || c.relname || '|' || k.conname || '|' || k.contype::text || '|'
           || pg_get_constraintdef(k.oid)
      FROM rels c JOIN pg_constraint k ON k.conrelid = c.oid
    UNION ALL
    SELECT 'index|' || i.relname || '|' || pg_get_indexdef(i.oid)
      FROM rels i WHERE i.relkind = 'i'
    UNION ALL
    SELECT 'trigger|' || pg_get_triggerdef(t.oid) || '|enabled=' || t.tgenabled::text
      FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
    UNION ALL
    -- A constraint's own triggers (foreign keys): their names carry OIDs, so
    -- they are named by constraint and function; whether each one fires.
    SELECT 'constraint-trigger|' || c.relname || '|' || k.conname || '|' || t.tgfoid::regproc::text
           || '|enabled=' || t.tgenabled::text
      FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgisinternal
      JOIN pg_constraint k ON k.oid = t.tgconstraint
    UNION ALL
    SELECT 'sequence|' || c.relname || '|' || format_type(s.seqtypid, NULL) || '|'
           || s.seqstart || '|' || s.seqincrement || '|' || s.seqmax || '|'
           || s.seqmin || '|' || s.seqcache || '|' || s.seqcycle
      FROM rels c JOIN pg_sequence s ON s.seqrelid = c.oid
    UNION ALL
    SELECT 'function|' || p.oid::regprocedure::text
           || '|returns=' || pg_get_function_result(p.oid)
           || '|args=' || pg_get_function_arguments(p.oid)
           || '|lang=' || l.lanname
           || '|volatile=' || p.provolatile::text || '|parallel=' || p.proparallel::text
           || '|strict=' || p.proisstrict || '|secdef=' || p.prosecdef
           || '|config=' || coalesce(p.proconfig::text, '-')
           || '|acl=' || pg_temp.acl_text(p.proacl, 'f', p.proowner)
           || '|comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
           || '|md5=' || md5(pg_get_functiondef(p.oid))
      FROM pg_proc p, ns, pg_language l
     WHERE p.pronamespace = ns.oid AND l.oid = p.prolang
    UNION ALL
    SELECT 'member|' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend d, ext e
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
       AND d.deptype = 'e'
    UNION ALL
    SELECT 'config-dump|' || cfg.rel::regclass::text || '|' || coalesce(cfg.cond, '-')
      FROM ext e,
           unnest(e.extconfig, e.extcondition) AS cfg (rel, cond)
    UNION ALL
    SELECT 'init-priv|' || pg_describe_object(ip.classoid, ip.objoid, ip.objsubid)
           || '|' || ip.privtype::text || '|' || pg_temp.acl_text(ip.initprivs, 'f', 10)
      FROM pg_init_privs ip
      JOIN pg_depend d ON d.classid = ip.classoid AND d.objid = ip.objoid
      JOIN ext e ON d.refobjid = e.oid AND d.deptype = 'e'
      LEFT JOIN pg_proc p ON ip.classoid = 'pg_proc'::regclass AND p.oid = ip.objoid
      LEFT JOIN pg_class c ON ip.classoid = 'pg_class'::regclass AND c.oid = ip.objoid
     -- an initial privilege equal to the default is no privilege change at all
     WHERE pg_temp.acl_text(ip.initprivs, 'f', 10) IS DISTINCT FROM
           CASE WHEN p.oid IS NOT NULL THEN pg_temp.acl_text(NULL, 'f', p.proowner)
                WHEN c.oid IS NOT NULL THEN pg_temp.acl_text(NULL, CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END, c.relowner)
           END
) facts
ORDER BY line;
