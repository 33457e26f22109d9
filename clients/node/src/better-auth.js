// @ts-check
/**
 * schemakit/better-auth: a better-auth database adapter that keeps
 * better-auth's core models in schemakit's tables (schemakit 1.5).
 *
 *   user          -> schemakit.users (numeric ids: advanced.database.generateId "serial")
 *   session       -> schemakit.sessions, only SHA-256(token) stored, through the
 *                    SECURITY DEFINER session functions (sessions is a secret table)
 *   account       -> schemakit.oauth_accounts (provider tokens AES-256-GCM encrypted
 *                    here, stored as bytea); the 'credential' account is
 *                    users.password_hash (no row of its own)
 *   verification  -> schemakit.verifications, found by SHA-256(identifier)
 *
 * Usage:
 *   import { schemakitAdapter, schemakitOTPStorage } from 'schemakit/better-auth';
 *   betterAuth({
 *     database: schemakitAdapter({ pool, key: process.env.SCHEMAKIT_AUTH_KEY }),
 *     advanced: { database: { generateId: 'serial' } },
 *     plugins: [emailOTP({ storeOTP: schemakitOTPStorage(process.env.SCHEMAKIT_AUTH_KEY), ... })],
 *   })
 */
import { createHash, createHmac, createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createAdapterFactory } from 'better-auth/adapters';
import { tryGetCurrentAuthEndpointContext } from '@better-auth/core/context';

/** @import { Where } from 'better-auth/adapters' */

/**
 * The app key: 32 bytes, as a Buffer/Uint8Array, 64 hex digits or base64(url).
 * @param {SchemakitKey} key
 * @returns {Buffer}
 */
export function parseKey(key) {
  if (key == null) throw new TypeError('schemakit better-auth adapter: a 32-byte key is required (option key)');
  let buf;
  if (typeof key === 'string') {
    buf = /^[0-9a-fA-F]{64}$/.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
  } else {
    buf = Buffer.from(key);
  }
  if (buf.length !== 32) throw new TypeError(`schemakit better-auth adapter: the key must be 32 bytes, got ${buf.length}`);
  return buf;
}

/**
 * @param {Buffer} key
 * @param {string} info
 * @returns {Buffer}
 */
function subkey(key, info) {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `schemakit better-auth ${info}`, 32));
}

/**
 * SHA-256 of the UTF-8 string: what schemakit._token_hash(token) computes.
 * @param {string} token
 * @returns {Buffer}
 */
export function tokenHash(token) {
  return createHash('sha256').update(String(token), 'utf8').digest();
}

/**
 * storeOTP for better-auth's email-otp plugin: a keyed hash (HMAC-SHA-256
 * under a key derived from the app key), so a database copy cannot be
 * searched for the 10^6 six-digit codes without the key.
 * @param {SchemakitKey} key
 * @returns {{ hash: (otp: string) => Promise<string> }}
 */
export function schemakitOTPStorage(key) {
  const k = subkey(parseKey(key), 'otp');
  return { hash: async (otp) => 'skotp1.' + createHmac('sha256', k).update(String(otp), 'utf8').digest('base64url') };
}

// --- AES-256-GCM for provider tokens -------------------------------------
const VERSION = 1;
/**
 * @param {Buffer} k
 * @param {string} column
 * @param {unknown} text
 * @returns {Buffer | null}
 */
function encrypt(k, column, text) {
  if (text == null) return null;
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', k, iv);
  c.setAAD(Buffer.from(`schemakit.oauth_accounts.${column}`));
  const ct = Buffer.concat([c.update(String(text), 'utf8'), c.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, ct, c.getAuthTag()]);
}
/**
 * @param {Buffer} k
 * @param {string} column
 * @param {Buffer | null | undefined} buf
 * @returns {string | null}
 */
function decrypt(k, column, buf) {
  if (buf == null) return null;
  if (buf[0] !== VERSION || buf.length < 29) throw new Error(`schemakit better-auth adapter: oauth_accounts.${column} has an unknown format`);
  const d = createDecipheriv('aes-256-gcm', k, buf.subarray(1, 13));
  d.setAAD(Buffer.from(`schemakit.oauth_accounts.${column}`));
  d.setAuthTag(buf.subarray(buf.length - 16));
  return Buffer.concat([d.update(buf.subarray(13, buf.length - 16)), d.final()]).toString('utf8');
}

// --- where clauses ---------------------------------------------------------
/**
 * @param {Where[]} [where]
 * @returns {{ ands: Where[], ors: Where[] }}
 */
function groups(where = []) {
  return {
    ands: where.filter((w) => w.connector !== 'OR'),
    ors: where.filter((w) => w.connector === 'OR'),
  };
}

