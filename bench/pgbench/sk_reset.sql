-- (b) schemakit: consume a password-reset token.  Token number n (taken from
-- a sequence, so every transaction consumes a different, still live token)
-- was issued beforehand with schemakit.issue_password_reset_token(user n);
-- bench_sk_reset maps n to the token text, as an app's request would carry it.
SELECT schemakit.consume_password_reset_token(t.token) AS uid FROM bench_sk_reset t WHERE t.n = (SELECT nextval('bench_sk_reset_seq')) \gset
