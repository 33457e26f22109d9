// @ts-check
/**
 * An app written the Drizzle way on top of schemakit: sign-up and login by
 * email code, sessions, snippets, files, organizations with invitations, and
 * a table of its own (bookmarks).
 *
 *   const app = createApp(new pg.Pool());
 *   const { code } = await app.requestCode('ada@example.com');   // mail the code
 *   const { token, user, created } = await app.signInWithCode('ada@example.com', code);
 */
import { and, desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import {
  acceptInvitation, createOrganization, emailKeySql, files, inviteMember, issueEmailCode, issueSession,
  memberships, organizations, recordSnippetView, revokeSession, sessionUserId, snippets, users,
  uuidv7Time, verifyEmailCode,
} from 'schemakit';
import { bookmarks } from './schema.js';

/** @param {import('pg').Pool} pool */
export function createApp(pool) {
  const db = drizzle(pool, { schema: { users, snippets, files, organizations, memberships, bookmarks } });

  /** The user with this address (an index lookup on users_email_key), or undefined. */
  async function userByEmail(/** @type {string} */ email) {
    const [u] = await db.select().from(users).where(eq(users.emailKey, emailKeySql(email)));
    return u;
  }

  /** The signed-in user of a session token, or null. */
  async function currentUser(/** @type {string | undefined} */ token) {
    const id = await sessionUserId(db, token);
    if (id === null) return null;
    const [u] = await db.select().from(users).where(eq(users.id, id));
    return u ?? null;
  }

  async function requireUser(/** @type {string | undefined} */ token) {
    const u = await currentUser(token);
    if (!u) throw Object.assign(new Error('not signed in'), { status: 401 });
    return u;
  }

  return {
    db,
    userByEmail,
    currentUser,

    /** Step 1 of sign-up and login: a code for the address (the app mails it). */
    async requestCode(/** @type {string} */ email) {
      return { code: await issueEmailCode(db, email) };
    },

    /**
     * Step 2: a right code signs the user in; an address without an account
     * gets one (username left NULL: sign-up by email only).  Two sign-ups of
     * one address at once end with one user: the conflict target is email_key.
     */
    async signInWithCode(/** @type {string} */ email, /** @type {string} */ code,
      /** @type {{ ip?: string, userAgent?: string, displayName?: string }} */ meta = {}) {
      if (!(await verifyEmailCode(db, email, code))) return null;
      const inserted = await db.insert(users)
        .values({ email, displayName: meta.displayName ?? null })
        .onConflictDoNothing({ target: users.emailKey })
        .returning();
      const user = inserted[0] ?? await userByEmail(email);
      if (!user) throw new Error('user vanished during sign-in');
      const token = await issueSession(db, user.id, { ipAddress: meta.ip ?? null, userAgent: meta.userAgent ?? null });
      return { token, user, created: inserted.length === 1 };
    },

    async logout(/** @type {string} */ token) {
      return revokeSession(db, token);
    },

    async setUsername(/** @type {string} */ token, /** @type {string} */ username) {
      const u = await requireUser(token);
      const [row] = await db.update(users).set({ username }).where(eq(users.id, u.id)).returning();
      return row;
    },

    /** A snippet of the signed-in user; public_id is drawn by the database. */
    async createSnippet(/** @type {string} */ token,
      /** @type {{ title?: string | null, body: string, language?: string, isPublic?: boolean }} */ s) {
      const u = await requireUser(token);
      const [row] = await db.insert(snippets)
        .values({ ownerId: u.id, title: s.title ?? null, body: s.body, language: s.language, isPublic: s.isPublic })
        .returning();
      return row;
    },

    /** A public snippet by its public id, counting the view; null when unknown or private. */
    async viewSnippet(/** @type {string} */ publicId) {
      const [row] = await db.select().from(snippets)
        .where(and(eq(snippets.publicId, publicId), eq(snippets.isPublic, true)));
      if (!row) return null;
      const views = await recordSnippetView(db, publicId);
      return { ...row, viewCount: views ?? row.viewCount };
    },

    async mySnippets(/** @type {string} */ token) {
      const u = await requireUser(token);
      return db.select().from(snippets).where(eq(snippets.ownerId, u.id))
        .orderBy(desc(snippets.createdAt), desc(snippets.id)).limit(20);
    },

    /** File metadata; the stored name is a UUIDv7 the database draws. */
    async addFile(/** @type {string} */ token,
      /** @type {{ originalName: string, mimeType: string, size: number }} */ f) {
      const u = await requireUser(token);
      const [row] = await db.insert(files).values({ userId: u.id, ...f }).returning();
      return { ...row, storedAt: await uuidv7Time(db, row.filename) };
    },

    /** An organization the signed-in user owns; returns its id. */
    async createOrganization(/** @type {string} */ token, /** @type {string} */ name) {
      const u = await requireUser(token);
      return createOrganization(db, u.id, name);
    },

    /**
     * Invites an address as the signed-in user (the acting user is always the
     * session's user, never an id from the request); returns the invitation
     * token to mail.  The extension decides whether this user may invite.
     */
    async invite(/** @type {string} */ token, /** @type {number} */ organizationId,
      /** @type {string} */ email, /** @type {'owner' | 'admin' | 'member'} */ role = 'member') {
      const u = await requireUser(token);
      return inviteMember(db, { organizationId, email, role, inviterUserId: u.id });
    },

    /** The invitee, signed in with the invited address, follows the mailed link. */
    async join(/** @type {string} */ token, /** @type {string} */ invitationToken) {
      const u = await requireUser(token);
      return acceptInvitation(db, invitationToken, u.id);
    },

    /** The signed-in user's organizations with their role, by name. */
    async myOrganizations(/** @type {string} */ token) {
      const u = await requireUser(token);
      return db.select({ id: organizations.id, slug: organizations.slug, name: organizations.name, role: memberships.role })
        .from(memberships).innerJoin(organizations, eq(organizations.id, memberships.organizationId))
        .where(eq(memberships.userId, u.id)).orderBy(organizations.name);
    },

    async bookmark(/** @type {string} */ token, /** @type {string} */ publicId, /** @type {string | null} */ note = null) {
      const u = await requireUser(token);
      const [s] = await db.select({ id: snippets.id }).from(snippets).where(eq(snippets.publicId, publicId));
      if (!s) return null;
      const [row] = await db.insert(bookmarks).values({ userId: u.id, snippetId: s.id, note })
        .onConflictDoUpdate({ target: [bookmarks.userId, bookmarks.snippetId], set: { note } })
        .returning();
      return row;
    },
  };
}
