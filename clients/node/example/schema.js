// @ts-check
/**
 * The example app's own tables (schema "public"), next to schemakit's.
 * drizzle-kit reads THIS file only (drizzle.config.js).  The schemakit tables
 * are imported to reference them, never exported from here: an exported
 * schemakit table would make `drizzle-kit generate` write CREATE SCHEMA
 * "schemakit" and CREATE TABLE "schemakit".* into your migrations.
 */
import { bigint, index, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { snippets, users } from 'schemakit/schema';

export const bookmarks = pgTable('bookmarks', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  userId: bigint('user_id', { mode: 'number' }).notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  snippetId: bigint('snippet_id', { mode: 'number' }).notNull()
    .references(() => snippets.id, { onDelete: 'cascade' }),
  note: text('note'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [
  unique('bookmarks_user_snippet_key').on(t.userId, t.snippetId),
  index('bookmarks_snippet_id_idx').on(t.snippetId),
]);
