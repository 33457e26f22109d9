// @ts-check
/**
 * Drizzle definitions of the schemakit tables an application may touch
 * (schemakit 1.5).  Hand-written to match the extension's SQL exactly; the
 * test suite compares them with the catalog of a live database.
 *
 * - Ids and other bigint columns use `bigint({ mode: 'number' })`: JavaScript
 *   numbers, exact up to Number.MAX_SAFE_INTEGER (2^53 - 1).  An identity
 *   sequence would need ~9 × 10^15 rows to pass that; a larger value throws a
 *   RangeError in the function wrappers instead of losing precision.
 * - Timestamps are `timestamptz` read as `Date`.
 * - Ids are GENERATED ALWAYS AS IDENTITY: never insert them.
 * - `users.email_key` is a generated column (schemakit.email_key(email)):
 *   read it, look users up by it, use it as the conflict target.
 * - `snippets.public_id` and `files.filename` get their values from database
 *   defaults (schemakit.public_id(), schemakit.uuidv7()): leave them out of
 *   inserts; Drizzle then sends DEFAULT.
 * - `migrations` is the extension's own record of its versions: declared as
 *   an existing view, so it can be selected but not written, and drizzle-kit
 *   never creates or drops it.
 *
 * - organizations, memberships and invitations (1.5) are written by the
 *   organization functions (createOrganization, inviteMember, ...); the app
 *   role may read them, rename and delete organizations, and point foreign
 *   keys at organizations.  Inserting into them is refused (42501).
 * - `invitations.token_hash` is not declared: the app role may not read it
 *   (grant_app grants SELECT on every other column), and Drizzle selects only
 *   declared columns, so `db.select().from(invitations)` works.
 *
 * Not declared on purpose: email_codes, password_reset_tokens, sessions and
 * _code_key.  An application role has no rights on them; use the functions.
 *
 * These tables belong to the extension.  Never let drizzle-kit manage schema
 * "schemakit": keep it out of `schemaFilter` and do not export these tables
 * from the files drizzle-kit reads (import them to reference them).  See
 * README.md in this package.
 */
import { sql } from 'drizzle-orm';
import {
  bigint, boolean, check, customType, index, pgSchema, primaryKey, text, timestamp, unique,
} from 'drizzle-orm/pg-core';

/**
 * bytea as a Buffer (node-postgres reads bytea as a Buffer and sends a
 * Buffer as bytea).  A customType column has columnType 'PgCustomColumn';
 * its SQL type is getSQLType(), i.e. dataType() here.
 */
const bytea = customType(/** @type {import('drizzle-orm/pg-core').CustomTypeParams<{ data: Buffer, driverData: Buffer }>} */ ({
  dataType: () => 'bytea',
}));

/** The extension's schema. */
export const schemakit = pgSchema('schemakit');

const tz = /** @type {const} */ ({ withTimezone: true, mode: 'date' });

export const users = schemakit.table('users', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  /** Unique case-insensitively (lower(username)).  NULL allowed from 1.5 (sign-up by email only). */
  username: text('username'),
  /** A valid email or NULL; compared under email_key. */
  email: text('email'),
  displayName: text('display_name'),
  /** A hash computed by the application (argon2id, scrypt, bcrypt), never a password. */
  passwordHash: text('password_hash'),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  /** Kept by the users_touch_updated_at trigger. */
  updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  /** schemakit.email_key(email): unique (users_email_key); the conflict target for email. */
  emailKey: text('email_key').generatedAlwaysAs(sql`schemakit.email_key(email)`),
  /** 1.5 (better-auth emailVerified). */
  emailVerified: boolean('email_verified').notNull().default(false),
  /** 1.5 (better-auth image): a URL, at most 2048 characters. */
  image: text('image'),
}, (t) => [
  unique('users_email_key').on(t.emailKey),
  check('users_username_check', sql`char_length(${t.username}) BETWEEN 1 AND 255`),
  check('users_email_check', sql`schemakit._email_ok(${t.email})`),
  check('users_display_name_check', sql`char_length(${t.displayName}) <= 255`),
  check('users_password_hash_check', sql`char_length(${t.passwordHash}) BETWEEN 1 AND 255`),
  check('users_image_check', sql`char_length(${t.image}) <= 2048`),
]);

