-- 20_functions.sql - function shapes (signatures, volatility, strictness,
-- language, parallel safety, pinned search_path) and the behaviour of the C
-- primitives public_id(), random_code() and random_token(): output shape,
-- every documented 22023 error, and statistical uniformity.
--
-- Uniformity tests use Pearson's chi-square statistic
--     chi2 = sum over symbols of (observed - expected)^2 / expected
-- over the whole alphabet (symbols never drawn count with observed = 0) and
-- compare it with the upper 1e-6 quantile of the chi-square distribution,
-- so a correct generator fails a given test about once in a million runs.
-- The quantiles were computed as the root of Q(df/2, x/2) = 1e-6 (Q is the
-- regularised upper incomplete gamma function, mpmath 1.3, 40 digits),
-- cross-checked with an independent series evaluation and, for df = 3, with
-- the closed form erfc(sqrt(x/2)) + sqrt(2x/pi) exp(-x/2):
--     df =  3:  30.66     df = 15:  56.49     df = 128: 218.91
--     df =  9:  44.81     df = 61: 128.52
-- Sample sizes are chosen so that modulo bias (byte % n without the
-- rejection step) fails clearly; the expected chi2 under that bias is:
--     10 digits, 300000 draws (6 digits 26/256, 4 digits 25/256):  ~110
--     62 symbols, 200000 draws (8 symbols 5/256, 54 symbols 4/256): ~1318
--     129 symbols, 129000 draws (127 at 2/256, 2 at 1/256):           ~500
-- (One position of 20000 default IDs alone would only reach ~132.)
BEGIN;
SELECT plan(190);

-- Runs sql and returns {sqlstate, message, detail} of the error it raises.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN ARRAY[st, msg, det];
END
$$;

-------------------------------------------------------------------------------
-- Shapes of every 1.0 function
-------------------------------------------------------------------------------
-- lang, vol and parallel of the '_' helpers are their 1.0 values, listed for
-- reference only (see below).
CREATE TEMP TABLE expected_functions (
    ord serial, fn name, args name[], rettype text, lang name, vol text, strict boolean, parallel "char");
INSERT INTO expected_functions (fn, args, rettype, lang, vol, strict, parallel) VALUES
    ('public_id',                '{integer,text}',  'text',    'c',       'volatile',  true,  's'),
    ('random_code',              '{integer}',       'text',    'c',       'volatile',  true,  's'),
    ('random_token',             '{integer}',       'text',    'c',       'volatile',  true,  's'),
    ('_public_id_take',          '{text}',          'boolean', 'c',       'volatile',  true,  'r'),
    ('_email_ok',                '{text}',          'boolean', 'sql',     'immutable', true,  's'),
    -- (no unkeyed _code_hash: codes are stored under a key only)
    ('_code_hash_keyed',         '{text,text}',     'bytea',   'c',       'stable',    true,  's'),
    ('touch_updated_at',         '{}',              'trigger', 'c',       'volatile',  false, 'u'),
    ('migrations_merge',         '{}',              'trigger', 'plpgsql', 'volatile',  false, 'u'),
    ('snippets_public_id_retry', '{}',              'trigger', 'plpgsql', 'volatile',  false, 'u'),
    ('record_snippet_view',      '{text}',          'bigint',  'sql',     'volatile',  true,  'u'),
    ('issue_email_code',         '{text,interval}', 'text',    'plpgsql', 'volatile',  false, 'u'),
    ('verify_email_code',        '{text,text}',     'boolean', 'plpgsql', 'volatile',  false, 'u');

SELECT has_function('schemakit', fn, args, format('function schemakit.%s(%s) exists', fn, array_to_string(args, ', ')))
  FROM expected_functions ORDER BY ord;
SELECT function_returns('schemakit', fn, args, rettype, format('schemakit.%s returns %s', fn, rettype))
  FROM expected_functions ORDER BY ord;
-- Language, volatility and parallel safety are part of the contract for the
-- public and trigger functions; the internal helpers (names starting with
-- an underscore) may be reimplemented by later versions, e.g. 1.3 keys
-- _code_hash with a table-held secret, which makes it STABLE.
SELECT function_lang_is('schemakit', fn, args, lang, format('schemakit.%s is written in %s', fn, lang))
  FROM expected_functions WHERE fn !~ '^_' ORDER BY ord;
