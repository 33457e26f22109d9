/*
 * schemakit 1.0: users, snippets with public IDs, email login codes, the
 * migrations record, and the C primitives that generate IDs, codes and
 * tokens.
 *
 * Released scripts are frozen (test/frozen.sha256); changes go into the
 * next version's update script.
 */
\echo Use "CREATE EXTENSION schemakit" to load this file. \quit

/*
 * The control file fixes the schema, and CREATE EXTENSION reuses it if it
 * already exists.  Refuse one that a less privileged role owns (that role
 * could drop or replace what we create) or that already holds objects (they
 * could shadow ours).  A schema left behind by DROP EXTENSION, or created by
 * pg_dump before it restores the extension, is empty and passes.
 */
DO $guard$
BEGIN
    IF EXISTS (
        SELECT 1
          FROM pg_catalog.pg_namespace n
          JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
         WHERE n.nspname OPERATOR(pg_catalog.=) 'schemakit'
           AND NOT r.rolsuper
           AND r.rolname OPERATOR(pg_catalog.<>) CURRENT_USER)
    THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = 'schema "schemakit" already exists and is owned by another role',
            HINT = 'Drop the schema, or have a superuser own it, before CREATE EXTENSION schemakit.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE pronamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_type WHERE typnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator WHERE oprnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_collation WHERE collnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace)
    THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_schema',
            MESSAGE = 'schema "schemakit" already exists and is not empty',
            HINT = 'CREATE EXTENSION schemakit needs the schema to itself.';
    END IF;
END
$guard$;

-------------------------------------------------------------------------------
-- C primitives (src/ids.c).  They run no SQL, so they need no search_path.
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit.public_id(
    size integer DEFAULT 10,
    alphabet text DEFAULT '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')
RETURNS text
AS 'MODULE_PATHNAME', 'schemakit_public_id'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION schemakit.public_id(integer, text) IS
'random string of size symbols (1..1024), each drawn uniformly from alphabet (2..256 distinct characters)';

CREATE FUNCTION schemakit.random_code(digits integer DEFAULT 6)
RETURNS text
AS 'MODULE_PATHNAME', 'schemakit_random_code'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION schemakit.random_code(integer) IS
'uniform decimal code of 1..12 digits, leading zeros kept';

CREATE FUNCTION schemakit.random_token(nbytes integer DEFAULT 32)
RETURNS text
AS 'MODULE_PATHNAME', 'schemakit_random_token'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION schemakit.random_token(integer) IS
'nbytes (16..1024) CSPRNG bytes as unpadded base64url';

-- Internal: did public_id() just produce this value here?  True once, then forgotten.
CREATE FUNCTION schemakit._public_id_take(id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'schemakit_public_id_take'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

-------------------------------------------------------------------------------
-- Internal helpers
-------------------------------------------------------------------------------

-- The one email rule, shared by CHECK constraints and function arguments.
CREATE FUNCTION schemakit._email_ok(email text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.char_length(email) <= 255
       AND email ~ '^[^[:space:]@]+@[^[:space:]@]+$'
$$;

-- Hash under which an email code is stored: bound to the address, never the code itself.
CREATE FUNCTION schemakit._code_hash(email text, code text)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(
        'schemakit/email-code/' || pg_catalog.lower(email) || '/' || code, 'UTF8'))
$$;

-- Keeps updated_at current on every UPDATE.
CREATE FUNCTION schemakit.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

-------------------------------------------------------------------------------
-- migrations: the database's own record of the version chain
-------------------------------------------------------------------------------

CREATE TABLE schemakit.migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE schemakit.migrations IS
'one row per schemakit version step applied to this database';

/*
 * Each script records its own step.  When pg_dump output is restored,
 * CREATE EXTENSION records the steps again and then the dumped rows arrive;
 * this trigger keeps one row per version with the earliest applied_at, so a
 * restore neither fails on duplicate keys nor loses the original history.
 */
CREATE FUNCTION schemakit.migrations_merge()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE schemakit.migrations m
       SET applied_at = LEAST(m.applied_at, NEW.applied_at)
     WHERE m.version = NEW.version;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER migrations_merge
    BEFORE INSERT ON schemakit.migrations
    FOR EACH ROW EXECUTE FUNCTION schemakit.migrations_merge();

INSERT INTO schemakit.migrations (version) VALUES ('1.0');

-------------------------------------------------------------------------------
-- users
-------------------------------------------------------------------------------

CREATE TABLE schemakit.users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL,
    email         text,
    display_name  text,
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT users_username_check
        CHECK (pg_catalog.char_length(username) BETWEEN 1 AND 255),
    CONSTRAINT users_email_check CHECK (schemakit._email_ok(email)),
    CONSTRAINT users_display_name_check
        CHECK (pg_catalog.char_length(display_name) <= 255),
    CONSTRAINT users_password_hash_check
        CHECK (pg_catalog.char_length(password_hash) BETWEEN 1 AND 255)
);

CREATE UNIQUE INDEX users_username_key ON schemakit.users (pg_catalog.lower(username));
CREATE UNIQUE INDEX users_email_key ON schemakit.users (pg_catalog.lower(email));

CREATE TRIGGER users_touch_updated_at
    BEFORE UPDATE ON schemakit.users
    FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();

COMMENT ON TABLE schemakit.users IS
'application users; username and email are unique case-insensitively';

