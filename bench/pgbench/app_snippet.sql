-- (d) baseline: the same insert into the same table with the public_id
-- supplied by the client (as an app that makes its own IDs does).  The
-- trigger still runs, and returns at once for an explicit ID.  A random
-- 63-bit number cannot collide in a run of this size.
\set owner random(1, :users)
\set p random(0, 9223372036854775806)
INSERT INTO schemakit.snippets (owner_id, public_id, title, body) VALUES (:owner, 'p' || :p, 'bench', 'print(1)') RETURNING public_id \gset
