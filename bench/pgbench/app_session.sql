-- (c) baseline: a bare primary-key SELECT on the same sessions table.
\set n random(1, :sessions)
SELECT user_id FROM schemakit.sessions WHERE id = :n;
