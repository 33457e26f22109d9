// The Drizzle definitions against the live catalog: every column of every
// declared table, with its type, nullability, default, identity and
// generation; and what the app role may do with them.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { getTableConfig, getViewConfig } from 'drizzle-orm/pg-core';
import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import * as sk from 'schemakit';
import { email, newPool } from './helpers.js';

const pool = newPool();
const db = drizzle(pool);
after(() => pool.end());

const TABLES = { users: sk.users, snippets: sk.snippets, oauth_accounts: sk.oauthAccounts, files: sk.files };
const SQL_TYPE = { PgBigInt53: 'bigint', PgText: 'text', PgBoolean: 'boolean', PgTimestamp: 'timestamp with time zone' };
// customType columns (PgCustomColumn: the bytea tokens) carry their SQL type themselves: dataType().
const sqlType = (col) => (col.columnType === 'PgCustomColumn' ? col.getSQLType() : SQL_TYPE[col.columnType]);

async function catalogColumns(table) {
  const { rows } = await pool.query(
    `SELECT column_name, data_type, is_nullable = 'YES' AS nullable, column_default,
            is_identity = 'YES' AS identity, identity_generation, is_generated = 'ALWAYS' AS generated,
            generation_expression
       FROM information_schema.columns
      WHERE table_schema = 'schemakit' AND table_name = $1 ORDER BY ordinal_position`, [table]);
  return rows;
}

for (const [name, table] of Object.entries(TABLES)) {
  test(`schema: schemakit.${name} matches the catalog column by column`, async () => {
    const cfg = getTableConfig(table);
    assert.equal(cfg.schema, 'schemakit');
    assert.equal(cfg.name, name);
    const cat = await catalogColumns(name);
    assert.deepEqual(cfg.columns.map((c) => c.name).sort(), cat.map((c) => c.column_name).sort(),
      'the same columns');
    for (const col of cfg.columns) {
      const c = cat.find((r) => r.column_name === col.name);
      const where = `${name}.${col.name}`;
      assert.equal(sqlType(col), c.data_type, `${where} type`);
      if (col.columnType === 'PgTimestamp') assert.equal(col.withTimezone, true, `${where} timestamptz`);
      if (col.columnType === 'PgTimestamp') assert.equal(col.dataType, 'date', `${where} read as Date`);
      if (col.columnType === 'PgBigInt53') assert.equal(col.dataType, 'number', `${where} bigint as number`);
      assert.equal(!col.notNull, c.nullable, `${where} nullability`);
      assert.equal(Boolean(col.generatedIdentity), c.identity, `${where} identity`);
      if (c.identity) assert.equal(col.generatedIdentity.type, 'always', `${where} GENERATED ALWAYS`);
      assert.equal(Boolean(col.generated), c.generated, `${where} generated column`);
      if (c.generated) {
        assert.match(c.generation_expression, /schemakit\.email_key\(email\)/, `${where} expression`);
      }
      // A column the database fills (default, identity, generated) is optional on insert.
      const dbFills = c.column_default !== null || c.identity || c.generated;
      const drizzleFills = col.hasDefault || Boolean(col.generatedIdentity) || Boolean(col.generated);
      assert.equal(drizzleFills, dbFills, `${where} default presence`);
      assert.equal(col.defaultFn, undefined, `${where} is never filled on the client`);
      assert.equal(col.primary, col.name === 'id', `${where} primary key`);
    }
  });
}

test('schema: unique constraints and foreign keys carry the catalog names', async () => {
  const { rows } = await pool.query(
    `SELECT conrelid::regclass::text AS tbl, conname, contype FROM pg_constraint
      WHERE connamespace = 'schemakit'::regnamespace AND contype IN ('u')`);
  for (const [name, table] of Object.entries(TABLES)) {
    const mine = getTableConfig(table).uniqueConstraints.map((u) => u.name).sort();
    const theirs = rows.filter((r) => r.tbl === `schemakit.${name}`).map((r) => r.conname).sort();
    assert.deepEqual(mine, theirs, `${name} unique constraints`);
    for (const fk of getTableConfig(table).foreignKeys) {
      const ref = fk.reference();
      assert.equal(getTableConfig(ref.foreignTable).name, 'users');
      assert.equal(fk.onDelete, 'cascade');
    }
  }
});

