import { it } from 'node:test';
import assert from 'node:assert/strict';
import { batchIterator } from './batch-iterator.js';
import { guardRecords } from '../host/guard.js';
import { PluginError } from '../api/errors.js';

/** a batch iterator over lines fed in pieces: each piece becomes one batch of its numbers */
function numbers(pieces: string[], failAt?: number) {
  let batch: number[] = [];
  let failed: unknown;
  async function* texts() {
    yield* pieces;
  }
  return batchIterator<number>(
    () => batch.splice(0),
    () => failed,
    texts(),
    (t) => {
      for (const s of t.split(',').filter(Boolean)) {
        if (Number(s) === failAt) failed = new Error(`bad ${s}`);
        else if (failed === undefined) batch.push(Number(s));
      }
    },
  );
}

it('nextBatch hands out the rest of a batch, then whole batches; mixed with next() the order is kept', async () => {
  const it1 = numbers(['1,2,3', '4,5', '', '6']);
  assert.deepEqual(await it1.next(), { value: 1, done: false });
  assert.deepEqual(await it1.nextBatch(), [2, 3]);
  assert.deepEqual(await it1.nextBatch(), [4, 5]);
  assert.deepEqual(await it1.next(), { value: 6, done: false });
  assert.equal(await it1.nextBatch(), undefined);
});

it('nextBatch: the records before a bad one, then its error; through guardRecords the error names the plugin', async () => {
  const guarded = guardRecords('format-x', 'format.decodePrices', numbers(['1,2', '3,4,5'], 4));
  assert.equal(typeof guarded.nextBatch, 'function', 'the batches survive the guard');
  assert.deepEqual(await guarded.nextBatch!(), [1, 2]);
  assert.deepEqual(await guarded.nextBatch!(), [3]);
  await assert.rejects(guarded.nextBatch!(), (e: unknown) => e instanceof PluginError && /bad 4/.test(e.message) && e.details.pluginId === 'format-x');
  // an iterable without batches gets none from the guard: the core gathers its records itself
  async function* plain() {
    yield 1;
  }
  const g2 = guardRecords('format-y', 'format.decodePrices', plain());
  assert.equal(g2.nextBatch, undefined);
  assert.deepEqual(await g2.next(), { value: 1, done: false });
});