SELECT volatility_is('schemakit', fn, args, vol, format('schemakit.%s is %s', fn, vol))
  FROM expected_functions WHERE fn !~ '^_' ORDER BY ord;
SELECT CASE WHEN strict
            THEN is_strict('schemakit', fn, args, format('schemakit.%s is STRICT', fn))
            ELSE isnt_strict('schemakit', fn, args, format('schemakit.%s is not STRICT', fn))
       END
  FROM expected_functions ORDER BY ord;
SELECT is(p.proparallel, e.parallel, format('schemakit.%s has proparallel = %s', e.fn, e.parallel))
  FROM expected_functions e
  LEFT JOIN pg_proc p
    ON p.oid = to_regprocedure(format('schemakit.%I(%s)', e.fn, array_to_string(e.args, ',')))
 WHERE e.fn !~ '^_'
 ORDER BY e.ord;

SELECT is(p.proparallel, 'r', 'schemakit._public_id_take is PARALLEL RESTRICTED (backend-local state)')
  FROM pg_proc p WHERE p.oid = 'schemakit._public_id_take(text)'::regprocedure;
SELECT isnt((SELECT provolatile FROM pg_proc WHERE oid = 'schemakit._email_ok(text)'::regprocedure), 'v',
            'schemakit._email_ok (used in CHECK constraints) is not VOLATILE');

SELECT is(pg_get_function_arguments(to_regprocedure(sig)), want, format('arguments and defaults of %s', sig))
  FROM (VALUES
    ('schemakit.public_id(integer,text)',
     'size integer DEFAULT 10, alphabet text DEFAULT ''0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz''::text'),
    ('schemakit.random_code(integer)', 'digits integer DEFAULT 6'),
    ('schemakit.random_token(integer)', 'nbytes integer DEFAULT 32'),
    ('schemakit.issue_email_code(text,interval)', 'email text, ttl interval DEFAULT ''00:10:00''::interval'),
    ('schemakit.verify_email_code(text,text)', 'email text, code text'),
    ('schemakit.record_snippet_view(text)', 'public_id text')
  ) AS f(sig, want);

-------------------------------------------------------------------------------
-- search_path hygiene
-------------------------------------------------------------------------------
SELECT cmp_ok(
    (SELECT count(*)::int FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
      WHERE p.pronamespace = 'schemakit'::regnamespace AND l.lanname IN ('sql', 'plpgsql')),
    '>=', 8, 'schema schemakit holds at least the eight 1.0 SQL/PL/pgSQL functions');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text, p.proconfig::text
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
       WHERE p.pronamespace = 'schemakit'::regnamespace
         AND l.lanname IN ('sql', 'plpgsql')
         AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
    'every SQL and PL/pgSQL function in schemakit pins search_path = pg_catalog, pg_temp');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text
        FROM pg_proc p
       WHERE p.pronamespace = 'schemakit'::regnamespace
         AND p.prosecdef
         AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
    'no SECURITY DEFINER function in schemakit lacks a pinned search_path');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
       WHERE p.pronamespace = 'schemakit'::regnamespace AND l.lanname = 'c'
         AND p.proconfig IS NOT NULL$$,
    'the C functions carry no SET clause (they run no SQL)');

-------------------------------------------------------------------------------
-- public_id(): shape
-------------------------------------------------------------------------------
SELECT is(char_length(schemakit.public_id()), 10, 'public_id() has 10 characters by default');
SELECT is_empty(
    $$SELECT id FROM (SELECT schemakit.public_id() AS id FROM generate_series(1, 2000)) s
       WHERE id !~ '^[0-9A-Za-z]{10}$'$$,
    'public_id() always matches ^[0-9A-Za-z]{10}$ (2000 draws)');
SELECT is(char_length(schemakit.public_id(17)), 17, 'public_id(17) keeps the default alphabet and has 17 characters');

