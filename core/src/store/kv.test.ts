import { describe, it } from 'node:test';
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

  it('a read-only store reads and refuses writes', () => {
    const dir = freshDir();
    const w = Store.open(dir);
    w.kv.set('k', 'v');
    const r = Store.open(dir, { readonly: true });
    try {
      assert.equal(r.kv.get('k'), 'v');
      assert.throws(() => r.kv.set('k', 'x'), isCode(ErrorCodes.USAGE, /read-only/));
      assert.throws(() => r.kv.delete('k'), isCode(ErrorCodes.USAGE, /read-only/));
    } finally {
      r.close();
      w.close();
    }
  });
});
