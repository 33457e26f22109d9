// Compile-time checks of the published types (tsc --noEmit; no runtime).
import type { InferInsertModel, InferSelectModel } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import {
  files, issueSession, migrations, sessionUserId, snippets, users, uuidv7Time, TooManyCodesError,
  SchemakitError, toSchemakitError,
} from 'schemakit';
import { oauthAccounts } from 'schemakit/schema';
import { betterAuth } from 'better-auth';
import { schemakitAdapter, schemakitOTPStorage, tokenHash } from 'schemakit/better-auth';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const ok = <T extends true>() => undefined as unknown as T;

type User = InferSelectModel<typeof users>;
ok<Equal<User['id'], number>>();
ok<Equal<User['username'], string | null>>();
ok<Equal<User['emailKey'], string | null>>();
ok<Equal<User['createdAt'], Date>>();
type NewUser = InferInsertModel<typeof users>;
// @ts-expect-error ids are GENERATED ALWAYS: not insertable
const badId: NewUser = { id: 1 };
// @ts-expect-error email_key is generated: not insertable
const badKey: NewUser = { emailKey: 'x' };
const goodUser: NewUser = { email: 'a@b.c' };
type NewSnippet = InferInsertModel<typeof snippets>;
const goodSnippet: NewSnippet = { ownerId: 1, body: 'x' };          // public_id from the database
ok<Equal<InferSelectModel<typeof files>['size'], number>>();
ok<Equal<InferSelectModel<typeof oauthAccounts>['accessToken'], Buffer | null>>();   // bytea

const pool = new pg.Pool();
const db = drizzle(pool);
async function flows() {
  const t: string = await issueSession(pool, 1, { ttl: '1 day' });
  const u: number | null = await sessionUserId(db, t);
  const d: Date | null = await uuidv7Time(db, 'x');
  const m = await db.select().from(migrations);
  const v: string = m[0].version;
  // @ts-expect-error migrations is read-only
  db.insert(migrations);
  const e = toSchemakitError(new Error());
  if (e instanceof TooManyCodesError) { const s: string = e.sqlstate; void s; }
  if (e instanceof SchemakitError) { const c: string | undefined = e.constraint; void c; }
  void u; void d; void v;
}
// schemakit/better-auth: a pg.Pool and a key make the database option.
const auth = betterAuth({
  database: schemakitAdapter({ pool, key: 'a3'.repeat(32) }),
  advanced: { database: { generateId: 'serial' } },
});
const otp: (otp: string) => Promise<string> = schemakitOTPStorage(Buffer.alloc(32)).hash;
const th: Buffer = tokenHash('t');
// @ts-expect-error the key is required
schemakitAdapter({ pool });
void auth; void otp; void th;
void flows; void badId; void badKey; void goodUser; void goodSnippet;
