// Every SQLSTATE the package maps becomes its class, raised for real by
// schemakit where the app role can provoke it, through pg and Drizzle.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { bigint } from 'drizzle-orm/pg-core';
import * as sk from 'schemakit';
import { email, makeUser, newPool } from './helpers.js';

const pool = newPool();
const db = drizzle(pool);
after(() => pool.end());

/** Asserts the promise rejects with Cls carrying sqlstate. */
async function rejectsWith(promise, Cls, sqlstate) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Cls, `${err?.name}: ${err?.message} is a ${Cls.name}`);
    assert.ok(err instanceof sk.SchemakitError);
    assert.equal(err.sqlstate, sqlstate);
    assert.equal(err.code, sqlstate);
    return true;
  });
}

for (const [kind, h] of [['pg', pool], ['Drizzle', db]]) {
  test(`errors via ${kind}: 22023 InvalidArgumentError`, async () => {
    await rejectsWith(sk.randomCode(h, 13), sk.InvalidArgumentError, '22023');
    await rejectsWith(sk.issueEmailCode(h, 'not an email'), sk.InvalidArgumentError, '22023');
    await rejectsWith(sk.issueEmailCode(h, email(), { ttl: '2 days' }), sk.InvalidArgumentError, '22023');
    await rejectsWith(sk.uuidv7Time(h, '00000000-0000-4000-8000-000000000000'), sk.InvalidArgumentError, '22023');
    await rejectsWith(sk.purgeExpired(h, '-1 day'), sk.InvalidArgumentError, '22023');
  });
  test(`errors via ${kind}: 22004 NullArgumentError`, async () => {
    await rejectsWith(sk.issueEmailCode(h, null), sk.NullArgumentError, '22004');
    await rejectsWith(sk.issueSession(h, null), sk.NullArgumentError, '22004');
    await rejectsWith(sk.linkOAuthAccount(h, { userId: 1, provider: null, providerId: 'x' }), sk.NullArgumentError, '22004');
  });
  test(`errors via ${kind}: 23503 UnknownUserError`, async () => {
    await rejectsWith(sk.issueSession(h, 2 ** 52), sk.UnknownUserError, '23503');
    await rejectsWith(sk.issuePasswordResetToken(h, 2 ** 52), sk.UnknownUserError, '23503');
    await rejectsWith(sk.linkOAuthAccount(h, { userId: 2 ** 52, provider: 'x', providerId: 'y' }), sk.UnknownUserError, '23503');
  });
  test(`errors via ${kind}: 23505 UniqueViolationError`, async () => {
    const a = await makeUser(pool);
    const b = await makeUser(pool);
    const pid = `dup-${a.id}-${kind}`;
    await sk.linkOAuthAccount(h, { userId: a.id, provider: 'github', providerId: pid });
    await rejectsWith(sk.linkOAuthAccount(h, { userId: b.id, provider: 'github', providerId: pid }), sk.UniqueViolationError, '23505');
    await pool.query('DELETE FROM schemakit.users WHERE id = ANY($1)', [[a.id, b.id]]);
  });
  test(`errors via ${kind}: SKR01 TooManyCodesError after 5 codes in the window`, async () => {
    const addr = email('skr01');
    for (let i = 0; i < 5; i++) await sk.issueEmailCode(h, addr);
    await rejectsWith(sk.issueEmailCode(h, addr), sk.TooManyCodesError, 'SKR01');
    await assert.rejects(sk.issueEmailCode(h, addr), sk.RateLimitError);
  });
  test(`errors via ${kind}: SKR02 TooManyFailedVerificationsError after 10 failures`, async () => {
    const addr = email('skr02');
    for (let n = 0; n < 2; n++) {
      const code = await sk.issueEmailCode(h, addr);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i++) assert.equal(await sk.verifyEmailCode(h, addr, wrong), false);
    }
    const code = await sk.issueEmailCode(h, addr);
    await rejectsWith(sk.verifyEmailCode(h, addr, code), sk.TooManyFailedVerificationsError, 'SKR02');
  });
}

