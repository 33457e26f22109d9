/*
 * schemakit 1.3 -> 1.4: the hot paths in C, and writes that can be HOT.
 *
 * Nothing here changes what a function returns or which rows a table
 * accepts; every row and every grant is kept.
 *
 * - _token_hash, _email_ok and _code_hash_keyed become C functions.  As SQL
 *   functions with a pinned search_path the planner could not inline them,
 *   so their bodies were parsed and planned again on every session lookup,
 *   token consume, code issue and verify, and every INSERT the email CHECK
 *   constraints checked.  They hash and match exactly as before, so stored
 *   hashes keep matching and stored addresses keep passing.
 * - session_user_id(text) reads through the token index in C.  Only the
 *   once-a-minute last_seen_at refresh runs SQL, as the table owner under a
 *   pinned search_path; the function itself is no longer SECURITY DEFINER.
 * - password_reset_tokens is purged by expiry alone, so no index covers
 *   used_at or revoked_at and consuming a token is a HOT update; the table
 *   keeps 15 % of each new page free for those updates.
 * - email_codes loses email_codes_expires_at_idx, which nothing has read
 *   since the purge moved to email_codes_dead_at_idx in 1.2.
 *
 * Locks: the two DROP INDEX take ACCESS EXCLUSIVE on password_reset_tokens
 * and email_codes for a moment; CREATE INDEX holds SHARE on
 * password_reset_tokens while it builds (reset tokens are few).
 *
 * Released scripts are frozen (test/frozen.sha256); fixes go into the next
 * version.
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.4'" to load this file. \quit

-------------------------------------------------------------------------------
-- Helpers in C.  CREATE OR REPLACE keeps each function's OID (the CHECK
-- constraints refer to _email_ok by OID), its grants and its comment.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit._token_hash(token text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'schemakit_token_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION schemakit._email_ok(email text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'schemakit_email_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Reads schemakit._code_key (the per-database key) only when
-- schemakit.code_hmac_key is not set.
CREATE OR REPLACE FUNCTION schemakit._code_hash_keyed(email text, code text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'schemakit_code_hash_keyed'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-------------------------------------------------------------------------------
-- session_user_id: not STRICT (NULL in, NULL out, as before), VOLATILE (it
-- may refresh last_seen_at), PARALLEL UNSAFE (it may write).
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit.session_user_id(token text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'schemakit_session_user_id'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-------------------------------------------------------------------------------
-- Reset tokens: purged by expiry, so the consume UPDATE touches no indexed
-- column.  A used or revoked token now stays until it expires (at most
-- 7 days) plus purge_expired's older_than; it holds only a hash.
-------------------------------------------------------------------------------

DROP INDEX schemakit.password_reset_tokens_dead_at_idx;
CREATE INDEX password_reset_tokens_expires_at_idx
    ON schemakit.password_reset_tokens (expires_at);
ALTER TABLE schemakit.password_reset_tokens SET (fillfactor = 85);

DROP INDEX schemakit.email_codes_expires_at_idx;

CREATE OR REPLACE FUNCTION schemakit.purge_expired(older_than interval DEFAULT '1 day')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    batch constant integer := 5000;
    window_start timestamptz;
    purge record;
    n bigint;
    total bigint := 0;
BEGIN
    IF older_than IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'older_than must not be NULL';
    END IF;
    IF older_than < interval '0' OR older_than > interval '100 years' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'older_than must be between 0 and 100 years',
            DETAIL = pg_catalog.format('The interval given was %s.', older_than);
    END IF;
    cutoff := pg_catalog.now() - older_than;
    -- Email codes of the limit window are what the limits count: keep them.
    -- (Before the library is loaded in this session the setting may not be
    -- defined yet; its default is 900 seconds.)
    window_start := pg_catalog.now()
        - COALESCE(pg_catalog.current_setting('schemakit.email_code_window', true), '900')::interval;

    -- Each condition matches an index: email_codes_dead_at_idx,
    -- password_reset_tokens_expires_at_idx, sessions_dead_at_idx.
    FOR purge IN
        SELECT v.tbl, v.dead_at, v.keep
          FROM (VALUES ('email_codes', 'LEAST(x.expires_at, x.used_at, x.revoked_at)', ' AND x.created_at < $3'),
                       ('password_reset_tokens', 'x.expires_at', ''),
                       ('sessions', 'LEAST(x.expires_at, x.revoked_at)', '')) AS v (tbl, dead_at, keep)
    LOOP
        FOR i IN 1..20 LOOP
            EXECUTE pg_catalog.format(
                'DELETE FROM schemakit.%1$I t WHERE t.id = ANY (ARRAY('
                '  SELECT x.id FROM schemakit.%1$I x WHERE %2$s < $1%3$s'
                '   LIMIT $2 FOR UPDATE SKIP LOCKED))', purge.tbl, purge.dead_at, purge.keep)
            USING cutoff, batch, window_start;
            GET DIAGNOSTICS n = ROW_COUNT;
            total := total + n;
            EXIT WHEN n < batch;
        END LOOP;
    END LOOP;

    RETURN total;
END
$$;

-------------------------------------------------------------------------------
-- Record the step.
-------------------------------------------------------------------------------

INSERT INTO schemakit.migrations (version) VALUES ('1.4');
