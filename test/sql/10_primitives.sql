--
-- 10_primitives: public_id(), random_code() and random_token().  Their
-- results are random, so the output shows shapes, lengths and counts; every
-- argument error is shown with its SQLSTATE (see regress.err in 00_install).
--
\set SHOW_CONTEXT never

--------------------------------------------------------------------------
-- public_id(size, alphabet)
--------------------------------------------------------------------------

-- Defaults: 10 symbols of 0-9A-Za-z.
SELECT length(schemakit.public_id()) AS len,
       schemakit.public_id() ~ '^[0-9A-Za-z]{10}$' AS shape;
SELECT length(schemakit.public_id(21)) AS len,
       schemakit.public_id(21) ~ '^[0-9A-Za-z]{21}$' AS shape;

-- Size bounds 1 and 1024.
SELECT length(schemakit.public_id(1)) AS len1,
       length(schemakit.public_id(1024)) AS len1024,
       schemakit.public_id(1024) ~ '^[0-9A-Za-z]+$' AS shape1024;

-- Only symbols of the alphabet, and (over 1000 draws) all of them.
SELECT length(x) AS len, x ~ '^[ab]+$' AS only_ab,
       strpos(x, 'a') > 0 AND strpos(x, 'b') > 0 AS both_used
  FROM schemakit.public_id(1000, 'ab') AS x;
SELECT count(DISTINCT c) AS symbols_seen
  FROM regexp_split_to_table(schemakit.public_id(1000, '0123456789'), '') AS c;
SELECT schemakit.public_id(1000, 'ab') ~ '^[ab]+$' AS shape;

-- Different calls give different IDs.
SELECT count(DISTINCT schemakit.public_id()) AS distinct_ids
  FROM generate_series(1, 1000);

-- Multibyte symbols are whole characters.
SELECT char_length(x) AS chars, octet_length(x) AS bytes,
       x ~ '^[αβγ]{7}$' AS shape
  FROM schemakit.public_id(7, 'αβγ') AS x;
SELECT char_length(x) AS chars, octet_length(x) AS bytes,
       x ~ '^[αβγ]+$' AS shape,
       strpos(x, 'α') > 0 AND strpos(x, 'β') > 0 AND strpos(x, 'γ') > 0 AS all_used
  FROM schemakit.public_id(1000, 'αβγ') AS x;
-- Symbols of 1, 2, 3 and 4 bytes mixed: the byte length is the sum.
SELECT char_length(x) AS chars,
       octet_length(x) = char_length(regexp_replace(x, '[^a]', '', 'g'))
                         + 2 * char_length(regexp_replace(x, '[^β]', '', 'g'))
                         + 3 * char_length(regexp_replace(x, '[^€]', '', 'g'))
                         + 4 * char_length(regexp_replace(x, '[^😀]', '', 'g'))
         AS bytes_add_up,
       x ~ '^[aβ€😀]+$' AS shape,
       strpos(x, 'a') > 0 AND strpos(x, 'β') > 0 AND strpos(x, '€') > 0
         AND strpos(x, '😀') > 0 AS all_used
  FROM schemakit.public_id(500, 'aβ€😀') AS x;

-- 256 symbols is the maximum: 256 four-byte characters (1024 bytes) ...
SELECT char_length(x) AS chars, octet_length(x) AS bytes
  FROM schemakit.public_id(5, (SELECT string_agg(chr(65536 + i), '' ORDER BY i)
                                 FROM generate_series(0, 255) AS i)) AS x;
-- ... 256 two-byte characters, and a mix of ASCII and two-byte ones.
SELECT char_length(x) AS chars, octet_length(x) AS bytes
  FROM schemakit.public_id(5, (SELECT string_agg(chr(256 + i), '' ORDER BY i)
                                 FROM generate_series(0, 255) AS i)) AS x;
SELECT char_length(x) AS chars
  FROM schemakit.public_id(300, (SELECT string_agg(chr(i), '' ORDER BY i)
                                   FROM generate_series(1, 256) AS i)) AS x;

-- One query, several alphabets: each row uses its own.
SELECT a, x ~ ('^[' || a || ']{8}$') AS own_alphabet, char_length(x) AS chars
  FROM (VALUES (1, 'ab'), (2, 'αβ'), (3, 'ab'), (4, 'xyz'), (5, 'αβ')) AS v(n, a),
       LATERAL schemakit.public_id(8, a) AS x
 ORDER BY n;

-- STRICT: a NULL argument gives NULL.
SELECT schemakit.public_id(NULL) IS NULL AS null_size,
       schemakit.public_id(10, NULL) IS NULL AS null_alphabet,
       schemakit.public_id(NULL, NULL) IS NULL AS both_null;