test('schema: secret tables are not declared; migrations is a read-only existing view', async () => {
  for (const n of ['emailCodes', 'passwordResetTokens', 'sessions', 'codeKey']) assert.equal(sk[n], undefined, n);
  const v = getViewConfig(sk.migrations);
  assert.equal(v.schema, 'schemakit');
  assert.equal(v.isExisting, true, 'drizzle-kit never creates or drops it');
  const rows = await db.select().from(sk.migrations).orderBy(sk.migrations.version);
  assert.ok(rows.some((r) => r.version === '1.5'), 'the 1.5 step is recorded');
  assert.ok(rows[0].appliedAt instanceof Date);
  const { rows: cols } = await pool.query(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'schemakit' AND table_name = 'migrations' ORDER BY 1`);
  assert.deepEqual(cols.map((c) => c.column_name), ['applied_at', 'version']);
});

test('schema: rows read through Drizzle have numbers for ids and Dates for times', async () => {
  const [u] = await db.insert(sk.users).values({ email: email('types') }).returning();
  assert.equal(typeof u.id, 'number');
  assert.equal(u.username, null, 'username is optional (1.5)');
  assert.ok(u.createdAt instanceof Date && u.updatedAt instanceof Date);
  assert.equal(u.emailKey, u.email.toLowerCase());
  const [s] = await db.insert(sk.snippets).values({ ownerId: u.id, body: 'x' }).returning();
  assert.match(s.publicId, /^[0-9A-Za-z]{10}$/, 'public_id drawn by the database');
  assert.equal(s.viewCount, 0);
  assert.equal(s.language, 'text');
  assert.equal(s.isPublic, false);
  const [f] = await db.insert(sk.files)
    .values({ userId: u.id, originalName: 'a.txt', mimeType: 'text/plain; charset=utf-8', size: 3 }).returning();
  assert.match(f.filename, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'filename is a UUIDv7');
  assert.equal(typeof f.size, 'number');
  const token = Buffer.alloc(29, 7);
  const [a] = await db.insert(sk.oauthAccounts)
    .values({ userId: u.id, provider: 'p', providerId: email('bytea'), accessToken: token }).returning();
  assert.ok(Buffer.isBuffer(a.accessToken) && a.accessToken.equals(token), 'bytea read back as the same Buffer');
  assert.equal(a.refreshToken, null);
  await db.delete(sk.users).where(eq(sk.users.id, u.id));
});

test('schema: ON CONFLICT (email_key) resolves addresses that differ in case', async () => {
  const addr = email('Conflict').replace('conflict', 'CONFLICT');
  const first = await db.insert(sk.users).values({ email: addr }).onConflictDoNothing({ target: sk.users.emailKey }).returning();
  const second = await db.insert(sk.users).values({ email: addr.toLowerCase() })
    .onConflictDoUpdate({ target: sk.users.emailKey, set: { displayName: 'again' } }).returning();
  assert.equal(first.length, 1);
  assert.equal(second[0].id, first[0].id, 'the same user');
  assert.equal(second[0].displayName, 'again');
  const found = await db.select({ id: sk.users.id }).from(sk.users)
    .where(eq(sk.users.emailKey, sk.emailKeySql(addr.toUpperCase())));
  assert.deepEqual(found, [{ id: first[0].id }]);
  await db.delete(sk.users).where(eq(sk.users.id, first[0].id));
});

test('schema: WHERE email_key = schemakit.email_key($1) is an index scan', async () => {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL enable_seqscan = off');   // tiny tables: judge the plan, not the cost
    const { rows } = await c.query(
      'EXPLAIN (FORMAT JSON) SELECT id FROM schemakit.users WHERE email_key = schemakit.email_key($1)', ['A@b.c']);
    const plan = JSON.stringify(rows[0]['QUERY PLAN']);
    assert.match(plan, /users_email_key/);
    await c.query('SET LOCAL enable_seqscan = on');
    const { rows: r2 } = await c.query(
      'EXPLAIN (FORMAT JSON) SELECT id FROM schemakit.users WHERE email = $1', ['A@b.c']);
    assert.doesNotMatch(JSON.stringify(r2[0]['QUERY PLAN']), /users_email_key/, 'email itself has no index');
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
});

test('schema: generated and identity columns cannot be written', async () => {
  // Types forbid it (test/types); at run time the database refuses it too.
  await assert.rejects(pool.query(`INSERT INTO schemakit.users (email_key) VALUES ('x')`), { code: '428C9' });
  await assert.rejects(pool.query(`INSERT INTO schemakit.users (id, username) VALUES (1, 'x')`), { code: '428C9' });
  const r = await db.execute(sql`SELECT 1 AS one`);
  assert.equal(r.rows[0].one, 1);
});
