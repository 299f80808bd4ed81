import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import { Store } from './index.js';
import { JOURNAL_MIGRATIONS } from './schema.js';
import { file, input, keys, officeSale, tempDirs } from './test-fixtures.js';

const { root, freshDir } = tempDirs('cfx-collected-');
let n = 0;
const open = (): Store => Store.open(freshDir());

describe('collected sales (office inbox)', () => {
  it('stores new sales, counts repeats as duplicates, and keeps the body, date, kind and total', () => {
    const s = open();
    try {
      const a = officeSale('box-1', 'S1', 37000);
      const r1 = s.collected.collect(file('box-1_S1.csv'), [input(a)]);
      assert.deepEqual(r1, { stored: 1, duplicates: 0, storedKeys: ['box-1/S1'], duplicateKeys: [] });
      const r2 = s.collected.collect(file('box-1_S1.csv'), [input(a), input(officeSale('box-1', 'S2', 100))]);
      assert.deepEqual([r2.stored, r2.duplicates, r2.duplicateKeys], [1, 1, ['box-1/S1']]);
      const c = s.collected.get('box-1', 'S1')!;
      assert.deepEqual(JSON.parse(c.body), a);
      assert.deepEqual([c.localDate, c.kind, c.total, c.fileName, c.batchId, c.deliveredAt], ['2025-03-15', 'sale', 37000, 'box-1_S1.csv', undefined, undefined]);
      assert.deepEqual(s.collected.counts(), { collected: 2, undelivered: 2, assignedBatches: 0 });
    } finally {
      s.close();
    }
  });

  it('the same saleId with different content is a conflict: nothing of that file is stored', () => {
    const s = open();
    try {
      s.collected.collect(file('a'), [input(officeSale('box-1', 'S1', 100))]);
      assert.throws(
        () => s.collected.collect(file('b'), [input(officeSale('box-1', 'S9', 900)), input(officeSale('box-1', 'S1', 999))]),
        (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.SALE_CONFLICT && /S1 of terminal box-1 was already collected \(from a\)/.test(e.message) && e.details.saleId === 'S1',
      );
      assert.equal(s.collected.get('box-1', 'S9'), undefined, 'rolled back');
      assert.equal(s.collected.get('box-1', 'S1')!.total, 100, 'the collected sale is kept');
      // another terminal may use the same saleId
      assert.equal(s.collected.collect(file('c'), [input(officeSale('box-2', 'S1', 999))]).stored, 1);
    } finally {
      s.close();
    }
  });

  it('lists by period and pending', () => {
    const s = open();
    try {
      s.collected.collect(file('f'), [input(officeSale('box-1', 'X1', 1, '2025-03-14')), input(officeSale('box-1', 'X2', 2, '2025-03-15')), input(officeSale('box-2', 'X3', 3, '2025-03-16'))]);
      assert.deepEqual(keys(s.collected.list()), ['box-1/X1', 'box-1/X2', 'box-2/X3']);
      assert.deepEqual(keys(s.collected.list({ from: '2025-03-15' })), ['box-1/X2', 'box-2/X3']);
      assert.deepEqual(keys(s.collected.list({ from: '2025-03-14', to: '2025-03-15' })), ['box-1/X1', 'box-1/X2']);
      const [b] = s.batches.createNew('generic').filter((x) => x.terminalId === 'box-2');
      s.batches.markDelivered(b!.id);
      assert.deepEqual(s.collected.list({ pending: true }).map((c) => c.batchId !== undefined), [true, true], 'assigned, not yet confirmed');
      assert.deepEqual(keys(s.collected.list({ pending: true })), ['box-1/X1', 'box-1/X2']);
      assert.throws(() => s.collected.list({ from: '15.03.2025' }), (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.SALE_INVALID);
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
      assert.equal(s.runs.list().length, 1);
      assert.equal(s.collected.collect(file('f'), [input(officeSale('box-1', 'S1', 1))]).stored, 1);
    } finally {
      s.close();
    }
  });
});
