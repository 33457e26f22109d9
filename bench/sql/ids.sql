-- bench/sql/ids.sql - the ID generators: schemakit's, pgcrypto's and core's.
\set ON_ERROR_STOP 1
CREATE EXTENSION schemakit;
\ir ../nanoid.sql
