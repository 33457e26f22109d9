// Organizations (schemakit 1.5) as the app role: the wrappers through a pg
// Pool and a Drizzle database, every organization SQLSTATE as its class, and
// the three tables read (and organizations renamed and deleted) through
// Drizzle with the rights grant_app gives.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import * as sk from 'schemakit';
import { email, makeUser, newPool } from './helpers.js';

const pool = newPool();
const db = drizzle(pool);
after(() => pool.end());

/** Asserts the promise rejects with Cls carrying sqlstate. */
async function rejectsWith(promise, Cls, sqlstate) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Cls, `${err?.name}: ${err?.message} is a ${Cls.name}`);
    assert.ok(err instanceof sk.SchemakitError);
    assert.equal(err.sqlstate, sqlstate);
    return true;
  });
}

/** The id of the open invitation of an organization to an address (the app role may read it). */
async function openInvitationId(orgId, addr) {
  const rows = await db.select({ id: sk.invitations.id }).from(sk.invitations)
    .where(and(eq(sk.invitations.organizationId, orgId), eq(sk.invitations.emailKey, sk.emailKeySql(addr)),
      isNull(sk.invitations.acceptedAt), isNull(sk.invitations.revokedAt)));
  assert.equal(rows.length, 1, `one open invitation to ${addr}`);
  return rows[0].id;
}

const HANDLES = { 'pg Pool': pool, 'Drizzle db': db };

