// better-auth on schemakit: a real better-auth instance with the
// schemakit/better-auth adapter, connected as the app role (grant_app).
// Environment (test/scripts/98-better-auth.sh): PGHOST, PGPORT, PGUSER (app
// role), PGPASSWORD, PGDATABASE; SK_OWNER_USER / SK_OWNER_PASSWORD for the
// plaintext checks and for pg_dump / pg_restore; SK_BA_RESTORE_DB.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { betterAuth } from 'better-auth';
import { emailOTP } from 'better-auth/plugins/email-otp';
import { schemakitAdapter, schemakitOTPStorage } from 'schemakit/better-auth';

const SECRET = 'schemakit-better-auth-test-secret-' + 'k'.repeat(32);
const KEY = 'a3'.repeat(32);
const DB = process.env.PGDATABASE;
const RESTORED = process.env.SK_BA_RESTORE_DB ?? `${DB}_restored`;
const owner = { user: process.env.SK_OWNER_USER ?? 'postgres', password: process.env.SK_OWNER_PASSWORD || undefined };

const pools = [];
function appPool(database = DB) { const p = new pg.Pool({ database, max: 4 }); pools.push(p); return p; }
function ownerPool(database = DB) { const p = new pg.Pool({ database, max: 2, ...owner }); pools.push(p); return p; }
after(async () => { for (const p of pools) await p.end().catch(() => {}); });

function makeAuth(pool, outbox) {
  return betterAuth({
    secret: SECRET,
    baseURL: 'http://localhost:3000',
    database: schemakitAdapter({ pool, key: KEY }),
    advanced: { database: { generateId: 'serial' } },
    logger: { disabled: true },
    emailAndPassword: {
      enabled: true,
      sendResetPassword: async ({ user, token }) => { outbox.push({ type: 'reset', email: user.email, token }); },
    },
    plugins: [emailOTP({
      storeOTP: schemakitOTPStorage(KEY),
      sendVerificationOTP: async ({ email, otp, type }) => { outbox.push({ type, email, otp }); },
    })],
  });
}

const cookieOf = (headers) => headers.getSetCookie().map((c) => c.split(';')[0])
  .filter((c) => !c.endsWith('=')).join('; ');
const tokenOf = (cookie) => decodeURIComponent(/better-auth\.session_token=([^;]+)/.exec(cookie)[1]).split('.')[0];
/** The session cookie better-auth would set for a token (HMAC-SHA-256 signed with the secret). */
const signedCookie = (token) => `better-auth.session_token=${encodeURIComponent(
  `${token}.${createHmac('sha256', SECRET).update(token).digest('base64')}`)}`;
const mail = (tag) => `${tag}-${randomUUID().slice(0, 8)}@example.com`;

/**
 * No table in schemakit or public holds the secret: every text-like column
 * (text, varchar, json, bytea as UTF-8) is searched, as the owner.
 */
async function assertNowhere(secret, what, database = DB) {
  const o = ownerPool(database);
  const { rows: cols } = await o.query(`
    SELECT n.nspname, c.relname, a.attname, t.typname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
     WHERE c.relkind = 'r' AND n.nspname IN ('schemakit', 'public')
       AND t.typname IN ('text', 'varchar', 'bpchar', 'json', 'jsonb', 'bytea')`);
  assert.ok(cols.length > 10, 'columns to search');
  for (const c of cols) {
    const col = `${pg.escapeIdentifier(c.attname)}`;
    const expr = c.typname === 'bytea' ? `position(convert_to($1, 'UTF8') in ${col}) > 0`
      : `strpos(${col}::text, $1) > 0`;
    const { rows } = await o.query(
      `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(c.nspname)}.${pg.escapeIdentifier(c.relname)} WHERE ${expr}`, [secret]);
    assert.equal(rows[0].n, 0, `${what} found in plaintext in ${c.nspname}.${c.relname}.${c.attname}`);
  }
}

const pool = appPool();
const outbox = [];
const auth = makeAuth(pool, outbox);
const state = {};

