-------------------------------------------------------------------------------
-- Organizations (issue #16): the 1.5 -> 1.4 part.
--
-- Fragment of schemakit--1.5--1.4.sql: paste right after the \echo line,
-- before anything else, so that a refusal comes before any change.  Refuses
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
