-- Growth: session_user_id() on a random live session (tokens as in sk_session.sql).
\set n random(1, :rows)
SELECT schemakit.session_user_id('s' || lpad(:n, 42, '0'));
