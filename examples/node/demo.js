'use strict';
/*
 * examples/node/demo.js - a narrated walkthrough of schemakit from node.
 *
 *   PGDATABASE=appdb node demo.js
 *
 * Connection settings come from PGHOST, PGPORT, PGUSER, PGPASSWORD and
 * PGDATABASE.  The database needs CREATE EXTENSION schemakit, and the role
 * what schemakit.grant_app(role) grants.  Safe to run repeatedly: every run
 * creates its own user.
 */
const app = require('./app');

function step(title) { console.log(`\n== ${title}`); }
function show(label, value) { console.log(`   ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`); }

async function expectError(label, fn) {
  try {
    await fn();
    show(label, 'no error (unexpected)');
  } catch (err) {
    show(label, `SQLSTATE ${err.code}: ${err.message}`);
  }
}

async function main() {
  const pool = app.createPool();
  const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
  const email = `ada.${run}@example.com`;
  try {
    step('A user signs up');
    const ada = await app.createUser(pool, {
      username: `ada_${run}`, email, displayName: 'Ada Lovelace', password: 'correct horse battery staple',
    });
    show('user', ada);
    await expectError('same username in other case', () =>
      app.createUser(pool, { username: `ADA_${run}` }));

    step('She shares a snippet; the URL uses public_id, never the internal id');
    const snippet = await app.createSnippet(pool, ada.id, {
      title: 'Note G', body: 'for n in range(1, 8): print(bernoulli(n))', language: 'python', isPublic: true,
    });
    show('snippet', snippet);
    show('share URL', `https://example.com/s/${snippet.publicId}`);
    for (let i = 0; i < 3; i++) show('views', await app.recordView(pool, snippet.publicId));
    show('unknown public id', await app.recordView(pool, 'nope'));

    step('Email login: issue a code (mail it), then verify it');
    const code = await app.issueEmailCode(pool, email);
    show('code to mail', code);
    show('wrong guess', await app.verifyEmailCode(pool, email, '000000'));
    const login = await app.loginWithEmailCode(pool, email.toUpperCase(), code, { ip: '203.0.113.7', userAgent: 'demo.js' });
    show('right code -> session for user', login.userId);
    show('same code again', await app.verifyEmailCode(pool, email, code));

    step('Sessions: the cookie holds the token, the database only its hash');
    show('session_user_id', await app.sessionUser(pool, login.token));
    const second = await app.openSession(pool, ada.id, { ttl: '8 hours' });
    show('second session', `${second.slice(0, 8)}... (${second.length} characters)`);
    show('logout', await app.revokeSession(pool, login.token));
    show('session after logout', await app.sessionUser(pool, login.token));

    step('Forgotten password: a single-use reset token');
    const token = await app.requestPasswordReset(pool, ada.id, '30 minutes');
    show('token to mail', `${token.slice(0, 8)}... (${token.length} characters)`);
    show('reset', await app.resetPassword(pool, token, 'new password, better'));
    show('reset with the same token', await app.resetPassword(pool, token, 'again'));
    show('second session after the reset', await app.sessionUser(pool, second));
    show('password login (new password)', await app.loginWithPassword(pool, `ada_${run}`, 'new password, better'));
    show('password login (old password)', await app.loginWithPassword(pool, `ada_${run}`, 'correct horse battery staple'));

    step('Sign-in with GitHub links an OAuth account (idempotent)');
    const githubId = `gh-${run}`;
    show('link id', await app.linkOAuth(pool, ada.id, 'github', githubId, { email }));
    show('same link id', await app.linkOAuth(pool, ada.id, 'github', githubId));
    show('oauth_user_id', await app.oauthUser(pool, 'github', githubId));

    step('Errors carry SQLSTATEs (err.code)');
    await expectError('bad email', () => app.issueEmailCode(pool, 'not an email'));
    await expectError('NULL email', () => app.issueEmailCode(pool, null));
    await expectError('unknown user', () => app.openSession(pool, '-1'));
    await expectError('ttl too long', () => app.openSession(pool, ada.id, { ttl: '2 years' }));
    await expectError('public_id(0)', () => pool.query('SELECT schemakit.public_id($1)', [0]));
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  console.error(`demo failed: ${err.code ? `SQLSTATE ${err.code}: ` : ''}${err.message}`);
  process.exitCode = 1;
});
