/**
 * A bigint from the driver (string, number or BigInt) as a number; null stays null.
 * @param {unknown} v
 * @returns {number | null}
 */
export function toId(v: unknown): number | null;
/**
 * schemakit.public_id(size, alphabet): a random id, 10 symbols of [0-9A-Za-z] by default.
 * @param {Queryable} db
 * @param {{ size?: number, alphabet?: string }} [opts]
 * @returns {Promise<string>}
 */
export function publicId(db: Queryable, opts?: {
    size?: number;
    alphabet?: string;
}): Promise<string>;
/**
 * schemakit.random_code(digits): a uniform decimal code (default 6 digits), leading zeros kept.
 * @param {Queryable} db
 * @param {number} [digits]
 * @returns {Promise<string>}
 */
export function randomCode(db: Queryable, digits?: number): Promise<string>;
/**
 * schemakit.random_token(nbytes): nbytes CSPRNG bytes (default 32) as unpadded base64url.
 * @param {Queryable} db
 * @param {number} [nbytes]
 * @returns {Promise<string>}
 */
export function randomToken(db: Queryable, nbytes?: number): Promise<string>;
/**
 * schemakit.uuidv7(): an RFC 9562 version 7 UUID, as its canonical text.
 * @param {Queryable} db
 * @returns {Promise<string>}
 */
export function uuidv7(db: Queryable): Promise<string>;
/**
 * schemakit.uuidv7_time(id): the creation time a v7 UUID carries (InvalidArgumentError for other UUIDs).
 * @param {Queryable} db
 * @param {string} id
 * @returns {Promise<Date | null>}
 */
export function uuidv7Time(db: Queryable, id: string): Promise<Date | null>;
/**
 * schemakit.email_key(email): the key under which addresses are compared
 * (ASCII letters folded, every other byte kept).  Inside a query, prefer
 * emailKeySql(email).
 * @param {Queryable} db
 * @param {string | null} email
 * @returns {Promise<string | null>}
 */
export function emailKey(db: Queryable, email: string | null): Promise<string | null>;
/**
 * The SQL expression schemakit.email_key($email), for Drizzle conditions:
 * `db.select().from(users).where(eq(users.emailKey, emailKeySql(email)))`
 * (an index lookup on users_email_key).
 * @param {string} email
 */
export function emailKeySql(email: string): import("drizzle-orm").SQL<any>;
/**
 * schemakit.record_snippet_view(public_id): the new view count, null for an unknown id.
 * @param {Queryable} db
 * @param {string} publicId
 * @returns {Promise<number | null>}
 */
export function recordSnippetView(db: Queryable, publicId: string): Promise<number | null>;
/**
 * schemakit.issue_email_code(email, ttl): a new 6-digit code; mail it, never store or log it.
 * TooManyCodesError (SKR01) at the issuance limit; InvalidArgumentError for a bad address or ttl.
 * @param {Queryable} db
 * @param {string} email
 * @param {{ ttl?: Interval }} [opts] ttl: (0, 1 day], default 10 minutes
 * @returns {Promise<string>}
 */
export function issueEmailCode(db: Queryable, email: string, opts?: {
    ttl?: Interval;
}): Promise<string>;
/**
 * schemakit.verify_email_code(email, code): true exactly once for the live
 * code.  TooManyFailedVerificationsError (SKR02) at the failure limit;
 * CodeGuardFullError (53400) when a guess cannot be counted.
 *
 * A failed guess is also counted in shared memory, so rolling the
 * transaction back does not give it back; still, call it outside a
 * transaction (a Pool or the Drizzle db) so its own row update commits.
 * The code is trimmed of surrounding whitespace.
 * @param {Queryable} db
 * @param {string} email
 * @param {string} code
 * @returns {Promise<boolean>}
 */
export function verifyEmailCode(db: Queryable, email: string, code: string): Promise<boolean>;
/**
 * schemakit.link_oauth_account(...): the link id; idempotent for the same user.
 * UniqueViolationError when the account belongs to another user; UnknownUserError for an unknown user.
 * @param {Queryable} db
 * @param {{ userId: number | bigint, provider: string, providerId: string,
 *           email?: string | null, displayName?: string | null }} link
 * @returns {Promise<number>}
 */