test('runs as the app role: no superuser, no direct right on schemakit.sessions', async () => {
  const { rows } = await pool.query(`SELECT current_user AS u, r.rolsuper,
      has_table_privilege('schemakit.sessions', 'SELECT') AS sessions_select
    FROM pg_roles r WHERE r.rolname = current_user`);
  assert.equal(rows[0].rolsuper, false);
  assert.equal(rows[0].sessions_select, false);
});

test('email and password: sign-up and sign-in store the user in schemakit.users with a numeric id', async () => {
  const email = mail('pw');
  const up = await auth.api.signUpEmail({ body: { email, password: 'first password 123', name: 'Pat Doe' } });
  assert.match(String(up.user.id), /^\d+$/);
  const { rows } = await pool.query(
    'SELECT id, email, display_name, email_verified, password_hash FROM schemakit.users WHERE email_key = schemakit.email_key($1)', [email]);
  assert.equal(rows.length, 1);
  assert.equal(String(rows[0].id), String(up.user.id));
  assert.equal(rows[0].display_name, 'Pat Doe');
  assert.equal(rows[0].email_verified, false);
  assert.match(rows[0].password_hash, /^[0-9a-f]+:[0-9a-f]+$/, 'better-auth scrypt hash in users.password_hash');
  const acc = await pool.query('SELECT count(*)::int AS n FROM schemakit.oauth_accounts WHERE user_id = $1', [up.user.id]);
  assert.equal(acc.rows[0].n, 0, 'the credential account is users.password_hash, not an oauth_accounts row');

  const bad = await auth.api.signInEmail({ body: { email, password: 'wrong password 123' } }).catch((e) => e);
  assert.equal(bad.statusCode ?? bad.status, 401);
  const inn = await auth.api.signInEmail({ body: { email, password: 'first password 123' }, returnHeaders: true });
  state.email = email;
  state.userId = Number(up.user.id);
  state.cookie = cookieOf(inn.headers);
  state.token = tokenOf(state.cookie);
  await assertNowhere(up.token, 'the sign-up session token');
  await assertNowhere(state.token, 'the sign-in session token');
});

test('getSession from the cookie; schemakit.session_user_id answers for the better-auth token', async () => {
  const s = await auth.api.getSession({ headers: new Headers({ cookie: state.cookie }) });
  assert.equal(Number(s.user.id), state.userId);
  assert.equal(s.session.token, state.token);
  const { rows } = await pool.query('SELECT schemakit.session_user_id($1) AS uid', [state.token]);
  assert.equal(Number(rows[0].uid), state.userId);
  const h = await pool.query('SELECT count(*)::int AS n FROM schemakit.find_session($1)', [state.token]);
  assert.equal(h.rows[0].n, 1);
});

test('a session issued by schemakit.issue_session is a better-auth session', async () => {
  const { rows } = await pool.query('SELECT schemakit.issue_session($1) AS t', [state.userId]);
  const s = await auth.api.getSession({ headers: new Headers({ cookie: signedCookie(rows[0].t) }) });
  assert.equal(Number(s.user.id), state.userId);
  state.issued = rows[0].t;
});

test('listing and revoking a user\'s sessions', async () => {
  const headers = new Headers({ cookie: state.cookie });
  const list = await auth.api.listSessions({ headers });
  assert.ok(list.length >= 3, `sessions listed: ${list.length}`);
  for (const s of list) assert.equal(Number(s.userId), state.userId);
  // tokens are not known for listed sessions: references stand in for them
  const other = list.find((s) => s.token !== state.token && s.token.startsWith('skref_'));
  assert.ok(other);
  await auth.api.revokeSession({ headers, body: { token: other.token } });
  const after1 = await auth.api.listSessions({ headers });
  assert.equal(after1.length, list.length - 1);
  assert.ok(!after1.some((s) => String(s.id) === String(other.id)));
  // a forged reference is no session
  const forged = `skref_${other.id}_${'A'.repeat(43)}`;
  const none = await pool.query('SELECT count(*)::int AS n FROM schemakit.find_session($1)', [forged]);
  assert.equal(none.rows[0].n, 0);

  await auth.api.revokeOtherSessions({ headers });
  const after2 = await auth.api.listSessions({ headers });
  assert.equal(after2.length, 1);
  const issued = await pool.query('SELECT schemakit.session_user_id($1) AS uid', [state.issued]);
  assert.equal(issued.rows[0].uid, null, 'the issue_session session was revoked with the others');
});

