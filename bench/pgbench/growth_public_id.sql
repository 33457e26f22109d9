-- Growth: look a snippet up by its public_id.  The first statement picks a
-- random existing public_id (snippet ids are 1..rows); pgbench -r reports the
-- lookup statement's own latency.
\set n random(1, :rows)
SELECT public_id AS pid FROM schemakit.snippets WHERE id = :n \gset
SELECT id, owner_id, title, body FROM schemakit.snippets WHERE public_id = :pid;
