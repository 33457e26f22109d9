/*
 * schemakit 1.0 -> 1.1: OAuth account links, password-reset tokens, file
 * metadata, and UUIDv7 generation.
 *
 * Released scripts are frozen (test/frozen.sha256); changes go into the
 * next version's update script.
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.1'" to load this file. \quit

-------------------------------------------------------------------------------
-- UUIDv7 (src/uuid7.c)
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit.uuidv7()
RETURNS uuid
AS 'MODULE_PATHNAME', 'schemakit_uuidv7'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION schemakit.uuidv7() IS
'RFC 9562 version 7 UUID; strictly increasing within a session, even when the clock steps back';

CREATE FUNCTION schemakit.uuidv7_time(id uuid)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'schemakit_uuidv7_time'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION schemakit.uuidv7_time(uuid) IS
'the creation time (millisecond precision) carried by a version 7 UUID';

-- Hash under which a token is stored.  Tokens carry >= 128 random bits, so a
-- plain SHA-256 cannot be reversed by guessing.
CREATE FUNCTION schemakit._token_hash(token text)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;

-- Raises 23503 unless the user exists; shared by the functions that take a user_id.
CREATE FUNCTION schemakit._require_user(user_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'user_id must not be NULL';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM schemakit.users u WHERE u.id = _require_user.user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = pg_catalog.format('user %s does not exist', user_id);
    END IF;
END
$$;

/*
 * Raises 22004/22023 unless ttl is in (0, max_ttl]; shared by every issuer.
 * Compared as the expiry it produces (now() + ttl, calendar arithmetic, as
 * the row will store it), not as intervals, which count a month as 30 days
 * and a year as 360; the interval pre-check keeps now() + ttl in range.
 */
CREATE FUNCTION schemakit._check_ttl(ttl interval, max_ttl interval, what text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF ttl IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = pg_catalog.format('%s ttl must not be NULL', what);
    END IF;
    IF ttl <= interval '0' OR ttl > max_ttl * 2
       OR pg_catalog.now() + ttl <= pg_catalog.now()
       OR pg_catalog.now() + ttl > pg_catalog.now() + max_ttl THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('%s ttl must be positive and at most %s', what, max_ttl),
            DETAIL = pg_catalog.format('The ttl given was %s.', ttl);
    END IF;
END
$$;

-------------------------------------------------------------------------------
-- oauth_accounts
-------------------------------------------------------------------------------

CREATE TABLE schemakit.oauth_accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    provider     text NOT NULL,
    provider_id  text NOT NULL,
    email        text,
    display_name text,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT oauth_accounts_provider_key UNIQUE (provider, provider_id),
    CONSTRAINT oauth_accounts_provider_check
        CHECK (pg_catalog.char_length(provider) BETWEEN 1 AND 50),
    CONSTRAINT oauth_accounts_provider_id_check
        CHECK (pg_catalog.char_length(provider_id) BETWEEN 1 AND 255),
    CONSTRAINT oauth_accounts_email_check CHECK (schemakit._email_ok(email)),
    CONSTRAINT oauth_accounts_display_name_check
        CHECK (pg_catalog.char_length(display_name) <= 255)
);

CREATE INDEX oauth_accounts_user_id_idx ON schemakit.oauth_accounts (user_id);

COMMENT ON TABLE schemakit.oauth_accounts IS
'links from an OAuth provider account to a user; one user per provider account';