test('sign-out revokes the session: getSession null, session_user_id NULL', async () => {
  const headers = new Headers({ cookie: state.cookie });
  await auth.api.signOut({ headers });
  assert.equal(await auth.api.getSession({ headers }), null);
  const { rows } = await pool.query('SELECT schemakit.session_user_id($1) AS uid', [state.token]);
  assert.equal(rows[0].uid, null);
  await assertNowhere(state.token, 'the signed-out session token');
});

test('email OTP sign-in (email-otp plugin), the OTP stored only as a keyed hash', async () => {
  const email = mail('otp');
  await auth.api.sendVerificationOTP({ body: { email, type: 'sign-in' } });
  const sent = outbox.filter((m) => m.email === email && m.type === 'sign-in').at(-1);
  assert.match(sent.otp, /^\d{6}$/);
  const { rows } = await ownerPool().query('SELECT value FROM schemakit.verifications ORDER BY id DESC LIMIT 1');
  assert.match(rows[0].value, /^skotp1\.[A-Za-z0-9_-]{43}:0$/);
  assert.ok(!rows[0].value.includes(sent.otp));
  await assertNowhere(`sign-in-otp-${email}`, 'the OTP identifier');

  const wrong = sent.otp === '000000' ? '111111' : '000000';
  const bad = await auth.api.signInEmailOTP({ body: { email, otp: wrong } }).catch((e) => e);
  assert.ok(bad instanceof Error, 'a wrong code is refused');
  const res = await auth.api.signInEmailOTP({ body: { email, otp: sent.otp }, returnHeaders: true });
  const cookie = cookieOf(res.headers);
  const s = await auth.api.getSession({ headers: new Headers({ cookie }) });
  assert.equal(s.user.email, email);
  assert.equal(s.user.emailVerified, true);
  const u = await pool.query('SELECT email_verified FROM schemakit.users WHERE email_key = schemakit.email_key($1)', [email]);
  assert.equal(u.rows[0].email_verified, true);
  await assertNowhere(tokenOf(cookie), 'the OTP session token');
  const again = await auth.api.signInEmailOTP({ body: { email, otp: sent.otp } }).catch((e) => e);
  assert.ok(again instanceof Error, 'a used code is refused');
});

test('the adapter refuses to store a plaintext OTP', async () => {
  const plainOut = [];
  const plain = betterAuth({
    secret: SECRET, baseURL: 'http://localhost:3000', logger: { disabled: true },
    database: schemakitAdapter({ pool, key: KEY }),
    advanced: { database: { generateId: 'serial' } },
    plugins: [emailOTP({ sendVerificationOTP: async (m) => { plainOut.push(m); } })],
  });
  const err = await plain.api.sendVerificationOTP({ body: { email: mail('plain'), type: 'sign-in' } }).catch((e) => e);
  assert.ok(err instanceof Error);
  for (const m of plainOut) await assertNowhere(`${m.otp}:0`, 'a plaintext OTP');
});

test('password reset: token never stored in plaintext, new password works, old does not', async () => {
  const email = mail('reset');
  await auth.api.signUpEmail({ body: { email, password: 'old password 123', name: 'R' } });
  await auth.api.requestPasswordReset({ body: { email, redirectTo: 'http://localhost:3000/reset' } });
  const sent = outbox.filter((m) => m.email === email && m.type === 'reset').at(-1);
  assert.ok(sent.token && sent.token.length >= 20);
  await assertNowhere(sent.token, 'the reset token');
  await auth.api.resetPassword({ body: { token: sent.token, newPassword: 'new password 456' } });
  await assertNowhere(sent.token, 'the spent reset token');
  const again = await auth.api.resetPassword({ body: { token: sent.token, newPassword: 'third password 789' } }).catch((e) => e);
  assert.ok(again instanceof Error, 'a spent reset token is refused');
  const old = await auth.api.signInEmail({ body: { email, password: 'old password 123' } }).catch((e) => e);
  assert.ok(old instanceof Error);
  const ok = await auth.api.signInEmail({ body: { email, password: 'new password 456' } });
  assert.ok(ok.token);
  state.resetEmail = email;
});

