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

const TABLES = {
  users: sk.users, snippets: sk.snippets, oauth_accounts: sk.oauthAccounts, files: sk.files,
  organizations: sk.organizations, memberships: sk.memberships, invitations: sk.invitations,
};
// Columns left out of a Drizzle table on purpose, and only these: secrets the
// app role cannot read (the test checks it cannot).  Any other catalog column
// missing from the definitions fails.
const OMITTED = { invitations: ['token_hash'] };
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
    const all = await catalogColumns(name);
    const omitted = OMITTED[name] ?? [];
    // (information_schema.columns lists only the columns the current role may use:
    // an omitted secret column is looked up in pg_attribute.)
    for (const o of omitted) {
      const { rows: [a] } = await pool.query(
        `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped`,
        [`schemakit.${name}`, o]);
      assert.equal(a.n, 1, `${name}.${o} (omitted on purpose) exists`);
    }
    const cat = all.filter((c) => !omitted.includes(c.column_name));
    assert.deepEqual(cfg.columns.map((c) => c.name).sort(), cat.map((c) => c.column_name).sort(),
      `the same columns${omitted.length ? ` but ${omitted.join(', ')}` : ''}`);
    const { rows: pk } = await pool.query(
      `SELECT a.attname FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
        WHERE k.conrelid = $1::regclass AND k.contype = 'p'`, [`schemakit.${name}`]);
    const pkCols = pk.map((r) => r.attname).sort();
    if (pkCols.length > 1) {
      // A composite key: declared with primaryKey({ name, columns }).
      const { rows: [k] } = await pool.query(
        `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [`schemakit.${name}`]);
      assert.equal(cfg.primaryKeys.length, 1, `${name} composite primary key declared`);
      assert.equal(cfg.primaryKeys[0].getName(), k.conname, `${name} primary key name`);
      assert.deepEqual(cfg.primaryKeys[0].columns.map((c) => c.name).sort(), pkCols, `${name} primary key columns`);
    } else {
      assert.equal(cfg.primaryKeys.length, 0, `${name}: no composite key`);
    }
    // Every declared column is readable by the app role (a Drizzle select names them all);
    // every omitted one is not.
    const { rows: priv } = await pool.query(
      `SELECT a.attname, has_column_privilege(current_user, a.attrelid, a.attnum, 'SELECT') AS readable
         FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [`schemakit.${name}`]);
    for (const r of priv) {
      assert.equal(r.readable, !omitted.includes(r.attname), `${name}.${r.attname} readable by the app role`);
    }
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
      assert.equal(col.primary, pkCols.length === 1 && pkCols[0] === col.name, `${where} primary key`);
      if (col.enumValues) {
        const { rows: [chk] } = await pool.query(
          `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $2`,
          [`schemakit.${name}`, `${name}_${col.name}_check`]);
        const allowed = [...chk.def.matchAll(/'([^']*)'::text/g)].map((m) => m[1]);
        assert.deepEqual([...col.enumValues].sort(), allowed.sort(), `${where} enum = its CHECK`);
      }
    }
  });
}

// Unique constraints on an omitted column cannot be declared.
const OMITTED_UNIQUE = { invitations: ['invitations_token_hash_key'] };
const ON_DELETE = { c: 'cascade', n: 'set null', a: 'no action', r: 'restrict', d: 'set default' };

test('schema: unique constraints carry the catalog names; foreign keys match the catalog', async () => {
  const { rows } = await pool.query(
    `SELECT conrelid::regclass::text AS tbl, conname, contype FROM pg_constraint
      WHERE connamespace = 'schemakit'::regnamespace AND contype IN ('u')`);
  const { rows: fks } = await pool.query(
    `SELECT conrelid::regclass::text AS tbl, confrelid::regclass::text AS ref, confdeltype,
            (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
              WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)) AS cols
       FROM pg_constraint k WHERE connamespace = 'schemakit'::regnamespace AND contype = 'f'`);
  for (const [name, table] of Object.entries(TABLES)) {
    const mine = getTableConfig(table).uniqueConstraints.map((u) => u.name).sort();
    const theirs = rows.filter((r) => r.tbl === `schemakit.${name}`).map((r) => r.conname)
      .filter((n) => !(OMITTED_UNIQUE[name] ?? []).includes(n)).sort();
    assert.deepEqual(mine, theirs, `${name} unique constraints`);
    const declared = getTableConfig(table).foreignKeys.map((fk) => {
      const ref = fk.reference();
      return `${ref.columns.map((c) => c.name).sort().join(',')} -> schemakit.${getTableConfig(ref.foreignTable).name} ${fk.onDelete}`;
    }).sort();
    const catalog = fks.filter((r) => r.tbl === `schemakit.${name}`)
      .map((r) => `${r.cols.join(',')} -> ${r.ref} ${ON_DELETE[r.confdeltype]}`).sort();
    assert.deepEqual(declared, catalog, `${name} foreign keys`);
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
