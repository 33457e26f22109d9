-- 70_files_uuidv7.sql - schemakit.files (1.1) and the UUIDv7 functions:
-- the files table and its checks, the version-7 default filename, and
-- uuidv7() / uuidv7_time(): version and variant bits, strict increase over
-- 100000 values in one statement, distinctness, the embedded time against
-- clock_timestamp(), decoding of known values, the 22023 for anything that is
-- not a version 7 UUID, and the function flags.
BEGIN;
SELECT plan(99);

-------------------------------------------------------------------------------
-- files: shape
-------------------------------------------------------------------------------
SELECT has_table('schemakit', 'files', 'table schemakit.files exists');

CREATE TEMP TABLE expected_columns (col name, typ text, not_null boolean, ord serial);
INSERT INTO expected_columns (col, typ, not_null) VALUES
    ('id',            'bigint',                   true),
    ('user_id',       'bigint',                   true),
    ('filename',      'text',                     true),
    ('original_name', 'text',                     true),
    ('mime_type',     'text',                     true),
    ('size',          'bigint',                   true),
    ('created_at',    'timestamp with time zone', true);

SELECT has_column('schemakit', 'files', col, format('column files.%s exists', col))
  FROM expected_columns ORDER BY ord;
SELECT col_type_is('schemakit', 'files', col, typ, format('column files.%s is %s', col, typ))
  FROM expected_columns ORDER BY ord;
SELECT col_not_null('schemakit', 'files', col, format('column files.%s is NOT NULL', col))
  FROM expected_columns ORDER BY ord;
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'schemakit.files'::regclass AND attnum > 0 AND NOT attisdropped),
          (SELECT array_agg(col::text ORDER BY ord) FROM expected_columns),
          'files has exactly these columns, in this order');

SELECT col_is_pk('schemakit', 'files', 'id', 'files.id is the primary key');
SELECT col_default_is('schemakit', 'files', 'filename', '(schemakit.uuidv7())::text'::text,
                      'files.filename defaults to schemakit.uuidv7()::text');
SELECT col_default_is('schemakit', 'files', 'created_at', 'now()'::text, 'files.created_at defaults to now()');
SELECT fk_ok('schemakit', 'files', 'user_id', 'schemakit', 'users', 'id', 'files.user_id references users.id');
SELECT is((SELECT confdeltype::text FROM pg_constraint
            WHERE conrelid = 'schemakit.files'::regclass AND contype = 'f'),
          'c', 'the foreign key to users is ON DELETE CASCADE');
SELECT col_is_unique('schemakit', 'files', 'filename', 'files.filename is unique');
SELECT has_index('schemakit', 'files', 'files_user_id_idx', 'user_id'::name, 'index files_user_id_idx on user_id');

-------------------------------------------------------------------------------
-- files: the default filename is a version 7 UUID
-------------------------------------------------------------------------------
INSERT INTO schemakit.users (username) VALUES ('files-ada'), ('files-bob');
CREATE TEMP TABLE u AS
SELECT (SELECT id FROM schemakit.users WHERE username = 'files-ada') AS ada,
       (SELECT id FROM schemakit.users WHERE username = 'files-bob') AS bob;

INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
SELECT (SELECT ada FROM u), 'photo' || g || '.jpg', 'image/jpeg', g * 1024
  FROM generate_series(1, 5) g;

