import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyWriter } from './copy-writer.js';

const bytes = (s: string) => new TextEncoder().encode(s);

test('CopyWriter writes a group in order on its thread, making a missing day dir; the files are the bytes given', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cfx-copies-'));
  const w = new CopyWriter();
  try {
    const dir = join(root, '2025-03-01');
    const files = ['a', 'b', 'c'].map((n) => ({ dir, file: join(dir, `${n}.csv`), bytes: bytes(`sale ${n}\n`) }));
    const done = w.write(files);
    assert.equal(done.length, 3);
    await Promise.all(done);
    assert.deepEqual(files.map((f) => readFileSync(f.file, 'utf8')), ['sale a\n', 'sale b\n', 'sale c\n']);
    // a second group into the same (now existing) dir
    await Promise.all(w.write([{ dir, file: join(dir, 'd.csv'), bytes: bytes('sale d\n') }]));
    assert.equal(readFileSync(join(dir, 'd.csv'), 'utf8'), 'sale d\n');
  } finally {
    await w.close();
  }
});

test('CopyWriter: a write that fails fails its file and the rest of its group, the files before it are written', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cfx-copies-'));
  const blocker = join(root, 'not-a-dir');
  writeFileSync(blocker, 'x'); // a file where a day dir should be: ENOTDIR
  const w = new CopyWriter();
  try {
    const ok = join(root, 'ok');
    const done = w.write([
      { dir: ok, file: join(ok, '1.csv'), bytes: bytes('one') },
      { dir: blocker, file: join(blocker, '2.csv'), bytes: bytes('two') },
      { dir: ok, file: join(ok, '3.csv'), bytes: bytes('three') },
    ]);
    const settled = await Promise.allSettled(done);
    assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected', 'rejected']);
    assert.equal((settled[1] as PromiseRejectedResult).reason.code, 'ENOTDIR');
    assert.equal(readFileSync(join(ok, '1.csv'), 'utf8'), 'one');
    // the writer goes on after a failed group
    await Promise.all(w.write([{ dir: ok, file: join(ok, '4.csv'), bytes: bytes('four') }]));
    assert.equal(readFileSync(join(ok, '4.csv'), 'utf8'), 'four');
  } finally {
    await w.close();
  }
});
