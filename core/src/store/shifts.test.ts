import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../api/errors.js';
import type { Sale } from '../api/model.js';
import { Store } from './index.js';
import { SERVED_KEEP } from './shifts.js';
import { isCode, raw, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-shifts-');

const close = (shift: number, body = `{"shift":${shift}}`, closedAt = '2026-12-05T20:00:00+02:00') => ({ key: { terminal: 't1', shift, closedAt }, localDate: closedAt.slice(0, 10), body });

function sale(terminalId: string, n: number, day: string, shift?: number, receiptNo?: number): Sale {
  return {
    saleId: `S${n}`,
    terminalId,
    time: `${day}T10:00:00+02:00`,
    kind: 'sale',
    ...(shift !== undefined ? { shift } : {}),
    ...(receiptNo !== undefined ? { receiptNo } : {}),
    lines: [{ code: '1', qty: 1000, price: 100, amount: 100 }],
    payments: [{ kind: 'cash', amount: 100 }],
    total: 100,
  };
}
const journal = (s: Store, x: Sale) => s.journal.recordSale(x, x.time.slice(0, 10), JSON.stringify(x));

describe('shift closes (journal.db v3)', () => {
  it('records one per terminal + shift: the same content again is a no-op, different content SHIFT_CONFLICT', () => {
    const s = Store.open(freshDir());
    try {
      const c = close(12);
      assert.equal(s.shifts.record(c.key, c.localDate, c.body), 'recorded');
      assert.equal(s.shifts.record(c.key, c.localDate, c.body), 'duplicate');
      assert.throws(() => s.shifts.record(c.key, c.localDate, '{"shift":12,"other":1}'), isCode(ErrorCodes.SHIFT_CONFLICT, /shift 12 of terminal t1 was already closed with different content/));
      assert.equal(s.shifts.get('t1', 12)!.body, c.body, 'the first close stays');
      assert.equal(s.shifts.countPending(), 1);
      assert.deepEqual(s.shifts.pending().map((r) => [r.shift, r.state, r.localDate]), [[12, 'pending', '2026-12-05']]);
    } finally {
      s.close();
    }
  });

  it('marks sent and failed; between() takes the local dates of closedAt, inclusive', () => {
    const s = Store.open(freshDir());
    try {
      for (const [n, at] of [[1, '2026-12-04T23:30:00+02:00'], [2, '2026-12-05T20:00:00+02:00'], [3, '2026-12-06T08:00:00+02:00']] as const) {
        const c = close(n, `{"shift":${n}}`, at);
        s.shifts.record(c.key, c.localDate, c.body);
      }
      assert.equal(s.shifts.markFailed('t1', 2, 'refused'), true);
      assert.deepEqual([s.shifts.get('t1', 2)!.attempts, s.shifts.get('t1', 2)!.lastError], [1, 'refused']);
      assert.equal(s.shifts.markSent('t1', 2, 't1_shift-2.shift.json'), true);
      const sent = s.shifts.get('t1', 2)!;
      assert.deepEqual([sent.state, sent.attempts, sent.lastError, sent.remoteName], ['sent', 2, undefined, 't1_shift-2.shift.json']);
      assert.equal(s.shifts.countPending(), 2);
      assert.deepEqual(s.shifts.between('2026-12-05', '2026-12-06').map((r) => r.shift), [2, 3]);
      assert.equal(s.shifts.markSent('t1', 99, 'x'), false);
    } finally {
      s.close();
    }
  });

  it("reads the journal's receipt numbers per shift for a period, and the last one per shift with its close", () => {
    const s = Store.open(freshDir());
    try {
      journal(s, sale('t1', 1, '2026-12-04', 11, 90));
      journal(s, sale('t1', 2, '2026-12-05', 12, 103));
      journal(s, sale('t1', 3, '2026-12-05', 12, 101));
      journal(s, sale('t1', 4, '2026-12-05', 12, 105));
      journal(s, sale('t1', 5, '2026-12-06', 13, 1));
      journal(s, sale('t1', 6, '2026-12-05')); // no shift, no receipt number: not counted
      journal(s, sale('t2', 7, '2026-12-05', 12, 104)); // another terminal's
      assert.deepEqual(s.shifts.receiptsBetween('t1', '2026-12-05', '2026-12-05'), [{ shift: 12, receiptNos: [101, 103, 105] }]);
      assert.deepEqual(s.shifts.receiptsBetween('t1', '2026-12-04', '2026-12-06'), [{ shift: 11, receiptNos: [90] }, { shift: 12, receiptNos: [101, 103, 105] }, { shift: 13, receiptNos: [1] }]);
      const c = close(12);
      s.shifts.record(c.key, c.localDate, c.body);
      assert.deepEqual(s.shifts.lastReceipts('t1', '2026-12-05'), [
        { shift: 12, lastReceiptNo: 105, closed: true },
        { shift: 13, lastReceiptNo: 1, closed: false },
      ]);
      assert.deepEqual(s.shifts.salesSummary(), { journaled: 7, lastSaleAt: '2026-12-05T10:00:00+02:00' });
    } finally {
      s.close();
    }
  });

  it('keeps the newest served resend requests, newest first', () => {
    const s = Store.open(freshDir());
    try {
      assert.deepEqual(s.shifts.recentServed(20), []);
      for (let i = 1; i <= SERVED_KEEP + 5; i++) s.shifts.recordServed({ request: `r${i}`, servedAt: `t${i}`, from: '2026-12-05', to: '2026-12-05', sales: i, receipts: [{ shift: 12, receiptNos: [i] }] });
      const recent = s.shifts.recentServed(3);
      assert.deepEqual(recent.map((r) => [r.request, r.sales, r.receipts[0]!.receiptNos]), [[`r${SERVED_KEEP + 5}`, SERVED_KEEP + 5, [SERVED_KEEP + 5]], [`r${SERVED_KEEP + 4}`, SERVED_KEEP + 4, [SERVED_KEEP + 4]], [`r${SERVED_KEEP + 3}`, SERVED_KEEP + 3, [SERVED_KEEP + 3]]]);
      assert.equal(s.shifts.recentServed(1000).length, SERVED_KEEP);
    } finally {
      s.close();
    }
  });

  it('a version 2 journal is migrated to 3 (and on) with its sales kept', () => {
    const dir = freshDir();
    const s = Store.open(dir);
    journal(s, sale('t1', 1, '2026-12-05', 12, 7));
    s.close();
    const db = raw(`${dir}/journal.db`);
    // back to version 2: the later migrations' tables go too (the office's fleet tables are version 4)
    db.exec('DROP TABLE shift_closes; DROP TABLE resends_served; DROP TABLE fleet_status; DROP TABLE fleet_shifts; DROP TABLE fleet_gaps; DROP TABLE fleet_published;');
    db.pragma('user_version = 2');
    db.close();
    const again = Store.open(dir);
    try {
      assert.deepEqual(again.shifts.receiptsBetween('t1', '2026-12-05', '2026-12-05'), [{ shift: 12, receiptNos: [7] }]);
      const c = close(12);
      assert.equal(again.shifts.record(c.key, c.localDate, c.body), 'recorded');
    } finally {
      again.close();
    }
  });
});