SELECT is((SELECT count(*) FROM schemakit.files
            WHERE user_id = (SELECT ada FROM u)
              AND filename ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'),
          5::bigint, 'every default filename is the text of a version 7, variant 10 UUID');
SELECT is((SELECT count(*) FROM schemakit.files
            WHERE user_id = (SELECT ada FROM u)
              AND schemakit.uuidv7_time(filename::uuid)
                  BETWEEN date_trunc('milliseconds', now()) AND clock_timestamp()),
          5::bigint, 'each default filename carries a time between the transaction start and now');
SELECT is((SELECT array_agg(filename ORDER BY id) FROM schemakit.files WHERE user_id = (SELECT ada FROM u)),
          (SELECT array_agg(filename ORDER BY filename) FROM schemakit.files WHERE user_id = (SELECT ada FROM u)),
          'default filenames sort in insertion order');
SELECT is((SELECT count(DISTINCT filename) FROM schemakit.files), 5::bigint, 'default filenames are distinct');

-------------------------------------------------------------------------------
-- files: checks
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.ins(name text, mime text, sz bigint, fname text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
    SELECT CASE WHEN fname IS NULL
           THEN format('INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (%s, %L, %L, %s)',
                       (SELECT bob FROM u), name, mime, coalesce(sz::text, 'NULL'))
           ELSE format('INSERT INTO schemakit.files (user_id, original_name, mime_type, size, filename) VALUES (%s, %L, %L, %s, %L)',
                       (SELECT bob FROM u), name, mime, coalesce(sz::text, 'NULL'), fname)
           END
$$;

SELECT throws_ok(pg_temp.ins('a.bin', 'application/octet-stream', -1), '23514',
                 'new row for relation "files" violates check constraint "files_size_check"',
                 'a negative size raises 23514 (files_size_check)');
SELECT lives_ok(pg_temp.ins('empty.txt', 'text/plain', 0), 'a size of 0 is accepted');
SELECT lives_ok(pg_temp.ins('big.iso', 'application/x-iso9660-image', 9223372036854775807),
                'the largest bigint size is accepted');
SELECT throws_ok(pg_temp.ins('a.bin', 'application/octet-stream', NULL), '23502', NULL, 'a NULL size raises 23502');

SELECT lives_ok(pg_temp.ins('ok' || i, m, 1), format('mime_type %L is accepted', m))
  FROM unnest(ARRAY['image/jpeg', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
                    'text/plain; charset="utf-8"', 'x/y']) WITH ORDINALITY AS t(m, i);  -- with parameters
SELECT throws_ok(pg_temp.ins('bad', m, 1), '23514',
                 'new row for relation "files" violates check constraint "files_mime_type_check"',
                 format('mime_type %s raises 23514', CASE WHEN char_length(m) > 40 THEN 'of 256 characters'
                                                   ELSE replace(quote_literal(m), E'\n', '\n') END))
  FROM unnest(ARRAY['', 'imagejpeg', 'image/', '/jpeg', 'image/jpeg/x', 'image /jpeg', 'image/ jpeg',
                    'text/plain; charset', E'image/jpeg\n', repeat('a', 127) || '/' || repeat('b', 128)]) AS m;
SELECT lives_ok(pg_temp.ins('max-mime', repeat('a', 127) || '/' || repeat('b', 127), 1),
                'a mime_type of 255 characters is accepted');
SELECT throws_ok(pg_temp.ins('bad', NULL, 1), '23502', NULL, 'a NULL mime_type raises 23502');

SELECT throws_ok(pg_temp.ins(n, 'text/plain', 1), '23514',
                 'new row for relation "files" violates check constraint "files_original_name_check"',
                 format('an original_name of %s characters raises 23514', char_length(n)))
  FROM unnest(ARRAY['', repeat('n', 256)]) AS n;
SELECT throws_ok(pg_temp.ins('x', 'text/plain', 1, ''), '23514',
                 'new row for relation "files" violates check constraint "files_filename_check"',
                 'an empty filename raises 23514');
SELECT lives_ok(pg_temp.ins('x', 'text/plain', 1, 'explicit-name'), 'an explicit filename is accepted');
SELECT throws_ok(pg_temp.ins('y', 'text/plain', 1, 'explicit-name'), '23505',
                 'duplicate key value violates unique constraint "files_filename_key"',
                 'a duplicate filename raises 23505');
SELECT throws_ok($$INSERT INTO schemakit.files (user_id, original_name, mime_type, size) VALUES (-1, 'x', 'a/b', 1)$$,
                 '23503', NULL, 'a file of a missing user violates the foreign key');

SELECT is((SELECT count(*) FROM schemakit.files WHERE user_id = (SELECT bob FROM u)), 8::bigint,
          'only the accepted rows were stored');

-- Deleting a user deletes their files, and only theirs.
DELETE FROM schemakit.users WHERE id = (SELECT ada FROM u);
SELECT is((SELECT count(*) FROM schemakit.files WHERE user_id = (SELECT ada FROM u)), 0::bigint,
          'deleting the user deleted their files');
SELECT is((SELECT count(*) FROM schemakit.files WHERE user_id = (SELECT bob FROM u)), 8::bigint,
          'the other user''s files are kept');

-------------------------------------------------------------------------------
-- uuidv7(): function flags
-------------------------------------------------------------------------------
SELECT function_returns('schemakit', 'uuidv7', ARRAY[]::name[], 'uuid', 'uuidv7() returns uuid');
SELECT volatility_is('schemakit', 'uuidv7', ARRAY[]::name[], 'volatile', 'uuidv7() is VOLATILE');
SELECT is_strict('schemakit', 'uuidv7', ARRAY[]::name[], 'uuidv7() is STRICT');
SELECT function_returns('schemakit', 'uuidv7_time', ARRAY['uuid']::name[], 'timestamp with time zone',
                        'uuidv7_time(uuid) returns timestamptz');
SELECT volatility_is('schemakit', 'uuidv7_time', ARRAY['uuid']::name[], 'immutable', 'uuidv7_time(uuid) is IMMUTABLE');
SELECT is_strict('schemakit', 'uuidv7_time', ARRAY['uuid']::name[], 'uuidv7_time(uuid) is STRICT');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'schemakit.uuidv7()'::regprocedure),
          's', 'uuidv7() is PARALLEL SAFE');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'schemakit.uuidv7_time(uuid)'::regprocedure),
          's', 'uuidv7_time(uuid) is PARALLEL SAFE');
