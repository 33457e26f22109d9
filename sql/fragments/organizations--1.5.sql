-------------------------------------------------------------------------------
-- Organizations (issue #16): organizations, memberships, invitations.
--
-- Fragment of schemakit--1.4--1.5.sql: paste before the final $rights$
-- block.  Needs email_key(), _ttl_expiry(), _purge_cutoff(), _refuse() and
-- _reference_check() from earlier in the script.  Its purge_expired()
-- replaces the one above (keep one of the two: this one).
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

-- References that pg_restore -j can load in any order (as the $references$
-- block does for the references to users).
DO $org_references$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT k.conrelid::pg_catalog.regclass AS tbl, t.tgname
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_trigger t ON t.tgconstraint OPERATOR(pg_catalog.=) k.oid
                                       AND t.tgrelid OPERATOR(pg_catalog.=) k.conrelid
         WHERE k.contype OPERATOR(pg_catalog.=) 'f'
           AND k.conrelid OPERATOR(pg_catalog.=) ANY (ARRAY['schemakit.memberships'::pg_catalog.regclass,
                                                         'schemakit.invitations'::pg_catalog.regclass])
           AND t.tgfoid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog."RI_FKey_check_ins"()'::pg_catalog.regprocedure,
                                                       'pg_catalog."RI_FKey_check_upd"()'::pg_catalog.regprocedure])
         ORDER BY 1, 2
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER %I', r.tbl, r.tgname);
    END LOOP;
END
$org_references$;

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
                       ('invitations', 'LEAST(x.expires_at, x.accepted_at, x.revoked_at)', '')) AS v (tbl, dead_at, keep)
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

COMMENT ON FUNCTION schemakit.purge_expired(interval) IS
'deletes codes, reset tokens, sessions and invitations dead for longer than older_than, in bounded batches; returns rows deleted';

-------------------------------------------------------------------------------
-- Keep the rows in pg_dump.
-------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('schemakit.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.organizations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.memberships_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.invitations', '');
SELECT pg_catalog.pg_extension_config_dump('schemakit.invitations_id_seq', '');
