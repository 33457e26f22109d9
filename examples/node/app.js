'use strict';
/*
 * examples/node/app.js - schemakit from node-postgres.
 *
 * Every function here is one parameterised query ($1, $2, ...) against the
 * extension; user input never becomes SQL text.  Errors are not caught: they
 * reach the caller as pg errors whose err.code is the documented SQLSTATE
 * (doc/schemakit.md#sqlstates), e.g. '22023' for an invalid argument,
 * '23505' for a duplicate, '23503' for an unknown user.
 *
 * Ids are bigint, which node-postgres returns as strings ('42'); they are
 * passed back as parameters unchanged.  Counters are converted to numbers.
 *
 * The database role needs what schemakit.grant_app(role) grants.
 */
const crypto = require('node:crypto');
const { promisify } = require('node:util');
const { Pool } = require('pg');

const scrypt = promisify(crypto.scrypt);

/** SQLSTATEs the flows below can raise (doc/schemakit.md#sqlstates). */
const SQLSTATE = Object.freeze({
  INVALID_PARAMETER_VALUE: '22023',
  NULL_VALUE_NOT_ALLOWED: '22004',
  FOREIGN_KEY_VIOLATION: '23503',
  UNIQUE_VIOLATION: '23505',
  CHECK_VIOLATION: '23514',
  TOO_MANY_CODES_ISSUED: 'SKR01',
  TOO_MANY_FAILED_CODES: 'SKR02',
  READ_ONLY_SQL_TRANSACTION: '25006',
  INSUFFICIENT_PRIVILEGE: '42501',
});

/** A connection pool configured from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. */
function createPool(config = {}) {
  return new Pool({ max: 10, ...config });
}

/** True when err is a PostgreSQL error with this SQLSTATE. */
function isSqlState(err, code) {
  return Boolean(err) && err.code === code;
}

// ---------------------------------------------------------------------------
// Passwords: hashed by the application (scrypt from node:crypto), stored in
// users.password_hash (1..255 characters).  schemakit never sees a password.
// ---------------------------------------------------------------------------

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

async function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