export const snippets = schemakit.table('snippets', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  /** Drawn by the database (schemakit.public_id(), collisions retried); leave it out of inserts. */
  publicId: text('public_id').notNull().default(sql`schemakit.public_id()`),
  ownerId: bigint('owner_id', { mode: 'number' }).notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  title: text('title'),
  body: text('body').notNull(),
  language: text('language').notNull().default('text'),
  isPublic: boolean('is_public').notNull().default(false),
  /** Incremented by schemakit.record_snippet_view(). */
  viewCount: bigint('view_count', { mode: 'number' }).notNull().default(0),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
}, (t) => [
  unique('snippets_public_id_key').on(t.publicId),
  index('snippets_owner_created_idx').on(t.ownerId, t.createdAt.desc(), t.id.desc()),
  check('snippets_public_id_check', sql`char_length(${t.publicId}) BETWEEN 1 AND 1024`),
  check('snippets_title_check', sql`char_length(${t.title}) <= 255`),
  check('snippets_language_check', sql`char_length(${t.language}) BETWEEN 1 AND 64`),
  check('snippets_view_count_check', sql`${t.viewCount} >= 0`),
]);

export const oauthAccounts = schemakit.table('oauth_accounts', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  userId: bigint('user_id', { mode: 'number' }).notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  provider: text('provider').notNull(),
  providerId: text('provider_id').notNull(),
  email: text('email'),
  displayName: text('display_name'),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  /** 1.5: the provider's tokens, AES-256-GCM encrypted by the application (schemakit/better-auth). */
  accessToken: bytea('access_token'),
  refreshToken: bytea('refresh_token'),
  idToken: bytea('id_token'),
  accessTokenExpiresAt: timestamp('access_token_expires_at', tz),
  refreshTokenExpiresAt: timestamp('refresh_token_expires_at', tz),
  scope: text('scope'),
  updatedAt: timestamp('updated_at', tz),
}, (t) => [
  unique('oauth_accounts_provider_key').on(t.provider, t.providerId),
  index('oauth_accounts_user_id_idx').on(t.userId),
  check('oauth_accounts_provider_check', sql`char_length(${t.provider}) BETWEEN 1 AND 50`),
  check('oauth_accounts_provider_id_check', sql`char_length(${t.providerId}) BETWEEN 1 AND 255`),
  check('oauth_accounts_email_check', sql`schemakit._email_ok(${t.email})`),
  check('oauth_accounts_display_name_check', sql`char_length(${t.displayName}) <= 255`),
  check('oauth_accounts_access_token_check', sql`octet_length(${t.accessToken}) BETWEEN 29 AND 65536`),
  check('oauth_accounts_refresh_token_check', sql`octet_length(${t.refreshToken}) BETWEEN 29 AND 65536`),
  check('oauth_accounts_id_token_check', sql`octet_length(${t.idToken}) BETWEEN 29 AND 65536`),
  check('oauth_accounts_scope_check', sql`char_length(${t.scope}) <= 4096`),
]);

/** files_mime_type_check (1.5): type/subtype, then optional RFC 9110 parameters. */
const MIME_TYPE_REGEX = String.raw`'^[^[:space:]/]+/[^[:space:]/]+([ \t]*;[ \t]*[^[:space:]";=]+=([^[:space:]";]+|"([^"\\]|\\.)*"))*$'`;

export const files = schemakit.table('files', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  userId: bigint('user_id', { mode: 'number' }).notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** The stored name: a UUIDv7 drawn by the database unless you supply one. */
  filename: text('filename').notNull().default(sql`(schemakit.uuidv7())::text`),
  originalName: text('original_name').notNull(),
  /** type/subtype, with RFC 9110 parameters from 1.5 ('text/plain; charset=utf-8'). */
  mimeType: text('mime_type').notNull(),
  /** Bytes. */
  size: bigint('size', { mode: 'number' }).notNull(),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
}, (t) => [
  unique('files_filename_key').on(t.filename),
  index('files_user_id_idx').on(t.userId),
  check('files_filename_check', sql`char_length(${t.filename}) BETWEEN 1 AND 255`),
  check('files_original_name_check', sql`char_length(${t.originalName}) BETWEEN 1 AND 255`),
  check('files_mime_type_check', sql`char_length(${t.mimeType}) <= 255 AND ${t.mimeType} ~ ${sql.raw(MIME_TYPE_REGEX)}`),
  check('files_size_check', sql`${t.size} >= 0`),
]);

