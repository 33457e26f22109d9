-- (b) baseline: the hand-written consume on a plaintext token table, with the
-- token fetched the same way (same lookup table shape, own sequence).  \gset
-- fails the run if no row comes back, so every transaction really consumed.
UPDATE app_reset_tokens SET used = true WHERE token = (SELECT t.token FROM bench_app_reset t WHERE t.n = (SELECT nextval('bench_app_reset_seq'))) AND NOT used AND expires_at > now() RETURNING user_id AS uid \gset
