// Every public function, through a node-postgres Pool, a PoolClient in a
// transaction, a Drizzle database and a Drizzle transaction: results have
// the documented JavaScript types.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import * as sk from 'schemakit';
import { email, makeUser, newPool } from './helpers.js';

const pool = newPool();
const db = drizzle(pool);
after(() => pool.end());

const HANDLES = {
  'pg Pool': (fn) => fn(pool),
  'pg PoolClient': async (fn) => {
    const c = await pool.connect();
    try { return await fn(c); } finally { c.release(); }
  },
  'Drizzle db': (fn) => fn(db),
  'Drizzle transaction': (fn) => db.transaction((tx) => fn(tx)),
};

for (const [kind, withHandle] of Object.entries(HANDLES)) {
  test(`functions via ${kind}: primitives`, () => withHandle(async (h) => {
    assert.match(await sk.publicId(h), /^[0-9A-Za-z]{10}$/);
    assert.match(await sk.publicId(h, { size: 8, alphabet: '0123456789abcdef' }), /^[0-9a-f]{8}$/);
    assert.match(await sk.publicId(h, { size: 4 }), /^[0-9A-Za-z]{4}$/);
    assert.match(await sk.randomCode(h), /^[0-9]{6}$/);
    assert.match(await sk.randomCode(h, 12), /^[0-9]{12}$/);
    assert.match(await sk.randomToken(h), /^[A-Za-z0-9_-]{43}$/);
    assert.match(await sk.randomToken(h, 16), /^[A-Za-z0-9_-]{22}$/);
    const id = await sk.uuidv7(h);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const t = await sk.uuidv7Time(h, id);
    assert.ok(t instanceof Date && Math.abs(t.getTime() - Date.now()) < 60_000, `uuidv7Time ${t}`);
    assert.equal(await sk.uuidv7Time(h, '01959533-fa87-7a3c-9b1e-4f6d2c8a0e57').then((d) => d.toISOString()),
      '2025-03-14T15:09:26.535Z');
    assert.equal(await sk.emailKey(h, 'Ada.LOVELACE@Example.COM'), 'ada.lovelace@example.com');
    assert.equal(await sk.emailKey(h, 'ÅSA@Example.com'), 'Åsa@example.com', 'only ASCII letters fold');
    assert.equal(await sk.emailKey(h, null), null);
  }));

  test(`functions via ${kind}: email codes, sessions, reset tokens, OAuth, snippets, purge`, async () => {
    const u = await makeUser(pool);
    await withHandle(async (h) => {
      const code = await sk.issueEmailCode(h, u.email, { ttl: '5 minutes' });
      assert.match(code, /^[0-9]{6}$/);
      assert.equal(await sk.verifyEmailCode(h, u.email.toUpperCase(), ` ${code} `), true, 'case-folded address, trimmed code');
      assert.equal(await sk.verifyEmailCode(h, u.email, code), false, 'exactly once');
      const c2 = await sk.issueEmailCode(h, u.email);
      assert.equal(await sk.verifyEmailCode(h, u.email, c2 === '000000' ? '000001' : '000000'), false);

      const token = await sk.issueSession(h, u.id, { ttl: 3600, ipAddress: '203.0.113.7', userAgent: 'test' });
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(await sk.sessionUserId(h, token), u.id);
      assert.equal(typeof (await sk.sessionUserId(h, token)), 'number');
      assert.equal(await sk.sessionUserId(h, 'nope'), null);
      assert.equal(await sk.sessionUserId(h, undefined), null);
      assert.equal(await sk.revokeSession(h, token), true);
      assert.equal(await sk.revokeSession(h, token), false);
      assert.equal(await sk.sessionUserId(h, token), null);
      await sk.issueSession(h, u.id);
      await sk.issueSession(h, BigInt(u.id), { ttl: '8 hours' });
      assert.equal(await sk.revokeUserSessions(h, u.id), 2);
      assert.equal(await sk.revokeUserSessions(h, u.id), 0);

      const reset = await sk.issuePasswordResetToken(h, u.id, { ttl: '15 minutes' });
      const reset2 = await sk.issuePasswordResetToken(h, u.id);
      assert.equal(await sk.consumePasswordResetToken(h, reset), u.id);
      assert.equal(await sk.consumePasswordResetToken(h, reset), null);
      assert.equal(await sk.consumePasswordResetToken(h, reset2), null, 'the others were revoked');

      const pid = `gh-${u.id}-${kind.replace(/\W/g, '')}`;
      const link = await sk.linkOAuthAccount(h, { userId: u.id, provider: 'github', providerId: pid, email: u.email, displayName: 'Ada' });
      assert.equal(typeof link, 'number');
      assert.equal(await sk.linkOAuthAccount(h, { userId: u.id, provider: 'github', providerId: pid }), link, 'idempotent');
      assert.equal(await sk.oauthUserId(h, 'github', pid), u.id);
      assert.equal(await sk.oauthUserId(h, 'github', 'nobody'), null);
      assert.equal(await sk.linkOAuthAccount(h, { userId: u.id, provider: 'gitlab', providerId: pid, email: '' }) > 0, true,
        "'' from a provider means no address (1.5)");

      const { rows } = await pool.query(
        `INSERT INTO schemakit.snippets (owner_id, body) VALUES ($1, 'x') RETURNING public_id`, [u.id]);
      assert.equal(await sk.recordSnippetView(h, rows[0].public_id), 1);
      assert.equal(await sk.recordSnippetView(h, rows[0].public_id), 2);
      assert.equal(await sk.recordSnippetView(h, 'nope'), null);

      const purged = await sk.purgeExpired(h);
      assert.equal(typeof purged, 'number');
      assert.equal(typeof (await sk.purgeExpired(h, '1 hour')), 'number');
      assert.equal(typeof (await sk.purgeExpired(h, 0)), 'number');
    });
    await pool.query('DELETE FROM schemakit.users WHERE id = $1', [u.id]);
  });
}

test('functions: ids beyond Number.MAX_SAFE_INTEGER throw a RangeError instead of rounding', () => {
  assert.equal(sk.toId('9007199254740991'), Number.MAX_SAFE_INTEGER);
  assert.throws(() => sk.toId('9007199254740993'), RangeError);
  assert.equal(sk.toId(null), null);
  assert.equal(sk.toId(42n), 42);
});

test('functions: a handle that is neither pg nor Drizzle is a TypeError', async () => {
  await assert.rejects(sk.randomCode(/** @type {any} */ ({})), TypeError);
});
