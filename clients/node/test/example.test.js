// The Drizzle example app (example/app.js): sign-up and login by email code,
// sessions, a snippet, a file, a bookmark in the app's own table, and an organization.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createApp } from '../example/app.js';
import * as sk from 'schemakit';
import { email, newPool } from './helpers.js';

// The app's own table, as its migration (drizzle-kit.test.js checks that
// drizzle-kit generates exactly this) creates it, as the app role.
const pool = newPool();
const app = createApp(pool);
after(() => pool.end());
before(async () => {
  await pool.query(`CREATE TABLE IF NOT EXISTS bookmarks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    snippet_id bigint NOT NULL REFERENCES schemakit.snippets (id) ON DELETE CASCADE,
    note text, created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookmarks_user_snippet_key UNIQUE (user_id, snippet_id))`);
});

test('example: sign-up by email code creates a user without a username and opens a session', async () => {
  const addr = email('Signup');
  const { code } = await app.requestCode(addr);
  const res = await app.signInWithCode(addr.toUpperCase(), code, { ip: '203.0.113.9', userAgent: 'node-test', displayName: 'Ada' });
  assert.ok(res, 'the right code signs in');
  assert.equal(res.created, true);
  assert.equal(res.user.username, null);
  assert.equal(typeof res.user.id, 'number');
  assert.equal((await app.currentUser(res.token)).id, res.user.id);
  assert.equal(await app.signInWithCode(addr, code), null, 'a code works once');
  const again = await app.signInWithCode(addr, (await app.requestCode(addr)).code);
  assert.equal(again.created, false, 'the second login finds the same user');
  assert.equal(again.user.id, res.user.id);
  assert.equal(await app.logout(res.token), true);
  assert.equal(await app.currentUser(res.token), null);
  assert.equal((await app.setUsername(again.token, `ada-${res.user.id}`)).username, `ada-${res.user.id}`);
});

test('example: a wrong code does not sign in', async () => {
  const addr = email('wrong');
  const { code } = await app.requestCode(addr);
  assert.equal(await app.signInWithCode(addr, code === '000000' ? '000001' : '000000'), null);
  assert.equal(await app.userByEmail(addr), undefined);
});

test('example: snippets, views, files and bookmarks', async () => {
  const addr = email('snip');
  const { token } = await app.signInWithCode(addr, (await app.requestCode(addr)).code);
  const s = await app.createSnippet(token, { title: 'Note G', body: 'print(1)', language: 'python', isPublic: true });
  assert.match(s.publicId, /^[0-9A-Za-z]{10}$/);
  const priv = await app.createSnippet(token, { body: 'secret' });
  assert.equal((await app.viewSnippet(s.publicId)).viewCount, 1);
  assert.equal((await app.viewSnippet(s.publicId)).viewCount, 2);
  assert.equal(await app.viewSnippet(priv.publicId), null, 'private snippets are not shown');
  assert.deepEqual((await app.mySnippets(token)).map((x) => x.publicId), [priv.publicId, s.publicId]);
  const f = await app.addFile(token, { originalName: 'notes.txt', mimeType: 'text/plain; charset=utf-8', size: 12 });
  assert.ok(f.storedAt instanceof Date && Math.abs(f.storedAt.getTime() - Date.now()) < 60_000);
  const b = await app.bookmark(token, s.publicId, 'read later');
  assert.equal(b.note, 'read later');
  assert.equal((await app.bookmark(token, s.publicId, 'again')).id, b.id);
  await assert.rejects(app.createSnippet('not a token', { body: 'x' }), { status: 401 });
});

test('example: an organization, an invitation mailed and accepted once by the invitee', async () => {
  const ownerAddr = email('owner');
  const { token: owner } = await app.signInWithCode(ownerAddr, (await app.requestCode(ownerAddr)).code);
  const guestAddr = email('guest');
  const { token: guest } = await app.signInWithCode(guestAddr, (await app.requestCode(guestAddr)).code);
  const org = await app.createOrganization(owner, 'Analytical Engines');
  const link = await app.invite(owner, org, guestAddr, 'admin');
  await assert.rejects(app.invite(guest, org, email('x')), sk.PermissionDeniedError, 'not a member yet');
  const m = await app.join(guest, link);
  assert.equal(m.role, 'admin');
  await assert.rejects(app.join(guest, link), sk.InvitationAcceptedError);
  assert.deepEqual((await app.myOrganizations(guest)).map((o) => [o.id, o.name, o.role]),
    [[org, 'Analytical Engines', 'admin']]);
});