export function linkOAuthAccount(db: Queryable, link: {
    userId: number | bigint;
    provider: string;
    providerId: string;
    email?: string | null;
    displayName?: string | null;
}): Promise<number>;
/**
 * schemakit.oauth_user_id(provider, provider_id): the linked user, or null.
 * @param {Queryable} db
 * @param {string} provider
 * @param {string} providerId
 * @returns {Promise<number | null>}
 */
export function oauthUserId(db: Queryable, provider: string, providerId: string): Promise<number | null>;
/**
 * schemakit.issue_password_reset_token(user_id, ttl): a 43-character token; mail a link with it.
 * @param {Queryable} db
 * @param {number | bigint} userId
 * @param {{ ttl?: Interval }} [opts] ttl: (0, 7 days], default 1 hour
 * @returns {Promise<string>}
 */
export function issuePasswordResetToken(db: Queryable, userId: number | bigint, opts?: {
    ttl?: Interval;
}): Promise<string>;
/**
 * schemakit.consume_password_reset_token(token): the user id exactly once, else null.
 * Run it in the transaction that stores the new password hash.
 * @param {Queryable} db
 * @param {string} token
 * @returns {Promise<number | null>}
 */
export function consumePasswordResetToken(db: Queryable, token: string): Promise<number | null>;
/**
 * schemakit.issue_session(...): the session token for the cookie.
 * @param {Queryable} db
 * @param {number | bigint} userId
 * @param {{ ttl?: Interval, ipAddress?: string | null, userAgent?: string | null }} [opts]
 *   ttl: (0, 366 days], default 30 days
 * @returns {Promise<string>}
 */
export function issueSession(db: Queryable, userId: number | bigint, opts?: {
    ttl?: Interval;
    ipAddress?: string | null;
    userAgent?: string | null;
}): Promise<string>;
/**
 * schemakit.session_user_id(token): the user of a live session, else null.
 * @param {Queryable} db
 * @param {string | null | undefined} token
 * @returns {Promise<number | null>}
 */
export function sessionUserId(db: Queryable, token: string | null | undefined): Promise<number | null>;
/**
 * schemakit.revoke_session(token): true if this call revoked it (logout).
 * @param {Queryable} db
 * @param {string} token
 * @returns {Promise<boolean>}
 */
export function revokeSession(db: Queryable, token: string): Promise<boolean>;
/**
 * schemakit.revoke_user_sessions(user_id): how many live sessions were revoked.
 * @param {Queryable} db
 * @param {number | bigint} userId
 * @returns {Promise<number>}
 */
export function revokeUserSessions(db: Queryable, userId: number | bigint): Promise<number>;
/**
 * schemakit.purge_expired(older_than): rows deleted (codes, tokens, sessions dead for longer).
 * @param {Queryable} db
 * @param {Interval} [olderThan] default 1 day
 * @returns {Promise<number>}
 */
export function purgeExpired(db: Queryable, olderThan?: Interval): Promise<number>;
/**
 * @typedef {'owner' | 'admin' | 'member'} OrganizationRole
 * @typedef {import('drizzle-orm').InferSelectModel<typeof import('./schema.js').memberships>} Membership
 *   a schemakit.memberships row, as a Drizzle select returns it
 */
/**
 * schemakit.create_organization(owner_user_id, name, slug): the new
 * organization's id; the user is its owner.  Without a slug one is drawn
 * (10 of [0-9a-z]).  UniqueViolationError for a taken slug;
 * InvalidArgumentError for a bad name or slug (lower-case it first);
 * UnknownUserError for an unknown user.
 * @param {Queryable} db
 * @param {number | bigint} ownerUserId
 * @param {string} name
 * @param {{ slug?: string | null }} [opts]
 * @returns {Promise<number>}
 */
export function createOrganization(db: Queryable, ownerUserId: number | bigint, name: string, opts?: {
    slug?: string | null;
}): Promise<number>;
/**
 * schemakit.member_role(organization_id, user_id): the user's role in the
 * organization, or null (not a member, no such organization).  One primary
 * key probe: call it on every request that touches an organization.
 * @param {Queryable} db
 * @param {number | bigint} organizationId
 * @param {number | bigint} userId
 * @returns {Promise<OrganizationRole | null>}
 */
