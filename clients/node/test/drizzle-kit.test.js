// drizzle-kit with the documented configuration (example/drizzle.config.js),
// run as the app role: generate and push create the app's table next to
// schemakit's, never alter, drop or recreate anything in schema schemakit,
// and a second push reports no changes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { databaseUrl, newPool } from './helpers.js';

const run = promisify(execFile);
const PKG = new URL('..', import.meta.url).pathname;
const KIT = process.env.SK_KIT_DATABASE;
const KIT2 = process.env.SK_KIT_DATABASE2;
let out;

/** Runs drizzle-kit with the example config against a database; stdout+stderr. */
async function kit(args, database, env = {}) {
  const { stdout, stderr } = await run(join(PKG, 'node_modules/.bin/drizzle-kit'),
    [...args, '--config', 'example/drizzle.config.js'],
    { cwd: PKG, env: { ...process.env, DATABASE_URL: databaseUrl(database), DRIZZLE_OUT: out, ...env }, timeout: 120_000 });
  return stdout + stderr;
}

/** Everything about schema schemakit a push could change, as one string. */
async function fingerprint(database) {
  const pool = newPool(database);
  try {
    const { rows } = await pool.query(`
      SELECT string_agg(x, E'\n' ORDER BY x) AS f FROM (
        SELECT format('rel %s %s %s %s', c.relname, c.relkind, c.relacl, c.reloptions) AS x
          FROM pg_class c WHERE c.relnamespace = 'schemakit'::regnamespace
        UNION ALL
        SELECT format('col %s.%s %s %s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                      a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid))
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = 'schemakit'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT format('con %s %s', conname, pg_get_constraintdef(oid))
          FROM pg_constraint WHERE connamespace = 'schemakit'::regnamespace
        UNION ALL
        SELECT format('idx %s', pg_get_indexdef(indexrelid)) FROM pg_index
         WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace)
        UNION ALL
        -- (internal triggers excluded: a foreign key that references users
        -- adds PostgreSQL's RI triggers to users, which is what REFERENCES means)
        SELECT format('trg %s %s %s', tgrelid::regclass, tgname, tgenabled) FROM pg_trigger
         WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'schemakit'::regnamespace)
        UNION ALL
        SELECT format('fn %s %s', p.oid::regprocedure, p.proacl) FROM pg_proc p
         WHERE p.pronamespace = 'schemakit'::regnamespace) s`);
    return rows[0].f;
  } finally {
    await pool.end();
  }
}

// drizzle-kit 0.31 wants a relative `out` (it prefixes './' to the journal's paths).
before(() => { out = `test/.drizzle-out-${process.pid}`; });
after(() => rm(join(PKG, out), { recursive: true, force: true }));

test('drizzle-kit: push as the app role creates the app table and leaves schemakit untouched; a second push has no changes', async () => {
  const before = await fingerprint(KIT);
  const first = await kit(['push', '--force'], KIT);
  assert.match(first, /CREATE TABLE "bookmarks"/);
  assert.match(first, /REFERENCES "schemakit"\."users"\("id"\)/);
  assert.match(first, /REFERENCES "schemakit"\."snippets"\("id"\)/);
  assert.doesNotMatch(first.replace(/REFERENCES "schemakit"\."\w+"/g, ''), /schemakit/i,
    'no statement names schemakit except as a reference');
  assert.equal(await fingerprint(KIT), before, 'schema schemakit is exactly as before');
  const second = await kit(['push', '--force'], KIT);
  assert.match(second, /No changes detected/);
  assert.equal(await fingerprint(KIT), before);
  const pool = newPool(KIT);
  try {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_constraint
      WHERE conrelid = 'public.bookmarks'::regclass AND contype = 'f'
        AND confrelid IN ('schemakit.users'::regclass, 'schemakit.snippets'::regclass)`);
    assert.equal(rows[0].n, 2, 'both foreign keys point into schemakit');
  } finally {
    await pool.end();
  }
});

test('drizzle-kit: generate writes only the app\'s DDL; the migration applies as the app role; then push has no changes', async () => {
  const log = await kit(['generate', '--name', 'init'], KIT2);
  assert.match(log, /bookmarks/);
  const sqlFile = (await readdir(join(PKG, out))).find((f) => f.endsWith('.sql'));
  const ddl = await readFile(join(PKG, out, sqlFile), 'utf8');
  assert.match(ddl, /CREATE TABLE "bookmarks"/);
  assert.doesNotMatch(ddl, /CREATE SCHEMA/);
  assert.doesNotMatch(ddl.replace(/REFERENCES "schemakit"\."\w+"/g, ''), /schemakit/i);
  const again = await kit(['generate'], KIT2);
  assert.match(again, /No schema changes/);

  const before = await fingerprint(KIT2);
  // Applied as the app role, statement by statement in one transaction.
  // (drizzle-orm's migrate() would also run CREATE SCHEMA IF NOT EXISTS for
  // its bookkeeping, which needs CREATE on the database; see README.)
  const pool = newPool(KIT2);
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    for (const stmt of ddl.split('--> statement-breakpoint')) await c.query(stmt);
    await c.query('COMMIT');
  } finally {
    c.release();
    await pool.end();
  }
  assert.equal(await fingerprint(KIT2), before);
  assert.match(await kit(['push', '--force'], KIT2), /No changes detected/);
  assert.equal(await fingerprint(KIT2), before);
});

test('drizzle-kit: re-exporting the schemakit tables from a schema file makes generate recreate them (why the config forbids it)', async () => {
  const bad = join(PKG, 'example', `.bad-schema-${process.pid}.js`);
  const cfg = join(PKG, 'example', `.bad-config-${process.pid}.js`);
  const badOut = await mkdtemp(join(tmpdir(), 'sk-drizzle-bad-'));
  try {
    await writeFile(bad, `export * from './schema.js';\nexport * from 'schemakit/schema';\n`);
    await writeFile(cfg, `import { defineConfig } from 'drizzle-kit';
export default defineConfig({ dialect: 'postgresql', schema: '${bad}', out: '${badOut}', schemaFilter: ['public'] });\n`);
    await run(join(PKG, 'node_modules/.bin/drizzle-kit'), ['generate', '--config', cfg], { cwd: PKG, timeout: 120_000 });
    const f = (await readdir(badOut)).find((x) => x.endsWith('.sql'));
    const ddl = await readFile(join(badOut, f), 'utf8');
    assert.match(ddl, /CREATE SCHEMA "schemakit"/, 'generate ignores schemaFilter for tables it is given');
    assert.match(ddl, /CREATE TABLE "schemakit"\."users"/);
  } finally {
    await rm(bad, { force: true });
    await rm(cfg, { force: true });
    await rm(badOut, { recursive: true, force: true });
  }
});
