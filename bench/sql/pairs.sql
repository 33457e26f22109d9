-- bench/sql/pairs.sql - data for the pgbench pairs (bench/pgbench/*.sql).
-- psql variables: users, reset_tokens, sessions, history.
\set ON_ERROR_STOP 1
-- BENCH_VERSION=1.4 bash bench/run: the same pairs against an older version's SQL
\if :{?sk_version}
CREATE EXTENSION schemakit VERSION :'sk_version';
\else
CREATE EXTENSION schemakit;
\endif

-- Users; token n of (b) belongs to user n, and reset tokens of one user
-- would revoke each other, so there are at least as many users as tokens.
INSERT INTO schemakit.users (username, email, display_name, password_hash)
SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g,
       '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'
  FROM generate_series(1, :users) g;

-- (a) the hand-written email-code table: plaintext code, an index on email.
CREATE TABLE app_email_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    code       text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_email_codes_email_idx ON app_email_codes (email);

-- (b) reset tokens, pre-issued on both sides; bench_*_reset map a sequence
-- number to a token text (what a request would carry).
CREATE TABLE bench_sk_reset (n bigint PRIMARY KEY, token text NOT NULL);
CREATE SEQUENCE bench_sk_reset_seq;
INSERT INTO bench_sk_reset (n, token)
SELECT g, schemakit.issue_password_reset_token(g) FROM generate_series(1, :reset_tokens) g;

CREATE TABLE app_reset_tokens (
    token      text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES schemakit.users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used       boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bench_app_reset (n bigint PRIMARY KEY, token text NOT NULL);
CREATE SEQUENCE bench_app_reset_seq;
INSERT INTO bench_app_reset (n, token)
SELECT g, schemakit.random_token(32) FROM generate_series(1, :reset_tokens) g;
INSERT INTO app_reset_tokens (token, user_id, expires_at)
SELECT token, n, now() + interval '1 hour' FROM bench_app_reset;

-- (c) live sessions: session n has the token 's' || lpad(n, 42, '0') and
-- id n.  Rows are written directly (what issue_session() stores: the
-- token's SHA-256, never the token).  last_seen_at lies ahead, so every
-- lookup takes the read path; the at-most-once-a-minute refresh is not part
-- of this figure (see RESULTS.md).
INSERT INTO schemakit.sessions (user_id, token_hash, expires_at, last_seen_at, ip_address, user_agent)
SELECT 1 + (g - 1) % :users,
       schemakit._token_hash('s' || lpad(g::text, 42, '0')),
       now() + interval '30 days', now() + interval '1 day',
       '192.0.2.1', 'Mozilla/5.0 (bench)'
  FROM generate_series(1, :sessions) g;

-- History, so that no run starts on an empty, never-analyzed table (a
-- generic plan made for an empty table can be a sequential scan): codes
-- from two days ago (outside the limit window), all used, on both sides,
-- and existing snippets.
INSERT INTO schemakit.email_codes (email, code_hash, expires_at, used_at, created_at)
SELECT 'old' || g || '@example.com', sha256(('old' || g)::bytea),
       now() - interval '2 days' + interval '10 minutes', now() - interval '2 days' + interval '1 minute',
       now() - interval '2 days'
  FROM generate_series(1, :history) g;
INSERT INTO app_email_codes (email, code, expires_at, used_at, created_at)
SELECT 'old' || g || '@example.com', lpad((g % 1000000)::text, 6, '0'),
       now() - interval '2 days' + interval '10 minutes', now() - interval '2 days' + interval '1 minute',
       now() - interval '2 days'
  FROM generate_series(1, :history) g;
-- (d) uses schemakit.snippets itself, on both sides.
INSERT INTO schemakit.snippets (owner_id, title, body)
SELECT 1 + g % :users, 'Snippet ' || g, 'print(' || g || ')' FROM generate_series(1, :history) g;

VACUUM ANALYZE;