-- Sizes x alphabets, 20 draws each: right length, only alphabet characters.
CREATE TEMP TABLE alphabets (name text, alphabet text);
INSERT INTO alphabets VALUES
    ('binary', '01'),
    ('ab', 'ab'),
    ('hex', '0123456789abcdef'),
    ('default62', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
    ('greek', 'αβγδ'),
    ('emoji', '😀😁😂🤣'),
    ('mixed widths', 'aβ€😀'),
    ('punctuation', '-_.~!*'),
    ('256 two-byte', (SELECT string_agg(chr(i), '' ORDER BY i) FROM generate_series(256, 511) i)),
    ('256 four-byte', (SELECT string_agg(chr(i), '' ORDER BY i) FROM generate_series(128512, 128767) i));
SELECT is((SELECT octet_length(alphabet) FROM alphabets WHERE name = '256 four-byte'), 1024,
          'the largest alphabet fixture is 256 four-byte characters (1024 bytes)');
SELECT is_empty(
    $$SELECT a.name, n, id
        FROM alphabets a, unnest(ARRAY[1, 2, 3, 7, 10, 21, 64, 255, 1024]) AS n,
             LATERAL (SELECT schemakit.public_id(n, a.alphabet) AS id FROM generate_series(1, 20)) g
       WHERE char_length(id) <> n
          OR EXISTS (SELECT 1 FROM regexp_split_to_table(id, '') AS ch WHERE strpos(a.alphabet, ch) = 0)$$,
    'public_id(n, alphabet) has n characters, all from the alphabet, for 10 alphabets x 9 sizes');
SELECT is(octet_length(schemakit.public_id(100, 'αβγδ')), 200, 'public_id(100, ''αβγδ'') is 100 two-byte characters');
SELECT is(octet_length(schemakit.public_id(100, '😀😁')), 400, 'public_id(100, ''😀😁'') is 100 four-byte characters');
-- Every symbol is reachable, including the last of a 256-symbol alphabet.
SELECT is_empty(
    $$SELECT a.name, a.alphabet
        FROM alphabets a
       WHERE (SELECT count(DISTINCT ch)
                FROM (SELECT schemakit.public_id(1024, a.alphabet) AS id FROM generate_series(1, 40)) g,
                     regexp_split_to_table(g.id, '') AS ch)
             <> char_length(a.alphabet)$$,
    'every symbol of every alphabet appears in 40960 draws');
SELECT is((SELECT char_length(id) || ' ' || (id ~ '^[ab]+$') FROM schemakit.public_id(1024, 'ab') AS id), '1024 true',
          'public_id(1024, ''ab'') is the largest size');

-- The parsed alphabet is cached per call site: rows with changing alphabets
-- (one a prefix of another) must each use their own.
SELECT is_empty(
    $$SELECT a, id FROM (
        SELECT a, schemakit.public_id(300, a) AS id
          FROM unnest(ARRAY['ab', 'abc', 'ab', 'xyz', 'αβ', 'αβγ', 'ab', 'abc']) WITH ORDINALITY AS t(a, o)
         ORDER BY o) s
       WHERE (SELECT count(DISTINCT ch) FROM regexp_split_to_table(id, '') ch) <> char_length(a)
          OR EXISTS (SELECT 1 FROM regexp_split_to_table(id, '') ch WHERE strpos(a, ch) = 0)$$,
    'alternating alphabets in one query each produce exactly their own symbols');

SELECT is(schemakit.public_id(NULL, 'ab'), NULL, 'public_id(NULL, alphabet) is NULL (STRICT)');
SELECT is(schemakit.public_id(5, NULL), NULL, 'public_id(size, NULL) is NULL (STRICT)');

-------------------------------------------------------------------------------
-- public_id(): errors (22023, messages from src/ids.c)
-------------------------------------------------------------------------------
SELECT throws_ok(sql, '22023', 'public_id size must be between 1 and 1024', format('%s raises 22023', sql))
  FROM unnest(ARRAY[
    'SELECT schemakit.public_id(0)',
    'SELECT schemakit.public_id(-1, ''ab'')',
    'SELECT schemakit.public_id(1025, ''ab'')',
    'SELECT schemakit.public_id(2147483647)']) AS sql;
SELECT throws_ok(sql, '22023', 'alphabet must have at least 2 symbols', format('%s raises 22023', sql))
  FROM unnest(ARRAY[
    'SELECT schemakit.public_id(5, '''')',
    'SELECT schemakit.public_id(5, ''a'')',
    'SELECT schemakit.public_id(5, ''α'')',
    'SELECT schemakit.public_id(5, ''😀'')']) AS sql;
SELECT throws_ok(sql, '22023', 'alphabet must have at most 256 symbols', descr)
  FROM (VALUES
    ($$SELECT schemakit.public_id(5, (SELECT string_agg(chr(i), '') FROM generate_series(256, 512) i))$$,
     '257 two-byte symbols raise 22023'),
    ($$SELECT schemakit.public_id(5, (SELECT string_agg(chr(i), '') FROM generate_series(128512, 128768) i))$$,
     '257 four-byte symbols (1028 bytes) raise 22023'),
    ($$SELECT schemakit.public_id(5, 'a' || (SELECT string_agg(chr(i), '') FROM generate_series(128512, 128767) i))$$,
     '256 four-byte symbols plus one ASCII symbol (1025 bytes) raise 22023'),
    ($$SELECT schemakit.public_id(5, (SELECT string_agg(chr(i), '') FROM generate_series(33, 126) i)
                                     || (SELECT string_agg(chr(i), '') FROM generate_series(256, 418) i))$$,
     '94 ASCII plus 163 two-byte symbols raise 22023')
  ) AS t(sql, descr);
SELECT throws_ok(sql, '22023', 'alphabet must not repeat a symbol', format('%s raises 22023', sql))
  FROM unnest(ARRAY[
    'SELECT schemakit.public_id(5, ''aba'')',
    'SELECT schemakit.public_id(5, ''aa'')',
    'SELECT schemakit.public_id(5, ''αβγβ'')',
    'SELECT schemakit.public_id(5, ''αaα'')',
    'SELECT schemakit.public_id(5, ''😀x😀'')']) AS sql;

SELECT is(pg_temp.error_of(sql), want, format('error details of %s', sql))
  FROM (VALUES
    ('SELECT schemakit.public_id(0)',
     ARRAY['22023', 'public_id size must be between 1 and 1024', 'The size given was 0.']),
    ('SELECT schemakit.public_id(1025)',
     ARRAY['22023', 'public_id size must be between 1 and 1024', 'The size given was 1025.']),
    ('SELECT schemakit.public_id(3, ''a'')',
     ARRAY['22023', 'alphabet must have at least 2 symbols', 'The alphabet has 1.']),
    ('SELECT schemakit.public_id(3, '''')',
     ARRAY['22023', 'alphabet must have at least 2 symbols', 'The alphabet has 0.']),
    ('SELECT schemakit.public_id(3, ''abcb'')',
     ARRAY['22023', 'alphabet must not repeat a symbol', 'Symbol "b" at position 4 appears earlier.']),
    ('SELECT schemakit.public_id(3, ''αβγδβ'')',
     ARRAY['22023', 'alphabet must not repeat a symbol', 'Symbol "β" at position 5 appears earlier.']),
    ('SELECT schemakit.public_id(3, ''abcdefa'')',
     ARRAY['22023', 'alphabet must not repeat a symbol', 'Symbol "a" at position 7 appears earlier.']),
    ('SELECT schemakit.public_id(3, ''xyzz'')',
     ARRAY['22023', 'alphabet must not repeat a symbol', 'Symbol "z" at position 4 appears earlier.']),
    ('SELECT schemakit.public_id(3, ''aβ😀a'')',
     ARRAY['22023', 'alphabet must not repeat a symbol', 'Symbol "a" at position 4 appears earlier.']),
    ('SELECT schemakit.public_id(3, ''😀a😀'')',
     ARRAY['22023', 'alphabet must not repeat a symbol', 'Symbol "😀" at position 3 appears earlier.']),
    ('SELECT schemakit.random_code(13)',
     ARRAY['22023', 'random_code digits must be between 1 and 12', 'The number of digits given was 13.']),
    ('SELECT schemakit.random_token(15)',
     ARRAY['22023', 'random_token nbytes must be between 16 and 1024', 'The number of bytes given was 15.'])
  ) AS t(sql, want);

-- A rejected alphabet leaves no trace for later calls.
SELECT is(
    (SELECT array_agg(pg_temp.error_of(format('SELECT schemakit.public_id(4, %L)', a)) IS NULL ORDER BY o)
       FROM unnest(ARRAY['ab', 'aa', 'ab', 'a', 'ab']) WITH ORDINALITY AS t(a, o)),
    ARRAY[true, false, true, false, true],
    'valid and invalid alphabets in alternating calls each get their own answer');

-------------------------------------------------------------------------------
-- random_code()
-------------------------------------------------------------------------------
SELECT is(schemakit.random_code() ~ '^[0-9]{6}$', true, 'random_code() is 6 digits by default');
SELECT is_empty(
    $$SELECT d, c FROM generate_series(1, 12) AS d,
                       LATERAL (SELECT schemakit.random_code(d) AS c FROM generate_series(1, 200)) g
       WHERE c !~ ('^[0-9]{' || d || '}$')$$,
    'random_code(d) is exactly d digits for d = 1..12 (200 draws each)');
SELECT is((SELECT count(DISTINCT schemakit.random_code(1)) FROM generate_series(1, 5000)), 10::bigint,
          'all ten digits appear among 5000 one-digit codes');
SELECT throws_ok(sql, '22023', 'random_code digits must be between 1 and 12', format('%s raises 22023', sql))
  FROM unnest(ARRAY[
    'SELECT schemakit.random_code(0)',
    'SELECT schemakit.random_code(13)',
    'SELECT schemakit.random_code(-6)']) AS sql;
SELECT is(schemakit.random_code(NULL), NULL, 'random_code(NULL) is NULL (STRICT)');

CREATE TEMP TABLE codes6 AS SELECT schemakit.random_code(6) AS c FROM generate_series(1, 20000);
SELECT ok((SELECT count(*) FROM codes6 WHERE c LIKE '0%') > 0, 'some of 20000 six-digit codes start with 0');
SELECT is((SELECT count(*) FROM codes6 WHERE c ~ '^[0-9]{6}$'), 20000::bigint, 'all 20000 six-digit codes are 6 digits');
-- Leading digit of the 20000 codes: uniform over 0..9 (df = 9).
SELECT cmp_ok(
    (SELECT sum((coalesce(n, 0) - 2000.0) ^ 2 / 2000.0)::float8
       FROM generate_series(0, 9) AS d
       LEFT JOIN (SELECT left(c, 1)::int AS d, count(*) AS n FROM codes6 GROUP BY 1) o USING (d)),
    '<', 44.81::float8, 'leading digits of random_code(6): chi-square (df 9) below the 1e-6 critical value');

-- 300000 digits from random_code(12): uniform over 0..9 (df = 9).
CREATE TEMP TABLE digits12 AS
SELECT substr(c, p, 1)::int AS d
  FROM (SELECT schemakit.random_code(12) AS c FROM generate_series(1, 25000)) s,
       generate_series(1, 12) AS p;
SELECT is((SELECT count(*) FROM digits12), 300000::bigint, 'the digit sample has 300000 digits');
SELECT cmp_ok(
    (SELECT sum((coalesce(n, 0) - 30000.0) ^ 2 / 30000.0)::float8
       FROM generate_series(0, 9) AS d
       LEFT JOIN (SELECT d, count(*) AS n FROM digits12 GROUP BY d) o USING (d)),
    '<', 44.81::float8, 'digits of random_code(12): chi-square (df 9) below the 1e-6 critical value');

-------------------------------------------------------------------------------
-- random_token()
-------------------------------------------------------------------------------
SELECT is(char_length(schemakit.random_token()), 43, 'random_token() has 43 characters (32 bytes)');
SELECT is_empty(
    $$SELECT t FROM (SELECT schemakit.random_token() AS t FROM generate_series(1, 1000)) s
       WHERE t !~ '^[A-Za-z0-9_-]{43}$'$$,
    'random_token() is unpadded base64url (1000 draws)');
-- n = 16..64 and 1024, 10 draws each: length ceil(4n/3), base64url only,
-- decodes to n bytes, and re-encodes to itself (canonical final character).
SELECT is_empty(
    $$SELECT n, t FROM (
        SELECT n, schemakit.random_token(n) AS t
          FROM (SELECT generate_series(16, 64) UNION ALL SELECT 1024) AS ns(n), generate_series(1, 10)) s
        CROSS JOIN LATERAL (
          SELECT decode(translate(t, '-_', '+/') || repeat('=', (4 - char_length(t) % 4) % 4), 'base64') AS raw) r
       WHERE char_length(t) <> ceil(n * 4 / 3.0)
          OR t !~ '^[A-Za-z0-9_-]+$'
          OR octet_length(r.raw) <> n
          OR translate(rtrim(replace(encode(r.raw, 'base64'), E'\n', ''), '='), '+/', '-_') <> t$$,
    'random_token(n) is ceil(4n/3) base64url characters decoding to n bytes, n = 16..64 and 1024');
SELECT is(char_length(schemakit.random_token(1024)), 1366, 'random_token(1024) has 1366 characters');
SELECT throws_ok(sql, '22023', 'random_token nbytes must be between 16 and 1024', format('%s raises 22023', sql))
  FROM unnest(ARRAY[
    'SELECT schemakit.random_token(15)',
    'SELECT schemakit.random_token(1025)',
    'SELECT schemakit.random_token(0)',
    'SELECT schemakit.random_token(-32)']) AS sql;
SELECT is(schemakit.random_token(NULL), NULL, 'random_token(NULL) is NULL (STRICT)');
-- Token bytes are uniform: 20000 bytes from 625 32-byte tokens, by high and
-- low nibble (df = 15 each).
CREATE TEMP TABLE token_bytes AS
SELECT get_byte(raw, i) AS b
  FROM (SELECT decode(translate(schemakit.random_token(32), '-_', '+/') || '=', 'base64') AS raw
          FROM generate_series(1, 625)) s,
       generate_series(0, 31) AS i;
SELECT is((SELECT count(*) FROM token_bytes), 20000::bigint, 'the token byte sample has 20000 bytes');
SELECT cmp_ok(
    (SELECT sum((coalesce(n, 0) - 1250.0) ^ 2 / 1250.0)::float8
       FROM generate_series(0, 15) AS v
       LEFT JOIN (SELECT b >> 4 AS v, count(*) AS n FROM token_bytes GROUP BY 1) o USING (v)),
    '<', 56.49::float8, 'high nibbles of token bytes: chi-square (df 15) below the 1e-6 critical value');
SELECT cmp_ok(
    (SELECT sum((coalesce(n, 0) - 1250.0) ^ 2 / 1250.0)::float8
       FROM generate_series(0, 15) AS v
       LEFT JOIN (SELECT b & 15 AS v, count(*) AS n FROM token_bytes GROUP BY 1) o USING (v)),
    '<', 56.49::float8, 'low nibbles of token bytes: chi-square (df 15) below the 1e-6 critical value');

-------------------------------------------------------------------------------
-- public_id() uniformity
-------------------------------------------------------------------------------
-- 200000 symbols over a 16-symbol alphabet (df = 15).
CREATE TEMP TABLE hex_symbols AS
SELECT substr(id, p, 1) AS s
  FROM (SELECT schemakit.public_id(1000, '0123456789abcdef') AS id FROM generate_series(1, 200)) g,
       generate_series(1, 1000) AS p;
SELECT is((SELECT count(*) FROM hex_symbols), 200000::bigint, 'the 16-symbol sample has 200000 symbols');
SELECT cmp_ok(
    (SELECT sum((coalesce(n, 0) - 12500.0) ^ 2 / 12500.0)::float8
       FROM regexp_split_to_table('0123456789abcdef', '') AS s
       LEFT JOIN (SELECT s, count(*) AS n FROM hex_symbols GROUP BY s) o USING (s)),
    '<', 56.49::float8, 'public_id over 16 symbols: chi-square (df 15) below the 1e-6 critical value');

-- 40000 symbols over the multibyte 'αβγδ' (df = 3).
SELECT cmp_ok(
    (SELECT sum((coalesce(n, 0) - 10000.0) ^ 2 / 10000.0)::float8
       FROM regexp_split_to_table('αβγδ', '') AS s
       LEFT JOIN (SELECT s, count(*) AS n
                    FROM (SELECT schemakit.public_id(1000, 'αβγδ') AS id FROM generate_series(1, 40)) g,
                         regexp_split_to_table(g.id, '') AS s
                   GROUP BY s) o USING (s)),
    '<', 30.66::float8, 'public_id over ''αβγδ'': chi-square (df 3) below the 1e-6 critical value');

-- Per position of 20000 default IDs over the 62-symbol alphabet (df = 61);
-- 62 does not divide 256, so this also catches modulo bias.
CREATE TEMP TABLE default_ids AS SELECT schemakit.public_id() AS id FROM generate_series(1, 20000);
SELECT is((SELECT count(*) FROM default_ids WHERE char_length(id) = 10), 20000::bigint, 'the default-alphabet sample has 20000 IDs');
SELECT cmp_ok(
    (SELECT sum((coalesce(o.n, 0) - 20000 / 62.0) ^ 2 / (20000 / 62.0))::float8
       FROM regexp_split_to_table('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '') AS s
       LEFT JOIN (SELECT substr(id, pos, 1) AS s, count(*) AS n FROM default_ids GROUP BY 1) o USING (s)),
    '<', 128.52::float8, format('public_id() position %s: chi-square (df 61) below the 1e-6 critical value', pos))
  FROM generate_series(1, 10) AS pos;
SELECT cmp_ok(
    (SELECT sum((coalesce(o.n, 0) - 200000 / 62.0) ^ 2 / (200000 / 62.0))::float8
       FROM regexp_split_to_table('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '') AS s
       LEFT JOIN (SELECT substr(id, pos, 1) AS s, count(*) AS n
                    FROM default_ids, generate_series(1, 10) AS pos GROUP BY 1) o USING (s)),
    '<', 128.52::float8, 'public_id(), all 200000 symbols: chi-square (df 61) below the 1e-6 critical value');

-- 129 symbols, the worst case for rejection sampling (half of all bytes are
-- rejected): 129000 draws (df = 128).
SELECT cmp_ok(
    (SELECT sum((coalesce(o.n, 0) - 1000.0) ^ 2 / 1000.0)::float8
       FROM regexp_split_to_table(a.alphabet, '') AS s
       LEFT JOIN (SELECT s, count(*) AS n
                    FROM (SELECT schemakit.public_id(1000, a.alphabet) AS id FROM generate_series(1, 129)) g,
                         regexp_split_to_table(g.id, '') AS s
                   GROUP BY s) o USING (s))
    , '<', 218.91::float8, 'public_id over 129 symbols: chi-square (df 128) below the 1e-6 critical value')
  FROM (SELECT string_agg(chr(i), '' ORDER BY i) AS alphabet FROM generate_series(913, 1041) i) a;

-------------------------------------------------------------------------------
-- Uniqueness
-------------------------------------------------------------------------------
SELECT is((SELECT count(DISTINCT id) FROM (SELECT schemakit.public_id() AS id FROM generate_series(1, 100000)) s),
          100000::bigint, '100000 public_id() values are distinct');
SELECT is((SELECT count(DISTINCT t) FROM (SELECT schemakit.random_token() AS t FROM generate_series(1, 100000)) s),
          100000::bigint, '100000 random_token() values are distinct');

-------------------------------------------------------------------------------
-- _public_id_take(): true for the last public_id() of this backend, once;
-- every call forgets the remembered value.
-------------------------------------------------------------------------------
SELECT schemakit.public_id(12) AS id1 \gset
SELECT is(schemakit._public_id_take(:'id1'), true, '_public_id_take is true for the last public_id()');
SELECT is(schemakit._public_id_take(:'id1'), false, '_public_id_take is true only once per generated value');
SELECT schemakit.public_id(12) AS id2 \gset
SELECT is(schemakit._public_id_take(lower(:'id2') || 'x'), false, '_public_id_take is false for another value');
SELECT is(schemakit._public_id_take(:'id2'), false, 'a non-matching take also forgets the generated value');
SELECT schemakit.public_id(12) AS id3 \gset
SELECT is(schemakit._public_id_take(left(:'id3', 11)), false, '_public_id_take is false for a prefix');
SELECT schemakit.public_id(12) AS id4 \gset
SELECT schemakit.public_id(12) AS id5 \gset
SELECT is(schemakit._public_id_take(:'id4'), :'id4' = :'id5', '_public_id_take does not vouch for an older public_id()');

-------------------------------------------------------------------------------
-- Internal helpers
-------------------------------------------------------------------------------
SELECT is(schemakit._email_ok(e), want, format('_email_ok(%s) is %s', CASE WHEN char_length(e) > 40 THEN format('<%s characters>', char_length(e)) ELSE to_json(e)::text END,
                 CASE WHEN want THEN 'true' ELSE 'false' END))
  FROM (VALUES ('a@b', true), ('first.last+tag@example.co.uk', true), ('ü@例え.jp', true),
               ('', false), ('a', false), ('@b', false), ('a@', false), ('a@@b', false), ('a@b@c', false),
               ('a b@c', false), (E'a@b\n', false), (E'a\t@b', false),
               (repeat('x', 251) || '@a.b', true), (repeat('x', 252) || '@a.b', false)) AS t(e, want);
-- _email_ok is C: it must agree with the SQL rule a downgrade puts back on
-- every input, white space of every kind and multibyte lengths included.
SELECT is(array_agg(to_json(e)::text ORDER BY e), NULL,
          '_email_ok (C) agrees with char_length(e) <= 255 AND e ~ ''^[^[:space:]@]+@[^[:space:]@]+$'' on 28 inputs')
  FROM (VALUES ('a@b'), ('ü@例え.jp'), (''), ('@'), ('a@b@c'), ('a b@c'), (E'a\u00a0b@c'), (E'a@b\u3000'),
               (E'a\u2003@b'), (E'a@\u200bb'), (E'\u0085a@b'), (E'a\u000b@b'), (E'a\r@b'), (E'a\f@b'),
               (repeat('é', 253) || '@b'), (repeat('é', 254) || '@b'), (repeat('例', 100) || '@' || repeat('例', 154)),
               (repeat('例', 100) || '@' || repeat('例', 155)), ('x@' || repeat('y', 253)), ('x@' || repeat('y', 254)),
               ('"quoted"@example.com'), ('a@[127.0.0.1]'), ('a@b.'), ('.a@b'), (E'a@b\x7f'), ('A@B'), ('🙂@🙂'),
               (E'a\u1680b@c')) AS t(e)
 WHERE schemakit._email_ok(e) IS DISTINCT FROM (char_length(e) <= 255 AND e ~ '^[^[:space:]@]+@[^[:space:]@]+$');
SELECT is(count(*), 0::bigint, '_token_hash (C) = sha256(convert_to(token, ''UTF8'')) for empty, ASCII, multibyte and 1400-byte tokens')
  FROM (VALUES (''), ('a'), (schemakit.random_token()), ('ü例🙂'), (repeat('x', 1400)), (E'tab\there')) AS t(tok)
 WHERE schemakit._token_hash(tok) IS DISTINCT FROM sha256(convert_to(tok, 'UTF8'));
SELECT is(schemakit._token_hash(NULL), NULL, '_token_hash is STRICT');
SELECT is(octet_length(schemakit._code_hash_keyed('a@b', '123456')), 32, '_code_hash_keyed is 32 bytes');
SELECT is(schemakit._code_hash_keyed('A@B', '123456'), schemakit._code_hash_keyed('a@b', '123456'),
          '_code_hash_keyed ignores the ASCII case of the email');
SELECT isnt(schemakit._code_hash_keyed('a@b', '123456'), schemakit._code_hash_keyed('a@c', '123456'),
            '_code_hash_keyed binds the code to the email');

-- touch_updated_at (C): the transaction's time, on any table with a
-- timestamptz updated_at; anything else is refused, never written.
CREATE TEMP TABLE touch_ok (id int, updated_at timestamptz DEFAULT '2000-01-01');
CREATE TRIGGER t BEFORE UPDATE ON touch_ok FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();
INSERT INTO touch_ok (id) VALUES (1);
UPDATE touch_ok SET id = 2;
SELECT is((SELECT updated_at FROM touch_ok), now(), 'touch_updated_at writes the transaction''s time (now())');
CREATE TEMP TABLE touch_local (id int, updated_at timestamp DEFAULT '2000-01-01');
CREATE TRIGGER t BEFORE UPDATE ON touch_local FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();
INSERT INTO touch_local (id) VALUES (1);
UPDATE touch_local SET id = 2;
SELECT is((SELECT updated_at FROM touch_local), now()::timestamp, 'touch_updated_at writes the local time into a timestamp column, as now() would');
CREATE TEMP TABLE touch_none (id int);
CREATE TRIGGER t BEFORE UPDATE ON touch_none FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();
INSERT INTO touch_none VALUES (1);
SELECT throws_ok('UPDATE touch_none SET id = 2', '42703', NULL, 'touch_updated_at on a table without updated_at: 42703');
CREATE TEMP TABLE touch_text (id int, updated_at text);
CREATE TRIGGER t BEFORE UPDATE ON touch_text FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();
INSERT INTO touch_text VALUES (1, 'x');
SELECT throws_ok('UPDATE touch_text SET id = 2', '42703', NULL, 'touch_updated_at on a text updated_at: 42703');
CREATE TEMP TABLE touch_after (id int, updated_at timestamptz);
CREATE TRIGGER t AFTER UPDATE ON touch_after FOR EACH ROW EXECUTE FUNCTION schemakit.touch_updated_at();
INSERT INTO touch_after VALUES (1, NULL);
SELECT throws_ok('UPDATE touch_after SET id = 2', '39P01', NULL, 'touch_updated_at as an AFTER trigger: 39P01');

SELECT * FROM finish();
ROLLBACK;