-------------------------------------------------------------------------------
-- snippets: shareable things with short public IDs
-------------------------------------------------------------------------------

CREATE TABLE schemakit.snippets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id  text NOT NULL DEFAULT schemakit.public_id(),
    owner_id   bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    title      text,
    body       text NOT NULL,
    language   text NOT NULL DEFAULT 'text',
    is_public  boolean NOT NULL DEFAULT false,
    view_count bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT snippets_public_id_key UNIQUE (public_id),
    CONSTRAINT snippets_public_id_check
        CHECK (pg_catalog.char_length(public_id) BETWEEN 1 AND 1024),
    CONSTRAINT snippets_title_check CHECK (pg_catalog.char_length(title) <= 255),
    CONSTRAINT snippets_language_check
        CHECK (pg_catalog.char_length(language) BETWEEN 1 AND 64),
    CONSTRAINT snippets_view_count_check CHECK (view_count >= 0)
);

-- "A user's snippets, newest first"; also serves the foreign key.
CREATE INDEX snippets_owner_created_idx
    ON schemakit.snippets (owner_id, created_at DESC, id DESC);

/*
 * A generated public ID that is already taken is replaced by another one
 * drawn from the column default, up to 32 times; only then (an exhausted ID
 * space) does the unique index raise.  A public_id the caller supplied
 * explicitly is left alone, so a real conflict still reports 23505.
 */
CREATE FUNCTION schemakit.snippets_public_id_retry()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    default_expr text;
BEGIN
    -- Taken before anything else: the marker vouches for this row only.
    IF NOT schemakit._public_id_take(NEW.public_id) THEN
        RETURN NEW;
    END IF;
    FOR attempt IN 1..32 LOOP
        IF NOT EXISTS (SELECT 1 FROM schemakit.snippets s
                        WHERE s.public_id = NEW.public_id) THEN
            RETURN NEW;
        END IF;
        IF default_expr IS NULL THEN
            SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid)
              INTO default_expr
              FROM pg_catalog.pg_attrdef d
              JOIN pg_catalog.pg_attribute a
                ON a.attrelid = d.adrelid AND a.attnum = d.adnum
             WHERE d.adrelid = TG_RELID AND a.attname = 'public_id';
        END IF;
        EXECUTE 'SELECT ' || default_expr INTO NEW.public_id;
        PERFORM schemakit._public_id_take(NEW.public_id);
    END LOOP;
    RETURN NEW;
END
$$;

CREATE TRIGGER snippets_public_id_retry
    BEFORE INSERT ON schemakit.snippets
    FOR EACH ROW EXECUTE FUNCTION schemakit.snippets_public_id_retry();

-- A view is not an edit: record_snippet_view() leaves updated_at alone.
CREATE TRIGGER snippets_touch_updated_at
    BEFORE UPDATE OF public_id, owner_id, title, body, language, is_public
    ON schemakit.snippets
    FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();

COMMENT ON TABLE schemakit.snippets IS
'shareable snippets: id stays internal, public_id goes into URLs';

CREATE FUNCTION schemakit.record_snippet_view(public_id text)
RETURNS bigint
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE schemakit.snippets s
       SET view_count = s.view_count + 1
     WHERE s.public_id = record_snippet_view.public_id
    RETURNING s.view_count
$$;

COMMENT ON FUNCTION schemakit.record_snippet_view(text) IS
'counts one view of a snippet atomically; returns the new count, NULL for an unknown public_id';

-------------------------------------------------------------------------------
-- email_codes: one-time login codes, stored as hashes only
-------------------------------------------------------------------------------

CREATE TABLE schemakit.email_codes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint REFERENCES schemakit.users (id) ON DELETE CASCADE,
    email           text NOT NULL,
    code_hash       bytea NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz,
    failed_attempts integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT email_codes_email_check CHECK (schemakit._email_ok(email)),
    CONSTRAINT email_codes_code_hash_check CHECK (pg_catalog.octet_length(code_hash) = 32),
    CONSTRAINT email_codes_failed_attempts_check CHECK (failed_attempts >= 0)
);

-- Lookup by email: at most one open (unused, unrevoked) code per address.
CREATE UNIQUE INDEX email_codes_open_email_key
    ON schemakit.email_codes (pg_catalog.lower(email))
    WHERE used_at IS NULL AND revoked_at IS NULL;
-- Purge by expiry.
CREATE INDEX email_codes_expires_at_idx ON schemakit.email_codes (expires_at);
-- Deleting a user cascades here without a sequential scan.
CREATE INDEX email_codes_user_id_idx ON schemakit.email_codes (user_id);

COMMENT ON TABLE schemakit.email_codes IS
'one-time email login codes; only a hash of each code is stored';

CREATE FUNCTION schemakit.issue_email_code(email text, ttl interval DEFAULT '10 minutes')
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

COMMENT ON FUNCTION schemakit.issue_email_code(text, interval) IS
'issues a 6-digit login code for email (replacing any open one) and returns it; only its hash is stored';

CREATE FUNCTION schemakit.verify_email_code(email text, code text)
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

COMMENT ON FUNCTION schemakit.verify_email_code(text, text) IS
'true exactly once for the live code of email; false otherwise; 5 wrong tries kill the code';

-------------------------------------------------------------------------------
-- pg_dump keeps the rows of every table and the state of every sequence.
-------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('schemakit.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.users', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.snippets', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.snippets_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.email_codes', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.email_codes_id_seq', '');
