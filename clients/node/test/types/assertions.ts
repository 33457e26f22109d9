// Compile-time checks of the published types (tsc --noEmit; no runtime).
import type { InferInsertModel, InferSelectModel } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import {
  files, issueSession, migrations, sessionUserId, snippets, users, uuidv7Time, TooManyCodesError,
  SchemakitError, toSchemakitError,
  organizations, memberships, invitations, createOrganization, inviteMember, acceptInvitation,
  revokeInvitation, setMemberRole, removeMember, memberRole, LastOwnerError, InvitationError,
  InvitationAcceptedError,
} from 'schemakit';
import type { Membership, OrganizationRole } from 'schemakit';
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

// Organizations (1.5): ids numbers, roles a union, token_hash not declared.
type Org = InferSelectModel<typeof organizations>;
ok<Equal<Org['id'], number>>();
ok<Equal<Org['updatedAt'], Date>>();
type Member = InferSelectModel<typeof memberships>;
ok<Equal<Member['role'], 'owner' | 'admin' | 'member'>>();
ok<Equal<Member, Membership>>();
ok<Equal<OrganizationRole, Member['role']>>();
type Invitation = InferSelectModel<typeof invitations>;
ok<Equal<Invitation['invitedBy'], number | null>>();
ok<Equal<Invitation['acceptedAt'], Date | null>>();
ok<Equal<'tokenHash' extends keyof Invitation ? true : false, false>>();
// @ts-expect-error email_key is generated: not insertable
const badInvKey: InferInsertModel<typeof invitations> = { organizationId: 1, email: 'a@b.c', role: 'member', expiresAt: new Date(), emailKey: 'x' };
// @ts-expect-error roles are owner, admin, member
const badRole: InferInsertModel<typeof memberships> = { organizationId: 1, userId: 1, role: 'boss' };

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
  const org: number = await createOrganization(db, 1, 'Acme', { slug: 'acme' });
  const tok: string = await inviteMember(pool, { organizationId: org, email: 'b@c.d', role: 'admin', inviterUserId: 1, ttl: '2 days' });
  // @ts-expect-error roles are owner, admin, member
  await inviteMember(pool, { organizationId: org, email: 'b@c.d', role: 'boss', inviterUserId: 1 });
  const mem: Membership = await acceptInvitation(db, tok, 2);
  const r: OrganizationRole | null = await memberRole(pool, org, 2);
  const b1: boolean = await revokeInvitation(db, { invitationId: 1, actorUserId: 1 });
  const b2: boolean = await setMemberRole(db, { organizationId: org, userId: 2, role: 'owner', actorUserId: 1 });
  const b3: boolean = await removeMember(db, { organizationId: org, userId: 2, actorUserId: 2 });
  if (e instanceof LastOwnerError) { const s: string = e.sqlstate; void s; }
  const ie: InvitationError = new InvitationAcceptedError('m');
  void mem; void r; void b1; void b2; void b3; void ie;
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
void badInvKey; void badRole;
void flows; void badId; void badKey; void goodUser; void goodSnippet;
