-- (d) schemakit: insert a snippet; public_id comes from the column default
-- (schemakit.public_id()), and the BEFORE INSERT trigger checks it is free.
\set owner random(1, :users)
INSERT INTO schemakit.snippets (owner_id, title, body) VALUES (:owner, 'bench', 'print(1)') RETURNING public_id \gset
