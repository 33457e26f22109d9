/*
 * schemakit 1.2 -> 1.3: the security model.
 *  - email codes are stored as HMAC-SHA256 under a key that is not in the
 *    dump (schemakit.code_hmac_key, else a per-database key pg_dump skips);
 *  - issuance and failed verifications are limited per address and window;
 *  - functions that touch secret tables run as the extension owner
 *    (SECURITY DEFINER, pinned search_path, EXECUTE revoked from PUBLIC), so
 *    an application role needs no access to those tables at all;
 *  - grant_app(role) grants an application role exactly what it needs.
 *
 * Released scripts are frozen (test/frozen.sha256); changes go into the
 * next version's update script.
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.3'" to load this file. \quit

-------------------------------------------------------------------------------
-- Keyed code hashes
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit._code_hmac(message text, fallback_key bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'schemakit_code_hmac'
LANGUAGE C STABLE PARALLEL SAFE;

REVOKE ALL ON FUNCTION schemakit._code_hmac(text, bytea) FROM PUBLIC;

/*
 * The per-database key used while schemakit.code_hmac_key is unset.  It is
 * deliberately NOT registered with pg_extension_config_dump: a dump must not
 * carry the key that protects the code hashes it contains.  A restore gets a
 * new key, so codes issued before a dump do not verify after a restore from
 * it (set schemakit.code_hmac_key to keep them valid across restores).
 */
CREATE TABLE schemakit._code_key (
    singleton  boolean PRIMARY KEY DEFAULT true,
    key        bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT _code_key_singleton_check CHECK (singleton),
    CONSTRAINT _code_key_key_check CHECK (pg_catalog.octet_length(key) = 32)
);

REVOKE ALL ON TABLE schemakit._code_key FROM PUBLIC;

COMMENT ON TABLE schemakit._code_key IS
'per-database key for email-code HMACs while schemakit.code_hmac_key is unset; never dumped';

INSERT INTO schemakit._code_key (key)
SELECT pg_catalog.decode(
    pg_catalog.translate(schemakit.random_token(32), '-_', '+/') OPERATOR(pg_catalog.||) '=',
    'base64');

/*
 * The keyed hash gets a new name; _code_hash (unkeyed, 1.0) stays as it is,
 * so a call to the old functions that is in flight while this script runs
 * keeps working, and verify_email_code can still check codes it stored.
 */
CREATE FUNCTION schemakit._code_hash_keyed(email text, code text)
RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT schemakit._code_hmac(
        'schemakit/email-code/' || pg_catalog.lower(email) || '/' || code,
        (SELECT k.key FROM schemakit._code_key k))
$$;

REVOKE ALL ON FUNCTION schemakit._code_hash_keyed(text, text) FROM PUBLIC;

/*
 * REVOKE ... FROM PUBLIC does not undo ALTER DEFAULT PRIVILEGES: a grant a
 * default privilege gave some role on the new key table or keyed functions
 * at creation is taken back here, so only the owner reads the key.
 */
DO $lock_key$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT 'TABLE schemakit._code_key' AS obj, a.grantee
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         WHERE c.oid OPERATOR(pg_catalog.=) 'schemakit._code_key'::pg_catalog.regclass
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        UNION
        SELECT 'FUNCTION ' OPERATOR(pg_catalog.||) p.oid::pg_catalog.regprocedure::text, a.grantee
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY['schemakit._code_hmac(text, bytea)'::pg_catalog.regprocedure,
                                                      'schemakit._code_hash_keyed(text, text)'::pg_catalog.regprocedure])
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', g.obj,
            CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                 ELSE g.grantee::pg_catalog.regrole::text END);
    END LOOP;
END
$lock_key$;

-- Counting issued codes and failures per address and window.
CREATE INDEX email_codes_email_created_idx
    ON schemakit.email_codes (pg_catalog.lower(email), created_at);

