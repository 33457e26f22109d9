/*
 * schemakit 1.4 -> 1.5: what an outside attack on 1.4 broke.
 *
 * - Addresses are compared under email_key(): ASCII letters folded, every
 *   other byte exact, the same on every locale, collation and glibc.
 *   users.email_key is a generated column, email_codes.email_key a column
 *   every insert fills (a CHECK holds it to the address); the unique index
 *   on users, the one-open-code index, the code hash, the user a code is
 *   bound to and the per-address limits all use them.
 *   The update refuses (23505, naming the rows) when two users would share
 *   a key; it never merges or drops one.
 * - Every ttl and older_than is judged by the timestamp it produces.
 * - Failed code guesses are counted in shared memory too, so a rolled-back
 *   transaction cannot take one back; the per-address failure limit is
 *   checked and counted under a per-address lock.
 * - Issuance and verification lock per address with a lock no SQL role can
 *   take; consuming reset tokens locks per user, so two tokens of one user
 *   consumed at once cannot deadlock.
 * - pg_restore -j: the foreign keys to users keep their cascades, but their
 *   insert-side checks are made by a trigger that trusts a superuser's COPY
 *   (a restore), so tables load in any order.
 * - Limit errors leave the caller's statement out of the server log.
 * - grant_app grants REFERENCES on the tables apps point at.
 * - Rights a default privilege gave on what this script creates, and any
 *   right on a secret table or an internal function, are taken back.
 * - email_codes, sessions and password_reset_tokens are keyed by what their
 *   lookups name (the address key, the token hash); schemakit.distribute()
 *   spreads them over a Citus cluster by those keys and makes the other
 *   tables reference tables.
 * - _check_ttl is kept only for 1.4's functions in flight during the update.
 *
 * Locks: users and email_codes are rewritten (a new column each) and the
 * primary keys of email_codes, sessions and password_reset_tokens built
 * again, under ACCESS EXCLUSIVE, which files and oauth_accounts also get
 * (new constraints); snippets gets a trigger (SHARE ROW EXCLUSIVE).  All
 * are taken at the start, together (see below).
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.5'" to load this file. \quit

/*
 * Every table lock this update needs, taken first, all together.  Writers
 * take these tables in different orders (a code issue: email_codes, then
 * users; a sign-up that inserts a user and a snippet: users, then snippets),
 * so no single order is safe.  Instead each attempt waits at most 100 ms
 * per lock, well under deadlock_timeout, and on a timeout gives back what
 * it took (the block's subtransaction) and tries again: the update never
 * holds a lock while it waits long, so no writer in flight deadlocks with
 * it, and writers wait for it at most that long at a time.  After 30 s of
 * attempts it queues like any other statement.
 */
/*
 * Citus: refused while Citus manages a schemakit table.  Citus changes a
 * table's shards on the workers as each statement runs, but creates this
 * script's new functions there only after the script ends, so the columns
 * computed by email_key() would reach the shards before the function.
 */
DO $citus$
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                     JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.logicalrelid
                    WHERE c.relnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace) THEN
            RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                MESSAGE = 'schemakit cannot be updated to 1.5 in place while its tables are Citus tables',
                DETAIL = 'The update adds columns computed by a new function to users and email_codes; Citus changes their shards on the workers before the workers have that function.',
                HINT = 'Dump the database and restore it into a new database of the cluster (its CREATE EXTENSION installs 1.5), then run schemakit.distribute(): see doc/citus.md. Nothing was changed.';
        END IF;
    END IF;
END
$citus$;

DO $locks$
DECLARE
    saved text := pg_catalog.current_setting('lock_timeout');
    got boolean := false;
BEGIN
    FOR attempt IN 1..300 LOOP
        BEGIN
            PERFORM pg_catalog.set_config('lock_timeout', '100ms', true);
            LOCK TABLE schemakit.email_codes, schemakit.files, schemakit.oauth_accounts,
                       schemakit.users, schemakit.password_reset_tokens,
                       schemakit.sessions IN ACCESS EXCLUSIVE MODE;
            LOCK TABLE schemakit.snippets IN SHARE ROW EXCLUSIVE MODE;
            got := true;
        EXCEPTION WHEN lock_not_available THEN
            NULL;
        END;
        EXIT WHEN got;
        PERFORM pg_catalog.set_config('lock_timeout', saved, true);
        PERFORM pg_catalog.pg_sleep(0.005 + 0.02 * pg_catalog.random());
    END LOOP;
    PERFORM pg_catalog.set_config('lock_timeout', saved, true);
    IF NOT got THEN
        LOCK TABLE schemakit.email_codes, schemakit.files, schemakit.oauth_accounts,
                   schemakit.users, schemakit.password_reset_tokens,
                   schemakit.sessions IN ACCESS EXCLUSIVE MODE;
        LOCK TABLE schemakit.snippets IN SHARE ROW EXCLUSIVE MODE;
    END IF;
END
$locks$;

-------------------------------------------------------------------------------
-- C helpers
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit.email_key(email text)
RETURNS text
AS 'MODULE_PATHNAME', 'schemakit_email_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION schemakit.email_key(text) IS
'the key under which addresses are compared: ASCII letters folded to lower case, every other byte kept exactly';

