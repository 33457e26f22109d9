-- (c) schemakit: the user of a live session, from its token.  Session n was
-- opened with the token 's' || lpad(n, 42, '0') (43 characters, like a real
-- one); only its SHA-256 is stored.
\set n random(1, :sessions)
SELECT schemakit.session_user_id('s' || lpad(:n, 42, '0'));