for (const [kind, h] of Object.entries(HANDLES)) {
  test(`organizations via ${kind}: create, invite, accept once, roles, last owner, revoke, leave`, async () => {
    const ada = await makeUser(pool);
    const bob = await makeUser(pool);
    const eve = await makeUser(pool);
    const cy = await makeUser(pool);
    try {
      // create: the creator is the owner; a slug is drawn unless given
      const org = await sk.createOrganization(h, ada.id, 'Acme');
      assert.equal(typeof org, 'number');
      const [o] = await db.select().from(sk.organizations).where(eq(sk.organizations.id, org));
      assert.match(o.slug, /^[0-9a-z]{10}$/, 'generated slug');
      assert.equal(o.name, 'Acme');
      assert.ok(o.createdAt instanceof Date && o.updatedAt instanceof Date);
      const slug = `beta-${org}-${kind === 'pg Pool' ? 'p' : 'd'}`;
      const org2 = await sk.createOrganization(h, BigInt(ada.id), 'Beta', { slug });
      assert.equal((await db.select().from(sk.organizations).where(eq(sk.organizations.slug, slug)))[0].id, org2);
      await rejectsWith(sk.createOrganization(h, eve.id, 'Other', { slug }), sk.UniqueViolationError, '23505');
      await rejectsWith(sk.createOrganization(h, eve.id, 'X', { slug: 'Beta' }), sk.InvalidArgumentError, '22023');
      await rejectsWith(sk.createOrganization(h, eve.id, '   '), sk.InvalidArgumentError, '22023');
      await rejectsWith(sk.createOrganization(h, 2 ** 52, 'Nobody'), sk.UnknownUserError, '23503');
      await rejectsWith(sk.createOrganization(h, null, 'Nobody'), sk.NullArgumentError, '22004');
      assert.equal(await sk.memberRole(h, org, ada.id), 'owner');
      assert.equal(await sk.memberRole(h, org, bob.id), null);
      assert.equal(await sk.memberRole(h, 2 ** 52, ada.id), null);

      // invite bob as admin; accept as the wrong user, then once as bob
      const token = await sk.inviteMember(h, { organizationId: org, email: bob.email.toUpperCase(), role: 'admin', inviterUserId: ada.id });
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      await rejectsWith(sk.acceptInvitation(h, token, eve.id), sk.PermissionDeniedError, '42501');
      const m = await sk.acceptInvitation(h, token, bob.id);
      assert.equal(typeof m.id, 'number');
      assert.equal(m.organizationId, org);
      assert.equal(m.userId, bob.id);
      assert.equal(m.role, 'admin');
      assert.ok(m.createdAt instanceof Date && m.updatedAt instanceof Date);
      const [row] = await db.select().from(sk.memberships)
        .where(and(eq(sk.memberships.organizationId, org), eq(sk.memberships.userId, bob.id)));
      assert.deepEqual(m, row, 'acceptInvitation returns the row a Drizzle select reads');
      await rejectsWith(sk.acceptInvitation(h, token, bob.id), sk.InvitationAcceptedError, 'SKR13');
      await assert.rejects(sk.acceptInvitation(h, token, bob.id), sk.InvitationError);
      await rejectsWith(sk.acceptInvitation(h, 'A'.repeat(43), bob.id), sk.UnknownInvitationError, 'SKR10');
      await rejectsWith(sk.acceptInvitation(h, 'short', bob.id), sk.InvalidArgumentError, '22023');
      assert.equal(await sk.memberRole(h, org, bob.id), 'admin');
      await rejectsWith(sk.inviteMember(h, { organizationId: org, email: bob.email, role: 'member', inviterUserId: ada.id }),
        sk.UniqueViolationError, '23505');
      // who may invite: an admin not an owner, a non-member nobody
      await rejectsWith(sk.inviteMember(h, { organizationId: org, email: email('o'), role: 'owner', inviterUserId: bob.id }),
        sk.PermissionDeniedError, '42501');
      await rejectsWith(sk.inviteMember(h, { organizationId: org, email: email('o'), role: 'member', inviterUserId: eve.id }),
        sk.PermissionDeniedError, '42501');
      await rejectsWith(sk.inviteMember(h, { organizationId: org, email: email('o'), role: 'boss', inviterUserId: ada.id }),
        sk.InvalidArgumentError, '22023');
      await rejectsWith(sk.inviteMember(h, { organizationId: org, email: email('o'), role: 'member', inviterUserId: ada.id, ttl: '31 days' }),
        sk.InvalidArgumentError, '22023');

      // roles: set, unchanged, forbidden; the last owner is protected
      assert.equal(await sk.setMemberRole(h, { organizationId: org, userId: bob.id, role: 'member', actorUserId: ada.id }), true);
      assert.equal(await sk.setMemberRole(h, { organizationId: org, userId: bob.id, role: 'member', actorUserId: ada.id }), false);
      assert.equal(await sk.memberRole(h, org, bob.id), 'member');
      await rejectsWith(sk.setMemberRole(h, { organizationId: org, userId: ada.id, role: 'member', actorUserId: bob.id }),
        sk.PermissionDeniedError, '42501');
      await rejectsWith(sk.setMemberRole(h, { organizationId: org, userId: eve.id, role: 'member', actorUserId: ada.id }),
        sk.UnknownUserError, '23503');
      await rejectsWith(sk.setMemberRole(h, { organizationId: org, userId: ada.id, role: 'admin', actorUserId: ada.id }),
        sk.LastOwnerError, 'SKR14');
      await rejectsWith(sk.removeMember(h, { organizationId: org, userId: ada.id, actorUserId: ada.id }),
        sk.LastOwnerError, 'SKR14');
      await rejectsWith(sk.removeMember(h, { organizationId: org, userId: ada.id, actorUserId: bob.id }),
        sk.PermissionDeniedError, '42501');
      assert.equal(await sk.memberRole(h, org, ada.id), 'owner', 'still the owner');

      // revoke: an open invitation once; accepting it then is SKR12
      const cyToken = await sk.inviteMember(h, { organizationId: org, email: cy.email, role: 'member', inviterUserId: ada.id, ttl: 3600 });
      const cyInv = await openInvitationId(org, cy.email);
      await rejectsWith(sk.revokeInvitation(h, { invitationId: cyInv, actorUserId: bob.id }), sk.PermissionDeniedError, '42501');
      assert.equal(await sk.revokeInvitation(h, { invitationId: cyInv, actorUserId: ada.id }), true);
      assert.equal(await sk.revokeInvitation(h, { invitationId: cyInv, actorUserId: ada.id }), false, 'no longer open');
      await rejectsWith(sk.acceptInvitation(h, cyToken, cy.id), sk.InvitationRevokedError, 'SKR12');
      await rejectsWith(sk.revokeInvitation(h, { invitationId: 2 ** 52, actorUserId: ada.id }), sk.UnknownInvitationError, 'SKR10');
      // a newer invitation replaces the open one
      const old = await sk.inviteMember(h, { organizationId: org, email: cy.email, role: 'member', inviterUserId: ada.id });
      const fresh = await sk.inviteMember(h, { organizationId: org, email: cy.email, role: 'admin', inviterUserId: ada.id });
      await rejectsWith(sk.acceptInvitation(h, old, cy.id), sk.InvitationRevokedError, 'SKR12');
      // expiry: a 1 ms invitation, accepted later (each call its own transaction)
      const dee = await makeUser(pool);
      const short = await sk.inviteMember(h, { organizationId: org, email: dee.email, role: 'member', inviterUserId: ada.id, ttl: 0.001 });
      await sleep(20);
      await rejectsWith(sk.acceptInvitation(h, short, dee.id), sk.InvitationExpiredError, 'SKR11');
      await pool.query('DELETE FROM schemakit.users WHERE id = $1', [dee.id]);

      // a second owner lets the first one leave; a member leaves by itself
      assert.equal((await sk.acceptInvitation(h, fresh, cy.id)).role, 'admin');
      assert.equal(await sk.setMemberRole(h, { organizationId: org, userId: bob.id, role: 'owner', actorUserId: ada.id }), true);
      assert.equal(await sk.removeMember(h, { organizationId: org, userId: ada.id, actorUserId: ada.id }), true);
      assert.equal(await sk.removeMember(h, { organizationId: org, userId: ada.id, actorUserId: bob.id }), false);
      await rejectsWith(sk.removeMember(h, { organizationId: org, userId: bob.id, actorUserId: cy.id }),
        sk.PermissionDeniedError, '42501');
      assert.equal(await sk.removeMember(h, { organizationId: org, userId: cy.id, actorUserId: cy.id }), true, 'leave');
      assert.equal(await sk.memberRole(h, org, bob.id), 'owner');

      await db.delete(sk.organizations).where(eq(sk.organizations.id, org2));
      await db.delete(sk.organizations).where(eq(sk.organizations.id, org));
    } finally {
      await pool.query('DELETE FROM schemakit.organizations o WHERE EXISTS (SELECT 1 FROM schemakit.memberships m WHERE m.organization_id = o.id AND m.user_id = ANY ($1))',
        [[ada.id, bob.id, eve.id, cy.id]]);
      await pool.query('DELETE FROM schemakit.users WHERE id = ANY ($1)', [[ada.id, bob.id, eve.id, cy.id]]);
    }
  });
}

