// Shared test setup.  Connection settings come from the environment that
// test/scripts/96-client-node.sh sets: PGHOST, PGPORT, PGUSER (the app role,
// set up with schemakit.grant_app), PGPASSWORD, PGDATABASE; SK_KIT_DATABASE
// and SK_KIT_DATABASE2 are databases where the app role may create tables in
// schema public (for drizzle-kit).
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export function newPool(database = process.env.PGDATABASE) {
  return new pg.Pool({ database, max: 4 });
}

/** A fresh address per test, so limits and codes never interfere. */
export function email(tag = 'u') {
  return `${tag}-${randomUUID().slice(0, 12)}@example.com`;
}

/** postgres:// URL for a database, from the PG* environment (socket directories work). */
export function databaseUrl(database) {
  const user = encodeURIComponent(process.env.PGUSER ?? 'postgres');
  const pass = process.env.PGPASSWORD ? `:${encodeURIComponent(process.env.PGPASSWORD)}` : '';
  const host = process.env.PGHOST ?? 'localhost';
  const port = process.env.PGPORT ?? '5432';
  if (host.startsWith('/')) {
    return `postgres://${user}${pass}@localhost/${database}?host=${encodeURIComponent(host)}&port=${port}`;
  }
  return `postgres://${user}${pass}@${host}:${port}/${database}`;
}

/** Runs fn(client) in a transaction that is always rolled back. */
export async function rolledBack(pool, fn) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    return await fn(c);
  } finally {
    await c.query('ROLLBACK').catch(() => {});
    c.release();
  }
}

/** A schemakit user for a test (username NULL unless given). */
export async function makeUser(pool, { username = null, mail = email() } = {}) {
  const { rows } = await pool.query(
    'INSERT INTO schemakit.users (username, email) VALUES ($1, $2) RETURNING id', [username, mail]);
  return { id: Number(rows[0].id), email: mail };
}
