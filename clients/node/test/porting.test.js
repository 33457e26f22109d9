// doc/porting.md, run: every ```sql block of the guide, in order, against a
// fresh database (SK_PORT_DATABASE, made by test/scripts/96-client-node.sh
// with schemakit and CREATE on schema public for the app role).
//
// Block format (the guide explains it to readers too):
//   first line  "-- run"           run as the app role (PGUSER)
//               "-- run as owner"  run as the database owner (SK_OWNER_USER)
// Statements end at a line ending in ";".  Comment lines just before a
// statement direct it:
//   "-- params: a, b.c"   bind $1, $2 from the values below or saved rows
//   "-- save: name"       keep the first row's columns as name.column
//   "-- expect: rows N"   exactly N rows
//   "-- expect: col = v"  first row's col equals v (text; "null" for NULL;
//                         ":name.col" for a saved value)
//   "-- expect: error XXXXX"  the statement fails with that SQLSTATE
// Without an "expect: rows" a statement that returns rows (SELECT, RETURNING)
// must return at least one.  One client per role, so SET and BEGIN carry over
// from block to block as they would on an application's connection.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';

const DOC = join(process.env.SK_DOC_ROOT ?? new URL('../../..', import.meta.url).pathname, 'doc/porting.md');
const database = process.env.SK_PORT_DATABASE;
const tag = randomUUID().slice(0, 8);

/** Values the guide's parameters name. */
const ctx = {
  app_role: process.env.PGUSER,
  username: `ada_${tag}`,
  email: `ada-${tag}@example.com`,
  email_other_case: `ADA-${tag}@Example.COM`,
  display_name: 'Ada Lovelace',
  password_hash: 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=',
  new_password_hash: 'scrypt$16384$8$1$bmV3c2FsdG5ld3NhbHRuZQ==$bmV3aGFzaG5ld2hhc2huZXdoYXNobmV3aGFzaG5ldw==',
  code_email: `code-${tag}@example.com`,
  provider: 'github',
  provider_id: `gh-${tag}`,
  oauth_email: `grace-${tag}@example.com`,
  oauth_display_name: 'Grace Hopper',
  ip: '203.0.113.7',
  user_agent: 'Mozilla/5.0 (porting test)',
  original_name: 'portrait.png',
  mime_type: 'image/png',
  text_name: 'notes.txt',
  text_mime_type: 'text/plain; charset=utf-8',
  size: 48213,
  title: 'Note G',
  body: 'print(1)',
  language: 'python',
  is_public: true,
};

