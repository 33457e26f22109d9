// @ts-check
/**
 * Typed wrappers for every public schemakit function (1.5).
 *
 * Each takes a database handle first: a node-postgres Pool, Client or
 * PoolClient, or a Drizzle database or transaction (node-postgres driver).
 * Each runs one parameterised statement; user input never becomes SQL text.
 * PostgreSQL errors are rethrown as the classes in errors.js.
 *
 * Ids come back as JavaScript numbers (see schema.js); a value beyond
 * Number.MAX_SAFE_INTEGER raises a RangeError rather than being rounded.
 * Intervals (ttl, olderThan) are PostgreSQL interval text ('30 days',
 * '8 hours') or a number of seconds.
 */
import { sql } from 'drizzle-orm';
import { toSchemakitError } from './errors.js';

/**
 * @typedef {{ query: (text: string, values?: any[]) => Promise<{ rows: any[] }> }} PgQueryable
 *   a node-postgres Pool, Client or PoolClient
 * @typedef {{ execute: (query: import('drizzle-orm').SQL) => Promise<any> }} DrizzleQueryable
 *   a Drizzle database or transaction
 * @typedef {PgQueryable | DrizzleQueryable} Queryable
 * @typedef {string | number} Interval  interval text ('30 days') or seconds
 */

/**
 * Runs the statement built from a template and returns its rows.
 * @param {Queryable} db
 * @param {TemplateStringsArray | string[]} strings
 * @param {unknown[]} values
 * @returns {Promise<any[]>}
 */
async function rowsOf(db, strings, values) {
  /** @type {any} */
  let res;
  try {
    if (db && typeof (/** @type {any} */ (db).query) === 'function') {
      let text = strings[0];
      for (let i = 0; i < values.length; i++) text += `$${i + 1}${strings[i + 1]}`;
      res = await /** @type {PgQueryable} */ (db).query(text, values);
    } else if (db && typeof (/** @type {any} */ (db).execute) === 'function') {
      res = await /** @type {DrizzleQueryable} */ (db).execute(
        sql(/** @type {TemplateStringsArray} */ (/** @type {unknown} */ (strings)), ...values));
    } else {
      throw new TypeError('schemakit: expected a node-postgres Pool/Client or a Drizzle database');
    }
  } catch (err) {
    throw toSchemakitError(err);
  }
  return Array.isArray(res) ? res : res.rows;
}

/**
 * Runs the one-row, one-column statement built from a template and returns
 * the value of column "v".
 * @param {Queryable} db
 * @param {TemplateStringsArray | string[]} strings
 * @param {unknown[]} values
 * @returns {Promise<any>}
 */
async function scalar(db, strings, values) {
  const rows = await rowsOf(db, strings, values);
  return rows[0].v;
}

/**
 * Tagged template: the template's pieces as [strings, values] (for rowsOf).
 * @param {TemplateStringsArray} strings
 * @param {unknown[]} values
 * @returns {[TemplateStringsArray, unknown[]]}
 */
const tpl = (strings, ...values) => [strings, values];

/** Tagged template: scalar(db, ...) with the template's pieces. */
const q = (/** @type {Queryable} */ db) =>
  (/** @type {TemplateStringsArray} */ strings, /** @type {unknown[]} */ ...values) => scalar(db, strings, values);

/**
 * A bigint from the driver (string, number or BigInt) as a number; null stays null.
 * @param {unknown} v
 * @returns {number | null}
 */
export function toId(v) {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`schemakit: bigint ${String(v)} is beyond Number.MAX_SAFE_INTEGER`);
  }
  return n;
}

/** An id parameter: numbers and BigInts as decimal text (PostgreSQL casts it to bigint). */
function idParam(/** @type {number | bigint | null} */ v) {
  if (v === null || v === undefined) return null;
  return typeof v === 'bigint' ? v.toString() : v;
}

/** @param {Interval | null} v */
function intervalParam(v) {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError('schemakit: interval seconds must be finite');
    return `${v} seconds`;
  }
  return v;
}

/**
 * A timestamptz from the driver (a Date from node-postgres, text from a
 * driver that leaves it raw) as a Date.
 * @param {unknown} v
 * @returns {Date | null}
 */
