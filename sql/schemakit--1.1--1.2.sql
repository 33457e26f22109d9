/*
 * schemakit 1.1 -> 1.2: login sessions stored as token hashes, and purging
 * of expired or spent codes, tokens and sessions.
 *
 * Released scripts are frozen (test/frozen.sha256); changes go into the
 * next version's update script.
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.2'" to load this file. \quit

-------------------------------------------------------------------------------
-- sessions
-------------------------------------------------------------------------------

CREATE TABLE schemakit.sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    ip_address   inet,
    user_agent   text,
    revoked_at   timestamptz,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT sessions_token_hash_check CHECK (pg_catalog.octet_length(token_hash) = 32),
    CONSTRAINT sessions_user_agent_check CHECK (pg_catalog.char_length(user_agent) <= 512)
);

CREATE INDEX sessions_user_id_idx ON schemakit.sessions (user_id);

COMMENT ON TABLE schemakit.sessions IS
'login sessions; only a SHA-256 of each session token is stored';

/*
 * Purge indexes: the moment a row stopped being usable (LEAST ignores
 * NULLs), so purge_expired() finds spent rows by index, whichever way they
 * died.
 */
CREATE INDEX sessions_dead_at_idx
    ON schemakit.sessions ((LEAST(expires_at, revoked_at)));
CREATE INDEX email_codes_dead_at_idx
    ON schemakit.email_codes ((LEAST(expires_at, used_at, revoked_at)));
CREATE INDEX password_reset_tokens_dead_at_idx
    ON schemakit.password_reset_tokens ((LEAST(expires_at, used_at, revoked_at)));

CREATE FUNCTION schemakit.issue_session(
    user_id bigint, ttl interval DEFAULT '30 days',
    ip_address inet DEFAULT NULL, user_agent text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token text;
BEGIN
    -- 366 days, not '1 year': interval comparison counts a year as 360 days.
    PERFORM schemakit._check_ttl(ttl, interval '366 days', 'session');
    PERFORM schemakit._require_user(user_id);
    token := schemakit.random_token(32);
    INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, ip_address, user_agent)
    VALUES (issue_session.user_id, schemakit._token_hash(token), pg_catalog.now() + ttl,
            issue_session.ip_address,
            -- informational only: a huge header must not fail a login
            pg_catalog.left(issue_session.user_agent, 512));
    RETURN token;
END
$$;

COMMENT ON FUNCTION schemakit.issue_session(bigint, interval, inet, text) IS
'opens a session for a user and returns its 256-bit token; only its hash is stored';

CREATE FUNCTION schemakit.session_user_id(token text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
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

COMMENT ON FUNCTION schemakit.session_user_id(text) IS
'the user of a live session, else NULL; refreshes last_seen_at at most once a minute';

CREATE FUNCTION schemakit.revoke_session(token text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF token IS NULL OR pg_catalog.octet_length(token) > 1400 THEN
        RETURN false;
    END IF;
    UPDATE schemakit.sessions ss
       SET revoked_at = pg_catalog.now()
     WHERE ss.token_hash = schemakit._token_hash(revoke_session.token)
       AND ss.revoked_at IS NULL
       AND ss.expires_at > pg_catalog.now();
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION schemakit.revoke_session(text) IS
'revokes a live session; true if this call revoked it';

CREATE FUNCTION schemakit.revoke_user_sessions(user_id bigint)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE schemakit.sessions ss
       SET revoked_at = pg_catalog.now()
     WHERE ss.user_id = revoke_user_sessions.user_id
       AND ss.revoked_at IS NULL
       AND ss.expires_at > pg_catalog.now();
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION schemakit.revoke_user_sessions(bigint) IS
'revokes every live session of a user (e.g. after a password reset); returns how many';

-------------------------------------------------------------------------------
-- purge_expired
-------------------------------------------------------------------------------

/*
 * Deletes email codes, reset tokens and sessions that died (expired, used or
 * revoked) more than older_than ago.  Each DELETE takes at most 5000 rows,
 * chosen through the dead_at indexes with SKIP LOCKED, so no statement waits
 * on a row in use or runs long; one call does at most 20 such batches per
 * table and a scheduled call (pg_cron) continues where it stopped.
 */
CREATE FUNCTION schemakit.purge_expired(older_than interval DEFAULT '1 day')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    batch constant integer := 5000;
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

    FOR purge IN
        SELECT v.tbl, v.dead_at
          FROM (VALUES ('email_codes', 'LEAST(x.expires_at, x.used_at, x.revoked_at)'),
                       ('password_reset_tokens', 'LEAST(x.expires_at, x.used_at, x.revoked_at)'),
                       ('sessions', 'LEAST(x.expires_at, x.revoked_at)')) AS v (tbl, dead_at)
    LOOP
        FOR i IN 1..20 LOOP
            EXECUTE pg_catalog.format(
                'DELETE FROM schemakit.%1$I t WHERE t.id = ANY (ARRAY('
                '  SELECT x.id FROM schemakit.%1$I x WHERE %2$s < $1'
                '   LIMIT $2 FOR UPDATE SKIP LOCKED))', purge.tbl, purge.dead_at)
            USING cutoff, batch;
            GET DIAGNOSTICS n = ROW_COUNT;
            total := total + n;
            EXIT WHEN n < batch;
        END LOOP;
    END LOOP;

    RETURN total;
END
$$;

COMMENT ON FUNCTION schemakit.purge_expired(interval) IS
'deletes codes, reset tokens and sessions dead for longer than older_than, in bounded batches; returns rows deleted';

-------------------------------------------------------------------------------
-- Record the step; keep the new rows in pg_dump.
-------------------------------------------------------------------------------

INSERT INTO schemakit.migrations (version) VALUES ('1.2');

SELECT pg_catalog.pg_extension_config_dump('schemakit.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.sessions_id_seq', '');