-------------------------------------------------------------------------------
-- Email codes with limits, running as the extension owner
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit.issue_email_code(email text, ttl interval DEFAULT '10 minutes')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text;
    issued integer;
    max_issued integer;
    window_len interval;
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

    -- Drawing the code loads the library, which defines the limit settings.
    code := schemakit.random_code(6);
    max_issued := pg_catalog.current_setting('schemakit.email_code_issue_limit')::integer;
    window_len := pg_catalog.current_setting('schemakit.email_code_window')::interval;

    -- Serialise issuance per address, so concurrent calls count and insert in turn.
    PERFORM pg_catalog.pg_advisory_xact_lock(29547, pg_catalog.hashtext(pg_catalog.lower(email)));

    SELECT pg_catalog.count(*) INTO issued
      FROM schemakit.email_codes c
     WHERE pg_catalog.lower(c.email) = pg_catalog.lower(issue_email_code.email)
       AND c.created_at > pg_catalog.now() - window_len;
    IF issued >= max_issued THEN
        RAISE EXCEPTION USING ERRCODE = 'SKR01',
            MESSAGE = 'too many email codes issued for this address',
            DETAIL = pg_catalog.format('At most %s codes per %s.', max_issued, window_len),
            HINT = 'Wait before requesting another code.';
    END IF;

    UPDATE schemakit.email_codes c
       SET revoked_at = pg_catalog.now()
     WHERE pg_catalog.lower(c.email) = pg_catalog.lower(issue_email_code.email)
       AND c.used_at IS NULL AND c.revoked_at IS NULL;

    INSERT INTO schemakit.email_codes (user_id, email, code_hash, expires_at)
    VALUES ((SELECT u.id FROM schemakit.users u
              WHERE pg_catalog.lower(u.email) = pg_catalog.lower(issue_email_code.email)),
            email,
            schemakit._code_hash_keyed(email, code),
            pg_catalog.now() + ttl);
    RETURN code;
END
$$;