CREATE FUNCTION schemakit.link_oauth_account(
    user_id bigint, provider text, provider_id text,
    email text DEFAULT NULL, display_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    link record;
BEGIN
    IF provider IS NULL OR provider_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'provider and provider_id must not be NULL';
    END IF;
    IF pg_catalog.char_length(provider) NOT BETWEEN 1 AND 50
       OR pg_catalog.char_length(provider_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'provider must have 1 to 50 characters and provider_id 1 to 255';
    END IF;
    IF pg_catalog.char_length(display_name) > 255 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'display_name must have at most 255 characters';
    END IF;
    IF NOT schemakit._email_ok(email) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid email address',
            DETAIL = 'An email address has the form local@domain, no spaces, at most 255 characters.';
    END IF;
    PERFORM schemakit._require_user(user_id);

    -- Two passes at most: the second sees a row a concurrent caller committed.
    FOR attempt IN 1..2 LOOP
        SELECT a.id, a.user_id INTO link
          FROM schemakit.oauth_accounts a
         WHERE a.provider = link_oauth_account.provider
           AND a.provider_id = link_oauth_account.provider_id;
        IF FOUND THEN
            IF link.user_id <> link_oauth_account.user_id THEN
                RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                    MESSAGE = 'oauth account is already linked to another user',
                    DETAIL = pg_catalog.format('Provider %L account %L belongs to a different user.',
                                               provider, provider_id);
            END IF;
            RETURN link.id;
        END IF;

        INSERT INTO schemakit.oauth_accounts AS a (user_id, provider, provider_id, email, display_name)
        VALUES (link_oauth_account.user_id, link_oauth_account.provider,
                link_oauth_account.provider_id, link_oauth_account.email,
                link_oauth_account.display_name)
        ON CONFLICT ON CONSTRAINT oauth_accounts_provider_key DO NOTHING
        RETURNING a.id INTO link;
        IF FOUND THEN
            RETURN link.id;
        END IF;
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
        MESSAGE = 'could not link oauth account because of concurrent changes',
        HINT = 'Retry the call.';
END
$$;

COMMENT ON FUNCTION schemakit.link_oauth_account(bigint, text, text, text, text) IS
'links a provider account to a user and returns the link id; idempotent; 23505 if linked to another user';

CREATE FUNCTION schemakit.oauth_user_id(provider text, provider_id text)
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.user_id
      FROM schemakit.oauth_accounts a
     WHERE a.provider = oauth_user_id.provider
       AND a.provider_id = oauth_user_id.provider_id
$$;

COMMENT ON FUNCTION schemakit.oauth_user_id(text, text) IS
'the user linked to a provider account, NULL when unknown';

-------------------------------------------------------------------------------
-- password_reset_tokens
-------------------------------------------------------------------------------

CREATE TABLE schemakit.password_reset_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT password_reset_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT password_reset_tokens_token_hash_check
        CHECK (pg_catalog.octet_length(token_hash) = 32)
);

CREATE INDEX password_reset_tokens_user_id_idx ON schemakit.password_reset_tokens (user_id);

COMMENT ON TABLE schemakit.password_reset_tokens IS
'single-use password-reset tokens; only a SHA-256 of each token is stored';

CREATE FUNCTION schemakit.issue_password_reset_token(user_id bigint, ttl interval DEFAULT '1 hour')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token text;
BEGIN
    PERFORM schemakit._check_ttl(ttl, interval '7 days', 'password reset');
    PERFORM schemakit._require_user(user_id);
    token := schemakit.random_token(32);
    INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at)
    VALUES (issue_password_reset_token.user_id, schemakit._token_hash(token), pg_catalog.now() + ttl);
    RETURN token;
END
$$;

COMMENT ON FUNCTION schemakit.issue_password_reset_token(bigint, interval) IS
'issues a 256-bit password-reset token for a user and returns it; only its hash is stored';

CREATE FUNCTION schemakit.consume_password_reset_token(token text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    uid bigint;
BEGIN
    -- No real token is longer (1024 bytes encode to 1366 characters).
    IF token IS NULL OR pg_catalog.octet_length(token) > 1400 THEN
        RETURN NULL;
    END IF;

    -- One UPDATE claims the token: a concurrent consumer waits on the row,
    -- then re-checks used_at and finds it taken.
    UPDATE schemakit.password_reset_tokens t
       SET used_at = pg_catalog.now()
     WHERE t.token_hash = schemakit._token_hash(consume_password_reset_token.token)
       AND t.used_at IS NULL AND t.revoked_at IS NULL
       AND t.expires_at > pg_catalog.now()
    RETURNING t.user_id INTO uid;
    IF uid IS NULL THEN
        RETURN NULL;
    END IF;

    UPDATE schemakit.password_reset_tokens t
       SET revoked_at = pg_catalog.now()
     WHERE t.user_id = uid AND t.used_at IS NULL AND t.revoked_at IS NULL;
    RETURN uid;
END
$$;

COMMENT ON FUNCTION schemakit.consume_password_reset_token(text) IS
'the user id of a live reset token, exactly once (it also kills the user''s other reset tokens); NULL otherwise';

-------------------------------------------------------------------------------
-- files
-------------------------------------------------------------------------------

CREATE TABLE schemakit.files (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    filename      text NOT NULL DEFAULT (schemakit.uuidv7())::text,
    original_name text NOT NULL,
    mime_type     text NOT NULL,
    size          bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT files_filename_key UNIQUE (filename),
    CONSTRAINT files_filename_check CHECK (pg_catalog.char_length(filename) BETWEEN 1 AND 255),
    CONSTRAINT files_original_name_check
        CHECK (pg_catalog.char_length(original_name) BETWEEN 1 AND 255),
    CONSTRAINT files_mime_type_check
        CHECK (pg_catalog.char_length(mime_type) <= 255 AND mime_type ~ '^[^[:space:]/]+/[^[:space:]/]+$'),
    CONSTRAINT files_size_check CHECK (size >= 0)
);

CREATE INDEX files_user_id_idx ON schemakit.files (user_id);

COMMENT ON TABLE schemakit.files IS
'metadata of uploaded files; filename is the stored name (a UUIDv7 by default)';

-------------------------------------------------------------------------------
-- Record the step; keep the new rows in pg_dump.
-------------------------------------------------------------------------------

INSERT INTO schemakit.migrations (version) VALUES ('1.1');

SELECT pg_catalog.pg_extension_config_dump('schemakit.oauth_accounts', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.oauth_accounts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.password_reset_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.password_reset_tokens_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.files', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.files_id_seq', '');