SELECT function_lang_is('schemakit', f, a, 'c', format('%s is written in C', f))
  FROM (VALUES ('uuidv7', ARRAY[]::name[]), ('uuidv7_time', ARRAY['uuid']::name[])) AS t(f, a);

-------------------------------------------------------------------------------
-- uuidv7(): the embedded time
-------------------------------------------------------------------------------
-- Left to right: the clock, the UUID, the clock again.  The UUID carries
-- milliseconds, so its time lies in [floor_ms(t0), t1] for a fresh state;
-- a few ms of slack allow for a state that ran ahead of the clock.
CREATE TEMP TABLE t AS
SELECT clock_timestamp() AS t0, schemakit.uuidv7() AS u, clock_timestamp() AS t1;
SELECT cmp_ok(schemakit.uuidv7_time((SELECT u FROM t)), '>=',
              (SELECT date_trunc('milliseconds', t0) - interval '5 ms' FROM t),
              'uuidv7_time(uuidv7()) is no more than 5 ms before clock_timestamp() at the call');
SELECT cmp_ok(schemakit.uuidv7_time((SELECT u FROM t)), '<=', (SELECT t1 + interval '5 ms' FROM t),
              'uuidv7_time(uuidv7()) is no more than 5 ms after clock_timestamp() at the call');
SELECT is(schemakit.uuidv7_time((SELECT u FROM t)), date_trunc('milliseconds', schemakit.uuidv7_time((SELECT u FROM t))),
          'uuidv7_time has millisecond precision');

-------------------------------------------------------------------------------
-- uuidv7(): 100000 values, in generation order
-------------------------------------------------------------------------------
CREATE TEMP TABLE v7 AS
SELECT g, schemakit.uuidv7() AS u FROM generate_series(1, 100000) g;
CREATE TEMP TABLE v7_end AS SELECT clock_timestamp() AS t;

SELECT is((SELECT count(*) FROM v7), 100000::bigint, '100000 values generated');
SELECT is((SELECT count(*) FROM (SELECT u, lag(u) OVER (ORDER BY g) AS prev FROM v7) s WHERE u <= prev),
          0::bigint, 'each value is strictly greater than the one generated before it');
SELECT is((SELECT count(DISTINCT u) FROM v7), 100000::bigint, 'all 100000 values are distinct');
SELECT is((SELECT count(*) FROM v7 WHERE get_byte(uuid_send(u), 6) >> 4 <> 7), 0::bigint,
          'every value has version nibble 7');
SELECT is((SELECT count(*) FROM v7 WHERE get_byte(uuid_send(u), 8) >> 6 <> 2), 0::bigint,
          'every value has variant bits 10');