function toDate(v) {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  // '2025-03-14 15:09:26.535+00' -> ISO 8601
  const iso = String(v).replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  return new Date(iso);
}

// ---------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------

/**
 * schemakit.public_id(size, alphabet): a random id, 10 symbols of [0-9A-Za-z] by default.
 * @param {Queryable} db
 * @param {{ size?: number, alphabet?: string }} [opts]
 * @returns {Promise<string>}
 */
export function publicId(db, opts = {}) {
  const { size, alphabet } = opts;
  if (alphabet !== undefined) {
    return q(db)`SELECT schemakit.public_id(${size ?? 10}::integer, ${alphabet}::text) AS v`;
  }
  if (size !== undefined) return q(db)`SELECT schemakit.public_id(${size}::integer) AS v`;
  return q(db)`SELECT schemakit.public_id() AS v`;
}

/**
 * schemakit.random_code(digits): a uniform decimal code (default 6 digits), leading zeros kept.
 * @param {Queryable} db
 * @param {number} [digits]
 * @returns {Promise<string>}
 */
export function randomCode(db, digits) {
  if (digits === undefined) return q(db)`SELECT schemakit.random_code() AS v`;
  return q(db)`SELECT schemakit.random_code(${digits}::integer) AS v`;
}

/**
 * schemakit.random_token(nbytes): nbytes CSPRNG bytes (default 32) as unpadded base64url.
 * @param {Queryable} db
 * @param {number} [nbytes]
 * @returns {Promise<string>}
 */
export function randomToken(db, nbytes) {
  if (nbytes === undefined) return q(db)`SELECT schemakit.random_token() AS v`;
  return q(db)`SELECT schemakit.random_token(${nbytes}::integer) AS v`;
}

/**
 * schemakit.uuidv7(): an RFC 9562 version 7 UUID, as its canonical text.
 * @param {Queryable} db
 * @returns {Promise<string>}
 */
export function uuidv7(db) {
  return q(db)`SELECT schemakit.uuidv7()::text AS v`;
}

/**
 * schemakit.uuidv7_time(id): the creation time a v7 UUID carries (InvalidArgumentError for other UUIDs).
 * @param {Queryable} db
 * @param {string} id
 * @returns {Promise<Date | null>}
 */
export async function uuidv7Time(db, id) {
  return toDate(await q(db)`SELECT schemakit.uuidv7_time(${id}::uuid) AS v`);
}

/**
 * schemakit.email_key(email): the key under which addresses are compared
 * (ASCII letters folded, every other byte kept).  Inside a query, prefer
 * emailKeySql(email).
 * @param {Queryable} db
 * @param {string | null} email
 * @returns {Promise<string | null>}
 */
export function emailKey(db, email) {
  return q(db)`SELECT schemakit.email_key(${email}::text) AS v`;
}

/**
 * The SQL expression schemakit.email_key($email), for Drizzle conditions:
 * `db.select().from(users).where(eq(users.emailKey, emailKeySql(email)))`
 * (an index lookup on users_email_key).
 * @param {string} email
 */
export function emailKeySql(email) {
  return sql`schemakit.email_key(${email}::text)`;
}

// ---------------------------------------------------------------------------
// Snippets
// ---------------------------------------------------------------------------

/**
 * schemakit.record_snippet_view(public_id): the new view count, null for an unknown id.
 * @param {Queryable} db
 * @param {string} publicId
 * @returns {Promise<number | null>}
 */
export async function recordSnippetView(db, publicId) {
  return toId(await q(db)`SELECT schemakit.record_snippet_view(${publicId}::text) AS v`);
}

// ---------------------------------------------------------------------------
// Email login codes
// ---------------------------------------------------------------------------

/**
 * schemakit.issue_email_code(email, ttl): a new 6-digit code; mail it, never store or log it.
 * TooManyCodesError (SKR01) at the issuance limit; InvalidArgumentError for a bad address or ttl.
 * @param {Queryable} db
 * @param {string} email
 * @param {{ ttl?: Interval }} [opts] ttl: (0, 1 day], default 10 minutes
 * @returns {Promise<string>}
 */