/** ```sql blocks with their line numbers. */
function sqlBlocks(text) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```sql\s*$/.test(lines[i])) continue;
    const start = i + 1;
    const body = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i].replace(/^ {0,3}/, ''));
    blocks.push({ line: start, lines: body });
  }
  return blocks;
}

/** A block's statements, each with its directives. */
function statements(block) {
  const out = [];
  let cur = { sql: [], params: [], save: null, expect: [], line: null };
  block.lines.slice(1).forEach((raw, k) => {
    const line = raw.trim();
    let m;
    if ((m = /^-- params:\s*(.*)$/.exec(line))) cur.params = m[1].split(',').map((s) => s.trim()).filter(Boolean);
    else if ((m = /^-- save:\s*(\S+)$/.exec(line))) cur.save = m[1];
    else if ((m = /^-- expect:\s*(.*)$/.exec(line))) cur.expect.push(m[1].trim());
    else if (line !== '' || cur.sql.length) {
      if (cur.line === null && line !== '' && !line.startsWith('--')) cur.line = block.line + 1 + k + 1;
      cur.sql.push(raw);
      if (/;\s*(--.*)?$/.test(line) && !line.startsWith('--')) {
        out.push({ ...cur, sql: cur.sql.join('\n').trim() });
        cur = { sql: [], params: [], save: null, expect: [], line: null };
      }
    }
  });
  if (cur.sql.some((l) => l.trim() && !l.trim().startsWith('--'))) {
    throw new Error(`block at line ${block.line}: statement without a closing ";"`);
  }
  return out;
}

const text = readFileSync(DOC, 'utf8');
const blocks = sqlBlocks(text);
const clients = {};

before(async () => {
  assert.ok(database, 'SK_PORT_DATABASE is set');
  clients.app = new pg.Client({ database });
  await clients.app.connect();
  if (process.env.SK_OWNER_USER) {
    clients.owner = new pg.Client({
      database, user: process.env.SK_OWNER_USER, password: process.env.SK_OWNER_PASSWORD || undefined,
    });
    await clients.owner.connect();
  }
});
after(async () => {
  for (const c of Object.values(clients)) await c.end();
});

test('porting.md: every sql block is marked to run, and the guide covers every flow', () => {
  assert.ok(blocks.length >= 15, `${blocks.length} sql blocks`);
  const n = blocks.reduce((k, b) => k + statements(b).length, 0);
  assert.ok(n >= 60, `${n} statements`);
  for (const b of blocks) {
    assert.match(b.lines[0] ?? '', /^-- run( as owner)?$/, `the block at line ${b.line} starts with "-- run"`);
  }
  const all = blocks.map((b) => b.lines.join('\n')).join('\n');
  for (const needle of [
    'INSERT INTO schemakit.users', 'ON CONFLICT (email_key)', 'schemakit.email_key(',
    'schemakit.issue_email_code(', 'schemakit.verify_email_code(', 'schemakit.issue_session(',
    'schemakit.session_user_id(', 'schemakit.revoke_session(', 'schemakit.oauth_user_id(',
    'schemakit.link_oauth_account(', 'schemakit.issue_password_reset_token(',
    'schemakit.consume_password_reset_token(', 'schemakit.revoke_user_sessions(',
    'INSERT INTO schemakit.files', 'INSERT INTO schemakit.snippets', 'schemakit.record_snippet_view(',
    'SET search_path', 'OVERRIDING SYSTEM VALUE', 'REFERENCES schemakit.users',
  ]) assert.ok(all.includes(needle), `a runnable block uses ${needle}`);
});

for (const block of blocks) {
  const asOwner = block.lines[0] === '-- run as owner';
  const first = block.lines.find((l, k) => k > 0 && l.trim() && !l.trim().startsWith('--')) ?? '';
  test(`porting.md:${block.line} ${asOwner ? '(owner) ' : ''}${first.trim().slice(0, 60)}`, async (t) => {
    if (asOwner && !clients.owner) return t.skip('SK_OWNER_USER is not set');
    const client = asOwner ? clients.owner : clients.app;
    for (const st of statements(block)) {
      const where = `porting.md:${st.line}`;
      const values = st.params.map((p) => {
        assert.ok(p in ctx, `${where}: parameter ${p} has a value (known: ${Object.keys(ctx).join(' ')})`);
        return ctx[p];
      });
      const wantError = st.expect.map((e) => /^error\s+([0-9A-Z]{5})$/.exec(e)).find(Boolean)?.[1];
      let res;
      try {
        res = await client.query(st.sql, values);
      } catch (err) {
        if (wantError) {
          assert.equal(err.code, wantError, `${where}: SQLSTATE (${err.message})`);
          continue;
        }
        await client.query('ROLLBACK').catch(() => {});   // leave no aborted transaction behind
        assert.fail(`${where}: ${err.code} ${err.message}\n${st.sql}`);
      }
      assert.ok(!wantError, `${where}: expected SQLSTATE ${wantError}, the statement succeeded`);
      const rows = res.rows ?? [];
      const wantRows = st.expect.map((e) => /^rows\s+(\d+)$/.exec(e)).find(Boolean);
      if (wantRows) {
        assert.equal(rows.length, Number(wantRows[1]), `${where}: row count`);
      } else if (res.command === 'SELECT' || /\bRETURNING\b/i.test(st.sql)) {
        assert.ok(rows.length >= 1, `${where}: returns at least one row\n${st.sql}`);
      }
      for (const e of st.expect) {
        const m = /^(\w+)\s*=\s*(.*)$/.exec(e);
        if (!m) continue;
        assert.ok(rows.length >= 1, `${where}: a row to check ${m[1]} in`);
        const show = (v) => (v === null || v === undefined ? 'null' : v instanceof Date ? v.toISOString() : String(v));
        let want = m[2];
        if (want.startsWith(':')) {
          assert.ok(want.slice(1) in ctx, `${where}: ${want} names a saved value`);
          want = show(ctx[want.slice(1)]);
        }
        assert.equal(show(rows[0][m[1]]), want, `${where}: ${m[1]}`);
      }
      if (st.save) {
        assert.ok(rows.length >= 1, `${where}: a row to save as ${st.save}`);
        for (const [k, v] of Object.entries(rows[0])) ctx[`${st.save}.${k}`] = v;
      }
    }
  });
}