SELECT is((SELECT count(*) FROM (SELECT schemakit.uuidv7_time(u) AS ts,
                                        lag(schemakit.uuidv7_time(u)) OVER (ORDER BY g) AS prev FROM v7) s
            WHERE ts < prev),
          0::bigint, 'their times never go back');
-- A strictly increasing state advances by at most 245 ns per value beyond
-- the clock, so 100000 values can run at most 24.5 ms ahead of it.
SELECT cmp_ok((SELECT schemakit.uuidv7_time(u) FROM v7 WHERE g = 100000), '<=',
              (SELECT t + interval '25 ms' FROM v7_end),
              'the last value is at most 25 ms ahead of the clock');
SELECT cmp_ok((SELECT schemakit.uuidv7_time(u) FROM v7 WHERE g = 1), '>=',
              (SELECT date_trunc('milliseconds', t1) FROM t),
              'the first value is not before the earlier single call');
-- rand_b (the 62 bits after the variant) is random: no two values share it.
SELECT is((SELECT count(DISTINCT substr(uuid_send(u), 9, 8)) FROM v7), 100000::bigint,
          'the random tail (rand_b) differs in every value');

-------------------------------------------------------------------------------
-- uuidv7_time(): known values and rejected input
-------------------------------------------------------------------------------
SELECT is(schemakit.uuidv7_time('018f2b3c-4d5e-7abc-8def-0123456789ab'),
          '2024-04-29 19:02:03.358+00'::timestamptz, 'uuidv7_time decodes a known value');
SELECT is(schemakit.uuidv7_time('00000000-0000-7000-8000-000000000000'),
          '1970-01-01 00:00:00+00'::timestamptz, 'the smallest version 7 UUID is the Unix epoch');
SELECT is(schemakit.uuidv7_time('ffffffff-ffff-7fff-bfff-ffffffffffff'),
          '10889-08-02 05:31:50.655+00'::timestamptz, 'the largest version 7 UUID is 2^48 - 1 ms after the epoch');
SELECT is(schemakit.uuidv7_time(NULL), NULL, 'uuidv7_time(NULL) is NULL');

SELECT throws_ok($$SELECT schemakit.uuidv7_time(gen_random_uuid())$$,
                 '22023', 'uuid is not a version 7 UUID', 'a version 4 UUID raises 22023');
SELECT throws_ok($$SELECT schemakit.uuidv7_time('00000000-0000-0000-0000-000000000000')$$,
                 '22023', 'uuid is not a version 7 UUID', 'the nil UUID raises 22023');
SELECT throws_ok($$SELECT schemakit.uuidv7_time('ffffffff-ffff-ffff-ffff-ffffffffffff')$$,
                 '22023', 'uuid is not a version 7 UUID', 'the max UUID raises 22023');
SELECT throws_ok($$SELECT schemakit.uuidv7_time('c232ab00-9414-11ec-b3c8-9f6bdeced846')$$,
                 '22023', 'uuid is not a version 7 UUID', 'a version 1 UUID raises 22023');
SELECT throws_ok(format('SELECT schemakit.uuidv7_time(%L)', v),
                 '22023', 'uuid is not a version 7 UUID',
                 format('version 7 with variant nibble %s raises 22023', substr(v, 20, 1)))
  FROM unnest(ARRAY['018f2b3c-4d5e-7abc-0def-0123456789ab', '018f2b3c-4d5e-7abc-7def-0123456789ab',
                    '018f2b3c-4d5e-7abc-cdef-0123456789ab', '018f2b3c-4d5e-7abc-fdef-0123456789ab']) AS v;
SELECT throws_ok(format('SELECT schemakit.uuidv7_time(%L)', v),
                 '22023', 'uuid is not a version 7 UUID',
                 format('variant 10 with version nibble %s raises 22023', substr(v, 15, 1)))
  FROM unnest(ARRAY['018f2b3c-4d5e-6abc-8def-0123456789ab', '018f2b3c-4d5e-8abc-8def-0123456789ab']) AS v;

SELECT * FROM finish();
ROLLBACK;