export function issueEmailCode(db, email, opts = {}) {
  if (opts.ttl === undefined) return q(db)`SELECT schemakit.issue_email_code(${email}::text) AS v`;
  return q(db)`SELECT schemakit.issue_email_code(${email}::text, ${intervalParam(opts.ttl)}::interval) AS v`;
}

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
export function verifyEmailCode(db, email, code) {
  const c = typeof code === 'string' ? code.trim() : code;
  return q(db)`SELECT schemakit.verify_email_code(${email}::text, ${c}::text) AS v`;
}

// ---------------------------------------------------------------------------
// OAuth
// ---------------------------------------------------------------------------

/**
 * schemakit.link_oauth_account(...): the link id; idempotent for the same user.
 * UniqueViolationError when the account belongs to another user; UnknownUserError for an unknown user.
 * @param {Queryable} db
 * @param {{ userId: number | bigint, provider: string, providerId: string,
 *           email?: string | null, displayName?: string | null }} link
 * @returns {Promise<number>}
 */
export async function linkOAuthAccount(db, link) {
  const v = await q(db)`SELECT schemakit.link_oauth_account(${idParam(link.userId)}::bigint,
    ${link.provider}::text, ${link.providerId}::text, ${link.email ?? null}::text,
    ${link.displayName ?? null}::text) AS v`;
  return /** @type {number} */ (toId(v));
}

/**
 * schemakit.oauth_user_id(provider, provider_id): the linked user, or null.
 * @param {Queryable} db
 * @param {string} provider
 * @param {string} providerId
 * @returns {Promise<number | null>}
 */
export async function oauthUserId(db, provider, providerId) {
  return toId(await q(db)`SELECT schemakit.oauth_user_id(${provider}::text, ${providerId}::text) AS v`);
}

// ---------------------------------------------------------------------------
// Password reset
// ---------------------------------------------------------------------------

/**
 * schemakit.issue_password_reset_token(user_id, ttl): a 43-character token; mail a link with it.
 * @param {Queryable} db
 * @param {number | bigint} userId
 * @param {{ ttl?: Interval }} [opts] ttl: (0, 7 days], default 1 hour
 * @returns {Promise<string>}
 */
export function issuePasswordResetToken(db, userId, opts = {}) {
  if (opts.ttl === undefined) {
    return q(db)`SELECT schemakit.issue_password_reset_token(${idParam(userId)}::bigint) AS v`;
  }
  return q(db)`SELECT schemakit.issue_password_reset_token(${idParam(userId)}::bigint, ${intervalParam(opts.ttl)}::interval) AS v`;
}

/**
 * schemakit.consume_password_reset_token(token): the user id exactly once, else null.
 * Run it in the transaction that stores the new password hash.
 * @param {Queryable} db
 * @param {string} token
 * @returns {Promise<number | null>}
 */
