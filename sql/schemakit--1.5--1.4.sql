/*
 * schemakit 1.5 -> 1.4.
 *
 * Refuses (55000) and changes nothing when two users' addresses would
 * collide under 1.4's lower() unique index.  Open email codes whose 1.4
 * hash would differ (non-ASCII addresses) are retired.  Every row stays.
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.4'" to load this file. \quit

-------------------------------------------------------------------------------
-- Citus.  1.4 has no distributed layout: refused (55000, nothing changed)
-- while Citus manages any of schemakit's tables.
-------------------------------------------------------------------------------

DO $citus$
DECLARE
    managed text;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT pg_catalog.string_agg(c.relname::text, '', '' ORDER BY c.relname)'
                '  FROM pg_catalog.pg_dist_partition p'
                '  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.logicalrelid'
                ' WHERE c.relnamespace OPERATOR(pg_catalog.=) ''schemakit''::pg_catalog.regnamespace'
          INTO managed;
        IF managed IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = 'cannot downgrade schemakit to 1.4 while Citus manages its tables',
                DETAIL = 'Citus tables: ' || managed || '.',
                HINT = 'Run SELECT undistribute_table(''schemakit.<table>'') for each of them first. Nothing was changed.';
        END IF;
    END IF;
END
$citus$;

-------------------------------------------------------------------------------
-- Organizations.  First, so that a refusal comes before any change: refuses
-- (55000), dropping nothing, while organizations, memberships or
-- invitations hold a row: a downgrade never destroys data.  (The rest of
-- the downgrade puts back 1.4's purge_expired and grant_app.)
-------------------------------------------------------------------------------

-- Lock first, so no row can arrive between the check and the drop.
LOCK TABLE schemakit.organizations, schemakit.memberships, schemakit.invitations
    IN ACCESS EXCLUSIVE MODE;

DO $organizations$
DECLARE
    held text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s rows)', v.tbl, v.n), ', ' ORDER BY v.ord)
      INTO held
      FROM (SELECT 1 AS ord, 'organizations' AS tbl, (SELECT pg_catalog.count(*) FROM schemakit.organizations) AS n
            UNION ALL
            SELECT 2, 'memberships', (SELECT pg_catalog.count(*) FROM schemakit.memberships)
            UNION ALL
            SELECT 3, 'invitations', (SELECT pg_catalog.count(*) FROM schemakit.invitations)) v
     WHERE v.n OPERATOR(pg_catalog.>) 0;
    IF held IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'cannot downgrade schemakit to 1.4 while 1.5 tables hold rows',
            DETAIL = 'Rows in: ' || held || '.',
            HINT = 'Move or delete those rows first (deleting the organizations deletes their memberships and invitations); a downgrade never destroys data.';
    END IF;
END
$organizations$;

DROP FUNCTION schemakit.remove_member(bigint, bigint, bigint);
DROP FUNCTION schemakit.set_member_role(bigint, bigint, text, bigint);
DROP FUNCTION schemakit.revoke_invitation(bigint, bigint);
DROP FUNCTION schemakit.accept_invitation(text, bigint);
DROP FUNCTION schemakit.invite_member(bigint, text, text, bigint, interval);
DROP FUNCTION schemakit.member_role(bigint, bigint);
DROP FUNCTION schemakit.create_organization(bigint, text, text);
DROP FUNCTION schemakit._lock_organization(bigint, bigint);

-- Detach before dropping, so pg_extension.extconfig forgets the tables.
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.invitations_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.invitations;
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.memberships_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.memberships;
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.organizations_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.organizations;
DROP TABLE schemakit.invitations;
DROP TABLE schemakit.memberships;
DROP TABLE schemakit.organizations;
DROP FUNCTION schemakit._memberships_keep_owner();

-- purge_expired itself is put back below; its 1.4 comment here.
COMMENT ON FUNCTION schemakit.purge_expired(interval) IS
'deletes codes, reset tokens and sessions dead for longer than older_than, in bounded batches; returns rows deleted';

-------------------------------------------------------------------------------
-- better-auth, with the other refusals, before anything changes.
-- Refuses (55000, nothing changed) while verifications holds a row or a
-- column 1.5 added holds data; then drops what 1.5 added.
-------------------------------------------------------------------------------

DO $better_auth$
DECLARE
    n_verifications bigint;
    n_users bigint;
    n_accounts bigint;
BEGIN
    SELECT pg_catalog.count(*) INTO n_verifications FROM schemakit.verifications;
    SELECT pg_catalog.count(*) INTO n_users FROM schemakit.users u
     WHERE u.email_verified OR u.image IS NOT NULL;
    SELECT pg_catalog.count(*) INTO n_accounts FROM schemakit.oauth_accounts a
     WHERE a.access_token IS NOT NULL OR a.refresh_token IS NOT NULL OR a.id_token IS NOT NULL
        OR a.access_token_expires_at IS NOT NULL OR a.refresh_token_expires_at IS NOT NULL
        OR a.scope IS NOT NULL OR a.updated_at IS NOT NULL;
    IF n_verifications OPERATOR(pg_catalog.>) 0 OR n_users OPERATOR(pg_catalog.>) 0
       OR n_accounts OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'cannot downgrade schemakit to 1.4: better-auth data needs 1.5',
            DETAIL = pg_catalog.format('%s verification values; %s users with email_verified or image; '
                                       '%s oauth accounts with tokens, scope or updated_at.',
                                       n_verifications, n_users, n_accounts),
            HINT = 'Stop the better-auth app; DELETE FROM schemakit.verifications; '
                   'UPDATE schemakit.users SET email_verified = false, image = NULL; '
                   'UPDATE schemakit.oauth_accounts SET access_token = NULL, refresh_token = NULL, id_token = NULL, '
                   'access_token_expires_at = NULL, refresh_token_expires_at = NULL, scope = NULL, updated_at = NULL; '
                   'then downgrade again. Nothing was changed.';
    END IF;
END
$better_auth$;

DROP FUNCTION schemakit.revoke_session_by_id(bigint);
DROP FUNCTION schemakit.update_session(bigint, timestamptz);
DROP FUNCTION schemakit.list_user_sessions(bigint);
DROP FUNCTION schemakit.find_session_by_id(bigint);
DROP FUNCTION schemakit.find_session(text);
DROP FUNCTION schemakit.open_session(bigint, text, timestamptz, inet, text);

-- Detach before dropping, so pg_extension.extconfig forgets the table.
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.verifications_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.verifications;
DROP TABLE schemakit.verifications;

ALTER TABLE schemakit.oauth_accounts
    DROP COLUMN access_token,
    DROP COLUMN refresh_token,
    DROP COLUMN id_token,
    DROP COLUMN access_token_expires_at,
    DROP COLUMN refresh_token_expires_at,
    DROP COLUMN scope,
    DROP COLUMN updated_at;

ALTER TABLE schemakit.users
    DROP COLUMN email_verified,
    DROP COLUMN image;

DO $collisions$
DECLARE
    groups text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('users %s', g.ids), '; ')
      INTO groups
      FROM (SELECT pg_catalog.string_agg(u.id::text, ', ' ORDER BY u.id) AS ids
              FROM schemakit.users u
             WHERE u.email IS NOT NULL
             GROUP BY pg_catalog.lower(u.email)
            HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
             ORDER BY 1
             LIMIT 50) g;
    IF groups IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'cannot downgrade schemakit to 1.4: users would share an address under lower()',
            DETAIL = 'In this database''s collation these addresses fold together: ' || groups || '.',
            HINT = 'Change or clear all but one address of each group first. Nothing was changed.';
    END IF;
END
$collisions$;

-- users.username required and files.mime_type without parameters, as in
-- 1.4: refused (55000, nothing changed) while a row needs either.
DO $issue14$
DECLARE
    no_name bigint;
    with_params bigint;
BEGIN
    SELECT pg_catalog.count(*) INTO no_name FROM schemakit.users u WHERE u.username IS NULL;
    SELECT pg_catalog.count(*) INTO with_params FROM schemakit.files f
     WHERE f.mime_type !~ '^[^[:space:]/]+/[^[:space:]/]+$';
    IF no_name OPERATOR(pg_catalog.>) 0 OR with_params OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'cannot downgrade schemakit to 1.4: rows need 1.5',
            DETAIL = pg_catalog.format('%s users without a username; %s files whose mime_type has parameters.',
                                       no_name, with_params),
            HINT = 'Give those users a username and strip the parameters (e.g. SET mime_type = pg_catalog.rtrim(pg_catalog.split_part(mime_type, '';'', 1))), then downgrade again. Nothing was changed.';
    END IF;
END
$issue14$;

UPDATE schemakit.email_codes c
   SET revoked_at = pg_catalog.now()
 WHERE c.used_at IS NULL AND c.revoked_at IS NULL
   AND pg_catalog.lower(c.email) OPERATOR(pg_catalog.<>) c.email_key;

-- References: the foreign keys check inserts again.
DROP TRIGGER snippets_owner_exists ON schemakit.snippets;
DROP TRIGGER email_codes_user_exists ON schemakit.email_codes;
DROP TRIGGER oauth_accounts_user_exists ON schemakit.oauth_accounts;
DROP TRIGGER password_reset_tokens_user_exists ON schemakit.password_reset_tokens;
DROP TRIGGER files_user_exists ON schemakit.files;
DROP TRIGGER sessions_user_exists ON schemakit.sessions;

DO $references$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT t.tgrelid::pg_catalog.regclass AS tbl, t.tgname
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_trigger t ON t.tgconstraint OPERATOR(pg_catalog.=) k.oid
                                       AND t.tgrelid OPERATOR(pg_catalog.=) k.conrelid
         JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid
         WHERE k.contype OPERATOR(pg_catalog.=) 'f'
           AND k.confrelid OPERATOR(pg_catalog.=) 'schemakit.users'::pg_catalog.regclass
           AND c.relnamespace OPERATOR(pg_catalog.=) 'schemakit'::pg_catalog.regnamespace   -- not an app's own tables
           AND t.tgenabled OPERATOR(pg_catalog.=) 'D'
         ORDER BY 1, 2
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE TRIGGER %I', r.tbl, r.tgname);
    END LOOP;
END
$references$;

-- Functions as 1.4 had them.
CREATE OR REPLACE FUNCTION schemakit.issue_email_code(email text, ttl interval DEFAULT '00:10:00'::interval)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION schemakit.verify_email_code(email text, code text)
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION schemakit.consume_password_reset_token(token text)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION schemakit.link_oauth_account(user_id bigint, provider text, provider_id text, email text DEFAULT NULL::text, display_name text DEFAULT NULL::text)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION schemakit.purge_expired(older_than interval DEFAULT '1 day'::interval)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION schemakit.grant_app(app regrole)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

-- 1.4's issuers call _check_ttl.
CREATE OR REPLACE FUNCTION schemakit.issue_session(user_id bigint, ttl interval DEFAULT '30 days'::interval, ip_address inet DEFAULT NULL::inet, user_agent text DEFAULT NULL::text)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION schemakit.issue_password_reset_token(user_id bigint, ttl interval DEFAULT '01:00:00'::interval)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION schemakit._check_ttl(ttl interval, max_ttl interval, what text)
 RETURNS void
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$

;

CREATE FUNCTION schemakit._code_hash(email text, code text)
 RETURNS bytea
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE STRICT
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(
        'schemakit/email-code/' || pg_catalog.lower(email) || '/' || code, 'UTF8'))
$function$

;

CREATE FUNCTION schemakit._code_hmac(message text, fallback_key bytea)
 RETURNS bytea
 LANGUAGE c
 STABLE PARALLEL SAFE
AS '$libdir/schemakit', $function$schemakit_code_hmac$function$

;

CREATE OR REPLACE FUNCTION schemakit._code_hash_keyed(email text, code text)
 RETURNS bytea
 LANGUAGE c
 STABLE PARALLEL SAFE STRICT
AS '$libdir/schemakit', $function$schemakit_code_hash_keyed$function$

;


REVOKE ALL ON FUNCTION schemakit._code_hmac(text, bytea) FROM PUBLIC;

-- Indexes and columns as 1.4 had them.
ALTER TABLE schemakit.users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_email_key ON schemakit.users (pg_catalog.lower(email));
ALTER TABLE schemakit.users DROP COLUMN email_key;
COMMENT ON TABLE schemakit.users IS
'application users; username and email are unique case-insensitively';
COMMENT ON TABLE schemakit._code_key IS
'per-database key for email-code HMACs while schemakit.code_hmac_key is unset; never dumped';

DROP INDEX schemakit.email_codes_open_email_key;
CREATE UNIQUE INDEX email_codes_open_email_key
    ON schemakit.email_codes (pg_catalog.lower(email))
    WHERE used_at IS NULL AND revoked_at IS NULL;
DROP INDEX schemakit.email_codes_email_created_idx;
CREATE INDEX email_codes_email_created_idx
    ON schemakit.email_codes (pg_catalog.lower(email), created_at);
-- The keys as 1.4 had them: id, and a unique constraint on token_hash.
ALTER TABLE schemakit.email_codes
    DROP CONSTRAINT email_codes_pkey,
    ADD CONSTRAINT email_codes_pkey PRIMARY KEY (id);
DROP TRIGGER email_codes_fill_key ON schemakit.email_codes;
DROP FUNCTION schemakit._email_codes_fill_key();
ALTER TABLE schemakit.email_codes DROP COLUMN email_key;
ALTER TABLE schemakit.sessions
    DROP CONSTRAINT sessions_pkey,
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id),
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);
DROP INDEX schemakit.sessions_id_idx;
ALTER TABLE schemakit.password_reset_tokens
    DROP CONSTRAINT password_reset_tokens_pkey,
    ADD CONSTRAINT password_reset_tokens_pkey PRIMARY KEY (id),
    ADD CONSTRAINT password_reset_tokens_token_hash_key UNIQUE (token_hash);
DROP INDEX schemakit.password_reset_tokens_id_idx;
DROP FUNCTION schemakit.distribute();
CREATE OR REPLACE FUNCTION schemakit.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;
DROP FUNCTION schemakit._worker_sequence_ranges();

DROP FUNCTION schemakit._reference_check();
DROP FUNCTION schemakit._refuse(text, text, text, text);
DROP FUNCTION schemakit._code_failed(bigint, timestamptz, timestamptz);
DROP FUNCTION schemakit._code_unfail(bigint, timestamptz);
DROP FUNCTION schemakit._code_failures(bigint, timestamptz);
DROP FUNCTION schemakit._lock_key(integer, text);
DROP FUNCTION schemakit._purge_cutoff(interval, interval);
DROP FUNCTION schemakit._ttl_expiry(interval, interval, text);
DROP FUNCTION schemakit.email_key(text);

ALTER TABLE schemakit.users ALTER COLUMN username SET NOT NULL;
COMMENT ON COLUMN schemakit.users.username IS NULL;
ALTER TABLE schemakit.files DROP CONSTRAINT files_mime_type_check;
ALTER TABLE schemakit.files ADD CONSTRAINT files_mime_type_check
    CHECK (pg_catalog.char_length(mime_type) <= 255 AND mime_type ~ '^[^[:space:]/]+/[^[:space:]/]+$');

DELETE FROM schemakit.migrations WHERE version = '1.5';
