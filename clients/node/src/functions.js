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
 * Runs the one-row, one-column statement built from a template and returns
 * the value of column "v".
 * @param {Queryable} db
 * @param {TemplateStringsArray | string[]} strings
 * @param {unknown[]} values
 * @returns {Promise<any>}
 */
async function scalar(db, strings, values) {
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
  const rows = Array.isArray(res) ? res : res.rows;
  return rows[0].v;
}

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
 * Since 1.5 a failed guess is also counted in shared memory, so rolling the
 * transaction back no longer takes it back; still, call it outside a
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
