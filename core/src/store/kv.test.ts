import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../api/errors.js';
import { Store } from './index.js';
import { isCode, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-kv-');

describe('kv', () => {
  it('sets, overwrites, reads and deletes a key; a prefix delete takes only the keys under it', () => {
    const s = Store.open(freshDir());
    try {
      assert.equal(s.kv.get('a'), undefined);
      s.kv.set('a', '1');
      s.kv.set('a', '2');
      assert.equal(s.kv.get('a'), '2');
      for (const k of ['pub.', 'pub.box-1', 'pub.box-2', 'pub/x', 'puc']) s.kv.set(k, k);
      assert.equal(s.kv.delete('a'), 1);
      assert.equal(s.kv.delete('a'), 0);
      assert.equal(s.kv.delete('pub.', { prefix: true }), 3);
      assert.deepEqual(['pub.', 'pub.box-1', 'pub/x', 'puc'].map((k) => s.kv.get(k)), [undefined, undefined, 'pub/x', 'puc']);
    } finally {
      s.close();
    }
  });

  it('increment: two writers on one journal at once never get the same number (a publish beside cfx run)', async () => {
    const dir = freshDir();
    Store.open(dir).close();
    const storeUrl = new URL('./index.js', import.meta.url).href;
    // two threads, two connections to the same files, as two processes would be
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.storeUrl).then(({ Store }) => {
        const s = Store.open(workerData.dir);
        const got = [];
        for (let i = 0; i < 300; i++) got.push(s.kv.increment('publish.seq'));
        s.close();
        parentPort.postMessage(got);
      });`;
    const run = () =>
      new Promise<number[]>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { dir, storeUrl } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(), run()]);
    const all = [...a, ...b].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 600 }, (_, i) => i + 1));
    const s = Store.open(dir);
    try {
      assert.equal(s.kv.get('publish.seq'), '600');
      s.kv.set('other', '41');
      assert.equal(s.kv.increment('other'), 42);
    } finally {
      s.close();
    }
  });

  it('a read-only store reads and refuses writes', () => {
    const dir = freshDir();
    const w = Store.open(dir);
    w.kv.set('k', 'v');
    const r = Store.open(dir, { readonly: true });
    try {
      assert.equal(r.kv.get('k'), 'v');
      assert.throws(() => r.kv.set('k', 'x'), isCode(ErrorCodes.USAGE, /read-only/));
      assert.throws(() => r.kv.delete('k'), isCode(ErrorCodes.USAGE, /read-only/));
      assert.throws(() => r.kv.increment('k'), isCode(ErrorCodes.USAGE, /read-only/));
    } finally {
      r.close();
      w.close();
    }
  });
});