CREATE OR REPLACE FUNCTION schemakit.verify_email_code(email text, code text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    guess bytea;
    failures bigint;
    max_failures integer;
    keyed_since timestamptz;
BEGIN
    IF email IS NULL OR code IS NULL THEN
        RETURN false;
    END IF;
    -- Hash before the lookup: a known and an unknown address cost the same.
    guess := schemakit._code_hash_keyed(email, code);
    max_failures := pg_catalog.current_setting('schemakit.email_code_verify_limit')::integer;

    SELECT COALESCE(pg_catalog.sum(ec.failed_attempts), 0) INTO failures
      FROM schemakit.email_codes ec
     WHERE pg_catalog.lower(ec.email) = pg_catalog.lower(verify_email_code.email)
       AND ec.created_at > pg_catalog.now()
           - pg_catalog.current_setting('schemakit.email_code_window')::interval;
    IF failures >= max_failures THEN
        RAISE EXCEPTION USING ERRCODE = 'SKR02',
            MESSAGE = 'too many failed code verifications for this address',
            DETAIL = pg_catalog.format('At most %s failed attempts per %s.', max_failures,
                                       pg_catalog.current_setting('schemakit.email_code_window')::interval),
            HINT = 'Wait before trying again.';
    END IF;

    -- The row lock makes concurrent verifications of one code take turns;
    -- the loser re-reads the row, sees it used, and gets false.
    SELECT ec.id, ec.code_hash, ec.expires_at, ec.failed_attempts, ec.created_at
      INTO c
      FROM schemakit.email_codes ec
     WHERE pg_catalog.lower(ec.email) = pg_catalog.lower(verify_email_code.email)
       AND ec.used_at IS NULL AND ec.revoked_at IS NULL
       FOR UPDATE;

    IF NOT FOUND OR c.expires_at <= pg_catalog.now() OR c.failed_attempts >= 5 THEN
        RETURN false;
    END IF;

    IF c.code_hash <> guess THEN
        /*
         * Codes stored by the 1.2 functions carry the unkeyed hash: those
         * issued before this database reached 1.3, and those issued by calls
         * still running while the update committed.  A code lives at most a
         * day, so the unkeyed form is accepted for codes created up to a day
         * after the 1.3 step; an upgrade never breaks a login in progress.
         * (A keyed hash cannot equal the unkeyed one, so this admits nothing
         * a guesser could use.)
         */
        SELECT m.applied_at INTO keyed_since
          FROM schemakit.migrations m WHERE m.version = '1.3';
        IF c.created_at < keyed_since + interval '1 day' THEN
            guess := schemakit._code_hash(email, code);
        END IF;
    END IF;

    IF c.code_hash = guess THEN
        UPDATE schemakit.email_codes SET used_at = pg_catalog.now() WHERE id = c.id;
        RETURN true;
    END IF;

    UPDATE schemakit.email_codes SET failed_attempts = failed_attempts + 1 WHERE id = c.id;
    RETURN false;
END
$$;

-------------------------------------------------------------------------------
-- Purging keeps the email codes the limits count (those of the window), so
-- no purge, whatever its older_than, resets a limit.
-------------------------------------------------------------------------------

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


-------------------------------------------------------------------------------
-- Every function that reads or writes a secret table runs as the owner.
-------------------------------------------------------------------------------

ALTER FUNCTION schemakit.issue_password_reset_token(bigint, interval) SECURITY DEFINER;
ALTER FUNCTION schemakit.consume_password_reset_token(text) SECURITY DEFINER;
ALTER FUNCTION schemakit.issue_session(bigint, interval, inet, text) SECURITY DEFINER;
ALTER FUNCTION schemakit.session_user_id(text) SECURITY DEFINER;
ALTER FUNCTION schemakit.revoke_session(text) SECURITY DEFINER;
ALTER FUNCTION schemakit.revoke_user_sessions(bigint) SECURITY DEFINER;

REVOKE ALL ON FUNCTION schemakit.issue_email_code(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.verify_email_code(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.issue_password_reset_token(bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.consume_password_reset_token(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.issue_session(bigint, interval, inet, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.session_user_id(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.revoke_session(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.revoke_user_sessions(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.purge_expired(interval) FROM PUBLIC;

/*
 * Roles that could already use these functions keep that ability, and
 * nobody gains one: a role gets EXECUTE on a function exactly when it holds
 * every table privilege the 1.2 (SECURITY INVOKER) version needed.
 */
DO $keep$
DECLARE
    r record;
    f record;
    need text;
    ok boolean;
BEGIN
    FOR r IN
        SELECT a.oid
          FROM pg_catalog.pg_authid a
         WHERE NOT a.rolsuper
           AND a.rolname !~ '^pg_'
           AND pg_catalog.has_schema_privilege(a.oid, 'schemakit', 'USAGE')
    LOOP
        FOR f IN
            SELECT v.fn, v.needs
              FROM (VALUES
                ('schemakit.issue_email_code(text, interval)',
                 ARRAY['email_codes:SELECT', 'email_codes:INSERT', 'email_codes:UPDATE']),
                ('schemakit.verify_email_code(text, text)',
                 ARRAY['email_codes:SELECT', 'email_codes:UPDATE']),
                ('schemakit.issue_password_reset_token(bigint, interval)',
                 ARRAY['password_reset_tokens:INSERT']),
                ('schemakit.consume_password_reset_token(text)',
                 ARRAY['password_reset_tokens:SELECT', 'password_reset_tokens:UPDATE']),
                ('schemakit.issue_session(bigint, interval, inet, text)',
                 ARRAY['sessions:INSERT']),
                ('schemakit.session_user_id(text)',
                 ARRAY['sessions:SELECT']),
                ('schemakit.revoke_session(text)',
                 ARRAY['sessions:SELECT', 'sessions:UPDATE']),
                ('schemakit.revoke_user_sessions(bigint)',
                 ARRAY['sessions:SELECT', 'sessions:UPDATE']),
                ('schemakit.purge_expired(interval)',
                 ARRAY['email_codes:SELECT', 'email_codes:DELETE',
                       'password_reset_tokens:SELECT', 'password_reset_tokens:DELETE',
                       'sessions:SELECT', 'sessions:DELETE'])) AS v (fn, needs)
        LOOP
            ok := true;
            FOREACH need IN ARRAY f.needs LOOP
                ok := ok AND pg_catalog.has_table_privilege(
                    r.oid,
                    pg_catalog.format('schemakit.%s', pg_catalog.split_part(need, ':', 1)),
                    pg_catalog.split_part(need, ':', 2));
            END LOOP;
            IF ok THEN
                EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f.fn, r.oid::pg_catalog.regrole);
            END IF;
        END LOOP;
    END LOOP;
END
$keep$;

-------------------------------------------------------------------------------
-- grant_app
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit.grant_app(app regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    IF app IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'grant_app role must not be NULL';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = app) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('role with OID %s does not exist', app::oid);
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA schemakit TO %s', app);
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'schemakit'::regnamespace
           AND p.proname !~ '^_'
           AND p.prorettype <> 'trigger'::regtype
           AND p.proname <> 'grant_app'
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f, app);
    END LOOP;
    EXECUTE pg_catalog.format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE schemakit.users, schemakit.snippets,'
        ' schemakit.oauth_accounts, schemakit.files TO %s', app);
    EXECUTE pg_catalog.format(
        'GRANT USAGE, SELECT ON SEQUENCE schemakit.users_id_seq, schemakit.snippets_id_seq,'
        ' schemakit.oauth_accounts_id_seq, schemakit.files_id_seq TO %s', app);
    EXECUTE pg_catalog.format('GRANT SELECT ON TABLE schemakit.migrations TO %s', app);
END
$$;

REVOKE ALL ON FUNCTION schemakit.grant_app(regrole) FROM PUBLIC;

COMMENT ON FUNCTION schemakit.grant_app(regrole) IS
'grants an application role what an app needs and nothing on the tables that hold secrets; run again after ALTER EXTENSION UPDATE';

-------------------------------------------------------------------------------
-- Record the step.
-------------------------------------------------------------------------------

INSERT INTO schemakit.migrations (version) VALUES ('1.3');
