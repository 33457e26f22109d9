// The .d.ts files: regenerated from src/ they equal the committed types/,
// and test/types/assertions.ts type-checks against them (ids number,
// timestamps Date, generated and identity columns not insertable,
// migrations read-only).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';

const run = promisify(execFile);
const PKG = new URL('..', import.meta.url).pathname;
const tsc = join(PKG, 'node_modules/.bin/tsc');

test('types: types/ is what tsc generates from src/ (npm run types)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-types-'));
  try {
    await run(tsc, ['-p', 'tsconfig.json', '--outDir', dir], { cwd: PKG });
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, (await readdir(join(PKG, 'types'))).sort());
    for (const n of names) {
      assert.equal(await readFile(join(PKG, 'types', n), 'utf8'), await readFile(join(dir, n), 'utf8'), n);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('types: the type assertions compile (tsc --noEmit)', async () => {
  await run(tsc, ['-p', 'test/types/tsconfig.json'], { cwd: PKG }).catch((e) => {
    assert.fail(`${e.stdout}${e.stderr}`);
  });
});
