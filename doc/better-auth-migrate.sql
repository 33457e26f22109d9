-- Move a better-auth app's default tables ("user", "session", "account",
-- "verification", as better-auth's built-in pg/Kysely adapter creates them:
-- text ids, camelCase columns, schema public) into schemakit 1.5.
-- Run as the database owner (it calls schemakit._token_hash), in one
-- transaction, with the app stopped:  psql -v ON_ERROR_STOP=1 -1 -f better-auth-migrate.sql
--
-- Keeps public.better_auth_user_map (old text id -> schemakit bigint id) for
-- the app's own tables that point at "user"(id); drops nothing: rename or
-- drop the old tables once the app runs on schemakit.

CREATE TABLE public.better_auth_user_map (
    old_id text PRIMARY KEY,
    new_id bigint NOT NULL UNIQUE REFERENCES schemakit.users (id) ON DELETE CASCADE
);

-- users: one per address (better-auth stores addresses lowercased; schemakit's
-- email_key refuses two that differ only in ASCII case: the INSERT fails, 23505)
WITH moved AS (
    INSERT INTO schemakit.users (email, display_name, email_verified, image, password_hash, created_at, updated_at)
    SELECT u.email, NULLIF(u.name, ''), u."emailVerified", u.image,
           (SELECT a.password FROM public.account a
             WHERE a."userId" = u.id AND a."providerId" = 'credential' AND a.password IS NOT NULL
             ORDER BY a."updatedAt" DESC LIMIT 1),
           u."createdAt", u."updatedAt"
      FROM public."user" u
     ORDER BY u."createdAt", u.id
    RETURNING id, email_key
)
INSERT INTO public.better_auth_user_map (old_id, new_id)
SELECT u.id, m.id FROM moved m JOIN public."user" u ON schemakit.email_key(u.email) = m.email_key;

-- OAuth links.  The provider tokens are not moved: schemakit keeps them
-- encrypted under the app's key, which the database never sees; the
-- provider issues new ones at the user's next sign-in with it.
INSERT INTO schemakit.oauth_accounts (user_id, provider, provider_id, scope, created_at, updated_at)
SELECT m.new_id, a."providerId", a."accountId", a.scope, a."createdAt", a."updatedAt"
  FROM public.account a JOIN public.better_auth_user_map m ON m.old_id = a."userId"
 WHERE a."providerId" <> 'credential';

-- Live sessions: users stay signed in; only the token's hash is kept.
INSERT INTO schemakit.sessions (user_id, token_hash, created_at, expires_at, last_seen_at, ip_address, user_agent)
SELECT m.new_id, schemakit._token_hash(s.token), s."createdAt", s."expiresAt", s."updatedAt",
       CASE WHEN s."ipAddress" ~ '^[0-9a-fA-F:.]+$' THEN s."ipAddress"::inet END,
       left(s."userAgent", 512)
  FROM public.session s JOIN public.better_auth_user_map m ON m.old_id = s."userId"
 WHERE s."expiresAt" > now();

-- Verification values (reset tokens, OTPs, links in flight) are not moved:
-- they may hold plaintext and live minutes; users ask again.

-- The plaintext is gone from the old tables at once (drop them when done):
UPDATE public.session SET token = 'migrated:' || id;
UPDATE public.account SET "accessToken" = NULL, "refreshToken" = NULL, "idToken" = NULL, password = NULL;
DELETE FROM public.verification;
