'use strict';
/*
 * examples/node/test/app.test.js - the flows of app.js against a real
 * database with schemakit, for node's built-in runner:
 *
 *   PGDATABASE=appdb node --test test/
 *
 * Connection settings come from PGHOST, PGPORT, PGUSER, PGPASSWORD and
 * PGDATABASE.  Every test creates its own users, so the suite can run
 * repeatedly against the same database.  test/scripts/95-node.sh runs it as a
 * role set up with schemakit.grant_app().
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const app = require('../app');

let pool;
let extVersion = '0';
let superuser = false;
let seq = 0;
const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);

/** A name no other test (or earlier run) uses. */
function uniq(prefix) { seq += 1; return `${prefix}_${run}_${seq}`; }
function emailFor(name) { return `${name}@example.com`; }
async function newUser(extra = {}) {
  const name = uniq('u');
  return app.createUser(pool, { username: name, email: emailFor(name), ...extra });
}
/** Asserts that promise rejects with a pg error carrying this SQLSTATE. */
async function rejectsWith(promise, sqlstate) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, sqlstate, `expected SQLSTATE ${sqlstate}, got ${err.code}: ${err.message}`);
    return true;
  });
}
/** A schemakit setting; the library (which defines the settings) is loaded first. */
async function setting(name) {
  const client = await pool.connect();
  try {
    await client.query('SELECT schemakit.random_code()');
    const { rows } = await client.query('SELECT current_setting($1) AS v', [name]);
    return rows[0].v;
  } finally {
    client.release();
  }
}
function atLeast(version) {
  const [a, b] = extVersion.split('.').map(Number);
  const [c, d] = version.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

before(async () => {
  pool = app.createPool();
  const { rows } = await pool.query(
    `SELECT e.extversion, r.rolsuper
       FROM pg_extension e, pg_roles r
      WHERE e.extname = 'schemakit' AND r.rolname = current_user`);
  assert.equal(rows.length, 1, 'schemakit must be installed in the test database');
  extVersion = rows[0].extversion;
  superuser = rows[0].rolsuper;
});

after(async () => {
  await pool.end();
});

test('createUser returns the user; usernames and emails are unique case-insensitively (23505)', async () => {
  const name = uniq('ada');
  const user = await app.createUser(pool, { username: name, email: emailFor(name), displayName: 'Ada' });
  assert.match(user.id, /^\d+$/, 'bigint ids arrive as strings');
  assert.equal(user.username, name);
  await rejectsWith(app.createUser(pool, { username: name.toUpperCase() }), app.SQLSTATE.UNIQUE_VIOLATION);
  await rejectsWith(app.createUser(pool, { username: uniq('other'), email: emailFor(name).toUpperCase() }),
    app.SQLSTATE.UNIQUE_VIOLATION);
});

test('table constraints surface as 23514 (empty username)', async () => {
  await rejectsWith(app.createUser(pool, { username: '' }), app.SQLSTATE.CHECK_VIOLATION);
});

test('parameters keep hostile input as data', async () => {
  const name = `o'brien"); DROP TABLE schemakit.users; --${uniq('x')}`;
  const user = await app.createUser(pool, { username: name });
  assert.equal(user.username, name);
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM schemakit.users WHERE username = $1', [name]);
  assert.equal(rows[0].n, 1);
});

test('snippets: a 10-character public_id, atomic view counts, null for an unknown id', async () => {
  const owner = await newUser();
  const s = await app.createSnippet(pool, owner.id, { title: 'hello', body: 'print(1)', language: 'python', isPublic: true });
  assert.match(s.publicId, /^[0-9A-Za-z]{10}$/);
  const counts = await Promise.all(Array.from({ length: 5 }, () => app.recordView(pool, s.publicId)));
  assert.deepEqual([...counts].sort((x, y) => x - y), [1, 2, 3, 4, 5]);
  assert.equal((await app.getPublicSnippet(pool, s.publicId)).viewCount, 5);
  assert.equal(await app.recordView(pool, 'no-such-id'), null);
  await rejectsWith(app.createSnippet(pool, '-1', { body: 'x' }), app.SQLSTATE.FOREIGN_KEY_VIOLATION);
});

test('email code: a wrong guess, the right code once, then never again; any case of the address', async () => {
  const user = await newUser();
  const code = await app.issueEmailCode(pool, user.email);
  assert.match(code, /^\d{6}$/);
  const wrong = code === '000000' ? '000001' : '000000';
  assert.equal(await app.verifyEmailCode(pool, user.email, wrong), false);
  assert.equal(await app.verifyEmailCode(pool, user.email.toUpperCase(), ` ${code} `), true);
  assert.equal(await app.verifyEmailCode(pool, user.email, code), false);
});

test('email code: a newer code replaces the older one', async () => {
  const email = emailFor(uniq('newcomer'));
  const first = await app.issueEmailCode(pool, email);
  const second = await app.issueEmailCode(pool, email, '5 minutes');
  if (first !== second) assert.equal(await app.verifyEmailCode(pool, email, first), false);
  assert.equal(await app.verifyEmailCode(pool, email, second), true);
});

test('email code: five failed attempts kill the code', async () => {
  const email = emailFor(uniq('guess'));
  const code = await app.issueEmailCode(pool, email);
  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
  for (let i = 0; i < 5; i++) assert.equal(await app.verifyEmailCode(pool, email, wrong), false);
  assert.equal(await app.verifyEmailCode(pool, email, code), false, 'the right code no longer works');
});

test('email code: under concurrency the right code succeeds exactly once', async () => {
  const email = emailFor(uniq('race'));
  const code = await app.issueEmailCode(pool, email);
  const results = await Promise.all(Array.from({ length: 8 }, () => app.verifyEmailCode(pool, email, code)));
  assert.equal(results.filter(Boolean).length, 1, `results: ${results}`);
});

test('email code login opens a session for the user with that address', async () => {
  const user = await newUser();
  const code = await app.issueEmailCode(pool, user.email);
  const login = await app.loginWithEmailCode(pool, user.email, code, { ip: '192.0.2.1', userAgent: 'node-test' });
  assert.equal(login.userId, user.id);
  assert.equal(await app.sessionUser(pool, login.token), user.id);
  assert.equal(await app.loginWithEmailCode(pool, user.email, code), null, 'a used code logs nobody in');
});

test('password reset: the token works once, changes the password and ends every session', async () => {
  const user = await newUser({ password: 'old password' });
  const sessions = [await app.openSession(pool, user.id), await app.openSession(pool, user.id, { ttl: '1 hour' })];
  const token = await app.requestPasswordReset(pool, user.id);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  const result = await app.resetPassword(pool, token, 'new password');
  assert.deepEqual(result, { userId: user.id, revokedSessions: 2 });
  assert.equal(await app.resetPassword(pool, token, 'again'), null, 'a used token is unknown');
  for (const s of sessions) assert.equal(await app.sessionUser(pool, s), null);
  assert.equal(await app.loginWithPassword(pool, user.username, 'new password'), user.id);
  assert.equal(await app.loginWithPassword(pool, user.username, 'old password'), null);
});

test('password reset: unknown, empty and oversized tokens are null, not errors', async () => {
  assert.equal(await app.resetPassword(pool, 'not-a-token', 'x'), null);
  assert.equal(await app.resetPassword(pool, '', 'x'), null);
  assert.equal(await app.resetPassword(pool, 'x'.repeat(5000), 'x'), null);
});

test('sessions: open, check, revoke once, revoke all', async () => {
  const user = await newUser();
  const a = await app.openSession(pool, user.id, { ip: '203.0.113.7', userAgent: 'x'.repeat(2000) });
  const b = await app.openSession(pool, user.id, { ttl: '8 hours' });
  const c = await app.openSession(pool, user.id);
  assert.equal(await app.sessionUser(pool, a), user.id);
  assert.equal(await app.revokeSession(pool, a), true);
  assert.equal(await app.revokeSession(pool, a), false, 'only the first revoke counts');
  assert.equal(await app.sessionUser(pool, a), null);
  assert.equal(await app.revokeAllSessions(pool, user.id), 2);
  assert.equal(await app.sessionUser(pool, b), null);
  assert.equal(await app.sessionUser(pool, c), null);
  assert.equal(await app.sessionUser(pool, 'y'.repeat(1401)), null, 'oversized tokens are unknown');
  assert.equal(await app.revokeAllSessions(pool, '-1'), 0, 'an unknown user has no sessions');
});

test('oauth: linking is idempotent; an account linked to another user is 23505', async () => {
  const ada = await newUser();
  const bob = await newUser();
  const providerId = uniq('gh');
  const id = await app.linkOAuth(pool, ada.id, 'github', providerId, { email: ada.email, displayName: 'Ada' });
  assert.equal(await app.linkOAuth(pool, ada.id, 'github', providerId), id);
  assert.equal(await app.oauthUser(pool, 'github', providerId), ada.id);
  assert.equal(await app.oauthUser(pool, 'github', uniq('nobody')), null);
  await rejectsWith(app.linkOAuth(pool, bob.id, 'github', providerId), app.SQLSTATE.UNIQUE_VIOLATION);
});

test('purge_expired returns how many rows it deleted', async () => {
  const n = await app.purgeExpired(pool, '1 day');
  assert.equal(typeof n, 'number');
  assert.ok(n >= 0);
  await rejectsWith(app.purgeExpired(pool, '-1 day'), app.SQLSTATE.INVALID_PARAMETER_VALUE);
});

test('errors: public_id(0) and a repeated alphabet symbol are 22023', async () => {
  await rejectsWith(pool.query('SELECT schemakit.public_id($1)', [0]), app.SQLSTATE.INVALID_PARAMETER_VALUE);
  await rejectsWith(pool.query('SELECT schemakit.public_id($1, $2)', [5, 'aab']), app.SQLSTATE.INVALID_PARAMETER_VALUE);
});

test('errors: an invalid email address is 22023', async () => {
  await rejectsWith(app.issueEmailCode(pool, 'not an email'), app.SQLSTATE.INVALID_PARAMETER_VALUE);
  await rejectsWith(app.linkOAuth(pool, (await newUser()).id, 'github', uniq('gh'), { email: 'a b@c' }),
    app.SQLSTATE.INVALID_PARAMETER_VALUE);
});

test('errors: a NULL email or user is 22004', async () => {
  await rejectsWith(app.issueEmailCode(pool, null), app.SQLSTATE.NULL_VALUE_NOT_ALLOWED);
  await rejectsWith(app.openSession(pool, null), app.SQLSTATE.NULL_VALUE_NOT_ALLOWED);
});

test('errors: an unknown user is 23503', async () => {
  await rejectsWith(app.openSession(pool, '-1'), app.SQLSTATE.FOREIGN_KEY_VIOLATION);
  await rejectsWith(app.requestPasswordReset(pool, '-1'), app.SQLSTATE.FOREIGN_KEY_VIOLATION);
  await rejectsWith(app.linkOAuth(pool, '-1', 'github', uniq('gh')), app.SQLSTATE.FOREIGN_KEY_VIOLATION);
});

test('errors: a ttl above its maximum is 22023 (code 1 day, reset 7 days, session 1 year)', async () => {
  const user = await newUser();
  await rejectsWith(app.issueEmailCode(pool, user.email, '25 hours'), app.SQLSTATE.INVALID_PARAMETER_VALUE);
  await rejectsWith(app.requestPasswordReset(pool, user.id, '8 days'), app.SQLSTATE.INVALID_PARAMETER_VALUE);
  await rejectsWith(app.openSession(pool, user.id, { ttl: '2 years' }), app.SQLSTATE.INVALID_PARAMETER_VALUE);
});

test('limits (1.3): too many codes for one address is SKR01', async (t) => {
  if (!atLeast('1.3')) return t.skip(`schemakit ${extVersion} has no issuance limit`);
  const limit = Number(await setting('schemakit.email_code_issue_limit'));
  const email = emailFor(uniq('flood'));
  for (let i = 0; i < limit; i++) await app.issueEmailCode(pool, email);
  await rejectsWith(app.issueEmailCode(pool, email), app.SQLSTATE.TOO_MANY_CODES_ISSUED);
});

test('limits (1.3): too many failed verifications for one address is SKR02', async (t) => {
  if (!atLeast('1.3')) return t.skip(`schemakit ${extVersion} has no verification limit`);
  const limit = Number(await setting('schemakit.email_code_verify_limit'));
  const issueLimit = Number(await setting('schemakit.email_code_issue_limit'));
  if (limit > issueLimit * 5) return t.skip('the issuance limit is reached first with these settings');
  const email = emailFor(uniq('brute'));
  let failures = 0;
  let code;
  while (failures < limit) {
    code = await app.issueEmailCode(pool, email);
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
    for (let i = 0; i < 5 && failures < limit; i++, failures++) {
      assert.equal(await app.verifyEmailCode(pool, email, wrong), false);
    }
  }
  await rejectsWith(app.verifyEmailCode(pool, email, code), app.SQLSTATE.TOO_MANY_FAILED_CODES);
});

test('privileges (1.3): an application role reaches the secret tables only through the functions', async (t) => {
  if (!atLeast('1.3')) return t.skip(`schemakit ${extVersion} is SECURITY INVOKER`);
  if (superuser) return t.skip('connected as a superuser');
  await rejectsWith(pool.query('SELECT count(*) FROM schemakit.sessions'), app.SQLSTATE.INSUFFICIENT_PRIVILEGE);
  await rejectsWith(pool.query('SELECT count(*) FROM schemakit.email_codes'), app.SQLSTATE.INSUFFICIENT_PRIVILEGE);
  await rejectsWith(pool.query('SELECT count(*) FROM schemakit.password_reset_tokens'), app.SQLSTATE.INSUFFICIENT_PRIVILEGE);
  const user = await newUser();
  assert.equal(await app.sessionUser(pool, await app.openSession(pool, user.id)), user.id);
});