CREATE FUNCTION schemakit._ttl_expiry(ttl interval, max_ttl interval, what text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'schemakit_ttl_expiry'
LANGUAGE C STABLE PARALLEL UNSAFE;  -- an absurd interval is computed in a subtransaction

CREATE FUNCTION schemakit._purge_cutoff(older_than interval, max_age interval)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'schemakit_purge_cutoff'
LANGUAGE C STABLE PARALLEL UNSAFE;

CREATE FUNCTION schemakit._lock_key(space integer, key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'schemakit_lock_key'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION schemakit._code_failures(code_id bigint, created_at timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'schemakit_code_failures'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE FUNCTION schemakit._code_failed(code_id bigint, created_at timestamptz, keep_until timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'schemakit_code_failed'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION schemakit._code_unfail(code_id bigint, created_at timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'schemakit_code_unfail'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION schemakit._refuse(sqlstate text, message text, detail text, hint text)
RETURNS void
AS 'MODULE_PATHNAME', 'schemakit_refuse'
LANGUAGE C VOLATILE PARALLEL SAFE;

-- Keeps updated_at current on every UPDATE, in C: the transaction's time,
-- which on Citus is the distributed transaction's stamp (the same on every
-- node's copy of a reference table's row; now() would differ per node).
CREATE OR REPLACE FUNCTION schemakit.touch_updated_at()
RETURNS trigger
AS 'MODULE_PATHNAME', 'schemakit_touch_updated_at'
LANGUAGE C;

CREATE FUNCTION schemakit._reference_check()
RETURNS trigger
AS 'MODULE_PATHNAME', 'schemakit_reference_check'
LANGUAGE C;

-- Same name, new message: the address key instead of lower() in the
-- caller's collation.  Only codes of non-ASCII addresses hash differently;
-- their open codes are retired below.  (The name stays: a 1.4 function
-- called while this update commits looks its helpers up by name when it
-- resumes, so an update renames or drops nothing 1.4's functions call.)
CREATE OR REPLACE FUNCTION schemakit._code_hash_keyed(email text, code text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'schemakit_email_code_hash'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

REVOKE ALL ON FUNCTION schemakit._ttl_expiry(interval, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit._purge_cutoff(interval, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit._lock_key(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit._code_failures(bigint, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit._code_failed(bigint, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit._code_unfail(bigint, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit._refuse(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit._reference_check() FROM PUBLIC;

-- Retired: the unkeyed hash of 1.0-1.2 and the 1.3 SQL HMAC helper.  The
-- unkeyed acceptance window closed a day after each database reached 1.3.
DROP FUNCTION schemakit._code_hash(text, text);
DROP FUNCTION schemakit._code_hmac(text, bytea);

-------------------------------------------------------------------------------
-- users: one key per address
-------------------------------------------------------------------------------

DO $collisions$
DECLARE
    groups text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%L: users %s', g.k, g.ids), '; ')
      INTO groups
      FROM (SELECT schemakit.email_key(u.email) AS k,
                   pg_catalog.string_agg(u.id::text, ', ' ORDER BY u.id) AS ids
              FROM schemakit.users u
             WHERE u.email IS NOT NULL
             GROUP BY 1
            HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
             ORDER BY 1
             LIMIT 50) g;
    IF groups IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'unique_violation',
            MESSAGE = 'users would share an address key in schemakit 1.5',
            DETAIL = 'Addresses that differ only in ASCII case are one address from 1.5 on: ' || groups || '.',
            HINT = 'Change or clear the address of all but one user of each group, then update again. Nothing was changed.';
    END IF;
END
$collisions$;

ALTER TABLE schemakit.users
    ADD COLUMN email_key text GENERATED ALWAYS AS (schemakit.email_key(email)) STORED;
DROP INDEX schemakit.users_email_key;
ALTER TABLE schemakit.users ADD CONSTRAINT users_email_key UNIQUE (email_key);

COMMENT ON COLUMN schemakit.users.email_key IS
'schemakit.email_key(email): unique; look users up and resolve conflicts by it';

COMMENT ON TABLE schemakit.users IS
'application users; email is unique by email_key (ASCII letters folded), username case-insensitively';
COMMENT ON TABLE schemakit._code_key IS
'per-database email-code key, used while the server has no code key (schemakit.code_key_file, schemakit.code_hmac_key); never dumped';

-------------------------------------------------------------------------------
-- email_codes: the same key
-------------------------------------------------------------------------------

-- A plain column, not a generated one: Citus routes a row by its
-- distribution column before any trigger or expression runs, so whoever
-- inserts supplies the key (issue_email_code does; on a single node a
-- trigger fills a missing one), and a CHECK holds it to the address.
ALTER TABLE schemakit.email_codes ADD COLUMN email_key text;
UPDATE schemakit.email_codes c SET email_key = schemakit.email_key(c.email);
ALTER TABLE schemakit.email_codes
    ALTER COLUMN email_key SET NOT NULL,
    ADD CONSTRAINT email_codes_email_key_check
        CHECK (email_key OPERATOR(pg_catalog.=) schemakit.email_key(email));

-- Open codes hashed under a lower() that differs from the key cannot verify
-- any more, and two open codes whose addresses now share a key cannot both
-- stay open: both are retired (the user asks for a new code).
UPDATE schemakit.email_codes c
   SET revoked_at = pg_catalog.now()
 WHERE c.used_at IS NULL AND c.revoked_at IS NULL
   AND (pg_catalog.lower(c.email) OPERATOR(pg_catalog.<>) c.email_key
        OR EXISTS (SELECT 1 FROM schemakit.email_codes d
                    WHERE d.used_at IS NULL AND d.revoked_at IS NULL
                      AND d.email_key OPERATOR(pg_catalog.=) c.email_key
                      AND d.id OPERATOR(pg_catalog.<>) c.id));

-- (Codes created before the 1.3 step carry the unkeyed hash of 1.0-1.2,
-- which 1.5 no longer accepts.  They stay as they are, unverifiable; the
-- next code issued for the address replaces them.)

DROP INDEX schemakit.email_codes_open_email_key;
CREATE UNIQUE INDEX email_codes_open_email_key
    ON schemakit.email_codes (email_key)
    WHERE used_at IS NULL AND revoked_at IS NULL;
DROP INDEX schemakit.email_codes_email_created_idx;
CREATE INDEX email_codes_email_created_idx
    ON schemakit.email_codes (email_key, created_at);

-- The address key leads the primary key, so email_codes can be distributed
-- by it (schemakit.distribute()): every lookup of issue and verify names it.
ALTER TABLE schemakit.email_codes
    DROP CONSTRAINT email_codes_pkey,
    ADD CONSTRAINT email_codes_pkey PRIMARY KEY (email_key, id);

CREATE FUNCTION schemakit._email_codes_fill_key()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.email_key IS NULL THEN
        NEW.email_key := schemakit.email_key(NEW.email);
    END IF;
    RETURN NEW;
END
$$;

REVOKE ALL ON FUNCTION schemakit._email_codes_fill_key() FROM PUBLIC;

-- (WHEN: an insert that supplies the key, as issue_email_code does, does
-- not call the function at all.)
CREATE TRIGGER email_codes_fill_key
    BEFORE INSERT ON schemakit.email_codes
    FOR EACH ROW WHEN (NEW.email_key IS NULL)
    EXECUTE FUNCTION schemakit._email_codes_fill_key();

-------------------------------------------------------------------------------
-- sessions and password_reset_tokens: the token hash is the primary key
-------------------------------------------------------------------------------

-- Every lookup that matters names the token hash, so it is the key, and the
-- tables can be distributed by it (schemakit.distribute()).  id stays, an
-- identity with its own index, for the functions that take a session id.
-- The token index is built again, under the ACCESS EXCLUSIVE lock taken
-- at the start.
ALTER TABLE schemakit.sessions
    DROP CONSTRAINT sessions_pkey,
    DROP CONSTRAINT sessions_token_hash_key,
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (token_hash);
CREATE INDEX sessions_id_idx ON schemakit.sessions (id);

ALTER TABLE schemakit.password_reset_tokens
    DROP CONSTRAINT password_reset_tokens_pkey,
    DROP CONSTRAINT password_reset_tokens_token_hash_key,
    ADD CONSTRAINT password_reset_tokens_pkey PRIMARY KEY (token_hash);
CREATE INDEX password_reset_tokens_id_idx ON schemakit.password_reset_tokens (id);

-------------------------------------------------------------------------------
-- References to users that pg_restore -j can load in any order
-------------------------------------------------------------------------------

-- Each reference gets a _reference_check trigger; the foreign keys' own
-- insert-side check triggers are disabled in one place, near the end.

CREATE TRIGGER snippets_owner_exists
    BEFORE INSERT OR UPDATE OF owner_id ON schemakit.snippets
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('owner_id', 'users', 'id');
CREATE TRIGGER email_codes_user_exists
    BEFORE INSERT OR UPDATE OF user_id ON schemakit.email_codes
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('user_id', 'users', 'id');
CREATE TRIGGER oauth_accounts_user_exists
    BEFORE INSERT OR UPDATE OF user_id ON schemakit.oauth_accounts
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('user_id', 'users', 'id');
CREATE TRIGGER password_reset_tokens_user_exists
    BEFORE INSERT OR UPDATE OF user_id ON schemakit.password_reset_tokens
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('user_id', 'users', 'id');
CREATE TRIGGER files_user_exists
    BEFORE INSERT OR UPDATE OF user_id ON schemakit.files
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('user_id', 'users', 'id');
CREATE TRIGGER sessions_user_exists
    BEFORE INSERT OR UPDATE OF user_id ON schemakit.sessions
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('user_id', 'users', 'id');

-------------------------------------------------------------------------------
-- Issuers judge the expiry they produce with _ttl_expiry.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit.issue_password_reset_token(user_id bigint, ttl interval DEFAULT '1 hour')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token text;
    expires timestamptz;
BEGIN
    -- 22004 for NULL, 22023 unless now() < now() + ttl <= now() + 7 days.
    expires := schemakit._ttl_expiry(ttl, interval '7 days', 'password reset');
    PERFORM schemakit._require_user(user_id);
    token := schemakit.random_token(32);
    INSERT INTO schemakit.password_reset_tokens (user_id, token_hash, expires_at)
    VALUES (issue_password_reset_token.user_id, schemakit._token_hash(token), expires);
    RETURN token;
END
$$;

CREATE OR REPLACE FUNCTION schemakit.issue_session(
    user_id bigint, ttl interval DEFAULT '30 days',
    ip_address inet DEFAULT NULL, user_agent text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token text;
    expires timestamptz;
BEGIN
    -- 22004 for NULL, 22023 unless now() < now() + ttl <= now() + 366 days
    -- (the timestamps compared: an interval comparison counts a year as 360 days).
    expires := schemakit._ttl_expiry(ttl, interval '366 days', 'session');
    PERFORM schemakit._require_user(user_id);
    token := schemakit.random_token(32);
    INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, ip_address, user_agent)
    VALUES (issue_session.user_id, schemakit._token_hash(token), expires,
            issue_session.ip_address,
            -- informational only: a huge header must not fail a login
            pg_catalog.left(issue_session.user_agent, 512));
    RETURN token;
END
$$;


/*
 * Nothing in 1.5 calls _check_ttl.  It stays for one version because 1.4's
 * issue_session and issue_password_reset_token call it: a call running
 * while this update commits looks it up by name when it goes on.  It judges
 * as _ttl_expiry does.
 */
CREATE OR REPLACE FUNCTION schemakit._check_ttl(ttl interval, max_ttl interval, what text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    expires timestamptz;
BEGIN
    -- 22004 for NULL, 22023 unless now() < now() + ttl <= now() + max_ttl.
    expires := schemakit._ttl_expiry(ttl, max_ttl, what);
END
$$;

-------------------------------------------------------------------------------
-- Email codes
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit.issue_email_code(email text, ttl interval DEFAULT '10 minutes')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text;
    address text;
    expires timestamptz;
    issued integer;
    max_issued integer;
    window_len interval;
    locked boolean;
    owner_id bigint;
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
    expires := schemakit._ttl_expiry(ttl, interval '1 day', 'email code');
    address := schemakit.email_key(email);

    -- Drawing the code loads the library, which defines the limit settings.
    code := schemakit.random_code(6);
    max_issued := pg_catalog.current_setting('schemakit.email_code_issue_limit')::integer;
    window_len := pg_catalog.current_setting('schemakit.email_code_window')::interval;

    -- Issuance per address takes turns, under a lock no SQL role can hold.
    -- (Assignments, not PERFORM: PL/pgSQL evaluates them without the executor.)
    locked := schemakit._lock_key(1, address);

    SELECT pg_catalog.count(*) INTO issued
      FROM schemakit.email_codes c
     WHERE c.email_key = address
       AND c.created_at > pg_catalog.now() - window_len;
    IF issued >= max_issued THEN
        -- (raised in C: the log gets no STATEMENT line, whatever the call held)
        PERFORM schemakit._refuse('SKR01', 'too many email codes issued for this address', pg_catalog.format('At most %s codes per %s.', max_issued, window_len), 'Wait before requesting another code.');
    END IF;

    UPDATE schemakit.email_codes c
       SET revoked_at = pg_catalog.now()
     WHERE c.email_key = address
       AND c.used_at IS NULL AND c.revoked_at IS NULL;

    -- The user is read first, not in a subquery of the INSERT: Citus
    -- refuses subqueries within an INSERT into a reference table.
    SELECT u.id INTO owner_id FROM schemakit.users u WHERE u.email_key = address;
    INSERT INTO schemakit.email_codes (user_id, email, email_key, code_hash, expires_at)
    VALUES (owner_id,
            email,
            address,
            schemakit._code_hash_keyed(email, code),
            expires);
    RETURN code;
END
$$;

/*
 * A guess counts once made: the count of each code is the greater of its
 * failed_attempts (rolled back with the caller) and the shared-memory count
 * (never rolled back).  The per-address limit sums the same over the
 * window, under the address lock, so concurrent guesses count in turn.
 */
CREATE OR REPLACE FUNCTION schemakit.verify_email_code(email text, code text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    w record;
    address text;
    guess bytea;
    failures bigint;
    max_failures integer;
    window_len interval;
    locked boolean;
    counted integer;
BEGIN
    IF email IS NULL OR code IS NULL THEN
        RETURN false;
    END IF;
    address := schemakit.email_key(email);
    -- Hash before the lookup: a known and an unknown address cost the same.
    guess := schemakit._code_hash_keyed(email, code);
    max_failures := pg_catalog.current_setting('schemakit.email_code_verify_limit')::integer;
    window_len := pg_catalog.current_setting('schemakit.email_code_window')::interval;

    locked := schemakit._lock_key(1, address);

    -- The shared-memory counts are read here, on this node, not inside the
    -- query: on Citus a query on email_codes runs on the worker that holds
    -- the address's shard, whose memory holds other counts.
    failures := 0;
    FOR w IN SELECT ec.id, ec.created_at, ec.failed_attempts
               FROM schemakit.email_codes ec
              WHERE ec.email_key = address
                AND ec.created_at > pg_catalog.now() - window_len
    LOOP
        failures := failures + GREATEST(w.failed_attempts, schemakit._code_failures(w.id, w.created_at));
    END LOOP;
    IF failures >= max_failures THEN
        -- (raised in C: the log gets no STATEMENT line with the code)
        PERFORM schemakit._refuse('SKR02', 'too many failed code verifications for this address', pg_catalog.format('At most %s failed attempts per %s.', max_failures, window_len), 'Wait before trying again.');
    END IF;

    SELECT ec.id, ec.code_hash, ec.expires_at, ec.created_at, ec.failed_attempts
      INTO c
      FROM schemakit.email_codes ec
     WHERE ec.email_key = address
       AND ec.used_at IS NULL AND ec.revoked_at IS NULL
       FOR UPDATE;

    IF NOT FOUND OR c.expires_at <= pg_catalog.now()
       OR GREATEST(c.failed_attempts, schemakit._code_failures(c.id, c.created_at)) >= 5 THEN
        RETURN false;
    END IF;

    /*
     * The guess is counted before it is judged, where no rollback reaches:
     * a guess that cannot be counted (53400, the table is full) is never
     * judged, so a full table is no oracle.  The right code takes its count
     * back.
     */
    counted := schemakit._code_failed(c.id, c.created_at, GREATEST(c.expires_at, c.created_at + window_len));
    IF c.code_hash = guess THEN
        counted := schemakit._code_unfail(c.id, c.created_at);
        UPDATE schemakit.email_codes SET used_at = pg_catalog.now()
         WHERE email_key = address AND id = c.id;
        RETURN true;
    END IF;

    UPDATE schemakit.email_codes SET failed_attempts = failed_attempts + 1
     WHERE email_key = address AND id = c.id;
    RETURN false;
END
$$;

-------------------------------------------------------------------------------
-- Reset tokens: one consumer per user at a time
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit.consume_password_reset_token(token text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hash bytea;
    uid bigint;
    locked boolean;
BEGIN
    -- No real token is longer (1024 bytes encode to 1366 characters).
    IF token IS NULL OR pg_catalog.octet_length(token) > 1400 THEN
        RETURN NULL;
    END IF;
    hash := schemakit._token_hash(token);

    SELECT t.user_id INTO uid
      FROM schemakit.password_reset_tokens t
     WHERE t.token_hash = hash;
    IF uid IS NULL THEN
        RETURN NULL;
    END IF;

    /*
     * Consumers of one user's tokens take turns, so claiming one token and
     * revoking the others can never wait on each other in a cycle.  The
     * claim re-checks everything after the lock.
     */
    locked := schemakit._lock_key(2, uid::text);

    UPDATE schemakit.password_reset_tokens t
       SET used_at = pg_catalog.now()
     WHERE t.token_hash = hash
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

-------------------------------------------------------------------------------
-- OAuth: a provider that has no address for the account sends ''
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit.link_oauth_account(
    user_id bigint, provider text, provider_id text,
    email text DEFAULT NULL, display_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    link record;
    addr text := NULLIF(email, '');
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
    IF NOT schemakit._email_ok(addr) THEN
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
                link_oauth_account.provider_id, addr,
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

-------------------------------------------------------------------------------
-- grant_app: REFERENCES, so an app's own tables can point at schemakit's
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION schemakit.grant_app(app regrole)
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
           AND p.proname <> ALL (ARRAY['grant_app', 'distribute'])
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f, app);
    END LOOP;
    EXECUTE pg_catalog.format(
        'GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON TABLE schemakit.users, schemakit.snippets,'
        ' schemakit.oauth_accounts, schemakit.files TO %s', app);
    EXECUTE pg_catalog.format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE schemakit.verifications TO %s', app);
    EXECUTE pg_catalog.format(
        'GRANT USAGE, SELECT ON SEQUENCE schemakit.users_id_seq, schemakit.snippets_id_seq,'
        ' schemakit.oauth_accounts_id_seq, schemakit.files_id_seq, schemakit.verifications_id_seq TO %s', app);
    EXECUTE pg_catalog.format('GRANT SELECT ON TABLE schemakit.migrations TO %s', app);
    EXECUTE pg_catalog.format(
        'GRANT SELECT, UPDATE (slug, name), DELETE, REFERENCES ON TABLE schemakit.organizations TO %s', app);
    EXECUTE pg_catalog.format('GRANT SELECT ON TABLE schemakit.memberships TO %s', app);
    EXECUTE pg_catalog.format(
        'GRANT SELECT (id, organization_id, email, email_key, role, invited_by, created_at,'
        ' expires_at, accepted_at, accepted_by, revoked_at) ON TABLE schemakit.invitations TO %s', app);
END
$$;

-------------------------------------------------------------------------------
-- users.username optional; files.mime_type with parameters
-------------------------------------------------------------------------------

-- Apps that sign up by email code, OAuth or better-auth have no username at
-- sign-up.  The unique index on lower(username) lets any number of users
-- have none; users_username_check (1..255 characters) still holds for a
-- username that is given.  Metadata only: no rewrite, no scan.
ALTER TABLE schemakit.users ALTER COLUMN username DROP NOT NULL;

COMMENT ON COLUMN schemakit.users.username IS
'optional handle, unique case-insensitively (users_username_key); NULL for users who signed up without one';

-- A Content-Type as clients send it: type/subtype, then RFC 9110
-- parameters ('text/plain; charset=utf-8', 'multipart/mixed; boundary="a b"').
-- Every value the 1.4 check accepted is still accepted (zero parameters),
-- so validating cannot fail; NOT VALID + VALIDATE holds ACCESS EXCLUSIVE
-- only for the catalog change and scans under SHARE UPDATE EXCLUSIVE.
ALTER TABLE schemakit.files DROP CONSTRAINT files_mime_type_check;
ALTER TABLE schemakit.files ADD CONSTRAINT files_mime_type_check
    CHECK (pg_catalog.char_length(mime_type) <= 255
           AND mime_type ~ '^[^[:space:]/]+/[^[:space:]/]+([ \t]*;[ \t]*[^[:space:]";=]+=([^[:space:]";]+|"([^"\\]|\\.)*"))*$')
    NOT VALID;
ALTER TABLE schemakit.files VALIDATE CONSTRAINT files_mime_type_check;

-------------------------------------------------------------------------------
-- Organizations: organizations, memberships, invitations.
--
-- Roles are a fixed set: owner, admin, member.  The extension enforces what
-- they mean (who may invite, change roles and remove members, and that an
-- organization always keeps an owner); finer permissions belong to the app,
-- keyed by membership.
--
-- Locks: every change to an organization's members takes the organization
-- row FOR NO KEY UPDATE first, then the member rows.  Changes of one
-- organization take turns; foreign key checks (FOR KEY SHARE) never wait.
-- Under REPEATABLE READ a change that lost the race fails with 40001.
--
-- SQLSTATEs: 22004 NULL argument; 22023 bad argument or malformed token;
-- 23503 unknown user, organization or member; 23505 slug taken or already
-- a member; 42501 the acting user may not do this, or the invitation was
-- sent to another address; SKR10 unknown invitation; SKR11 expired; SKR12
-- revoked; SKR13 already accepted; SKR14 the organization would have no
-- owner.
-------------------------------------------------------------------------------

CREATE TABLE schemakit.organizations (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT organizations_slug_key UNIQUE (slug),
    CONSTRAINT organizations_slug_check
        CHECK (slug OPERATOR(pg_catalog.~) '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    CONSTRAINT organizations_name_check
        CHECK (pg_catalog.char_length(name) OPERATOR(pg_catalog.<=) 255
               AND pg_catalog.btrim(name) OPERATOR(pg_catalog.<>) '')
);

CREATE TRIGGER organizations_touch_updated_at
    BEFORE UPDATE OF slug, name ON schemakit.organizations
    FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();

COMMENT ON TABLE schemakit.organizations IS
'organizations: id stays internal, slug goes into URLs; always at least one owner';

CREATE TABLE schemakit.memberships (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    organization_id bigint NOT NULL REFERENCES schemakit.organizations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    role            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (organization_id, user_id),
    CONSTRAINT memberships_id_key UNIQUE (id),
    CONSTRAINT memberships_role_check
        CHECK (role OPERATOR(pg_catalog.=) ANY (ARRAY['owner', 'admin', 'member']::text[]))
);

-- "A user's organizations"; also serves the cascade from users.
CREATE INDEX memberships_user_id_idx ON schemakit.memberships (user_id);

CREATE TRIGGER memberships_touch_updated_at
    BEFORE UPDATE OF role ON schemakit.memberships
    FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();

COMMENT ON TABLE schemakit.memberships IS
'one row per user and organization, with the user''s role: owner, admin or member';

CREATE TABLE schemakit.invitations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES schemakit.organizations (id) ON DELETE CASCADE,
    email           text NOT NULL,
    email_key       text GENERATED ALWAYS AS (schemakit.email_key(email)) STORED,
    role            text NOT NULL,
    invited_by      bigint REFERENCES schemakit.users (id) ON DELETE SET NULL,
    token_hash      bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    accepted_by     bigint REFERENCES schemakit.users (id) ON DELETE SET NULL,
    revoked_at      timestamptz,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_token_hash_check
        CHECK (pg_catalog.octet_length(token_hash) OPERATOR(pg_catalog.=) 32),
    CONSTRAINT invitations_email_check CHECK (schemakit._email_ok(email)),
    CONSTRAINT invitations_role_check
        CHECK (role OPERATOR(pg_catalog.=) ANY (ARRAY['owner', 'admin', 'member']::text[])),
    CONSTRAINT invitations_closed_once_check
        CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);

-- At most one open invitation per organization and address: a new one
-- replaces it.
CREATE UNIQUE INDEX invitations_open_key
    ON schemakit.invitations (organization_id, email_key)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
-- Listing and the cascade from organizations; the SET NULL from users.
CREATE INDEX invitations_organization_id_idx ON schemakit.invitations (organization_id);
CREATE INDEX invitations_invited_by_idx ON schemakit.invitations (invited_by);
CREATE INDEX invitations_accepted_by_idx ON schemakit.invitations (accepted_by);
-- purge_expired(): when the invitation stopped being usable.
CREATE INDEX invitations_dead_at_idx
    ON schemakit.invitations ((LEAST(expires_at, accepted_at, revoked_at)));

COMMENT ON TABLE schemakit.invitations IS
'invitations to join an organization; only a SHA-256 of each invitation token is stored';

-- (Their foreign keys' insert-side check triggers are disabled below, with
-- the others.)

CREATE TRIGGER memberships_organization_exists
    BEFORE INSERT OR UPDATE OF organization_id ON schemakit.memberships
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('organization_id', 'organizations', 'id');
CREATE TRIGGER memberships_user_exists
    BEFORE INSERT OR UPDATE OF user_id ON schemakit.memberships
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('user_id', 'users', 'id');
CREATE TRIGGER invitations_organization_exists
    BEFORE INSERT OR UPDATE OF organization_id ON schemakit.invitations
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('organization_id', 'organizations', 'id');
CREATE TRIGGER invitations_invited_by_exists
    BEFORE INSERT OR UPDATE OF invited_by ON schemakit.invitations
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('invited_by', 'users', 'id');
CREATE TRIGGER invitations_accepted_by_exists
    BEFORE INSERT OR UPDATE OF accepted_by ON schemakit.invitations
    FOR EACH ROW EXECUTE FUNCTION schemakit._reference_check('accepted_by', 'users', 'id');

-------------------------------------------------------------------------------
-- An organization keeps an owner: a trigger, so that no path (a function,
-- a direct UPDATE or DELETE, the cascade from a deleted user) takes the
-- last one away.  Deleting the organization itself is allowed.
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit._memberships_keep_owner()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.role <> 'owner'
       OR (TG_OP = 'UPDATE' AND NEW.role = 'owner'
           AND NEW.organization_id = OLD.organization_id) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;

    -- Changes of one organization's owners take turns on its row.  Not
    -- found: the organization is being deleted in this transaction.
    PERFORM 1 FROM schemakit.organizations o
      WHERE o.id = OLD.organization_id
        FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;

    -- Another owner, locked so that it cannot go at the same time (and,
    -- under REPEATABLE READ, a concurrent change of it raises 40001).
    PERFORM 1 FROM schemakit.memberships m
      WHERE m.organization_id = OLD.organization_id
        AND m.role = 'owner'
        AND m.user_id <> OLD.user_id
      LIMIT 1
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SKR14',
            MESSAGE = pg_catalog.format('organization %s would have no owner', OLD.organization_id),
            DETAIL = pg_catalog.format('User %s is its last owner.', OLD.user_id),
            HINT = 'Make another member an owner first, or delete the organization.';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

REVOKE ALL ON FUNCTION schemakit._memberships_keep_owner() FROM PUBLIC;

CREATE TRIGGER memberships_keep_owner
    BEFORE UPDATE OR DELETE ON schemakit.memberships
    FOR EACH ROW EXECUTE FUNCTION schemakit._memberships_keep_owner();

-------------------------------------------------------------------------------
-- Internal: lock an organization and check the acting user's role.
-------------------------------------------------------------------------------

-- Takes the organization row FOR NO KEY UPDATE (23503 if there is none)
-- and returns the acting user's role in it (NULL if not a member).
CREATE FUNCTION schemakit._lock_organization(organization_id bigint, actor_user_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor_role text;
BEGIN
    PERFORM 1 FROM schemakit.organizations o
      WHERE o.id = _lock_organization.organization_id
        FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = pg_catalog.format('organization %s does not exist', organization_id);
    END IF;
    SELECT m.role INTO actor_role
      FROM schemakit.memberships m
     WHERE m.organization_id = _lock_organization.organization_id
       AND m.user_id = _lock_organization.actor_user_id;
    RETURN actor_role;
END
$$;

REVOKE ALL ON FUNCTION schemakit._lock_organization(bigint, bigint) FROM PUBLIC;

-------------------------------------------------------------------------------
-- Functions
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit.create_organization(owner_user_id bigint, name text, slug text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    org_id bigint;
    try_slug text;
BEGIN
    IF owner_user_id IS NULL OR name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'owner_user_id and name must not be NULL';
    END IF;
    IF pg_catalog.char_length(name) > 255 OR pg_catalog.btrim(name) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'organization name must have 1 to 255 characters and not be blank';
    END IF;
    IF slug IS NOT NULL AND slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid organization slug',
            DETAIL = 'A slug has 1 to 63 characters: lower-case ASCII letters, digits and inner hyphens.';
    END IF;
    PERFORM schemakit._require_user(owner_user_id);

    -- A generated slug that is taken is drawn again; a given one is not.
    FOR attempt IN 1..32 LOOP
        try_slug := COALESCE(slug, schemakit.public_id(10, '0123456789abcdefghijklmnopqrstuvwxyz'));
        INSERT INTO schemakit.organizations AS o (slug, name)
        VALUES (try_slug, create_organization.name)
        ON CONFLICT ON CONSTRAINT organizations_slug_key DO NOTHING
        RETURNING o.id INTO org_id;
        EXIT WHEN org_id IS NOT NULL OR slug IS NOT NULL;
    END LOOP;
    IF org_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = 'organization slug is taken',
            DETAIL = pg_catalog.format('Key (slug)=(%s) already exists.', try_slug);
    END IF;

    INSERT INTO schemakit.memberships (organization_id, user_id, role)
    VALUES (org_id, owner_user_id, 'owner');
    RETURN org_id;
END
$$;

COMMENT ON FUNCTION schemakit.create_organization(bigint, text, text) IS
'creates an organization with the user as its owner; returns its id (slug generated unless given)';

CREATE FUNCTION schemakit.member_role(organization_id bigint, user_id bigint)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.role FROM schemakit.memberships m
     WHERE m.organization_id = member_role.organization_id
       AND m.user_id = member_role.user_id
$$;

COMMENT ON FUNCTION schemakit.member_role(bigint, bigint) IS
'the user''s role in the organization (owner, admin, member), NULL if not a member';

CREATE FUNCTION schemakit.invite_member(
    organization_id bigint, email text, role text, inviter_user_id bigint,
    ttl interval DEFAULT '7 days')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token text;
    expires timestamptz;
    inviter_role text;
BEGIN
    IF organization_id IS NULL OR email IS NULL OR role IS NULL OR inviter_user_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'invite_member arguments must not be NULL';
    END IF;
    IF NOT schemakit._email_ok(email) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid email address',
            DETAIL = 'An email address has the form local@domain, no spaces, at most 255 characters.';
    END IF;
    IF role <> ALL (ARRAY['owner', 'admin', 'member']) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid organization role',
            DETAIL = 'A role is one of owner, admin, member.';
    END IF;
    expires := schemakit._ttl_expiry(ttl, interval '30 days', 'invitation');
    PERFORM schemakit._require_user(inviter_user_id);

    inviter_role := schemakit._lock_organization(organization_id, inviter_user_id);
    IF inviter_role IS NULL OR inviter_role = 'member'
       OR (role = 'owner' AND inviter_role <> 'owner') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('user %s may not invite %s members to organization %s',
                                        inviter_user_id, invite_member.role, organization_id),
            DETAIL = 'Owners invite with any role; admins invite admins and members.';
    END IF;
    IF EXISTS (SELECT 1 FROM schemakit.memberships m
                 JOIN schemakit.users u ON u.id = m.user_id
                WHERE m.organization_id = invite_member.organization_id
                  AND u.email_key = schemakit.email_key(invite_member.email)) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = 'the user with this address is already a member',
            DETAIL = pg_catalog.format('Organization %s.', organization_id);
    END IF;

    -- A new invitation replaces the open one to the same address.
    UPDATE schemakit.invitations i
       SET revoked_at = pg_catalog.now()
     WHERE i.organization_id = invite_member.organization_id
       AND i.email_key = schemakit.email_key(invite_member.email)
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL;

    token := schemakit.random_token(32);
    INSERT INTO schemakit.invitations (organization_id, email, role, invited_by, token_hash, expires_at)
    VALUES (invite_member.organization_id, invite_member.email, invite_member.role,
            inviter_user_id, schemakit._token_hash(token), expires);
    RETURN token;
END
$$;

COMMENT ON FUNCTION schemakit.invite_member(bigint, text, text, bigint, interval) IS
'invites an address to an organization; returns the 256-bit invitation token (mail it); only its hash is stored';

CREATE FUNCTION schemakit.accept_invitation(token text, user_id bigint)
RETURNS schemakit.memberships
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hash bytea;
    inv record;
    member schemakit.memberships;
BEGIN
    -- Errors leave the statement out of the log: it may carry the token.
    IF token IS NULL OR user_id IS NULL THEN
        PERFORM schemakit._refuse('22004', 'accept_invitation arguments must not be NULL', NULL, NULL);
    END IF;
    IF pg_catalog.octet_length(token) > 1400 OR token !~ '^[A-Za-z0-9_-]{43}$' THEN
        PERFORM schemakit._refuse('22023', 'malformed invitation token',
            'An invitation token has 43 characters of A-Z, a-z, 0-9, "-" and "_".', NULL);
    END IF;
    hash := schemakit._token_hash(token);

    SELECT i.id, i.organization_id INTO inv
      FROM schemakit.invitations i
     WHERE i.token_hash = hash;
    IF NOT FOUND THEN
        PERFORM schemakit._refuse('SKR10', 'unknown invitation',
            'No invitation has this token.', 'Ask for a new invitation.');
    END IF;
    -- The user stays while this runs (as a foreign key check would keep it).
    PERFORM 1 FROM schemakit.users u WHERE u.id = accept_invitation.user_id FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM schemakit._refuse('23503', pg_catalog.format('user %s does not exist', user_id), NULL, NULL);
    END IF;

    -- Acceptances of one organization take turns; all is read again after.
    PERFORM 1 FROM schemakit.organizations o WHERE o.id = inv.organization_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM schemakit._refuse('SKR10', 'unknown invitation',
            'Its organization was deleted.', 'Ask for a new invitation.');
    END IF;
    SELECT i.id, i.organization_id, i.email_key, i.role, i.expires_at, i.accepted_at, i.revoked_at
      INTO inv
      FROM schemakit.invitations i
     WHERE i.id = inv.id
       FOR UPDATE;
    IF inv.accepted_at IS NOT NULL THEN
        PERFORM schemakit._refuse('SKR13', 'invitation already accepted',
            pg_catalog.format('It was accepted at %s.', inv.accepted_at), NULL);
    END IF;
    IF inv.revoked_at IS NOT NULL THEN
        PERFORM schemakit._refuse('SKR12', 'invitation revoked',
            pg_catalog.format('It was revoked at %s.', inv.revoked_at), 'Ask for a new invitation.');
    END IF;
    IF inv.expires_at <= pg_catalog.now() THEN
        PERFORM schemakit._refuse('SKR11', 'invitation expired',
            pg_catalog.format('It expired at %s.', inv.expires_at), 'Ask for a new invitation.');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM schemakit.users u
                    WHERE u.id = accept_invitation.user_id
                      AND u.email_key = inv.email_key) THEN
        PERFORM schemakit._refuse('42501', 'invitation was sent to another address',
            pg_catalog.format('User %s does not have the address the invitation was sent to.', user_id),
            'Log in as the user with that address, or set it as the user''s address first.');
    END IF;

    INSERT INTO schemakit.memberships AS m (organization_id, user_id, role)
    VALUES (inv.organization_id, accept_invitation.user_id, inv.role)
    ON CONFLICT ON CONSTRAINT memberships_pkey DO NOTHING
    RETURNING m.* INTO member;
    IF member.id IS NULL THEN
        PERFORM schemakit._refuse('23505', 'user is already a member of the organization',
            pg_catalog.format('User %s, organization %s. The invitation stays open.',
                              user_id, inv.organization_id), NULL);
    END IF;

    UPDATE schemakit.invitations i
       SET accepted_at = pg_catalog.now(), accepted_by = accept_invitation.user_id
     WHERE i.id = inv.id;
    RETURN member;
END
$$;

COMMENT ON FUNCTION schemakit.accept_invitation(text, bigint) IS
'accepts an invitation once, before it expires, for the user with the invited address; returns the new membership';

CREATE FUNCTION schemakit.revoke_invitation(invitation_id bigint, actor_user_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    org_id bigint;
    actor_role text;
BEGIN
    IF invitation_id IS NULL OR actor_user_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'revoke_invitation arguments must not be NULL';
    END IF;
    SELECT i.organization_id INTO org_id
      FROM schemakit.invitations i WHERE i.id = invitation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SKR10',
            MESSAGE = pg_catalog.format('invitation %s does not exist', invitation_id);
    END IF;
    actor_role := schemakit._lock_organization(org_id, actor_user_id);
    IF actor_role IS NULL OR actor_role = 'member' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('user %s may not revoke invitations of organization %s',
                                        actor_user_id, org_id),
            DETAIL = 'Owners and admins revoke invitations.';
    END IF;
    UPDATE schemakit.invitations i
       SET revoked_at = pg_catalog.now()
     WHERE i.id = invitation_id
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL
       AND i.expires_at > pg_catalog.now();
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION schemakit.revoke_invitation(bigint, bigint) IS
'revokes an open invitation (owners and admins); true if this call revoked it';

CREATE FUNCTION schemakit.set_member_role(
    organization_id bigint, user_id bigint, role text, actor_user_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor_role text;
    old_role text;
BEGIN
    IF organization_id IS NULL OR user_id IS NULL OR role IS NULL OR actor_user_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'set_member_role arguments must not be NULL';
    END IF;
    IF role <> ALL (ARRAY['owner', 'admin', 'member']) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid organization role',
            DETAIL = 'A role is one of owner, admin, member.';
    END IF;
    actor_role := schemakit._lock_organization(organization_id, actor_user_id);
    SELECT m.role INTO old_role
      FROM schemakit.memberships m
     WHERE m.organization_id = set_member_role.organization_id
       AND m.user_id = set_member_role.user_id;
    IF actor_role IS NULL OR actor_role = 'member'
       OR (actor_role = 'admin' AND (old_role = 'owner' OR set_member_role.role = 'owner')) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('user %s may not change roles in organization %s',
                                        actor_user_id, organization_id),
            DETAIL = 'Owners change any role; admins change admins and members, and make no owners.';
    END IF;
    IF old_role IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = pg_catalog.format('user %s is not a member of organization %s',
                                        user_id, organization_id);
    END IF;
    IF old_role = set_member_role.role THEN
        RETURN false;
    END IF;
    -- The last owner's demotion is refused by memberships_keep_owner (SKR14).
    UPDATE schemakit.memberships m
       SET role = set_member_role.role
     WHERE m.organization_id = set_member_role.organization_id
       AND m.user_id = set_member_role.user_id;
    RETURN true;
END
$$;

COMMENT ON FUNCTION schemakit.set_member_role(bigint, bigint, text, bigint) IS
'changes a member''s role as actor_user_id; true if it changed; never demotes the last owner (SKR14)';

CREATE FUNCTION schemakit.remove_member(organization_id bigint, user_id bigint, actor_user_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor_role text;
    old_role text;
BEGIN
    IF organization_id IS NULL OR user_id IS NULL OR actor_user_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'remove_member arguments must not be NULL';
    END IF;
    actor_role := schemakit._lock_organization(organization_id, actor_user_id);
    SELECT m.role INTO old_role
      FROM schemakit.memberships m
     WHERE m.organization_id = remove_member.organization_id
       AND m.user_id = remove_member.user_id;
    -- Anyone may leave; owners remove anyone; admins remove admins and members.
    IF actor_role IS NULL
       OR (actor_user_id <> remove_member.user_id
           AND (actor_role = 'member' OR (actor_role = 'admin' AND old_role = 'owner'))) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('user %s may not remove members of organization %s',
                                        actor_user_id, organization_id),
            DETAIL = 'Members may leave; owners remove anyone; admins remove admins and members.';
    END IF;
    IF old_role IS NULL THEN
        RETURN false;
    END IF;
    -- The last owner's removal is refused by memberships_keep_owner (SKR14).
    DELETE FROM schemakit.memberships m
     WHERE m.organization_id = remove_member.organization_id
       AND m.user_id = remove_member.user_id;
    RETURN true;
END
$$;

COMMENT ON FUNCTION schemakit.remove_member(bigint, bigint, bigint) IS
'removes a member as actor_user_id (or lets a member leave); true if removed; never the last owner (SKR14)';

-- The functions that write memberships or touch invitations run as the
-- extension owner; grant_app gives EXECUTE.
REVOKE ALL ON FUNCTION schemakit.create_organization(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.invite_member(bigint, text, text, bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.accept_invitation(text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.revoke_invitation(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.set_member_role(bigint, bigint, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.remove_member(bigint, bigint, bigint) FROM PUBLIC;

-------------------------------------------------------------------------------
-- purge_expired: dead invitations too
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
    managed boolean;
BEGIN
    -- 22004 for NULL, 22023 unless now() - 100 years <= cutoff <= now().
    cutoff := schemakit._purge_cutoff(older_than, interval '100 years');
    -- Email codes of the limit window are what the limits count: keep them.
    -- (Before the library is loaded in this session the setting may not be
    -- defined yet; its default is 900 seconds.)
    window_start := pg_catalog.now()
        - COALESCE(pg_catalog.current_setting('schemakit.email_code_window', true), '900')::interval;

    -- Each condition matches an index: email_codes_dead_at_idx,
    -- password_reset_tokens_expires_at_idx, sessions_dead_at_idx,
    -- invitations_dead_at_idx.
    FOR purge IN
        SELECT v.tbl, v.dead_at, v.keep
          FROM (VALUES ('email_codes', 'LEAST(x.expires_at, x.used_at, x.revoked_at)', ' AND x.created_at < $3'),
                       ('password_reset_tokens', 'x.expires_at', ''),
                       ('sessions', 'LEAST(x.expires_at, x.revoked_at)', ''),
                       ('invitations', 'LEAST(x.expires_at, x.accepted_at, x.revoked_at)', ''),
                       ('verifications', 'x.expires_at', '')) AS v (tbl, dead_at, keep)
    LOOP
        -- A table Citus manages gets one plain DELETE: a hash-distributed
        -- one cannot be read FOR UPDATE across its shards, and on the copies
        -- of a reference table a LIMIT ... SKIP LOCKED batch could pick
        -- different rows on different nodes.  The same predicate deletes
        -- the same rows everywhere.
        IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
            EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p'
                    ' WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
              INTO managed
              USING pg_catalog.format('schemakit.%I', purge.tbl)::regclass;
            IF managed THEN
                EXECUTE pg_catalog.format(
                    'DELETE FROM schemakit.%1$I x WHERE %2$s < $1%3$s', purge.tbl, purge.dead_at, purge.keep)
                USING cutoff, batch, window_start;
                GET DIAGNOSTICS n = ROW_COUNT;
                total := total + n;
                CONTINUE;
            END IF;
        END IF;
        -- Each batch deletes by ctid, the rows its own subquery locked (no
        -- index on id needed: email_codes' key leads with email_key).
        FOR i IN 1..20 LOOP
            EXECUTE pg_catalog.format(
                'DELETE FROM schemakit.%1$I t WHERE t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY('
                '  SELECT x.ctid FROM schemakit.%1$I x WHERE %2$s < $1%3$s'
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

COMMENT ON FUNCTION schemakit.purge_expired(interval) IS
'deletes codes, reset tokens, sessions, invitations and verification values dead for longer than older_than, in bounded batches; returns rows deleted';

-------------------------------------------------------------------------------
-- Keep the rows in pg_dump.
-------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('schemakit.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.organizations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.memberships_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.invitations', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.invitations_id_seq', '');

-------------------------------------------------------------------------------
-- better-auth: what the schemakit/better-auth adapter stores.
--
-- - users: email_verified and image (better-auth's emailVerified, image).
-- - oauth_accounts: the provider's tokens, encrypted by the application
--   (AES-256-GCM under a key the database never sees), their expiry times,
--   the granted scope and updated_at.  A password is never stored here:
--   better-auth's 'credential' account is users.password_hash.
-- - verifications: better-auth's verification values, looked up by a
--   SHA-256 of the identifier (a reset token or a magic-link token is the
--   identifier itself, so it is never stored in plaintext).
-- - Session functions for an app that draws its own token (better-auth
--   does): sessions stays a secret table, the app role reaches it only
--   through these SECURITY DEFINER functions, and only token hashes are
--   stored, as issue_session stores them.
--
-- Locks: users and oauth_accounts gain columns without a rewrite (a
-- constant default, nullable columns) under ACCESS EXCLUSIVE, briefly.
-------------------------------------------------------------------------------

ALTER TABLE schemakit.users
    ADD COLUMN email_verified boolean NOT NULL DEFAULT false,
    ADD COLUMN image text,
    ADD CONSTRAINT users_image_check CHECK (pg_catalog.char_length(image) <= 2048);

COMMENT ON COLUMN schemakit.users.email_verified IS
'true once the user proved they receive mail at email (better-auth emailVerified)';
COMMENT ON COLUMN schemakit.users.image IS
'URL of the user''s picture, at most 2048 characters (better-auth image)';

ALTER TABLE schemakit.oauth_accounts
    ADD COLUMN access_token             bytea,
    ADD COLUMN refresh_token            bytea,
    ADD COLUMN id_token                 bytea,
    ADD COLUMN access_token_expires_at  timestamptz,
    ADD COLUMN refresh_token_expires_at timestamptz,
    ADD COLUMN scope                    text,
    ADD COLUMN updated_at               timestamptz,
    -- version byte, 12-byte nonce, ciphertext, 16-byte tag: at least 29 bytes
    ADD CONSTRAINT oauth_accounts_access_token_check
        CHECK (pg_catalog.octet_length(access_token) BETWEEN 29 AND 65536),
    ADD CONSTRAINT oauth_accounts_refresh_token_check
        CHECK (pg_catalog.octet_length(refresh_token) BETWEEN 29 AND 65536),
    ADD CONSTRAINT oauth_accounts_id_token_check
        CHECK (pg_catalog.octet_length(id_token) BETWEEN 29 AND 65536),
    ADD CONSTRAINT oauth_accounts_scope_check
        CHECK (pg_catalog.char_length(scope) <= 4096);

COMMENT ON COLUMN schemakit.oauth_accounts.access_token IS
'the provider''s access token, AES-256-GCM encrypted by the application (never plaintext)';
COMMENT ON COLUMN schemakit.oauth_accounts.refresh_token IS
'the provider''s refresh token, AES-256-GCM encrypted by the application (never plaintext)';
COMMENT ON COLUMN schemakit.oauth_accounts.id_token IS
'the provider''s ID token, AES-256-GCM encrypted by the application (never plaintext)';

CREATE TABLE schemakit.verifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identifier_hash bytea NOT NULL,
    value           text NOT NULL,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT verifications_identifier_hash_check
        CHECK (pg_catalog.octet_length(identifier_hash) = 32),
    CONSTRAINT verifications_value_check CHECK (pg_catalog.char_length(value) <= 8192)
);

CREATE INDEX verifications_identifier_hash_idx ON schemakit.verifications (identifier_hash);
CREATE INDEX verifications_expires_at_idx ON schemakit.verifications (expires_at);

COMMENT ON TABLE schemakit.verifications IS
'better-auth verification values, found by the SHA-256 of their identifier; an OTP is stored only as a keyed hash';

SELECT pg_catalog.pg_extension_config_dump('schemakit.verifications', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.verifications_id_seq', '');

-------------------------------------------------------------------------------
-- Sessions with a caller-drawn token
-------------------------------------------------------------------------------

CREATE FUNCTION schemakit.open_session(
    user_id bigint, token text, expires_at timestamptz,
    ip_address inet DEFAULT NULL, user_agent text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sid bigint;
BEGIN
    IF token IS NULL OR expires_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'open_session token and expires_at must not be NULL';
    END IF;
    -- better-auth draws 32 characters of 62 (190 bits); no real token is
    -- longer than 1400 bytes.
    IF pg_catalog.char_length(token) < 32 OR pg_catalog.octet_length(token) > 1400 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'a session token must have 32 to 1400 bytes';
    END IF;
    IF expires_at <= pg_catalog.now() OR expires_at > pg_catalog.now() + interval '366 days' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'session expires_at must be in the future and at most 366 days away';
    END IF;
    PERFORM schemakit._require_user(user_id);
    INSERT INTO schemakit.sessions AS s (user_id, token_hash, expires_at, ip_address, user_agent)
    VALUES (open_session.user_id, schemakit._token_hash(token), open_session.expires_at,
            open_session.ip_address, pg_catalog.left(open_session.user_agent, 512))
    RETURNING s.id INTO sid;
    RETURN sid;
END
$$;

COMMENT ON FUNCTION schemakit.open_session(bigint, text, timestamptz, inet, text) IS
'opens a session under a token the caller drew (at least 32 characters); only its hash is stored; returns the session id';

CREATE FUNCTION schemakit.find_session(token text)
RETURNS TABLE (id bigint, user_id bigint, created_at timestamptz, expires_at timestamptz,
               last_seen_at timestamptz, ip_address inet, user_agent text)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- (PL/pgSQL, not SQL: Citus cannot plan a parameter of an SQL function
    -- against a distributed table.)
    IF token IS NULL OR pg_catalog.octet_length(token) > 1400 THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT s.id, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.ip_address, s.user_agent
      FROM schemakit.sessions s
     WHERE s.token_hash = schemakit._token_hash(find_session.token)
       AND s.revoked_at IS NULL;
END
$$;

COMMENT ON FUNCTION schemakit.find_session(text) IS
'the unrevoked session (expired or not) of a token, without its hash';

CREATE FUNCTION schemakit.find_session_by_id(session_id bigint)
RETURNS TABLE (id bigint, user_id bigint, created_at timestamptz, expires_at timestamptz,
               last_seen_at timestamptz, ip_address inet, user_agent text)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT s.id, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.ip_address, s.user_agent
      FROM schemakit.sessions s
     WHERE s.id = find_session_by_id.session_id
       AND s.revoked_at IS NULL;
END
$$;

COMMENT ON FUNCTION schemakit.find_session_by_id(bigint) IS
'an unrevoked session (expired or not) by id, without its hash';

CREATE FUNCTION schemakit.list_user_sessions(uid bigint)
RETURNS TABLE (id bigint, user_id bigint, created_at timestamptz, expires_at timestamptz,
               last_seen_at timestamptz, ip_address inet, user_agent text)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT s.id, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.ip_address, s.user_agent
      FROM schemakit.sessions s
     WHERE s.user_id = list_user_sessions.uid
       AND s.revoked_at IS NULL
     ORDER BY s.id;
END
$$;

COMMENT ON FUNCTION schemakit.list_user_sessions(bigint) IS
'a user''s unrevoked sessions (expired or not), oldest first, without their hashes';

CREATE FUNCTION schemakit.update_session(session_id bigint, new_expires_at timestamptz)
RETURNS TABLE (id bigint, user_id bigint, created_at timestamptz, expires_at timestamptz,
               last_seen_at timestamptz, ip_address inet, user_agent text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A past expires_at ends the session (better-auth does so); a future
    -- one is at most 366 days away.  NULL keeps the expiry and only
    -- records the time (last_seen_at).
    IF update_session.new_expires_at > pg_catalog.now() + interval '366 days' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'session expires_at must be at most 366 days away';
    END IF;
    RETURN QUERY
    UPDATE schemakit.sessions s
       SET expires_at = COALESCE(update_session.new_expires_at, s.expires_at),
           last_seen_at = pg_catalog.now()
     WHERE s.id = update_session.session_id
       AND s.revoked_at IS NULL
       AND s.expires_at > pg_catalog.now()   -- an expired session stays dead
    RETURNING s.id, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.ip_address, s.user_agent;
END
$$;

COMMENT ON FUNCTION schemakit.update_session(bigint, timestamptz) IS
'sets a live session''s expiry (NULL keeps it) and last_seen_at; returns the session, none if revoked or expired';

CREATE FUNCTION schemakit.revoke_session_by_id(session_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE schemakit.sessions s
       SET revoked_at = pg_catalog.now()
     WHERE s.id = revoke_session_by_id.session_id
       AND s.revoked_at IS NULL;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION schemakit.revoke_session_by_id(bigint) IS
'revokes an unrevoked session (expired or not) by id; true if this call revoked it';

REVOKE ALL ON FUNCTION schemakit.open_session(bigint, text, timestamptz, inet, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.find_session(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.find_session_by_id(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.list_user_sessions(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.update_session(bigint, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemakit.revoke_session_by_id(bigint) FROM PUBLIC;

-------------------------------------------------------------------------------
-- Citus: schemakit.distribute()
-------------------------------------------------------------------------------

/*
 * Citus: on a worker (group id > 0 in pg_dist_local_group) every sequence
 * of schemakit starts at (group id << 48) + 1, so a row a worker inserts
 * never takes an id the coordinator (group 0: 1 .. 2^48) or another worker
 * gives, whatever the operator makes of the tables.  Without Citus, or on
 * the coordinator, it does nothing.  Returns how many sequences it moved.
 * Run by the extension scripts on every node, and by distribute() on the
 * workers (for those added later).
 */
CREATE FUNCTION schemakit._worker_sequence_ranges()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g bigint;
    n integer;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_local_group') IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO g;
    IF g IS NULL OR g <= 0 THEN
        RETURN 0;
    END IF;
    SELECT pg_catalog.count(pg_catalog.setval(c.oid::regclass, (g << 48) + 1, false)) INTO n
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_sequences q ON q.schemaname = 'schemakit' AND q.sequencename = c.relname
     WHERE c.relkind = 'S'
       AND c.relnamespace = 'schemakit'::regnamespace
       AND COALESCE(q.last_value, 0) < (g << 48);
    RETURN n;
END
$$;

REVOKE ALL ON FUNCTION schemakit._worker_sequence_ranges() FROM PUBLIC;

/*
 * The supported layout on a Citus cluster (doc/citus.md), made from the
 * coordinator by a superuser:
 *  - sessions and password_reset_tokens distributed by token_hash
 *    (colocated), email_codes by email_key: a session lookup, a token
 *    consume, a code issue or verify touches one shard;
 *  - every other table with user data a reference table (a copy on every
 *    node: a public_id or user lookup reads the local copy), _code_key too,
 *    so every node hashes codes under the same per-database key;
 *  - migrations stays each node's own record.
 * The rows Citus copied into shards are then removed from the coordinator's
 * own heaps, and on every worker the sequences move to a range of their own
 * (group id << 48), so an insert made on a worker never takes an id the
 * coordinator or another worker gives.  It refuses, changing nothing, while
 * a worker's own copy of a table holds rows (distribution would hide them).
 * Run again (after adding a worker, say) it leaves what is done alone and
 * moves the new workers' sequences.
 */
CREATE FUNCTION schemakit.distribute()
RETURNS TABLE (table_name text, layout text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    refs constant text[] := ARRAY['users', '_code_key', 'organizations', 'memberships',
                                  'invitations', 'snippets', 'oauth_accounts', 'files',
                                  'verifications'];
    -- table, distribution column, colocate_with
    hashed constant text[] := ARRAY['sessions', 'token_hash', 'default',
                                    'password_reset_tokens', 'token_hash', 'schemakit.sessions',
                                    'email_codes', 'email_key', 'default'];
    t text;
    col text;
    rel regclass;
    copied regclass[] := '{}';
    cmds text[];
    cmd text;
    tops text;
    s record;
    kind "char";
    key text;
    held text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname = current_user AND r.rolsuper) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'schemakit.distribute() must be run by a superuser';
    END IF;
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'Citus is not installed in this database',
            HINT = 'CREATE EXTENSION citus and add the workers first, then run schemakit.distribute() on the coordinator.';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'schemakit.distribute() runs on the Citus coordinator';
    END IF;

    -- Nothing changes while a worker's own copy of a table still to be
    -- distributed holds rows (_code_key: each node's own key, replaced).
    FOR i IN 1 .. pg_catalog.array_length(refs, 1) + pg_catalog.array_length(hashed, 1) / 3 LOOP
        t := CASE WHEN i <= pg_catalog.array_length(refs, 1) THEN refs[i]
                  ELSE hashed[(i - pg_catalog.array_length(refs, 1)) * 3 - 2] END;
        CONTINUE WHEN t = '_code_key'
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                        WHERE p.logicalrelid = pg_catalog.format('schemakit.%I', t)::regclass);
        SELECT pg_catalog.string_agg(pg_catalog.format('%s:%s %s', w.nodename, w.nodeport,
                   CASE WHEN w.success THEN w.result || ' rows' ELSE 'failed: ' || w.result END), ', ')
          INTO held
          FROM pg_catalog.run_command_on_workers(
                   pg_catalog.format('SELECT pg_catalog.count(*) FROM ONLY schemakit.%I', t)) w
         WHERE NOT w.success OR w.result <> '0';
        IF held IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = pg_catalog.format('the workers'' own copies of schemakit.%I hold rows', t),
                DETAIL = pg_catalog.format('Worker %s.', held),
                HINT = 'Rows written on a worker before distribution would be hidden by it: move them to the coordinator or delete them, then run schemakit.distribute() again. Nothing was changed.';
        END IF;
    END LOOP;

    -- Citus takes tables with triggers (schemakit's run on every placement
    -- and shard), and no local table is turned into a citus local table
    -- (the tables become reference tables in foreign key order instead).
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM pg_catalog.set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);

    FOREACH t IN ARRAY refs LOOP
        rel := pg_catalog.format('schemakit.%I', t)::regclass;
        SELECT p.partmethod INTO kind FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = rel;
        IF NOT FOUND THEN
            PERFORM pg_catalog.create_reference_table(rel);
            copied := copied || rel;
        ELSIF kind <> 'n' OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
                                         WHERE p.logicalrelid = rel AND p.repmodel = 't') THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = pg_catalog.format('schemakit.%I is already a Citus table of another kind', t),
                HINT = pg_catalog.format('Run SELECT undistribute_table(%L) first.', 'schemakit.' || t);
        END IF;
        table_name := t;
        layout := 'reference';
        RETURN NEXT;
    END LOOP;

    FOR i IN 1 .. pg_catalog.array_length(hashed, 1) / 3 LOOP
        t := hashed[i * 3 - 2];
        col := hashed[i * 3 - 1];
        rel := pg_catalog.format('schemakit.%I', t)::regclass;
        SELECT p.partmethod, pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
          INTO kind, key
          FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = rel;
        IF NOT FOUND THEN
            PERFORM pg_catalog.create_distributed_table(rel, col, colocate_with => hashed[i * 3]);
            copied := copied || rel;
        ELSIF kind <> 'h' OR key IS DISTINCT FROM col THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = pg_catalog.format('schemakit.%I is already a Citus table of another kind', t),
                HINT = pg_catalog.format('Run SELECT undistribute_table(%L) first.', 'schemakit.' || t);
        END IF;
        table_name := t;
        layout := 'distributed by ' || col;
        RETURN NEXT;
    END LOOP;

    -- Citus copied the rows into the shards; the coordinator's own heaps
    -- still hold them, out of sight.  Removed once every table is Citus's
    -- (a table a local table still pointed at could not be truncated).
    FOREACH rel IN ARRAY copied LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(rel);
    END LOOP;

    -- Each worker's sequences in a range of their own (a worker added
    -- since CREATE EXTENSION got none), and past every id of that range the
    -- tables already hold (a restored dump brings ids the workers drew).
    -- The highest ids are read here: the workers do not see this
    -- transaction's tables until it commits.
    cmds := ARRAY['SELECT schemakit._worker_sequence_ranges()'];
    FOR s IN
        SELECT q.relname AS seq, t.relname AS tbl, a.attname AS col
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class q ON q.oid = d.objid AND q.relkind = 'S'
          JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
          JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
           AND d.deptype IN ('a', 'i')
           AND q.relnamespace = 'schemakit'::regnamespace
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.string_agg(pg_catalog.format(''(%%s,%%s)'', x.g, x.m), '','')'
            '  FROM (SELECT t.%1$I >> 48 AS g, pg_catalog.max(t.%1$I) AS m FROM schemakit.%2$I t'
            '         WHERE t.%1$I >= (1::bigint << 48) GROUP BY 1) x', s.col, s.tbl)
          INTO tops;
        CONTINUE WHEN tops IS NULL;
        cmds := cmds || pg_catalog.format(
            'SELECT pg_catalog.setval(%L, v.m) FROM (VALUES %s) v (g, m), pg_catalog.pg_dist_local_group l'
            ' WHERE v.g OPERATOR(pg_catalog.=) l.groupid'
            '   AND v.m OPERATOR(pg_catalog.>=) (SELECT s.last_value FROM schemakit.%I s)',
            pg_catalog.format('schemakit.%I', s.seq), tops, s.seq);
    END LOOP;
    FOREACH cmd IN ARRAY cmds LOOP
        SELECT pg_catalog.string_agg(pg_catalog.format('%s:%s %s', w.nodename, w.nodeport, w.result), ', ')
          INTO held
          FROM pg_catalog.run_command_on_workers(cmd) w
         WHERE NOT w.success;
        EXIT WHEN held IS NOT NULL;
    END LOOP;
    IF held IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'could not move the workers'' sequences to their own ranges',
            DETAIL = pg_catalog.format('Worker %s.', held);
    END IF;
END
$$;

REVOKE ALL ON FUNCTION schemakit.distribute() FROM PUBLIC;

COMMENT ON FUNCTION schemakit.distribute() IS
'on a Citus coordinator (superuser): sessions and password_reset_tokens distributed by token_hash, email_codes by email_key, the other tables reference tables; workers'' sequences in ranges of their own';

-------------------------------------------------------------------------------
-- References that pg_restore -j can load in any order.  pg_dump makes each
-- extension table's rows depend only on their own table, so pg_restore -j
-- loads them in any order, and a foreign key's insert check would fail for
-- rows whose referenced row is still loading.  The foreign keys stay (their
-- cascades, their place in the catalog); their insert-side check triggers
-- are disabled, for every foreign key between schemakit's tables, and the
-- _reference_check triggers created above check instead.
-------------------------------------------------------------------------------

DO $references$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT k.conrelid::pg_catalog.regclass AS tbl, t.tgname
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid
          JOIN pg_catalog.pg_class f ON f.oid OPERATOR(pg_catalog.=) k.confrelid
          JOIN pg_catalog.pg_trigger t ON t.tgconstraint OPERATOR(pg_catalog.=) k.oid
                                       AND t.tgrelid OPERATOR(pg_catalog.=) k.conrelid
         WHERE k.contype OPERATOR(pg_catalog.=) 'f'
           AND c.relnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace
           AND f.relnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace
           AND t.tgfoid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog."RI_FKey_check_ins"()'::pg_catalog.regprocedure,
                                                       'pg_catalog."RI_FKey_check_upd"()'::pg_catalog.regprocedure])
           AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'
         ORDER BY 1, 2
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER %I', r.tbl, r.tgname);
    END LOOP;
END
$references$;

-------------------------------------------------------------------------------
-- Citus workers: sequences in a range of their own (see the function).
-------------------------------------------------------------------------------

SELECT schemakit._worker_sequence_ranges();

-------------------------------------------------------------------------------
-- Rights nobody may hold.  ALTER DEFAULT PRIVILEGES applies to what an
-- extension script creates, so rights can appear that no one meant to give.
-- On a fresh install every object is new: nobody but the owner keeps any
-- right (grant_app gives what an app needs).  On an update: nobody but the
-- owner keeps a right on what this script created, on a secret table or
-- its sequence, or on an internal function.
-------------------------------------------------------------------------------

DO $rights$
DECLARE
    fresh boolean;
    suspects oid[];
    o record;
BEGIN
    SELECT m.applied_at OPERATOR(pg_catalog.=) pg_catalog.now() INTO fresh
      FROM schemakit.migrations m WHERE m.version OPERATOR(pg_catalog.=) '1.0';

    /*
     * On an update, older objects keep the rights a default privilege gave
     * when an earlier script created them, and the catalog cannot tell
     * those from grant_app's.  But grant_app never gives a right on a
     * secret table or sequence, on an internal or trigger function, or
     * CREATE on the schema, and no script ever did: a role holding one got
     * it from a default privilege (or by hand), and loses every right it
     * holds in schemakit.  Run grant_app again for a role that should be
     * an app.  PUBLIC never had a right on a schemakit table either.
     */
    SELECT pg_catalog.array_agg(DISTINCT g) INTO suspects FROM (
        SELECT a.grantee AS g
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace
           AND c.relname OPERATOR(pg_catalog.=) ANY (ARRAY[
                   'email_codes', 'email_codes_id_seq', 'password_reset_tokens', 'password_reset_tokens_id_seq',
                   'sessions', 'sessions_id_seq', '_code_key'])
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        UNION
        SELECT a.grantee
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
         WHERE p.pronamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace
           AND (p.proname OPERATOR(pg_catalog.~) '^_' OR p.prorettype OPERATOR(pg_catalog.=) 'trigger'::pg_catalog.regtype)
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
        UNION
        SELECT a.grantee
          FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
         WHERE n.nspname OPERATOR(pg_catalog.=) 'schemakit'
           AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
           AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner) x
     WHERE g OPERATOR(pg_catalog.<>) 0;
    suspects := COALESCE(suspects, '{}');

    FOR o IN
        -- schema
        SELECT 'SCHEMA schemakit' AS obj, a.grantee
          FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
         WHERE n.nspname OPERATOR(pg_catalog.=) 'schemakit'
           AND (fresh OR a.grantee OPERATOR(pg_catalog.=) ANY (suspects))
           AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
        UNION
        -- tables and sequences
        SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END
               OPERATOR(pg_catalog.||) c.oid::pg_catalog.regclass::text, a.grantee
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'S', 'v', 'm', 'p']::"char"[])
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
           AND (fresh OR a.grantee OPERATOR(pg_catalog.=) 0 OR a.grantee OPERATOR(pg_catalog.=) ANY (suspects)
                OR c.relname OPERATOR(pg_catalog.=) ANY (ARRAY[
                    'email_codes', 'email_codes_id_seq',
                    'password_reset_tokens', 'password_reset_tokens_id_seq',
                    'sessions', 'sessions_id_seq', '_code_key',
                    'organizations', 'organizations_id_seq', 'memberships', 'memberships_id_seq',
                    'invitations', 'invitations_id_seq', 'verifications', 'verifications_id_seq']))
        UNION
        -- functions
        SELECT 'FUNCTION ' OPERATOR(pg_catalog.||) p.oid::pg_catalog.regprocedure::text, a.grantee
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
         WHERE p.pronamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
           -- PUBLIC's EXECUTE is the default; the scripts revoke it where it must go
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND (fresh OR a.grantee OPERATOR(pg_catalog.=) ANY (suspects)
                OR p.proname OPERATOR(pg_catalog.~) '^_'
                OR p.prorettype OPERATOR(pg_catalog.=) 'trigger'::pg_catalog.regtype
                OR p.oid OPERATOR(pg_catalog.=) 'schemakit.email_key(text)'::pg_catalog.regprocedure
                OR p.oid OPERATOR(pg_catalog.=) 'schemakit.distribute()'::pg_catalog.regprocedure
                OR p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
                    'schemakit.create_organization(bigint, text, text)'::pg_catalog.regprocedure,
                    'schemakit.member_role(bigint, bigint)'::pg_catalog.regprocedure,
                    'schemakit.invite_member(bigint, text, text, bigint, interval)'::pg_catalog.regprocedure,
                    'schemakit.accept_invitation(text, bigint)'::pg_catalog.regprocedure,
                    'schemakit.revoke_invitation(bigint, bigint)'::pg_catalog.regprocedure,
                    'schemakit.set_member_role(bigint, bigint, text, bigint)'::pg_catalog.regprocedure,
                    'schemakit.remove_member(bigint, bigint, bigint)'::pg_catalog.regprocedure]))
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', o.obj,
            CASE WHEN o.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                 ELSE o.grantee::pg_catalog.regrole::text END);
    END LOOP;

END
$rights$;

-------------------------------------------------------------------------------
-- Record the step.
-------------------------------------------------------------------------------

INSERT INTO schemakit.migrations (version) VALUES ('1.5');
