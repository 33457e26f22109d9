// drizzle-kit configuration for an app whose own tables live next to schemakit's.
//
// - schema: only the app's files.  They import schemakit's tables (from
//   'schemakit/schema') to reference them and never re-export them.
// - schemaFilter: only the app's schema(s).  Never list "schemakit": the
//   extension owns it, and drizzle-kit cannot express its triggers,
//   expression indexes and generated columns, so it would "fix" them.
// - Run push/generate as the app role (schemakit.grant_app gives it
//   REFERENCES on schemakit's tables; it needs CREATE on its own schema).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './example/schema.js',
  out: process.env.DRIZZLE_OUT ?? './example/drizzle',
  schemaFilter: ['public'],
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://localhost/app' },
  strict: false,
  verbose: true,
});
