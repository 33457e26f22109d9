/*
 * schemakit 1.1 -> 1.0: downgrade.  Refuses, dropping nothing, while any
 * 1.1 table holds a row: a downgrade never destroys data.
 *
 * Released scripts are frozen (test/frozen.sha256).
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.0'" to load this file. \quit

-- Lock first, so no row can arrive between the check and the drop.
LOCK TABLE schemakit.oauth_accounts, schemakit.password_reset_tokens, schemakit.files
    IN ACCESS EXCLUSIVE MODE;

DO $check$
DECLARE
    held text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s rows)', t.name, t.n), ', ')
      INTO held
      FROM (SELECT 'oauth_accounts' AS name, (SELECT pg_catalog.count(*) FROM schemakit.oauth_accounts) AS n
            UNION ALL
            SELECT 'password_reset_tokens', (SELECT pg_catalog.count(*) FROM schemakit.password_reset_tokens)
            UNION ALL
            SELECT 'files', (SELECT pg_catalog.count(*) FROM schemakit.files)) t
     WHERE t.n OPERATOR(pg_catalog.>) 0;
    IF held IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'cannot downgrade schemakit to 1.0 while 1.1 tables hold rows',
            DETAIL = 'Rows in: ' OPERATOR(pg_catalog.||) held OPERATOR(pg_catalog.||) '.',
            HINT = 'Move or delete those rows first; a downgrade never destroys data.';
    END IF;
END
$check$;

-- Detach before dropping, so pg_extension.extconfig forgets the tables.
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.files_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.files;
DROP TABLE schemakit.files;
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.password_reset_tokens_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.password_reset_tokens;
DROP TABLE schemakit.password_reset_tokens;
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.oauth_accounts_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.oauth_accounts;
DROP TABLE schemakit.oauth_accounts;

DROP FUNCTION schemakit.consume_password_reset_token(text);
DROP FUNCTION schemakit.issue_password_reset_token(bigint, interval);
DROP FUNCTION schemakit.oauth_user_id(text, text);
DROP FUNCTION schemakit.link_oauth_account(bigint, text, text, text, text);
DROP FUNCTION schemakit._check_ttl(interval, interval, text);
DROP FUNCTION schemakit._require_user(bigint);
DROP FUNCTION schemakit._token_hash(text);
DROP FUNCTION schemakit.uuidv7_time(uuid);
DROP FUNCTION schemakit.uuidv7();

DELETE FROM schemakit.migrations WHERE version OPERATOR(pg_catalog.=) '1.1';