test('organizations: accept in a Drizzle transaction; memberRole sees it in the next statement', async () => {
  const ada = await makeUser(pool);
  const bob = await makeUser(pool);
  const org = await sk.createOrganization(pool, ada.id, 'Tx');
  const token = await sk.inviteMember(db, { organizationId: org, email: bob.email, role: 'member', inviterUserId: ada.id });
  const m = await db.transaction(async (tx) => {
    const mm = await sk.acceptInvitation(tx, token, bob.id);
    assert.equal(await sk.memberRole(tx, org, bob.id), 'member');
    return mm;
  });
  assert.equal(m.userId, bob.id);
  await db.delete(sk.organizations).where(eq(sk.organizations.id, org));
  await pool.query('DELETE FROM schemakit.users WHERE id = ANY ($1)', [[ada.id, bob.id]]);
});

test('organizations: memberships, organizations and invitations listed through Drizzle as the app role', async () => {
  const ada = await makeUser(pool);
  const bob = await makeUser(pool);
  const a = await sk.createOrganization(db, ada.id, 'Zeta');
  const b = await sk.createOrganization(db, bob.id, 'Alpha');
  await sk.acceptInvitation(db,
    await sk.inviteMember(db, { organizationId: b, email: ada.email, role: 'admin', inviterUserId: bob.id }), ada.id);
  const pendingAddr = email('pending');
  await sk.inviteMember(db, { organizationId: a, email: pendingAddr, role: 'member', inviterUserId: ada.id });

  // "My organizations"
  const mine = await db.select({ id: sk.organizations.id, slug: sk.organizations.slug, name: sk.organizations.name, role: sk.memberships.role })
    .from(sk.memberships).innerJoin(sk.organizations, eq(sk.organizations.id, sk.memberships.organizationId))
    .where(eq(sk.memberships.userId, ada.id)).orderBy(asc(sk.organizations.name));
  assert.deepEqual(mine.map((r) => [r.id, r.name, r.role]), [[b, 'Alpha', 'admin'], [a, 'Zeta', 'owner']]);
  // "Members"
  const members = await db.select({ id: sk.users.id, email: sk.users.email, role: sk.memberships.role, joined: sk.memberships.createdAt })
    .from(sk.memberships).innerJoin(sk.users, eq(sk.users.id, sk.memberships.userId))
    .where(eq(sk.memberships.organizationId, b)).orderBy(asc(sk.memberships.createdAt), asc(sk.memberships.id));
  assert.deepEqual(members.map((r) => [r.id, r.role]), [[bob.id, 'owner'], [ada.id, 'admin']]);
  assert.ok(members[0].joined instanceof Date);
  // "Pending invitations": select() names only the declared columns (no token_hash)
  const pending = await db.select().from(sk.invitations)
    .where(and(eq(sk.invitations.organizationId, a), isNull(sk.invitations.acceptedAt),
      isNull(sk.invitations.revokedAt), gt(sk.invitations.expiresAt, sql`now()`)));
  assert.equal(pending.length, 1);
  assert.equal(pending[0].email, pendingAddr);
  assert.equal(pending[0].role, 'member');
  assert.equal(pending[0].invitedBy, ada.id);
  assert.ok(pending[0].expiresAt instanceof Date && pending[0].expiresAt > new Date());
  assert.equal('tokenHash' in pending[0], false);
  const accepted = await db.select().from(sk.invitations).where(eq(sk.invitations.organizationId, b));
  assert.equal(accepted[0].acceptedBy, ada.id);
  assert.ok(accepted[0].acceptedAt instanceof Date);
  await rejectsWith(pool.query(`SELECT token_hash FROM schemakit.invitations`).catch((e) => { throw sk.toSchemakitError(e); }),
    sk.PermissionDeniedError, '42501');

  // rename (UPDATE slug, name granted): updated_at moves; a bad slug is 23514
  const [before] = await db.select().from(sk.organizations).where(eq(sk.organizations.id, a));
  const [renamed] = await db.update(sk.organizations).set({ name: 'Zeta Ltd', slug: `zeta-${a}` })
    .where(eq(sk.organizations.id, a)).returning();
  assert.equal(renamed.name, 'Zeta Ltd');
  assert.ok(renamed.updatedAt >= before.updatedAt);
  let caught;
  try { await db.update(sk.organizations).set({ slug: 'Not Valid' }).where(eq(sk.organizations.id, a)); }
  catch (e) { caught = sk.toSchemakitError(e); }
  assert.ok(caught instanceof sk.CheckViolationError, `${caught?.name}`);
  assert.equal(caught.constraint, 'organizations_slug_check');

  // the app role writes memberships and invitations only through the functions
  for (const stmt of [
    db.insert(sk.memberships).values({ organizationId: a, userId: bob.id, role: 'owner' }),
    db.update(sk.memberships).set({ role: 'member' }).where(eq(sk.memberships.organizationId, a)),
    db.insert(sk.organizations).values({ slug: `x-${a}`, name: 'x' }),
    db.update(sk.invitations).set({ role: 'owner' }).where(eq(sk.invitations.organizationId, a)),
  ]) {
    let err;
    try { await stmt; } catch (e) { err = sk.toSchemakitError(e); }
    assert.ok(err instanceof sk.PermissionDeniedError, `${err?.name}: refused`);
  }

  // deleting an organization takes its memberships and invitations along
  await db.delete(sk.organizations).where(eq(sk.organizations.id, a));
  assert.deepEqual(await db.select().from(sk.memberships).where(eq(sk.memberships.organizationId, a)), []);
  assert.deepEqual(await db.select().from(sk.invitations).where(eq(sk.invitations.organizationId, a)), []);
  // a user who is the last owner somewhere cannot be deleted (SKR14 from the cascade)
  let last;
  try { await db.delete(sk.users).where(eq(sk.users.id, bob.id)); } catch (e) { last = sk.toSchemakitError(e); }
  assert.ok(last instanceof sk.LastOwnerError, `${last?.name}`);
  await db.delete(sk.organizations).where(eq(sk.organizations.id, b));
  await pool.query('DELETE FROM schemakit.users WHERE id = ANY ($1)', [[ada.id, bob.id]]);
});
