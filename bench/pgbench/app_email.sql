-- (a) baseline: what apps write by hand today.  The code is made by the
-- client, stored in plaintext, then looked up and marked used by separate
-- autocommit statements.
\set r random(1, 1000000000)
\set code random(0, 999999)
INSERT INTO app_email_codes (email, code, expires_at) VALUES ('u' || :client_id || '-' || :r || '@example.com', lpad(:code, 6, '0'), now() + interval '10 minutes');
SELECT id FROM app_email_codes WHERE email = 'u' || :client_id || '-' || :r || '@example.com' AND code = lpad(:code, 6, '0') AND used_at IS NULL AND expires_at > now() ORDER BY id DESC LIMIT 1 \gset
UPDATE app_email_codes SET used_at = now() WHERE id = :id AND used_at IS NULL;
