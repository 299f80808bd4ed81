import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { ErrorCodes } from '../api/errors.js';
import type { Sale } from '../api/model.js';
import { Store } from './index.js';
import { isCode, raw, sale, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-sales-journal-');

describe('sales journal', () => {
  it('records a sale durably, ignores an identical repeat, rejects a different sale under the same id', () => {
    const dir = freshDir();
    const s = Store.open(dir);
    const s1 = sale('S1', 2500);
    const body = JSON.stringify(s1);
    assert.equal(s.journal.recordSale(s1, '2024-03-02', body), 'recorded');
    // committed (visible to another connection) and fsynced at commit when the call returns
    const db = raw(join(dir, 'journal.db'));
    assert.deepEqual(db.prepare('SELECT terminal_id, sale_id, total, local_date, kind FROM sales').all(), [
      { terminal_id: 'T1', sale_id: 'S1', total: 2500, local_date: '2024-03-02', kind: 'sale' },
    ]);
    assert.deepEqual(db.prepare('SELECT dest, state, attempts FROM outbox').all(), [{ dest: 'server', state: 'pending', attempts: 0 }]);
    db.close();
    // the connection's pragmas (TS-private: the Store's connection is not part of its surface)
    const internals = (s as unknown as { db: { journal: Database.Database; catalogWriter: Database.Database } }).db;
    assert.equal(internals.journal.pragma('synchronous', { simple: true }), 2, 'journal.db synchronous=FULL');
    assert.equal(internals.catalogWriter.pragma('synchronous', { simple: true }), 2, 'catalog.db synchronous=FULL');
    assert.equal(internals.journal.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(internals.journal.pragma('busy_timeout', { simple: true }), 5000);

    assert.equal(s.journal.recordSale(s1, '2024-03-02', body), 'duplicate');
    assert.equal(s.journal.countPending(), 1);
    assert.throws(() => s.journal.recordSale(sale('S1', 2600), '2024-03-02', JSON.stringify(sale('S1', 2600))), isCode(ErrorCodes.SALE_CONFLICT, /S1/, /T1/));
    assert.throws(() => s.journal.recordSale(sale('S2', 100), '2024-3-2', '{}'), isCode(ErrorCodes.SALE_INVALID, /localDate/));
    assert.throws(() => s.journal.recordSale(sale('S2', 10.5), '2024-03-02', '{}'), isCode(ErrorCodes.SALE_INVALID, /total/));
    s.close();

    const again = Store.open(dir);
    const [rec] = again.journal.salesBetween('2024-03-02', '2024-03-02');
    assert.equal(rec?.total, 2500);
    assert.equal(rec?.body, body);
    assert.match(rec?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(again.journal.recordSale(s1, '2024-03-02', body), 'duplicate');
    again.close();
  });

  it('the outbox queues, counts attempts and marks sent', () => {
    const s = Store.open(freshDir());
    s.journal.recordSale(sale('S1', 100), '2024-03-02', JSON.stringify(sale('S1', 100)));
    s.journal.recordSale(sale('S2', 200), '2024-03-02', JSON.stringify(sale('S2', 200)));
    assert.equal(s.journal.countPending(), 2);
    assert.deepEqual(s.journal.pendingOutbox(10).map((o) => [o.saleId, o.terminalId, o.dest, o.attempts]), [
      ['S1', 'T1', 'server', 0],
      ['S2', 'T1', 'server', 0],
    ]);
    assert.equal(s.journal.markFailed('S1', 'T1', 'server', 'CFX_E_TRANSPORT_TIMEOUT: no answer in 30 s'), true);
    const [first] = s.journal.pendingOutbox(1);
    assert.equal(first?.attempts, 1);
    assert.equal(first?.lastError, 'CFX_E_TRANSPORT_TIMEOUT: no answer in 30 s');
    assert.equal((JSON.parse(first?.body ?? '{}') as Sale).total, 100);
    assert.equal(s.journal.markSent('S1', 'T1', 'server', 'T1_S1.json'), true);
    assert.equal(s.journal.markSent('S9', 'T1', 'server', 'T1_S9.json'), false);
    assert.equal(s.journal.countPending(), 1);
    assert.deepEqual(s.journal.pendingOutbox(10).map((o) => o.saleId), ['S2']);
    s.close();
  });

  it('salesBetween includes both bounds', () => {
    const s = Store.open(freshDir());
    const days = ['2024-02-29', '2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04'];
    days.forEach((d, i) => s.journal.recordSale(sale(`S${i}`, (i + 1) * 100, `${d}T12:00:00+02:00`), d, JSON.stringify(sale(`S${i}`, (i + 1) * 100))));
    assert.deepEqual(s.journal.salesBetween('2024-03-01', '2024-03-03').map((r) => [r.saleId, r.localDate, r.total]), [
      ['S1', '2024-03-01', 200],
      ['S2', '2024-03-02', 300],
      ['S3', '2024-03-03', 400],
    ]);
    assert.deepEqual(s.journal.salesBetween('2024-03-04', '2024-03-04').map((r) => r.saleId), ['S4']);
    assert.deepEqual(s.journal.salesBetween('2024-03-05', '2024-03-31'), []);
    assert.throws(() => s.journal.salesBetween('2024-03-01', 'tomorrow'), isCode(ErrorCodes.SALE_INVALID, /toDate/));
    s.close();
  });
});