/**
 * SQL for a where list; col(field) gives the SQL column, val(field, v) the parameter value.
 * @param {Where[] | undefined} where
 * @param {(field: string) => string} col
 * @param {unknown[]} params
 * @param {(field: string, value: any) => any} [val]
 * @returns {string}
 */
function sqlWhere(where, col, params, val = (_f, v) => v) {
  /** @param {Where} w */
  const one = (w) => {
    const c = col(w.field);
    /** @param {unknown} v */
    const p = (v) => { params.push(v); return `$${params.length}`; };
    /** @type {any} */
    const v = w.value;
    switch (w.operator ?? 'eq') {
      case 'eq': return v === null ? `${c} IS NULL` : `${c} = ${p(val(w.field, v))}`;
      case 'ne': return v === null ? `${c} IS NOT NULL` : `${c} IS DISTINCT FROM ${p(val(w.field, v))}`;
      case 'lt': return `${c} < ${p(val(w.field, v))}`;
      case 'lte': return `${c} <= ${p(val(w.field, v))}`;
      case 'gt': return `${c} > ${p(val(w.field, v))}`;
      case 'gte': return `${c} >= ${p(val(w.field, v))}`;
      case 'in': return `${c} = ANY(${p(v.map((/** @type {unknown} */ x) => val(w.field, x)))})`;
      case 'not_in': return `NOT (${c} = ANY(${p(v.map((/** @type {unknown} */ x) => val(w.field, x)))}))`;
      case 'contains': return `strpos(${c}, ${p(String(v))}) > 0`;
      case 'starts_with': return `left(${c}, char_length(${p(String(v))})) = $${params.length}`;
      case 'ends_with': return `right(${c}, char_length(${p(String(v))})) = $${params.length}`;
      default: throw new Error(`schemakit better-auth adapter: operator ${w.operator} is not supported`);
    }
  };
  const { ands, ors } = groups(where);
  const parts = ands.map(one);
  if (ors.length) parts.push(`(${ors.map(one).join(' OR ')})`);
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/**
 * The same where list judged in JS, for rows the session functions return.
 * @param {Record<string, any>} row
 * @param {Where[]} [where]
 * @returns {boolean}
 */
function matches(row, where = []) {
  /** @type {(a: any, b: any) => number} */
  const cmp = (a, b) => (a instanceof Date || b instanceof Date ? new Date(a).getTime() - new Date(b).getTime()
    : a < b ? -1 : a > b ? 1 : 0);
  /** @type {(a: any, b: any) => boolean} */
  const eq = (a, b) => (a instanceof Date || b instanceof Date ? cmp(a, b) === 0 : String(a) === String(b));
  /** @param {Where} w */
  const one = (w) => {
    const a = row[w.field];
    /** @type {any} */
    const v = w.value;
    switch (w.operator ?? 'eq') {
      case 'eq': return v === null ? a == null : a != null && eq(a, v);
      case 'ne': return v === null ? a != null : a == null || !eq(a, v);
      case 'lt': return a != null && cmp(a, v) < 0;
      case 'lte': return a != null && cmp(a, v) <= 0;
      case 'gt': return a != null && cmp(a, v) > 0;
      case 'gte': return a != null && cmp(a, v) >= 0;
      case 'in': return a != null && v.some((/** @type {unknown} */ x) => eq(a, x));
      case 'not_in': return a == null || !v.some((/** @type {unknown} */ x) => eq(a, x));
      case 'contains': return a != null && String(a).includes(v);
      case 'starts_with': return a != null && String(a).startsWith(v);
      case 'ends_with': return a != null && String(a).endsWith(v);
      default: throw new Error(`schemakit better-auth adapter: operator ${w.operator} is not supported`);
    }
  };
  const { ands, ors } = groups(where);
  return ands.every(one) && (ors.length === 0 || ors.some(one));
}

/**
 * @param {Record<string, any>[]} rows
 * @param {{ sortBy?: { field: string, direction: 'asc' | 'desc' }, limit?: number, offset?: number }} page
 * @returns {Record<string, any>[]}
 */
function pageInJs(rows, { sortBy, limit, offset }) {
  if (sortBy) {
    const dir = sortBy.direction === 'desc' ? -1 : 1;
    rows = [...rows].sort((a, b) => (a[sortBy.field] < b[sortBy.field] ? -dir : a[sortBy.field] > b[sortBy.field] ? dir : 0));
  }
  return rows.slice(offset ?? 0, limit != null ? (offset ?? 0) + limit : undefined);
}

/**
 * @param {(field: string) => string} col
 * @param {unknown[]} params
 * @param {{ sortBy?: { field: string, direction: 'asc' | 'desc' }, limit?: number, offset?: number }} page
 * @returns {string}
 */
function orderLimit(col, params, { sortBy, limit, offset }) {
  let s = '';
  if (sortBy) s += ` ORDER BY ${col(sortBy.field)} ${sortBy.direction === 'desc' ? 'DESC' : 'ASC'}`;
  if (limit != null) { params.push(limit); s += ` LIMIT $${params.length}`; }
  if (offset) { params.push(offset); s += ` OFFSET $${params.length}`; }
  return s;
}

/**
 * @param {string} model
 * @param {string} field
 * @returns {Error}
 */
function unsupported(model, field) {
  return new Error(`schemakit better-auth adapter: ${model}.${field} has no place in schemakit's tables`);
}

// --- the models --------------------------------------------------------------
/** @type {Record<string, string>} */
const USER_COLS = {
  id: 'id', name: 'display_name', email: 'email', emailVerified: 'email_verified',
  image: 'image', createdAt: 'created_at', updatedAt: 'updated_at',
};
const ACCOUNT_FIELDS = ['id', 'accountId', 'providerId', 'userId', 'accessToken', 'refreshToken', 'idToken',
  'accessTokenExpiresAt', 'refreshTokenExpiresAt', 'scope', 'password', 'createdAt', 'updatedAt'];
/** @type {Record<string, string>} */
const ACCOUNT_TOKEN_COLS = { accessToken: 'access_token', refreshToken: 'refresh_token', idToken: 'id_token' };
// Every account as better-auth sees it: the oauth_accounts rows, and each
// user's password_hash as the 'credential' account, id = -(user id).
const ACCOUNT_SOURCE = `(
  SELECT a.id, a.provider_id AS "accountId", a.provider AS "providerId", a.user_id AS "userId",
         a.access_token AS "accessToken", a.refresh_token AS "refreshToken", a.id_token AS "idToken",
         a.access_token_expires_at AS "accessTokenExpiresAt", a.refresh_token_expires_at AS "refreshTokenExpiresAt",
         a.scope, NULL::text AS password, a.created_at AS "createdAt",
         COALESCE(a.updated_at, a.created_at) AS "updatedAt"
    FROM schemakit.oauth_accounts a
  UNION ALL
  SELECT -u.id, u.id::text, 'credential', u.id, NULL, NULL, NULL, NULL, NULL, NULL,
         u.password_hash, u.created_at, u.updated_at
    FROM schemakit.users u
   WHERE u.password_hash IS NOT NULL) acc`;
/** @type {Record<string, string>} */
const VERIFICATION_COLS = { id: 'id', identifier: 'identifier_hash', value: 'value', expiresAt: 'expires_at',
  createdAt: 'created_at', updatedAt: 'updated_at' };
const SESSION_FIELDS = ['id', 'token', 'userId', 'expiresAt', 'createdAt', 'updatedAt', 'ipAddress', 'userAgent'];

const OTP_IDENTIFIER = /-otp-/;

/**
 * The app key: 32 bytes, as a Buffer/Uint8Array, 64 hex digits or base64(url).
 * @typedef {string | Uint8Array} SchemakitKey
 */
/**
 * Options of schemakitAdapter().
 * @typedef {object} SchemakitAdapterOptions
 * @property {{ query: (text: string, values?: unknown[]) => Promise<{ rows: any[], rowCount: number | null }> }} pool
 *   pg.Pool (or anything with query()) connected as the app role set up by schemakit.grant_app().
 * @property {SchemakitKey} key 32 bytes (Buffer, 64 hex digits or base64): encrypts provider tokens, keys session references.
 * @property {boolean} [debugLogs]
 */
/**
 * The adapter.  options: { pool (pg.Pool or anything with query()), key (32 bytes), debugLogs }.
 * Use with advanced.database.generateId: 'serial' (schemakit's ids are bigint identities).
 * @param {SchemakitAdapterOptions} options
 * @returns {import('better-auth/adapters').DBAdapterInstance}
 */
export function schemakitAdapter({ pool, key, debugLogs = false }) {
  if (!pool || typeof pool.query !== 'function') throw new TypeError('schemakit better-auth adapter: option pool (a pg.Pool) is required');
  const master = parseKey(key);
  const tokenKey = subkey(master, 'oauth tokens');
  const refKey = subkey(master, 'session ref');

  /** @type {(v: unknown) => number | null | undefined} */
  const num = (v) => (v == null ? v : Number(v));

  // A session the adapter read without its token (listing a user's
  // sessions) gets a reference in place of the token: skref_<id>_<mac>,
  // usable only where a token is looked up, unforgeable without the key.
  /** @param {string | number} id */
  const refMac = (id) => createHmac('sha256', refKey).update(`session:${id}`).digest('base64url');
  /** @param {string | number} id */
  const sessionRef = (id) => `skref_${id}_${refMac(id)}`;
  /** @type {(token: unknown) => string | null} */
  const parseRef = (token) => {
    const m = /^skref_(\d{1,19})_([A-Za-z0-9_-]{43})$/.exec(String(token));
    if (!m) return null;
    const want = Buffer.from(refMac(m[1]));
    const got = Buffer.from(m[2]);
    return want.length === got.length && timingSafeEqual(want, got) ? m[1] : null;
  };

  const factory = createAdapterFactory({
    config: {
      adapterId: 'schemakit',
      adapterName: 'schemakit',
      supportsNumericIds: true,
      supportsDates: true,
      supportsBooleans: true,
      supportsJSON: false,
      usePlural: false,
      debugLogs,
      transaction: false,
    },
    adapter: ({ getDefaultModelName }) => {
      /** @type {(text: string, values?: unknown[]) => Promise<{ rows: any[], rowCount: number | null }>} */
      const q = (text, values) => pool.query(text, values);

      // --- user -----------------------------------------------------------
      /** @type {(field: string) => string} */
      const userCol = (f) => { if (!(f in USER_COLS)) throw unsupported('user', f); return `u.${USER_COLS[f]}`; };
      /** @param {Record<string, any>} r */
      const userOut = (r) => ({
        id: num(r.id), name: r.display_name ?? '', email: r.email, emailVerified: r.email_verified,
        image: r.image, createdAt: r.created_at, updatedAt: r.updated_at,
      });
      /** @type {(data: Record<string, any>, params: unknown[]) => [string, string][]} */
      const userSet = (data, params) => Object.entries(data).filter(([f, v]) => f !== 'id' && v !== undefined).map(([f, v]) => {
        if (!(f in USER_COLS)) throw unsupported('user', f);
        params.push(f === 'name' ? (v === '' ? null : v) : v);
        return [USER_COLS[f], `$${params.length}`];
      });

      // --- account --------------------------------------------------------
      /** @type {(field: string) => string} */
      const accCol = (f) => {
        if (!ACCOUNT_FIELDS.includes(f) || f in ACCOUNT_TOKEN_COLS || f === 'password') throw unsupported('account (where)', f);
        return `acc."${f}"`;
      };
      /** @type {(field: string, value: any) => any} */
      const accVal = (f, v) => (f === 'id' || f === 'userId' ? Number(v) : v);
      /** @param {Record<string, any>} r */
      const accOut = (r) => ({
        id: num(r.id), accountId: r.accountId, providerId: r.providerId, userId: num(r.userId),
        accessToken: decrypt(tokenKey, 'access_token', r.accessToken),
        refreshToken: decrypt(tokenKey, 'refresh_token', r.refreshToken),
        idToken: decrypt(tokenKey, 'id_token', r.idToken),
        accessTokenExpiresAt: r.accessTokenExpiresAt, refreshTokenExpiresAt: r.refreshTokenExpiresAt,
        scope: r.scope, password: r.password, createdAt: r.createdAt, updatedAt: r.updatedAt,
      });
      /** @type {(where?: Where[], opts?: { sortBy?: { field: string, direction: 'asc' | 'desc' }, limit?: number, offset?: number }) => Promise<Record<string, any>[]>} */
      const accFind = async (where, opts = {}) => {
        /** @type {unknown[]} */
        const params = [];
        const sql = `SELECT * FROM ${ACCOUNT_SOURCE} WHERE ${sqlWhere(where, accCol, params, accVal)}`
          + orderLimit(accCol, params, opts);
        return (await q(sql, params)).rows;
      };
      /** @type {(id: number | null) => Promise<Record<string, any> | undefined>} */
      const accById = async (id) => (await accFind([{ field: 'id', value: id, operator: 'eq', connector: 'AND' }]))[0];
      /** @type {(row: Record<string, any>, update: Record<string, any>) => Promise<Record<string, any> | undefined>} */
      const accUpdateRow = async (row, update) => {
        const id = Number(row.id);
        if (id < 0) {
          // the credential account: only the password lives anywhere
          if (update.password !== undefined) {
            await q('UPDATE schemakit.users SET password_hash = $1 WHERE id = $2', [update.password, -id]);
          }
          return accById(update.password === null ? null : id);
        }
        if (update.password != null) throw new Error('schemakit better-auth adapter: only the credential account has a password');
        /** @type {string[]} */
        const sets = [];
        /** @type {unknown[]} */
        const params = [];
        /** @type {(c: string, v: unknown) => void} */
        const put = (c, v) => { params.push(v); sets.push(`${c} = $${params.length}`); };
        for (const [f, v] of Object.entries(update)) {
          if (v === undefined || f === 'id' || f === 'password') continue;
          if (f in ACCOUNT_TOKEN_COLS) put(ACCOUNT_TOKEN_COLS[f], encrypt(tokenKey, ACCOUNT_TOKEN_COLS[f], v));
          else if (f === 'accountId') put('provider_id', v);
          else if (f === 'providerId') put('provider', v);
          else if (f === 'userId') put('user_id', Number(v));
          else if (f === 'accessTokenExpiresAt') put('access_token_expires_at', v);
          else if (f === 'refreshTokenExpiresAt') put('refresh_token_expires_at', v);
          else if (f === 'scope') put('scope', v);
          else if (f === 'updatedAt') put('updated_at', v);
          else if (f === 'createdAt') put('created_at', v);
          else throw unsupported('account', f);
        }
        if (!update.updatedAt) sets.push('updated_at = now()');
        params.push(id);
        await q(`UPDATE schemakit.oauth_accounts SET ${sets.join(', ')} WHERE id = $${params.length}`, params);
        return accById(id);
      };
      /** @param {Record<string, any>} row */
      const accDeleteRow = async (row) => {
        const id = Number(row.id);
        if (id < 0) await q('UPDATE schemakit.users SET password_hash = NULL WHERE id = $1', [-id]);
        else await q('DELETE FROM schemakit.oauth_accounts WHERE id = $1', [id]);
      };

      // --- verification ---------------------------------------------------
      /** @type {(field: string) => string} */
      const verCol = (f) => { if (!(f in VERIFICATION_COLS)) throw unsupported('verification', f); return `v.${VERIFICATION_COLS[f]}`; };
      /** @type {(field: string, value: any) => any} */
      const verVal = (f, v) => (f === 'identifier' ? tokenHash(v) : f === 'id' ? Number(v) : v);
      /** @type {(where: Where[] | undefined) => string | null} */
      const knownIdentifier = (where) => {
        const w = (where ?? []).find((x) => x.field === 'identifier' && (x.operator ?? 'eq') === 'eq' && x.connector !== 'OR');
        return w ? String(w.value) : null;
      };
      /** @type {(r: Record<string, any>, identifier?: string | null) => Record<string, any>} */
      const verOut = (r, identifier) => ({
        id: num(r.id),
        identifier: identifier ?? `sha256:${r.identifier_hash.toString('hex')}`,
        value: r.value, expiresAt: r.expires_at, createdAt: r.created_at, updatedAt: r.updated_at,
      });
      /** @type {(identifier: string | null | undefined, value: unknown) => void} */
      const guardValue = (identifier, value) => {
        // better-auth's email-otp plugin keeps "<otp>:<attempts>"; a short
        // left part is a code in plaintext: refused.
        if (identifier != null && value != null && OTP_IDENTIFIER.test(identifier)) {
          const cut = String(value).lastIndexOf(':');
          const otp = cut < 0 ? String(value) : String(value).slice(0, cut);
          if (otp.length < 32) {
            throw new Error('schemakit better-auth adapter: refusing to store an OTP in plaintext; '
              + 'configure emailOTP({ storeOTP: schemakitOTPStorage(key) })');
          }
        }
      };
      /** @type {(data: Record<string, any>, params: unknown[]) => [string, string][]} */
      const verSet = (data, params) => Object.entries(data).filter(([f, v]) => f !== 'id' && v !== undefined).map(([f, v]) => {
        if (!(f in VERIFICATION_COLS)) throw unsupported('verification', f);
        params.push(verVal(f, v));
        return [VERIFICATION_COLS[f], `$${params.length}`];
      });

      // --- session --------------------------------------------------------
      // The request's own session keeps its real token in a listing, so
      // better-auth can tell it from the others (revokeOtherSessions).
      /** @type {(id: unknown) => string | undefined} */
      const currentToken = (id) => {
        try {
          const s = tryGetCurrentAuthEndpointContext()?.context?.session?.session;
          return s && String(s.id) === String(id) && !String(s.token).startsWith('skref_') ? s.token : undefined;
        } catch { return undefined; }
      };
      /** @type {(r: Record<string, any>, token?: string) => Record<string, any>} */
      const sessionOut = (r, token) => ({
        id: num(r.id), token: token ?? currentToken(r.id) ?? sessionRef(r.id), userId: num(r.user_id), expiresAt: r.expires_at,
        createdAt: r.created_at, updatedAt: r.last_seen_at, ipAddress: r.ip_address ?? null, userAgent: r.user_agent ?? null,
      });
      /** @type {(token: unknown) => Promise<Record<string, any>[]>} */
      const byToken = async (token) => {
        const ref = parseRef(token);
        const { rows } = ref
          ? await q('SELECT * FROM schemakit.find_session_by_id($1)', [ref])
          : await q('SELECT * FROM schemakit.find_session($1)', [String(token)]);
        return rows.map((r) => sessionOut(r, String(token)));
      };
      /**
       * Sessions a where list can name, then judged by the whole list.
       * @type {(where?: Where[]) => Promise<Record<string, any>[]>}
       */
      const sessionFind = async (where = []) => {
        for (const w of where) {
          if (!SESSION_FIELDS.includes(w.field)) throw unsupported('session (where)', w.field);
        }
        const { ands, ors } = groups(where);
        if (ors.length) throw new Error('schemakit better-auth adapter: OR in a session lookup is not supported');
        let rows = null;
        for (const w of ands) {
          const op = w.operator ?? 'eq';
          if (w.field === 'token' && (op === 'eq' || op === 'in')) {
            const tokens = /** @type {unknown[]} */ (op === 'eq' ? [w.value] : w.value);
            rows = (await Promise.all(tokens.map(byToken))).flat();
            break;
          }
          if (w.field === 'id' && (op === 'eq' || op === 'in')) {
            const ids = /** @type {unknown[]} */ (op === 'eq' ? [w.value] : w.value);
            rows = (await Promise.all(ids.map((id) => q('SELECT * FROM schemakit.find_session_by_id($1)', [Number(id)]))))
              .flatMap((r) => r.rows.map((x) => sessionOut(x)));
            break;
          }
          if (w.field === 'userId' && op === 'eq') {
            rows = (await q('SELECT * FROM schemakit.list_user_sessions($1)', [Number(w.value)])).rows.map((x) => sessionOut(x));
            break;
          }
        }
        if (rows == null) throw new Error('schemakit better-auth adapter: a session lookup needs token, id or userId');
        return rows.filter((r) => matches(r, where));
      };
      /** @type {(row: Record<string, any>, update: Record<string, any>) => Promise<Record<string, any> | null>} */
      const sessionUpdateRow = async (row, update) => {
        for (const f of Object.keys(update)) {
          if (!['expiresAt', 'updatedAt', 'ipAddress', 'userAgent', 'id', 'token', 'userId', 'createdAt'].includes(f)) {
            throw unsupported('session', f);
          }
        }
        const { rows } = await q('SELECT * FROM schemakit.update_session($1, $2)', [row.id, update.expiresAt ?? null]);
        return rows[0] ? sessionOut(rows[0], row.token) : null;
      };

      /** @param {string} model */
      const modelOf = (model) => getDefaultModelName(model);

      const impl = {
        /**
         * @param {{ model: string, data: Record<string, any> }} args
         * @returns {Promise<any>}
         */
        async create({ model, data }) {
          switch (modelOf(model)) {
            case 'user': {
              /** @type {unknown[]} */
              const params = [];
              const sets = userSet(data, params);
              const { rows } = await q(`INSERT INTO schemakit.users (${sets.map((s) => s[0]).join(', ')})
                VALUES (${sets.map((s) => s[1]).join(', ')}) RETURNING *`, params);
              return userOut(rows[0]);
            }
            case 'session': {
              for (const f of Object.keys(data)) if (!SESSION_FIELDS.includes(f)) throw unsupported('session', f);
              let ip = data.ipAddress || null;
              if (ip != null && !/^[0-9a-fA-F:.]+(\/\d+)?$/.test(ip)) ip = null;
              const { rows } = await q('SELECT schemakit.open_session($1, $2, $3, $4::inet, $5) AS id',
                [Number(data.userId), data.token, data.expiresAt, ip, data.userAgent || null]);
              const found = await q('SELECT * FROM schemakit.find_session_by_id($1)', [rows[0].id]);
              return sessionOut(found.rows[0], data.token);
            }
            case 'account': {
              for (const f of Object.keys(data)) if (!ACCOUNT_FIELDS.includes(f)) throw unsupported('account', f);
              if (data.providerId === 'credential') {
                const { rowCount } = await q('UPDATE schemakit.users SET password_hash = $1 WHERE id = $2',
                  [data.password, Number(data.userId)]);
                if (rowCount !== 1) throw new Error(`schemakit better-auth adapter: user ${data.userId} does not exist`);
                return accOut(/** @type {Record<string, any>} */ (await accById(-Number(data.userId))));
              }
              if (data.password != null) throw new Error('schemakit better-auth adapter: only the credential account has a password');
              const { rows } = await q(`INSERT INTO schemakit.oauth_accounts
                  (user_id, provider, provider_id, access_token, refresh_token, id_token,
                   access_token_expires_at, refresh_token_expires_at, scope, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, now()), COALESCE($11, now()))
                RETURNING id`, [Number(data.userId), data.providerId, data.accountId,
                encrypt(tokenKey, 'access_token', data.accessToken), encrypt(tokenKey, 'refresh_token', data.refreshToken),
                encrypt(tokenKey, 'id_token', data.idToken), data.accessTokenExpiresAt ?? null,
                data.refreshTokenExpiresAt ?? null, data.scope ?? null, data.createdAt ?? null, data.updatedAt ?? null]);
              return accOut(/** @type {Record<string, any>} */ (await accById(rows[0].id)));
            }
            case 'verification': {
              guardValue(data.identifier, data.value);
              /** @type {unknown[]} */
              const params = [];
              const sets = verSet(data, params);
              const { rows } = await q(`INSERT INTO schemakit.verifications (${sets.map((s) => s[0]).join(', ')})
                VALUES (${sets.map((s) => s[1]).join(', ')}) RETURNING *`, params);
              return verOut(rows[0], data.identifier);
            }
            default: throw new Error(`schemakit better-auth adapter: model ${model} is not supported`);
          }
        },

        /**
         * @param {{ model: string, where?: Where[] }} args
         * @returns {Promise<any>}
         */
        async findOne({ model, where }) {
          const rows = await impl.findMany({ model, where, limit: 1 });
          return rows[0] ?? null;
        },

        /**
         * @param {{ model: string, where?: Where[], limit?: number, sortBy?: { field: string, direction: 'asc' | 'desc' }, offset?: number }} args
         * @returns {Promise<any[]>}
         */
        async findMany({ model, where = [], limit, sortBy, offset }) {
          switch (modelOf(model)) {
            case 'user': {
              /** @type {unknown[]} */
              const params = [];
              const sql = `SELECT u.* FROM schemakit.users u WHERE ${sqlWhere(where, userCol, params,
                (f, v) => (f === 'id' ? Number(v) : v))}` + orderLimit(userCol, params, { sortBy, limit, offset });
              return (await q(sql, params)).rows.map(userOut);
            }
            case 'session': return pageInJs(await sessionFind(where), { sortBy, limit, offset });
            case 'account': return (await accFind(where, { sortBy, limit, offset })).map(accOut);
            case 'verification': {
              /** @type {unknown[]} */
              const params = [];
              const sql = `SELECT v.* FROM schemakit.verifications v WHERE ${sqlWhere(where, verCol, params, verVal)}`
                + orderLimit(verCol, params, { sortBy, limit, offset });
              const ident = knownIdentifier(where);
              return (await q(sql, params)).rows.map((r) => verOut(r, ident));
            }
            default: throw new Error(`schemakit better-auth adapter: model ${model} is not supported`);
          }
        },

        /**
         * @param {{ model: string, where: Where[], update: any }} args
         * @returns {Promise<any>}
         */
        async update({ model, where, update }) {
          switch (modelOf(model)) {
            case 'user': {
              /** @type {unknown[]} */
              const params = [];
              const sets = userSet(update, params);
              if (!sets.length) return impl.findOne({ model, where });
              const sql = `UPDATE schemakit.users u SET ${sets.map(([c, p]) => `${c} = ${p}`).join(', ')}
                WHERE u.id = (SELECT u.id FROM schemakit.users u WHERE ${sqlWhere(where, userCol, params,
                  (f, v) => (f === 'id' ? Number(v) : v))} LIMIT 1) RETURNING *`;
              const { rows } = await q(sql, params);
              return rows[0] ? userOut(rows[0]) : null;
            }
            case 'session': {
              const [row] = await sessionFind(where);
              return row ? sessionUpdateRow(row, update) : null;
            }
            case 'account': {
              const [row] = await accFind(where, { limit: 1 });
              if (!row) return null;
              const out = await accUpdateRow(row, update);
              return out ? accOut(out) : null;
            }
            case 'verification': {
              guardValue(knownIdentifier(where), update.value);
              /** @type {unknown[]} */
              const params = [];
              const sets = verSet(update, params);
              const sql = `UPDATE schemakit.verifications v SET ${sets.map(([c, p]) => `${c} = ${p}`).join(', ')}
                WHERE v.id = (SELECT v.id FROM schemakit.verifications v WHERE ${sqlWhere(where, verCol, params, verVal)}
                ORDER BY v.id DESC LIMIT 1) RETURNING *`;
              const { rows } = await q(sql, params);
              return rows[0] ? verOut(rows[0], knownIdentifier(where) ?? update.identifier) : null;
            }
            default: throw new Error(`schemakit better-auth adapter: model ${model} is not supported`);
          }
        },

        /**
         * @param {{ model: string, where: Where[], update: Record<string, any> }} args
         * @returns {Promise<number>}
         */
        async updateMany({ model, where, update }) {
          switch (modelOf(model)) {
            case 'user': {
              /** @type {unknown[]} */
              const params = [];
              const sets = userSet(update, params);
              const sql = `UPDATE schemakit.users u SET ${sets.map(([c, p]) => `${c} = ${p}`).join(', ')}
                WHERE ${sqlWhere(where, userCol, params, (f, v) => (f === 'id' ? Number(v) : v))}`;
              return (await q(sql, params)).rowCount ?? 0;
            }
            case 'session': {
              const rows = await sessionFind(where);
              for (const r of rows) await sessionUpdateRow(r, update);
              return rows.length;
            }
            case 'account': {
              const rows = await accFind(where);
              for (const r of rows) await accUpdateRow(r, update);
              return rows.length;
            }
            case 'verification': {
              guardValue(knownIdentifier(where), update.value);
              /** @type {unknown[]} */
              const params = [];
              const sets = verSet(update, params);
              const sql = `UPDATE schemakit.verifications v SET ${sets.map(([c, p]) => `${c} = ${p}`).join(', ')}
                WHERE ${sqlWhere(where, verCol, params, verVal)}`;
              return (await q(sql, params)).rowCount ?? 0;
            }
            default: throw new Error(`schemakit better-auth adapter: model ${model} is not supported`);
          }
        },

        /**
         * @param {{ model: string, where: Where[] }} args
         * @returns {Promise<void>}
         */
        async delete({ model, where }) {
          await impl.deleteMany({ model, where, one: true });
        },

        /**
         * @param {{ model: string, where: Where[], one?: boolean }} args
         * @returns {Promise<number>}
         */
        async deleteMany({ model, where, one = false }) {
          switch (modelOf(model)) {
            case 'user': {
              /** @type {unknown[]} */
              const params = [];
              const cond = sqlWhere(where, userCol, params, (f, v) => (f === 'id' ? Number(v) : v));
              const sql = one
                ? `DELETE FROM schemakit.users WHERE id = (SELECT u.id FROM schemakit.users u WHERE ${cond} LIMIT 1)`
                : `DELETE FROM schemakit.users u WHERE ${cond}`;
              return (await q(sql, params)).rowCount ?? 0;
            }
            case 'session': {
              // better-auth deletes; schemakit revokes (purge_expired removes the row later)
              let rows = await sessionFind(where);
              if (one) rows = rows.slice(0, 1);
              for (const r of rows) await q('SELECT schemakit.revoke_session_by_id($1)', [r.id]);
              return rows.length;
            }
            case 'account': {
              let rows = await accFind(where);
              if (one) rows = rows.slice(0, 1);
              for (const r of rows) await accDeleteRow(r);
              return rows.length;
            }
            case 'verification': {
              /** @type {unknown[]} */
              const params = [];
              const cond = sqlWhere(where, verCol, params, verVal);
              const sql = one
                ? `DELETE FROM schemakit.verifications WHERE id = (SELECT v.id FROM schemakit.verifications v WHERE ${cond} LIMIT 1)`
                : `DELETE FROM schemakit.verifications v WHERE ${cond}`;
              return (await q(sql, params)).rowCount ?? 0;
            }
            default: throw new Error(`schemakit better-auth adapter: model ${model} is not supported`);
          }
        },

        // Single-use values (reset tokens, OTPs, magic links): taken in one
        // statement, so two requests cannot both consume one row.
        /**
         * @param {{ model: string, where: Where[] }} args
         * @returns {Promise<any>}
         */
        async consumeOne({ model, where }) {
          if (modelOf(model) === 'verification') {
            /** @type {unknown[]} */
            const params = [];
            const cond = sqlWhere(where, verCol, params, verVal);
            const { rows } = await q(`DELETE FROM schemakit.verifications WHERE id = (
                SELECT v.id FROM schemakit.verifications v WHERE ${cond} ORDER BY v.id LIMIT 1 FOR UPDATE)
              RETURNING *`, params);
            return rows[0] ? verOut(rows[0], knownIdentifier(where)) : null;
          }
          const row = await impl.findOne({ model, where });
          if (row) await impl.deleteMany({ model, where: [{ field: 'id', value: row.id, operator: 'eq', connector: 'AND' }], one: true });
          return row;
        },

        /**
         * @param {{ model: string, where?: Where[] }} args
         * @returns {Promise<number>}
         */
        async count({ model, where = [] }) {
          switch (modelOf(model)) {
            case 'user': {
              /** @type {unknown[]} */
              const params = [];
              const { rows } = await q(`SELECT count(*)::int AS n FROM schemakit.users u WHERE ${sqlWhere(where, userCol, params,
                (f, v) => (f === 'id' ? Number(v) : v))}`, params);
              return rows[0].n;
            }
            case 'session': return (await sessionFind(where)).length;
            case 'account': return (await accFind(where)).length;
            case 'verification': {
              /** @type {unknown[]} */
              const params = [];
              const { rows } = await q(`SELECT count(*)::int AS n FROM schemakit.verifications v WHERE ${sqlWhere(where, verCol, params, verVal)}`, params);
              return rows[0].n;
            }
            default: throw new Error(`schemakit better-auth adapter: model ${model} is not supported`);
          }
        },
      };
      return impl;
    },
  });

  return (options) => {
    if (options?.advanced?.database?.generateId !== 'serial') {
      throw new Error("schemakit better-auth adapter: set advanced.database.generateId to 'serial' (schemakit's ids are bigint identities)");
    }
    return factory(options);
  };
}
