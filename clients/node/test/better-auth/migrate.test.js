// doc/better-auth-migrate.sql on a database that better-auth's own default
// pg/Kysely adapter populated: after the move, the schemakit adapter signs
// the same users in with their old passwords and the old session cookie
// still opens a session.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { schemakitAdapter } from 'schemakit/better-auth';

const DB = process.env.SK_BA_MIGRATE_DB ?? `${process.env.PGDATABASE}_migrate`;
const owner = { user: process.env.SK_OWNER_USER ?? 'postgres', password: process.env.SK_OWNER_PASSWORD || undefined };
const SECRET = 'schemakit-better-auth-migrate-secret-' + 'm'.repeat(32);
const KEY = 'b4'.repeat(32);
const pools = [];
after(async () => { for (const p of pools) await p.end().catch(() => {}); });
const cookieOf = (h) => h.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');

test('doc/better-auth-migrate.sql moves a default better-auth database onto schemakit', async () => {
  const env = { ...process.env, PGUSER: owner.user, PGPASSWORD: owner.password ?? '' };
  execFileSync('dropdb', ['--if-exists', DB], { env });
  execFileSync('createdb', [DB], { env });
  const ownerPool = new pg.Pool({ database: DB, ...owner }); pools.push(ownerPool);
  await ownerPool.query('CREATE EXTENSION schemakit');
  await ownerPool.query(`SELECT schemakit.grant_app(${pg.escapeLiteral(process.env.PGUSER)}::regrole)`);

  // better-auth as it ships: its own tables in public, created by its migrator
  const plainOpts = { secret: SECRET, baseURL: 'http://localhost:3000', logger: { disabled: true },
    database: ownerPool, emailAndPassword: { enabled: true } };
  const { runMigrations } = await getMigrations(plainOpts);
  await runMigrations();
  const plain = betterAuth(plainOpts);
  await plain.api.signUpEmail({ body: { email: 'old1@example.com', password: 'old password one', name: 'Old One' } });
  await plain.api.signUpEmail({ body: { email: 'old2@example.com', password: 'old password two', name: 'Old Two' } });
  const signed = await plain.api.signInEmail({ body: { email: 'old1@example.com', password: 'old password one' }, returnHeaders: true });
  const oldCookie = cookieOf(signed.headers);
  const ctx = await plain.$context;
  const u2 = await ctx.internalAdapter.findUserByEmail('old2@example.com');
  await ctx.internalAdapter.linkAccount({ userId: u2.user.id, providerId: 'github', accountId: '777', accessToken: 'gho_plain', scope: 'read:user' });

  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1', '-d', DB, '-f',
    `${process.env.SK_DOC_ROOT ?? '../..'}/doc/better-auth-migrate.sql`], { env });

  const { rows } = await ownerPool.query('SELECT count(*)::int AS n FROM schemakit.users');
  assert.equal(rows[0].n, 2);
  const left = await ownerPool.query(`SELECT count(*)::int AS n FROM public.session WHERE token NOT LIKE 'migrated:%'`);
  assert.equal(left.rows[0].n, 0, 'no plaintext session token left behind');

  const app = new pg.Pool({ database: DB }); pools.push(app);
  const auth = betterAuth({ secret: SECRET, baseURL: 'http://localhost:3000', logger: { disabled: true },
    database: schemakitAdapter({ pool: app, key: KEY }), advanced: { database: { generateId: 'serial' } },
    emailAndPassword: { enabled: true } });
  const s = await auth.api.getSession({ headers: new Headers({ cookie: oldCookie }) });
  assert.equal(s?.user.email, 'old1@example.com', 'the old session cookie still works');
  const inn = await auth.api.signInEmail({ body: { email: 'old2@example.com', password: 'old password two' } });
  assert.ok(inn.token, 'old password signs in');
  const uid = await app.query(`SELECT schemakit.oauth_user_id('github', '777') AS id`);
  assert.equal(String(uid.rows[0].id), String(inn.user.id));
});
