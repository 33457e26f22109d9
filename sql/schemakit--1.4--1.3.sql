/*
 * schemakit 1.4 -> 1.3: downgrade.  The helpers and session_user_id return
 * to their 1.3 SQL and PL/pgSQL forms (same results, slower), the indexes
 * of 1.3 come back, and reset tokens are purged by their dead-at time
 * again.  No row is changed; grants and comments are kept.
 *
 * Released scripts are frozen (test/frozen.sha256).
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.3'" to load this file. \quit

CREATE OR REPLACE FUNCTION schemakit._token_hash(token text)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION schemakit._email_ok(email text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.char_length(email) <= 255
       AND email ~ '^[^[:space:]@]+@[^[:space:]@]+$'
$$;

CREATE OR REPLACE FUNCTION schemakit._code_hash_keyed(email text, code text)
RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT schemakit._code_hmac(
        'schemakit/email-code/' || pg_catalog.lower(email) || '/' || code,
        (SELECT k.key FROM schemakit._code_key k))
$$;

CREATE OR REPLACE FUNCTION schemakit.session_user_id(token text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record;
BEGIN
    IF token IS NULL OR pg_catalog.octet_length(token) > 1400 THEN
        RETURN NULL;
    END IF;

    SELECT ss.id, ss.user_id, ss.last_seen_at INTO s
      FROM schemakit.sessions ss
     WHERE ss.token_hash = schemakit._token_hash(session_user_id.token)
       AND ss.revoked_at IS NULL
       AND ss.expires_at > pg_catalog.now();
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    /*
     * Refresh last_seen_at at most once a minute, and only where writing is
     * possible: a hot standby or a read-only transaction still gets its
     * answer.  SKIP LOCKED: a request never waits on another one's refresh.
     */
    IF s.last_seen_at < pg_catalog.now() - interval '1 minute'
       AND NOT pg_catalog.pg_is_in_recovery()
       AND pg_catalog.current_setting('transaction_read_only') = 'off'
    THEN
        UPDATE schemakit.sessions ss
           SET last_seen_at = pg_catalog.now()
         WHERE ss.id = (SELECT x.id FROM schemakit.sessions x
                         WHERE x.id = s.id
                           AND x.last_seen_at < pg_catalog.now() - interval '1 minute'
                           FOR NO KEY UPDATE SKIP LOCKED);
    END IF;
    RETURN s.user_id;
END
$$;

CREATE INDEX email_codes_expires_at_idx ON schemakit.email_codes (expires_at);

ALTER TABLE schemakit.password_reset_tokens RESET (fillfactor);
DROP INDEX schemakit.password_reset_tokens_expires_at_idx;
CREATE INDEX password_reset_tokens_dead_at_idx
    ON schemakit.password_reset_tokens (LEAST(expires_at, used_at, revoked_at));

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

    FOR purge IN
        SELECT v.tbl, v.dead_at, v.keep
          FROM (VALUES ('email_codes', 'LEAST(x.expires_at, x.used_at, x.revoked_at)', ' AND x.created_at < $3'),
                       ('password_reset_tokens', 'LEAST(x.expires_at, x.used_at, x.revoked_at)', ''),
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

DELETE FROM schemakit.migrations WHERE version OPERATOR(pg_catalog.=) '1.4';