test('OAuth account link: tokens AES-256-GCM encrypted, oauth_user_id answers', async () => {
  const ctx = await auth.$context;
  const access = `gho_${randomUUID().replaceAll('-', '')}`;
  const refresh = `ghr_${randomUUID().replaceAll('-', '')}`;
  const idToken = `eyJ${randomUUID().replaceAll('-', '')}`;
  const providerAccount = String(Date.now());
  await ctx.internalAdapter.linkAccount({
    userId: String(state.userId), providerId: 'github', accountId: providerAccount,
    accessToken: access, refreshToken: refresh, idToken, scope: 'read:user,user:email',
    accessTokenExpiresAt: new Date(Date.now() + 3600e3),
  });
  const found = await ctx.internalAdapter.findAccountByKey({ providerId: 'github', accountId: providerAccount });
  assert.equal(Number(found.userId), state.userId);
  assert.equal(found.accessToken, access);
  assert.equal(found.refreshToken, refresh);
  assert.equal(found.idToken, idToken);
  const { rows } = await pool.query('SELECT schemakit.oauth_user_id($1, $2) AS uid', ['github', providerAccount]);
  assert.equal(Number(rows[0].uid), state.userId);
  const raw = await pool.query(`SELECT access_token, scope FROM schemakit.oauth_accounts
    WHERE provider = 'github' AND provider_id = $1`, [providerAccount]);
  assert.equal(raw.rows[0].access_token[0], 1, 'format version 1');
  assert.equal(raw.rows[0].scope, 'read:user,user:email');
  for (const t of [access, refresh, idToken]) await assertNowhere(t, 'a provider token');
  const accounts = await ctx.internalAdapter.findAccounts(String(state.userId));
  assert.deepEqual(accounts.map((a) => a.providerId).sort(), ['credential', 'github']);
  state.providerAccount = providerAccount;
  state.access = access;
});

test('dump and restore (pg_dump -Fc, pg_restore), then sign in again with the restored data', async () => {
  const env = { ...process.env, PGUSER: owner.user, PGPASSWORD: owner.password ?? '' };
  const file = `/tmp/sk_ba_${process.pid}.dump`;
  execFileSync('pg_dump', ['-Fc', '-f', file, DB], { env });
  execFileSync('dropdb', ['--if-exists', RESTORED], { env });
  execFileSync('createdb', [RESTORED], { env });
  execFileSync('pg_restore', ['--exit-on-error', '-d', RESTORED, file], { env });
  execFileSync('rm', ['-f', file]);

  const rpool = appPool(RESTORED);
  const rauth = makeAuth(rpool, []);
  const res = await rauth.api.signInEmail({ body: { email: state.resetEmail, password: 'new password 456' }, returnHeaders: true });
  const cookie = cookieOf(res.headers);
  const s = await rauth.api.getSession({ headers: new Headers({ cookie }) });
  assert.equal(s.user.email, state.resetEmail);
  const ctx = await rauth.$context;
  const acc = await ctx.internalAdapter.findAccountByKey({ providerId: 'github', accountId: state.providerAccount });
  assert.equal(acc.accessToken, state.access, 'provider tokens decrypt after the restore');
  await assertNowhere(tokenOf(cookie), 'the restored database\'s session token', RESTORED);
  const { rows } = await rpool.query('SELECT schemakit.session_user_id($1) AS uid', [tokenOf(cookie)]);
  assert.equal(String(rows[0].uid), String(s.user.id));
});