export async function consumePasswordResetToken(db, token) {
  return toId(await q(db)`SELECT schemakit.consume_password_reset_token(${token}::text) AS v`);
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

/**
 * schemakit.issue_session(...): the session token for the cookie.
 * @param {Queryable} db
 * @param {number | bigint} userId
 * @param {{ ttl?: Interval, ipAddress?: string | null, userAgent?: string | null }} [opts]
 *   ttl: (0, 366 days], default 30 days
 * @returns {Promise<string>}
 */
export function issueSession(db, userId, opts = {}) {
  const ttl = opts.ttl === undefined ? '30 days' : intervalParam(opts.ttl);
  return q(db)`SELECT schemakit.issue_session(${idParam(userId)}::bigint, ${ttl}::interval,
    ${opts.ipAddress ?? null}::inet, ${opts.userAgent ?? null}::text) AS v`;
}

/**
 * schemakit.session_user_id(token): the user of a live session, else null.
 * @param {Queryable} db
 * @param {string | null | undefined} token
 * @returns {Promise<number | null>}
 */
export async function sessionUserId(db, token) {
  return toId(await q(db)`SELECT schemakit.session_user_id(${token ?? null}::text) AS v`);
}

/**
 * schemakit.revoke_session(token): true if this call revoked it (logout).
 * @param {Queryable} db
 * @param {string} token
 * @returns {Promise<boolean>}
 */
export function revokeSession(db, token) {
  return q(db)`SELECT schemakit.revoke_session(${token}::text) AS v`;
}

/**
 * schemakit.revoke_user_sessions(user_id): how many live sessions were revoked.
 * @param {Queryable} db
 * @param {number | bigint} userId
 * @returns {Promise<number>}
 */
export async function revokeUserSessions(db, userId) {
  return /** @type {number} */ (toId(await q(db)`SELECT schemakit.revoke_user_sessions(${idParam(userId)}::bigint) AS v`));
}

// ---------------------------------------------------------------------------
// Purging
// ---------------------------------------------------------------------------

/**
 * schemakit.purge_expired(older_than): rows deleted (codes, tokens, sessions dead for longer).
 * @param {Queryable} db
 * @param {Interval} [olderThan] default 1 day
 * @returns {Promise<number>}
 */
export async function purgeExpired(db, olderThan) {
  const v = olderThan === undefined
    ? await q(db)`SELECT schemakit.purge_expired() AS v`
    : await q(db)`SELECT schemakit.purge_expired(${intervalParam(olderThan)}::interval) AS v`;
  return /** @type {number} */ (toId(v));
}

// ---------------------------------------------------------------------------
// Organizations (1.5)
// ---------------------------------------------------------------------------

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
export async function createOrganization(db, ownerUserId, name, opts = {}) {
  const v = await q(db)`SELECT schemakit.create_organization(${idParam(ownerUserId)}::bigint, ${name}::text,
    ${opts.slug ?? null}::text) AS v`;
  return /** @type {number} */ (toId(v));
}

/**
 * schemakit.member_role(organization_id, user_id): the user's role in the
 * organization, or null (not a member, no such organization).  One primary
 * key probe: call it on every request that touches an organization.
 * @param {Queryable} db
 * @param {number | bigint} organizationId
 * @param {number | bigint} userId
 * @returns {Promise<OrganizationRole | null>}
 */
export function memberRole(db, organizationId, userId) {
  return q(db)`SELECT schemakit.member_role(${idParam(organizationId)}::bigint, ${idParam(userId)}::bigint) AS v`;
}

/*
 * The functions that take an acting user take an object, so the acting user
 * (the logged-in user, never an id from the request) cannot be swapped with
 * the member by position.
 */

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
export function inviteMember(db, invite) {
  const ttl = invite.ttl === undefined ? '7 days' : intervalParam(invite.ttl);
  return q(db)`SELECT schemakit.invite_member(${idParam(invite.organizationId)}::bigint, ${invite.email}::text,
    ${invite.role}::text, ${idParam(invite.inviterUserId)}::bigint, ${ttl}::interval) AS v`;
}

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
export async function acceptInvitation(db, token, userId) {
  const rows = await rowsOf(db, ...tpl`SELECT m.id, m.organization_id, m.user_id, m.role, m.created_at, m.updated_at
    FROM schemakit.accept_invitation(${token}::text, ${idParam(userId)}::bigint) m`);
  const r = rows[0];
  return {
    id: /** @type {number} */ (toId(r.id)),
    organizationId: /** @type {number} */ (toId(r.organization_id)),
    userId: /** @type {number} */ (toId(r.user_id)),
    role: r.role,
    createdAt: /** @type {Date} */ (toDate(r.created_at)),
    updatedAt: /** @type {Date} */ (toDate(r.updated_at)),
  };
}

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
export function revokeInvitation(db, revoke) {
  return q(db)`SELECT schemakit.revoke_invitation(${idParam(revoke.invitationId)}::bigint,
    ${idParam(revoke.actorUserId)}::bigint) AS v`;
}

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
export function setMemberRole(db, change) {
  return q(db)`SELECT schemakit.set_member_role(${idParam(change.organizationId)}::bigint,
    ${idParam(change.userId)}::bigint, ${change.role}::text, ${idParam(change.actorUserId)}::bigint) AS v`;
}

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
export function removeMember(db, removal) {
  return q(db)`SELECT schemakit.remove_member(${idParam(removal.organizationId)}::bigint,
    ${idParam(removal.userId)}::bigint, ${idParam(removal.actorUserId)}::bigint) AS v`;
}
