/*
 * schemakit 1.2 -> 1.1: downgrade.  Refuses, dropping nothing, while the
 * sessions table holds a row: a downgrade never destroys data.
 *
 * Released scripts are frozen (test/frozen.sha256).
 */
\echo Use "ALTER EXTENSION schemakit UPDATE TO '1.1'" to load this file. \quit

-- Lock first, so no session can arrive between the check and the drop.
LOCK TABLE schemakit.sessions IN ACCESS EXCLUSIVE MODE;

DO $check$
DECLARE
    n bigint;
BEGIN
    SELECT pg_catalog.count(*) INTO n FROM schemakit.sessions;
    IF n OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'cannot downgrade schemakit to 1.1 while 1.2 tables hold rows',
            DETAIL = pg_catalog.format('Rows in: sessions (%s rows).', n),
            HINT = 'Move or delete those rows first; a downgrade never destroys data.';
    END IF;
END
$check$;

DROP FUNCTION schemakit.purge_expired(interval);
DROP FUNCTION schemakit.revoke_user_sessions(bigint);
DROP FUNCTION schemakit.revoke_session(text);
DROP FUNCTION schemakit.session_user_id(text);
DROP FUNCTION schemakit.issue_session(bigint, interval, inet, text);

DROP INDEX schemakit.password_reset_tokens_dead_at_idx;
DROP INDEX schemakit.email_codes_dead_at_idx;

-- Detach before dropping, so pg_extension.extconfig forgets the table.
ALTER EXTENSION schemakit DROP SEQUENCE schemakit.sessions_id_seq;
ALTER EXTENSION schemakit DROP TABLE schemakit.sessions;
DROP TABLE schemakit.sessions;

DELETE FROM schemakit.migrations WHERE version OPERATOR(pg_catalog.=) '1.2';