/** The roles of organization members (memberships_role_check, invitations_role_check). */
export const ORGANIZATION_ROLES = /** @type {const} */ (['owner', 'admin', 'member']);

/**
 * 1.5.  Created only by schemakit.create_organization() (createOrganization),
 * so that every organization has an owner from the start.  The app role may
 * read it, UPDATE slug and name, DELETE it (memberships and invitations go
 * with it) and reference it.
 */
export const organizations = schemakit.table('organizations', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  /** Goes into URLs: 1 to 63 of [a-z0-9] and inner '-', compared exactly; unique. */
  slug: text('slug').notNull(),
  /** 1 to 255 characters, not blank. */
  name: text('name').notNull(),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  /** Kept by the organizations_touch_updated_at trigger (slug or name changed). */
  updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
}, (t) => [
  unique('organizations_slug_key').on(t.slug),
  check('organizations_slug_check', sql`${t.slug} ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`),
  check('organizations_name_check', sql`char_length(${t.name}) <= 255 AND btrim(${t.name}) <> ''`),
]);

/**
 * 1.5.  One row per user and organization (primary key organization_id,
 * user_id); written only by the organization functions and cascades.  The
 * app role may read it.  An organization always keeps an owner (SKR14).
 */
export const memberships = schemakit.table('memberships', {
  /** Unique (memberships_id_key), not the primary key. */
  id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
  organizationId: bigint('organization_id', { mode: 'number' }).notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  userId: bigint('user_id', { mode: 'number' }).notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  role: text('role', { enum: ORGANIZATION_ROLES }).notNull(),
  /** When the user joined. */
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  /** Kept by the memberships_touch_updated_at trigger (role changed). */
  updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'memberships_pkey', columns: [t.organizationId, t.userId] }),
  unique('memberships_id_key').on(t.id),
  index('memberships_user_id_idx').on(t.userId),
  check('memberships_role_check', sql`${t.role} = ANY (ARRAY['owner', 'admin', 'member'])`),
]);

/**
 * 1.5.  Invitations to join an organization, written only by inviteMember,
 * acceptInvitation, revokeInvitation and purge_expired().  token_hash (the
 * SHA-256 of the token) is left out: the app role cannot read it.  Open
 * invitations: acceptedAt, revokedAt NULL and expiresAt in the future.
 */
export const invitations = schemakit.table('invitations', {
  /** What revokeInvitation takes. */
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  organizationId: bigint('organization_id', { mode: 'number' }).notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  /** The address as given. */
  email: text('email').notNull(),
  /** schemakit.email_key(email): compared with users.email_key on acceptance. */
  emailKey: text('email_key').generatedAlwaysAs(sql`schemakit.email_key(email)`),
  /** The role the membership gets. */
  role: text('role', { enum: ORGANIZATION_ROLES }).notNull(),
  /** The inviting user; NULL once that user is deleted. */
  invitedBy: bigint('invited_by', { mode: 'number' })
    .references(() => users.id, { onDelete: 'set null' }),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', tz).notNull(),
  acceptedAt: timestamp('accepted_at', tz),
  /** The user who accepted; NULL once that user is deleted. */
  acceptedBy: bigint('accepted_by', { mode: 'number' })
    .references(() => users.id, { onDelete: 'set null' }),
  /** Set by revokeInvitation, or by inviteMember when a newer invitation replaces it. */
  revokedAt: timestamp('revoked_at', tz),
}, (t) => [
  index('invitations_organization_id_idx').on(t.organizationId),
  index('invitations_invited_by_idx').on(t.invitedBy),
  index('invitations_accepted_by_idx').on(t.acceptedBy),
  check('invitations_email_check', sql`schemakit._email_ok(${t.email})`),
  check('invitations_role_check', sql`${t.role} = ANY (ARRAY['owner', 'admin', 'member'])`),
  check('invitations_closed_once_check', sql`${t.acceptedAt} IS NULL OR ${t.revokedAt} IS NULL`),
]);

/** Read-only: one row per extension version step applied to this database. */
export const migrations = schemakit.view('migrations', {
  version: text('version').notNull(),
  appliedAt: timestamp('applied_at', tz).notNull(),
}).existing();
