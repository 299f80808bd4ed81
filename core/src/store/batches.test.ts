import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './index.js';
import { file, input, keys, officeSale, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-batches-');
const open = (): Store => Store.open(freshDir());

describe('delivery batches', () => {
  it('delivery batches: one per terminal, assigned in one step, delivered once; a new run only takes new sales', () => {
    const s = open();
    try {
      s.collected.collect(file('f1'), [input(officeSale('box-2', 'B1', 1)), input(officeSale('box-1', 'A2', 2, '2025-03-15', 11)), input(officeSale('box-1', 'A1', 3, '2025-03-15', 9))]);
      const batches = s.batches.createNew('generic');
      assert.deepEqual(batches.map((b) => [b.terminalId, b.kind, b.state, b.sales, b.backoffice]), [['box-1', 'new', 'assigned', 2, 'generic'], ['box-2', 'new', 'assigned', 1, 'generic']]);
      assert.match(batches[0]!.id, /^\d{8}T\d{6}Z-000001$/);
      assert.match(batches[1]!.id, /-000002$/);
      assert.deepEqual(keys(s.batches.sales(batches[0]!.id)), ['box-1/A1', 'box-1/A2'], 'by time');
      assert.deepEqual(s.batches.createNew('generic'), [], 'nothing left to assign');
      assert.deepEqual(s.batches.assigned().map((b) => b.id), batches.map((b) => b.id), 'assigned until confirmed');
      assert.equal(s.collected.list({ pending: true }).length, 3, 'assigned is not delivered yet');
      assert.equal(s.collected.counts().undelivered, 3);

      assert.equal(s.batches.markFailed(batches[0]!.id, 'disk full'), true);
      assert.deepEqual([s.batches.get(batches[0]!.id)!.attempts, s.batches.get(batches[0]!.id)!.lastError], [1, 'disk full']);
      assert.equal(s.batches.markDelivered(batches[0]!.id), true);
      assert.equal(s.batches.markDelivered(batches[0]!.id), false, 'once');
      assert.equal(s.batches.markDelivered(batches[1]!.id), true);
      assert.deepEqual(s.batches.assigned(), []);
      const b = s.batches.get(batches[0]!.id)!;
      assert.deepEqual([b.state, b.attempts, b.lastError, typeof b.deliveredAt], ['delivered', 2, undefined, 'string']);
      assert.ok(s.collected.get('box-1', 'A1')!.deliveredAt);
      assert.deepEqual(s.collected.counts(), { collected: 3, undelivered: 0, assignedBatches: 0 });

      s.collected.collect(file('f2'), [input(officeSale('box-1', 'A3', 4))]);
      const next = s.batches.createNew('generic');
      assert.deepEqual(next.map((x) => [x.terminalId, x.sales]), [['box-1', 1]]);
      assert.deepEqual(keys(s.batches.sales(next[0]!.id)), ['box-1/A3']);
    } finally {
      s.close();
    }
  });

  it('splits a big backlog into batches of maxSales', () => {
    const s = open();
    try {
      s.collected.collect(file('f'), Array.from({ length: 7 }, (_, i) => input(officeSale('box-1', `S${i}`, i + 1, '2025-03-15', 10 + i))));
      const b = s.batches.createNew('generic', { maxSales: 3 });
      assert.deepEqual(b.map((x) => x.sales), [3, 3, 1]);
      assert.deepEqual(b.flatMap((x) => keys(s.batches.sales(x.id))), Array.from({ length: 7 }, (_, i) => `box-1/S${i}`));
    } finally {
      s.close();
    }
  });

  it('redelivery batches hold exactly the delivered sales of the period', () => {
    const s = open();
    try {
      s.collected.collect(file('f'), [
        input(officeSale('box-1', 'D14', 1, '2025-03-14')),
        input(officeSale('box-1', 'D15', 2, '2025-03-15')),
        input(officeSale('box-2', 'E15', 3, '2025-03-15')),
        input(officeSale('box-1', 'D16', 4, '2025-03-16')),
      ]);
      for (const b of s.batches.createNew('generic')) s.batches.markDelivered(b.id);
      s.collected.collect(file('g'), [input(officeSale('box-1', 'N15', 5, '2025-03-15'))]); // collected, not yet delivered
      const rb = s.batches.createRedelivery('generic', '2025-03-15', '2025-03-16');
      assert.deepEqual(rb.map((b) => [b.terminalId, b.kind, b.fromDate, b.toDate, b.sales]), [['box-1', 'redeliver', '2025-03-15', '2025-03-16', 2], ['box-2', 'redeliver', '2025-03-15', '2025-03-16', 1]]);
      assert.deepEqual(keys(s.batches.sales(rb[0]!.id)), ['box-1/D15', 'box-1/D16']);
      assert.equal(s.collected.get('box-1', 'N15')!.batchId, undefined, 'a redelivery does not touch undelivered sales');
      const firstBatch = s.collected.get('box-1', 'D15')!.batchId;
      s.batches.markDelivered(rb[0]!.id);
      assert.equal(s.collected.get('box-1', 'D15')!.batchId, firstBatch, 'the first delivery stays on record');
    } finally {
      s.close();
    }
  });
});
