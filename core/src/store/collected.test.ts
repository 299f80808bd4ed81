import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { Sale } from '../api/model.js';
import { Store, type CollectInput } from './index.js';
import { JOURNAL_MIGRATIONS } from './schema.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-collected-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const open = (): Store => Store.open(join(root, `d${++n}`));

function sale(terminalId: string, saleId: string, total: number, day = '2025-03-15', hour = 10): Sale {
  return {
    saleId,
    terminalId,
    time: `${day}T${String(hour).padStart(2, '0')}:00:00+02:00`,
    kind: 'sale',
    lines: [{ code: '1', qty: 1000, price: total, amount: total }],
    payments: [{ kind: 'cash', amount: total }],
    total,
  };
}
const input = (s: Sale): CollectInput => ({ sale: s, localDate: s.time.slice(0, 10), body: JSON.stringify(s) });
const file = (name: string) => ({ name, size: 100, sha256: `sha-${name}` });
const keys = (list: { terminalId: string; saleId: string }[]) => list.map((c) => `${c.terminalId}/${c.saleId}`);

describe('Store: office inbox (collected sales)', () => {
  it('stores new sales, counts repeats as duplicates, and keeps the body, date, kind and total', () => {
    const s = open();
    try {
      const a = sale('box-1', 'S1', 37000);
      const r1 = s.collectSales(file('box-1_S1.csv'), [input(a)]);
      assert.deepEqual(r1, { stored: 1, duplicates: 0, storedKeys: ['box-1/S1'], duplicateKeys: [] });
      const r2 = s.collectSales(file('box-1_S1.csv'), [input(a), input(sale('box-1', 'S2', 100))]);
      assert.deepEqual([r2.stored, r2.duplicates, r2.duplicateKeys], [1, 1, ['box-1/S1']]);
      const c = s.getCollected('box-1', 'S1')!;
      assert.deepEqual(JSON.parse(c.body), a);
      assert.deepEqual([c.localDate, c.kind, c.total, c.fileName, c.batchId, c.deliveredAt], ['2025-03-15', 'sale', 37000, 'box-1_S1.csv', undefined, undefined]);
      assert.deepEqual(s.collectedCounts(), { collected: 2, undelivered: 2, assignedBatches: 0 });
    } finally {
      s.close();
    }
  });

  it('the same saleId with different content is a conflict: nothing of that file is stored', () => {
    const s = open();
    try {
      s.collectSales(file('a'), [input(sale('box-1', 'S1', 100))]);
      assert.throws(
        () => s.collectSales(file('b'), [input(sale('box-1', 'S9', 900)), input(sale('box-1', 'S1', 999))]),
        (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.SALE_CONFLICT && /S1 of terminal box-1 was already collected \(from a\)/.test(e.message) && e.details.saleId === 'S1',
      );
      assert.equal(s.getCollected('box-1', 'S9'), undefined, 'rolled back');
      assert.equal(s.getCollected('box-1', 'S1')!.total, 100, 'the collected sale is kept');
      // another terminal may use the same saleId
      assert.equal(s.collectSales(file('c'), [input(sale('box-2', 'S1', 999))]).stored, 1);
    } finally {
      s.close();
    }
  });

  it('delivery batches: one per terminal, assigned in one step, delivered once; a new run only takes new sales', () => {
    const s = open();
    try {
      s.collectSales(file('f1'), [input(sale('box-2', 'B1', 1)), input(sale('box-1', 'A2', 2, '2025-03-15', 11)), input(sale('box-1', 'A1', 3, '2025-03-15', 9))]);
      const batches = s.createDeliveryBatches('generic');
      assert.deepEqual(batches.map((b) => [b.terminalId, b.kind, b.state, b.sales, b.backoffice]), [['box-1', 'new', 'assigned', 2, 'generic'], ['box-2', 'new', 'assigned', 1, 'generic']]);
      assert.match(batches[0]!.id, /^\d{8}T\d{6}Z-000001$/);
      assert.match(batches[1]!.id, /-000002$/);
      assert.deepEqual(keys(s.batchSales(batches[0]!.id)), ['box-1/A1', 'box-1/A2'], 'by time');
      assert.deepEqual(s.createDeliveryBatches('generic'), [], 'nothing left to assign');
      assert.deepEqual(s.assignedBatches().map((b) => b.id), batches.map((b) => b.id), 'assigned until confirmed');
      assert.equal(s.listCollected({ pending: true }).length, 3, 'assigned is not delivered yet');
      assert.equal(s.collectedCounts().undelivered, 3);

      assert.equal(s.markBatchFailed(batches[0]!.id, 'disk full'), true);
      assert.deepEqual([s.getBatch(batches[0]!.id)!.attempts, s.getBatch(batches[0]!.id)!.lastError], [1, 'disk full']);
      assert.equal(s.markBatchDelivered(batches[0]!.id), true);
      assert.equal(s.markBatchDelivered(batches[0]!.id), false, 'once');
      assert.equal(s.markBatchDelivered(batches[1]!.id), true);
      assert.deepEqual(s.assignedBatches(), []);
      const b = s.getBatch(batches[0]!.id)!;
      assert.deepEqual([b.state, b.attempts, b.lastError, typeof b.deliveredAt], ['delivered', 2, undefined, 'string']);
      assert.ok(s.getCollected('box-1', 'A1')!.deliveredAt);
      assert.deepEqual(s.collectedCounts(), { collected: 3, undelivered: 0, assignedBatches: 0 });

      s.collectSales(file('f2'), [input(sale('box-1', 'A3', 4))]);
      const next = s.createDeliveryBatches('generic');
      assert.deepEqual(next.map((x) => [x.terminalId, x.sales]), [['box-1', 1]]);
      assert.deepEqual(keys(s.batchSales(next[0]!.id)), ['box-1/A3']);
    } finally {
      s.close();
    }
  });

  it('splits a big backlog into batches of maxSales', () => {
    const s = open();
    try {
      s.collectSales(file('f'), Array.from({ length: 7 }, (_, i) => input(sale('box-1', `S${i}`, i + 1, '2025-03-15', 10 + i))));
      const b = s.createDeliveryBatches('generic', { maxSales: 3 });
      assert.deepEqual(b.map((x) => x.sales), [3, 3, 1]);
      assert.deepEqual(b.flatMap((x) => keys(s.batchSales(x.id))), Array.from({ length: 7 }, (_, i) => `box-1/S${i}`));
    } finally {
      s.close();
    }
  });

  it('redelivery batches hold exactly the delivered sales of the period', () => {
    const s = open();
    try {
      s.collectSales(file('f'), [
        input(sale('box-1', 'D14', 1, '2025-03-14')),
        input(sale('box-1', 'D15', 2, '2025-03-15')),
        input(sale('box-2', 'E15', 3, '2025-03-15')),
        input(sale('box-1', 'D16', 4, '2025-03-16')),
      ]);
      for (const b of s.createDeliveryBatches('generic')) s.markBatchDelivered(b.id);
      s.collectSales(file('g'), [input(sale('box-1', 'N15', 5, '2025-03-15'))]); // collected, not yet delivered
      const rb = s.createRedeliveryBatches('generic', '2025-03-15', '2025-03-16');
      assert.deepEqual(rb.map((b) => [b.terminalId, b.kind, b.fromDate, b.toDate, b.sales]), [['box-1', 'redeliver', '2025-03-15', '2025-03-16', 2], ['box-2', 'redeliver', '2025-03-15', '2025-03-16', 1]]);
      assert.deepEqual(keys(s.batchSales(rb[0]!.id)), ['box-1/D15', 'box-1/D16']);
      assert.equal(s.getCollected('box-1', 'N15')!.batchId, undefined, 'a redelivery does not touch undelivered sales');
      const firstBatch = s.getCollected('box-1', 'D15')!.batchId;
      s.markBatchDelivered(rb[0]!.id);
      assert.equal(s.getCollected('box-1', 'D15')!.batchId, firstBatch, 'the first delivery stays on record');
    } finally {
      s.close();
    }
  });

  it('lists by period and pending', () => {
    const s = open();
    try {
      s.collectSales(file('f'), [input(sale('box-1', 'X1', 1, '2025-03-14')), input(sale('box-1', 'X2', 2, '2025-03-15')), input(sale('box-2', 'X3', 3, '2025-03-16'))]);
      assert.deepEqual(keys(s.listCollected()), ['box-1/X1', 'box-1/X2', 'box-2/X3']);
      assert.deepEqual(keys(s.listCollected({ from: '2025-03-15' })), ['box-1/X2', 'box-2/X3']);
      assert.deepEqual(keys(s.listCollected({ from: '2025-03-14', to: '2025-03-15' })), ['box-1/X1', 'box-1/X2']);
      const [b] = s.createDeliveryBatches('generic').filter((x) => x.terminalId === 'box-2');
      s.markBatchDelivered(b!.id);
      assert.deepEqual(s.listCollected({ pending: true }).map((c) => c.batchId !== undefined), [true, true], 'assigned, not yet confirmed');
      assert.deepEqual(keys(s.listCollected({ pending: true })), ['box-1/X1', 'box-1/X2']);
      assert.throws(() => s.listCollected({ from: '15.03.2025' }), (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.SALE_INVALID);
    } finally {
      s.close();
    }
  });

  it('migrates a version-1 journal (sales and runs kept) to the office tables', () => {
    const dir = join(root, `v1-${++n}`);
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, 'journal.db'));
    db.pragma('journal_mode = WAL');
    JOURNAL_MIGRATIONS[0]!.up(db);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO runs (job, started_at) VALUES ('prices.pull', '2025-01-01T00:00:00Z')").run();
    db.close();
    const s = Store.open(dir);
    try {
      assert.equal(s.listRuns().length, 1);
      assert.equal(s.collectSales(file('f'), [input(sale('box-1', 'S1', 1))]).stored, 1);
    } finally {
      s.close();
    }
  });
});
