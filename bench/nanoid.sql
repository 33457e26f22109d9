-- bench/nanoid.sql - the NanoID that applications add to PostgreSQL today:
-- PL/pgSQL on top of pgcrypto's gen_random_bytes(), the same technique as
-- the widely copied nanoid-postgres function (mask the random byte down to
-- the next power of two above the alphabet size, reject out-of-range
-- values, fetch random bytes in batches sized with a safety factor).
-- Written for this benchmark; not part of schemakit.
--
--   SELECT bench_nanoid();          -- 21 symbols of _-0-9a-zA-Z
--   SELECT bench_nanoid(10, '0123456789abcdef');
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE OR REPLACE FUNCTION bench_nanoid(
    size integer DEFAULT 21,
    alphabet text DEFAULT '_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
    extra_bytes_factor double precision DEFAULT 1.6)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
AS $$
DECLARE
    symbols   text[];
    n         integer;
    mask      integer;
    batch     integer;
    buf       bytea;
    idx       integer;
    id        text := '';
    have      integer := 0;
BEGIN
    IF size IS NULL OR size < 1 THEN
        RAISE EXCEPTION 'size must be at least 1';
    END IF;
    n := length(alphabet);
    IF n < 2 OR n > 255 THEN
        RAISE EXCEPTION 'alphabet must have 2 to 255 symbols';
    END IF;
    symbols := regexp_split_to_array(alphabet, '');
    -- smallest 2^k - 1 that covers every index 0 .. n-1
    mask := (2 << floor(ln(n - 1) / ln(2))::integer) - 1;
    -- bytes per batch: enough for size symbols on average, with a margin
    batch := ceil(extra_bytes_factor * mask * size / n)::integer;
    LOOP
        buf := gen_random_bytes(batch);
        FOR i IN 0 .. batch - 1 LOOP
            idx := get_byte(buf, i) & mask;
            IF idx < n THEN
                id := id || symbols[idx + 1];
                have := have + 1;
                IF have = size THEN
                    RETURN id;
                END IF;
            END IF;
        END LOOP;
    END LOOP;
END
$$;