test('errors: 42501 PermissionDeniedError from a Drizzle query on a secret table (DrizzleQueryError unwrapped)', async () => {
  const sessions = sk.schemakit.table('sessions', { id: bigint('id', { mode: 'number' }) });
  let caught;
  try { await db.select().from(sessions); } catch (e) { caught = e; }
  assert.ok(caught, 'the app role cannot read schemakit.sessions');
  const err = sk.toSchemakitError(caught);
  assert.ok(err instanceof sk.PermissionDeniedError);
  assert.equal(err.sqlstate, '42501');
  await rejectsWith(pool.query(`SELECT schemakit.grant_app(current_user::regrole)`).catch((e) => { throw sk.toSchemakitError(e); }),
    sk.PermissionDeniedError, '42501');
});

test('errors: 23505 and 23514 from the app\'s own Drizzle writes, with the constraint name', async () => {
  const addr = email('dup');
  const [u] = await db.insert(sk.users).values({ email: addr }).returning();
  let caught;
  try { await db.insert(sk.users).values({ email: addr.toUpperCase() }); } catch (e) { caught = sk.toSchemakitError(e); }
  assert.ok(caught instanceof sk.UniqueViolationError);
  assert.equal(caught.constraint, 'users_email_key');
  try {
    await db.insert(sk.files).values({ userId: u.id, originalName: 'x', mimeType: 'no slash', size: 1 });
    caught = undefined;
  } catch (e) { caught = sk.toSchemakitError(e); }
  assert.ok(caught instanceof sk.CheckViolationError);
  assert.equal(caught.constraint, 'files_mime_type_check');
  await db.delete(sk.users).where(eq(sk.users.id, u.id));
});

// 55000 and 53400 need a broken server key or a full shared-memory guard,
// which an app role cannot arrange: the server raises them here from a DO
// block (a real ErrorResponse through the driver), to check the mapping.
for (const [state, Cls] of [['55000', sk.PrerequisiteStateError], ['53400', sk.CodeGuardFullError],
  ['22023', sk.InvalidArgumentError], ['22004', sk.NullArgumentError], ['23503', sk.UnknownUserError],
  ['23505', sk.UniqueViolationError], ['42501', sk.PermissionDeniedError], ['SKR01', sk.TooManyCodesError],
  ['SKR02', sk.TooManyFailedVerificationsError], ['SKR10', sk.UnknownInvitationError],
  ['SKR11', sk.InvitationExpiredError], ['SKR12', sk.InvitationRevokedError],
  ['SKR13', sk.InvitationAcceptedError], ['SKR14', sk.LastOwnerError]]) {
  test(`errors: SQLSTATE ${state} maps to ${Cls.name}`, async () => {
    const raise = `DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '${state}', MESSAGE = 'm', DETAIL = 'd', HINT = 'h'; END $$`;
    for (const run of [() => pool.query(raise), () => db.execute(sql.raw(raise))]) {
      let caught;
      try { await run(); } catch (e) { caught = sk.toSchemakitError(e); }
      assert.ok(caught instanceof Cls, `${caught?.name} is ${Cls.name}`);
      assert.equal(caught.sqlstate, state);
      assert.equal(caught.detail, 'd');
      assert.equal(caught.hint, 'h');
      assert.ok(caught.cause, 'the driver error is kept as cause');
      assert.equal(caught instanceof sk.InvitationError, /^SKR1[0-3]$/.test(state), 'InvitationError: SKR10 to SKR13');
    }
  });
}

test('errors: other errors pass through unchanged; unknown SQLSTATEs become SchemakitError', async () => {
  const plain = new Error('boom');
  assert.equal(sk.toSchemakitError(plain), plain);
  let caught;
  try { await pool.query('SELECT 1/0'); } catch (e) { caught = sk.toSchemakitError(e); }
  assert.equal(caught.constructor, sk.SchemakitError);
  assert.equal(caught.sqlstate, '22012');
});
