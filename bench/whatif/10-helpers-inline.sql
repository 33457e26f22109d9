-- bench/whatif/10-helpers-inline.sql - a proposed change, measured, not shipped.
-- Applied by `BENCH_WHATIF=1 bench/run` to a copy of the pairs database only.
--
-- The helpers below are SQL functions with a SET clause (and _token_hash is
-- declared IMMUTABLE around the STABLE convert_to()), so the planner never
-- inlines them: every call goes through fmgr_sql, which parses, analyzes and
-- plans the body again in each new query execution - once per session
-- lookup, token consume, code issue or verify, and once per INSERT for the
-- CHECK (_email_ok(email)) constraints.  The bodies are fully qualified
-- (operators too), so they need no pinned search_path; their callers are
-- SECURITY DEFINER functions that pin it anyway.
--
-- _token_hash: STABLE (what convert_to is), no SET -> inlined into the query.
CREATE OR REPLACE FUNCTION schemakit._token_hash(token text)
RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')) $$;

-- _email_ok: PL/pgSQL, no SET: compiled once per session, its expression
-- plan cached; no parse per call (an inlinable SQL version would still be
-- re-parsed per INSERT when the CHECK constraint is prepared).
CREATE OR REPLACE FUNCTION schemakit._email_ok(email text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
    RETURN pg_catalog.char_length(email) OPERATOR(pg_catalog.<=) 255
       AND email OPERATOR(pg_catalog.~) '^[^[:space:]@]+@[^[:space:]@]+$';
END
$$;

-- _code_hash_keyed: PL/pgSQL, no SET: the key lookup is planned once per session.
CREATE OR REPLACE FUNCTION schemakit._code_hash_keyed(email text, code text)
RETURNS bytea
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
BEGIN
    RETURN schemakit._code_hmac(
        'schemakit/email-code/' OPERATOR(pg_catalog.||) pg_catalog.lower(email)
            OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) code,
        (SELECT k.key FROM schemakit._code_key k));
END
$$;
