/*
 * schemakit 1.3 -> 1.2: downgrade.  Returns the email-code functions to
 * unkeyed hashes and SECURITY INVOKER.  Open codes hashed under the key are
 * retired (users ask for a new one); no user row is removed.
 *
 * Released scripts are frozen (test/frozen.sha256).
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.2'" to load this file. \quit

DROP FUNCTION schemakit.grant_app(regrole);

UPDATE schemakit.email_codes
   SET revoked_at = pg_catalog.now()
 WHERE used_at IS NULL AND revoked_at IS NULL;

CREATE OR REPLACE FUNCTION schemakit.issue_email_code(email text, ttl interval DEFAULT '10 minutes')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text;
BEGIN
    IF email IS NULL OR ttl IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'issue_email_code arguments must not be NULL';
    END IF;
    IF NOT schemakit._email_ok(email) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid email address',
            DETAIL = 'An email address has the form local@domain, no spaces, at most 255 characters.';
    END IF;
    IF ttl <= interval '0' OR ttl > interval '1 day' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'email code ttl must be positive and at most 1 day',
            DETAIL = pg_catalog.format('The ttl given was %s.', ttl);
    END IF;

    -- Serialise issuance per address, so concurrent calls cannot both insert.
    PERFORM pg_catalog.pg_advisory_xact_lock(29547, pg_catalog.hashtext(pg_catalog.lower(email)));

    UPDATE schemakit.email_codes c
       SET revoked_at = pg_catalog.now()
     WHERE pg_catalog.lower(c.email) = pg_catalog.lower(issue_email_code.email)
       AND c.used_at IS NULL AND c.revoked_at IS NULL;

    code := schemakit.random_code(6);
    INSERT INTO schemakit.email_codes (user_id, email, code_hash, expires_at)
    VALUES ((SELECT u.id FROM schemakit.users u
              WHERE pg_catalog.lower(u.email) = pg_catalog.lower(issue_email_code.email)),
            email,
            schemakit._code_hash(email, code),
            pg_catalog.now() + ttl);
    RETURN code;
END
$$;

CREATE OR REPLACE FUNCTION schemakit.verify_email_code(email text, code text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    guess bytea;
BEGIN
    IF email IS NULL OR code IS NULL THEN
        RETURN false;
    END IF;
    -- Hash before the lookup: a known and an unknown address cost the same.
    guess := schemakit._code_hash(email, code);

    -- The row lock makes concurrent verifications of one code take turns;
    -- the loser re-reads the row, sees it used, and gets false.
    SELECT ec.id, ec.code_hash, ec.expires_at, ec.failed_attempts
      INTO c
      FROM schemakit.email_codes ec
     WHERE pg_catalog.lower(ec.email) = pg_catalog.lower(verify_email_code.email)
       AND ec.used_at IS NULL AND ec.revoked_at IS NULL
       FOR UPDATE;

    IF NOT FOUND OR c.expires_at <= pg_catalog.now() OR c.failed_attempts >= 5 THEN
        RETURN false;
    END IF;

    IF c.code_hash = guess THEN
        UPDATE schemakit.email_codes SET used_at = pg_catalog.now() WHERE id = c.id;
        RETURN true;
    END IF;

    UPDATE schemakit.email_codes SET failed_attempts = failed_attempts + 1 WHERE id = c.id;
    RETURN false;
END
$$;

ALTER FUNCTION schemakit.issue_password_reset_token(bigint, interval) SECURITY INVOKER;
ALTER FUNCTION schemakit.consume_password_reset_token(text) SECURITY INVOKER;
ALTER FUNCTION schemakit.issue_session(bigint, interval, inet, text) SECURITY INVOKER;
ALTER FUNCTION schemakit.session_user_id(text) SECURITY INVOKER;
ALTER FUNCTION schemakit.revoke_session(text) SECURITY INVOKER;
ALTER FUNCTION schemakit.revoke_user_sessions(bigint) SECURITY INVOKER;

-- purge_expired as in 1.2.
CREATE OR REPLACE FUNCTION schemakit.purge_expired(older_than interval DEFAULT '1 day')
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


-- Back to the default: EXECUTE for PUBLIC (table rights decide, as in 1.2).
GRANT EXECUTE ON FUNCTION
    schemakit.issue_email_code(text, interval),
    schemakit.verify_email_code(text, text),
    schemakit.issue_password_reset_token(bigint, interval),
    schemakit.consume_password_reset_token(text),
    schemakit.issue_session(bigint, interval, inet, text),
    schemakit.session_user_id(text),
    schemakit.revoke_session(text),
    schemakit.revoke_user_sessions(bigint),
    schemakit.purge_expired(interval)
TO PUBLIC;

DROP INDEX schemakit.email_codes_email_created_idx;
DROP FUNCTION schemakit._code_hash_keyed(text, text);
DROP TABLE schemakit._code_key;
DROP FUNCTION schemakit._code_hmac(text, bytea);

DELETE FROM schemakit.migrations WHERE version OPERATOR(pg_catalog.=) '1.3';
