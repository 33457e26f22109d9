-- (a) schemakit: issue an email login code, then verify it (two autocommit
-- statements, as an app does: one request sends the mail, one checks it).
-- A fresh address per transaction keeps the per-address issuance limit out
-- of the way (schemakit.email_code_issue_limit stays at its default, 5).
\set r random(1, 1000000000)
SELECT schemakit.issue_email_code('u' || :client_id || '-' || :r || '@example.com') AS code \gset
SELECT schemakit.verify_email_code('u' || :client_id || '-' || :r || '@example.com', :code) AS ok \gset