async function verifyPassword(password, stored) {
  const parts = typeof stored === 'string' ? stored.split('$') : [];
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, N, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length,
    { N: Number(N), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(key, expected);
}

// ---------------------------------------------------------------------------
// Users and snippets (plain tables)
// ---------------------------------------------------------------------------

/** Inserts a user; 23505 when the username or email is taken (case-insensitively). */
async function createUser(db, { username, email = null, displayName = null, password = null }) {
  const passwordHash = password === null ? null : await hashPassword(password);
  const { rows } = await db.query(
    `INSERT INTO schemakit.users (username, email, display_name, password_hash)
     VALUES ($1, $2, $3, $4)
     RETURNING id, username, email, display_name AS "displayName", created_at AS "createdAt"`,
    [username, email, displayName, passwordHash]);
  return rows[0];
}

async function findUserByEmail(db, email) {
  const { rows } = await db.query(
    'SELECT id, username, email FROM schemakit.users WHERE lower(email) = lower($1)', [email]);
  return rows[0] || null;
}

/** Inserts a snippet; public_id comes from the column default (a collision is retried, never an error). */
async function createSnippet(db, ownerId, { title = null, body, language = 'text', isPublic = false }) {
  const { rows } = await db.query(
    `INSERT INTO schemakit.snippets (owner_id, title, body, language, is_public)
     VALUES ($1, $2, $3, $4, $5)
     RETURNING id, public_id AS "publicId", title, language, is_public AS "isPublic"`,
    [ownerId, title, body, language, isPublic]);
  return rows[0];
}

/** A public snippet by its public ID, or null. */
async function getPublicSnippet(db, publicId) {
  const { rows } = await db.query(
    `SELECT public_id AS "publicId", title, body, language, view_count AS "viewCount"
       FROM schemakit.snippets WHERE public_id = $1 AND is_public`, [publicId]);
  return rows[0] ? { ...rows[0], viewCount: Number(rows[0].viewCount) } : null;
}

/** Counts a view; the new count, or null for an unknown public ID. */
async function recordView(db, publicId) {
  const { rows } = await db.query('SELECT schemakit.record_snippet_view($1) AS views', [publicId]);
  return rows[0].views === null ? null : Number(rows[0].views);
}

// ---------------------------------------------------------------------------
// Email login codes
// ---------------------------------------------------------------------------

/** A new 6-digit code for the address (mail it; only its hash is stored). */
async function issueEmailCode(db, email, ttl = '10 minutes') {
  const { rows } = await db.query('SELECT schemakit.issue_email_code($1, $2::interval) AS code', [email, ttl]);
  return rows[0].code;
}

/**
 * True exactly once for the right code.  Pass the pool, not a client inside
 * a transaction: each call must commit on its own, or a rollback would also
 * undo the failed-attempt count (doc/schemakit.md#transactions).
 */
async function verifyEmailCode(pool, email, code) {
  const { rows } = await pool.query('SELECT schemakit.verify_email_code($1, $2) AS ok',
    [email, String(code).trim()]);
  return rows[0].ok;
}

/** Email-code login: verify the code, then open a session for the address's user. */
async function loginWithEmailCode(pool, email, code, { ip = null, userAgent = null } = {}) {
  if (!(await verifyEmailCode(pool, email, code))) return null;
  const user = await findUserByEmail(pool, email);
  if (!user) return null;   // a verified address without an account: sign-up goes here
  const token = await openSession(pool, user.id, { ip, userAgent });
  return { userId: user.id, token };
}

// ---------------------------------------------------------------------------
// Password reset
// ---------------------------------------------------------------------------

/** A single-use reset token for the user (mail a link containing it). */
async function requestPasswordReset(db, userId, ttl = '1 hour') {
  const { rows } = await db.query(
    'SELECT schemakit.issue_password_reset_token($1, $2::interval) AS token', [userId, ttl]);
  return rows[0].token;
}

/**
 * Consumes the token, stores the new password hash and logs the user out
 * everywhere, in one transaction: if anything fails, the token stays usable.
 * Returns { userId, revokedSessions } or null for an unknown/used/expired token.
 */
async function resetPassword(pool, token, newPassword) {
  const passwordHash = await hashPassword(newPassword);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(
      'SELECT schemakit.consume_password_reset_token($1) AS user_id', [token]);
    const userId = rows[0].user_id;
    if (userId === null) {
      await client.query('ROLLBACK');
      return null;
    }
    await client.query('UPDATE schemakit.users SET password_hash = $2 WHERE id = $1', [userId, passwordHash]);
    const revoked = await client.query('SELECT schemakit.revoke_user_sessions($1) AS n', [userId]);
    await client.query('COMMIT');
    return { userId, revokedSessions: revoked.rows[0].n };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Password login: the user id when the password matches, else null. */
async function loginWithPassword(db, username, password) {
  const { rows } = await db.query(
    'SELECT id, password_hash FROM schemakit.users WHERE lower(username) = lower($1)', [username]);
  if (!rows[0] || !(await verifyPassword(password, rows[0].password_hash))) return null;
  return rows[0].id;
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

/** Opens a session; returns the token for the cookie. */
async function openSession(db, userId, { ttl = '30 days', ip = null, userAgent = null } = {}) {
  const { rows } = await db.query(
    'SELECT schemakit.issue_session($1, $2::interval, $3::inet, $4) AS token', [userId, ttl, ip, userAgent]);
  return rows[0].token;
}

/** The user id of a live session, or null (also fine on a read replica). */
async function sessionUser(db, token) {
  const { rows } = await db.query('SELECT schemakit.session_user_id($1) AS user_id', [token]);
  return rows[0].user_id;
}

/** Logout: true if this call revoked the session. */
async function revokeSession(db, token) {
  const { rows } = await db.query('SELECT schemakit.revoke_session($1) AS revoked', [token]);
  return rows[0].revoked;
}

/** Logout everywhere: how many sessions were revoked. */
async function revokeAllSessions(db, userId) {
  const { rows } = await db.query('SELECT schemakit.revoke_user_sessions($1) AS n', [userId]);
  return rows[0].n;
}

// ---------------------------------------------------------------------------
// OAuth and housekeeping
// ---------------------------------------------------------------------------

/** Links a provider account to a user (idempotent); the link id. */
async function linkOAuth(db, userId, provider, providerId, { email = null, displayName = null } = {}) {
  const { rows } = await db.query(
    'SELECT schemakit.link_oauth_account($1, $2, $3, $4, $5) AS id',
    [userId, provider, providerId, email, displayName]);
  return rows[0].id;
}

async function oauthUser(db, provider, providerId) {
  const { rows } = await db.query('SELECT schemakit.oauth_user_id($1, $2) AS user_id', [provider, providerId]);
  return rows[0].user_id;
}

/** Deletes codes, tokens and sessions dead for longer than olderThan; rows deleted. */
async function purgeExpired(db, olderThan = '1 day') {
  const { rows } = await db.query('SELECT schemakit.purge_expired($1::interval) AS n', [olderThan]);
  return Number(rows[0].n);
}

module.exports = {
  SQLSTATE,
  createPool,
  isSqlState,
  hashPassword,
  verifyPassword,
  createUser,
  findUserByEmail,
  createSnippet,
  getPublicSnippet,
  recordView,
  issueEmailCode,
  verifyEmailCode,
  loginWithEmailCode,
  requestPasswordReset,
  resetPassword,
  loginWithPassword,
  openSession,
  sessionUser,
  revokeSession,
  revokeAllSessions,
  linkOAuth,
  oauthUser,
  purgeExpired,
};
