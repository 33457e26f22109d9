-- bench/whatif/20-reset-hot.sql - a proposed change, measured, not shipped.
-- consume_password_reset_token() sets used_at, which is in the purge index
-- (LEAST(expires_at, used_at, revoked_at)), so the UPDATE can never be HOT
-- and writes a new entry into all four indexes.  Purging reset tokens by
-- expiry alone (a token lives at most 7 days) takes used_at and revoked_at
-- out of every index; with room left on each page the UPDATE is HOT.
DROP INDEX schemakit.password_reset_tokens_dead_at_idx;
CREATE INDEX password_reset_tokens_expires_at_idx
    ON schemakit.password_reset_tokens (expires_at);
ALTER TABLE schemakit.password_reset_tokens SET (fillfactor = 85);
VACUUM FULL schemakit.password_reset_tokens;   -- the bench only: repack at 85 %