export function memberRole(db: Queryable, organizationId: number | bigint, userId: number | bigint): Promise<OrganizationRole | null>;
/**
 * schemakit.invite_member(...): the invitation token (43 characters, 256
 * bits); mail it, never store or log it (only its hash is stored).  A newer
 * invitation to the same address replaces the open one.  PermissionDeniedError
 * when the inviter may not invite with this role; UniqueViolationError when a
 * member already has the address; InvalidArgumentError for a bad address, role
 * or ttl; UnknownUserError for an unknown inviter or organization.
 * @param {Queryable} db
 * @param {{ organizationId: number | bigint, email: string, role: OrganizationRole,
 *           inviterUserId: number | bigint, ttl?: Interval }} invite
 *   ttl: (0, 30 days], default 7 days
 * @returns {Promise<string>}
 */
export function inviteMember(db: Queryable, invite: {
    organizationId: number | bigint;
    email: string;
    role: OrganizationRole;
    inviterUserId: number | bigint;
    ttl?: Interval;
}): Promise<string>;
/**
 * schemakit.accept_invitation(token, user_id): the new membership, once per
 * invitation, for the user whose address the invitation was sent to.
 * UnknownInvitationError (SKR10), InvitationExpiredError (SKR11),
 * InvitationRevokedError (SKR12), InvitationAcceptedError (SKR13), all
 * InvitationError; PermissionDeniedError (42501) when the user has another
 * address; UniqueViolationError when already a member (the invitation stays
 * open); InvalidArgumentError for a malformed token.
 * @param {Queryable} db
 * @param {string} token
 * @param {number | bigint} userId
 * @returns {Promise<Membership>}
 */
export function acceptInvitation(db: Queryable, token: string, userId: number | bigint): Promise<Membership>;
/**
 * schemakit.revoke_invitation(invitation_id, actor_user_id): true if this
 * call revoked it; false when it was no longer open (accepted, revoked,
 * expired).  Owners and admins only (PermissionDeniedError);
 * UnknownInvitationError (SKR10) for an unknown id.  Find the id in
 * `invitations` (the app role may read it, all but token_hash).
 * @param {Queryable} db
 * @param {{ invitationId: number | bigint, actorUserId: number | bigint }} revoke
 * @returns {Promise<boolean>}
 */
export function revokeInvitation(db: Queryable, revoke: {
    invitationId: number | bigint;
    actorUserId: number | bigint;
}): Promise<boolean>;
/**
 * schemakit.set_member_role(organization_id, user_id, role, actor_user_id):
 * true if the role changed, false if it already was this role.  Owners change
 * any role; admins change admins and members and make no owners
 * (PermissionDeniedError).  LastOwnerError (SKR14) when the last owner would
 * be demoted; UnknownUserError when the user is not a member.
 * @param {Queryable} db
 * @param {{ organizationId: number | bigint, userId: number | bigint, role: OrganizationRole,
 *           actorUserId: number | bigint }} change
 * @returns {Promise<boolean>}
 */
export function setMemberRole(db: Queryable, change: {
    organizationId: number | bigint;
    userId: number | bigint;
    role: OrganizationRole;
    actorUserId: number | bigint;
}): Promise<boolean>;
/**
 * schemakit.remove_member(organization_id, user_id, actor_user_id): true if
 * removed, false if the user was no member.  Every member may leave
 * (userId = actorUserId); owners remove anyone, admins remove admins and
 * members (else PermissionDeniedError).  LastOwnerError (SKR14) when the last
 * owner would go: make another member an owner first, or delete the
 * organization.
 * @param {Queryable} db
 * @param {{ organizationId: number | bigint, userId: number | bigint, actorUserId: number | bigint }} removal
 * @returns {Promise<boolean>}
 */
export function removeMember(db: Queryable, removal: {
    organizationId: number | bigint;
    userId: number | bigint;
    actorUserId: number | bigint;
}): Promise<boolean>;
/**
 * a node-postgres Pool, Client or PoolClient
 */
export type PgQueryable = {
    query: (text: string, values?: any[]) => Promise<{
        rows: any[];
    }>;
};
/**
 * a Drizzle database or transaction
 */
export type DrizzleQueryable = {
    execute: (query: import("drizzle-orm").SQL) => Promise<any>;
};
export type Queryable = PgQueryable | DrizzleQueryable;
/**
 * interval text ('30 days') or seconds
 */
export type Interval = string | number;
export type OrganizationRole = "owner" | "admin" | "member";
/**
 * a schemakit.memberships row, as a Drizzle select returns it
 */
export type Membership = import("drizzle-orm").InferSelectModel<typeof import("./schema.js").memberships>;