-- Errors.
SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('size 0',         $$SELECT schemakit.public_id(0)$$),
    ('size -1',        $$SELECT schemakit.public_id(-1)$$),
    ('size 1025',      $$SELECT schemakit.public_id(1025)$$),
    ('size min int',   $$SELECT schemakit.public_id(-2147483648)$$),
    ('bad size, bad alphabet', $$SELECT schemakit.public_id(0, 'a')$$),
    ('empty alphabet', $$SELECT schemakit.public_id(10, '')$$),
    ('one symbol',     $$SELECT schemakit.public_id(10, 'a')$$),
    ('one multibyte',  $$SELECT schemakit.public_id(10, 'α')$$),
    ('257 symbols',    $$SELECT schemakit.public_id(10, (SELECT string_agg(chr(256 + i), '') FROM generate_series(0, 256) AS i))$$),
    ('257 4-byte',     $$SELECT schemakit.public_id(10, (SELECT string_agg(chr(65536 + i), '') FROM generate_series(0, 256) AS i))$$),
    ('2000 bytes',     $$SELECT schemakit.public_id(10, repeat('a', 2000))$$),
    ('aa',             $$SELECT schemakit.public_id(10, 'aa')$$),
    ('aba',            $$SELECT schemakit.public_id(10, 'aba')$$),
    ('abcdefga',       $$SELECT schemakit.public_id(10, 'abcdefga')$$),
    ('αβα',            $$SELECT schemakit.public_id(10, 'αβα')$$),
    ('aαbα',           $$SELECT schemakit.public_id(10, 'aαbα')$$),
    ('😀a😀',          $$SELECT schemakit.public_id(10, '😀a😀')$$),
    ('αabcda',         $$SELECT schemakit.public_id(10, 'αabcda')$$)
  ) AS v(label, stmt);

-- The DETAIL names the repeated symbol itself, also when the alphabet
-- parsed just before (the same call site, so the same cached parse) was a
-- longer one.
SELECT regress.err($$SELECT schemakit.public_id(1, a)
                      FROM (VALUES (1, 'αβγδεζ'), (2, 'xyzx')) AS v(n, a)$$) AS error;
SELECT regress.err($$SELECT schemakit.public_id(1, a)
                      FROM (VALUES (1, 'abcdefghij'), (2, 'abcdeb')) AS v(n, a)$$) AS error;

--------------------------------------------------------------------------
-- random_code(digits)
--------------------------------------------------------------------------

SELECT schemakit.random_code() ~ '^[0-9]{6}$' AS default_6_digits,
       schemakit.random_code(1) ~ '^[0-9]$' AS one_digit,
       schemakit.random_code(6) ~ '^[0-9]{6}$' AS six_digits,
       schemakit.random_code(12) ~ '^[0-9]{12}$' AS twelve_digits;

-- Every digit occurs, leading zeros are kept.
SELECT count(DISTINCT schemakit.random_code(1)) AS digits_seen
  FROM generate_series(1, 1000);
SELECT bool_and(c ~ '^[0-9]{2}$') AS all_two_digits,
       bool_or(c LIKE '0%') AS some_leading_zero
  FROM (SELECT schemakit.random_code(2) AS c FROM generate_series(1, 1000)) AS s;
SELECT count(DISTINCT schemakit.random_code(12)) AS distinct_codes
  FROM generate_series(1, 100);

SELECT schemakit.random_code(NULL) IS NULL AS null_digits;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('digits 0',  $$SELECT schemakit.random_code(0)$$),
    ('digits -1', $$SELECT schemakit.random_code(-1)$$),
    ('digits 13', $$SELECT schemakit.random_code(13)$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- random_token(nbytes)
--------------------------------------------------------------------------

-- Unpadded base64url: ceil(4 * nbytes / 3) characters of A-Za-z0-9-_.
SELECT n, length(t) AS len, t ~ '^[A-Za-z0-9_-]+$' AS base64url,
       length(decode(rpad(translate(t, '-_', '+/'), (length(t) + 3) / 4 * 4, '='),
                     'base64')) AS decoded_bytes
  FROM (VALUES (16), (17), (18), (32), (33), (1024)) AS v(n),
       LATERAL schemakit.random_token(n) AS t
 ORDER BY n;
SELECT length(schemakit.random_token()) AS default_len,
       schemakit.random_token() ~ '^[A-Za-z0-9_-]{43}$' AS default_shape;

-- Over many tokens every base64url character turns up, '-' and '_' included.
SELECT count(DISTINCT c) AS characters_seen,
       bool_or(c = '-') AS has_dash, bool_or(c = '_') AS has_underscore
  FROM regexp_split_to_table(
         (SELECT string_agg(schemakit.random_token(1024), '')
            FROM generate_series(1, 4)), '') AS c;
SELECT count(DISTINCT schemakit.random_token(16)) AS distinct_tokens
  FROM generate_series(1, 1000);

SELECT schemakit.random_token(NULL) IS NULL AS null_nbytes;

SELECT label, regress.err(stmt) AS error
  FROM (VALUES
    ('nbytes 0',    $$SELECT schemakit.random_token(0)$$),
    ('nbytes 15',   $$SELECT schemakit.random_token(15)$$),
    ('nbytes 1025', $$SELECT schemakit.random_token(1025)$$),
    ('nbytes -1',   $$SELECT schemakit.random_token(-1)$$)
  ) AS v(label, stmt);

--------------------------------------------------------------------------
-- _public_id_take(id): the last value public_id() returned here, true once.
--------------------------------------------------------------------------

SELECT schemakit._public_id_take(x) AS just_generated
  FROM schemakit.public_id(12) AS x;
SELECT schemakit._public_id_take('not-generated') AS other_value,
       schemakit._public_id_take(NULL) IS NULL AS null_id;
SELECT schemakit._public_id_take(x) AS first_take,
       schemakit._public_id_take(x) AS second_take
  FROM schemakit.public_id(12) AS x;
