import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../api/errors.js';
import type { Sale } from '../api/model.js';
import { fleetReport, fleetNeedsAttention } from '../fleet/report.js';
import { Store } from './index.js';
import type { CollectedShiftClose } from './repositories.js';
import { isCode, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-fleet-store-');

const close: CollectedShiftClose = {
  terminalId: 't1', shift: 12, closedAt: '2026-12-05T20:00:00+02:00', localDate: '2026-12-05', firstReceiptNo: 101, lastReceiptNo: 102,
  totals: { cash: 3000 }, sha256: 'a1', fileName: 't1_shift-12.shift.json', receivedAt: '2026-12-05T18:00:01.000Z',
};

const sale = (receiptNo: number, amount: number, time = '2026-12-05T10:15:00+02:00'): Sale => ({
  saleId: `S${receiptNo}`, terminalId: 't1', shift: 12, receiptNo, time, kind: 'sale',
  lines: [{ code: '1', qty: 1000, price: amount, amount }], payments: [{ kind: 'cash', amount }], total: amount,
});

describe('fleet store (journal.db version 4)', () => {
  it('a shift close is kept once per terminal + shift: the same content is a duplicate, different content SHIFT_CONFLICT', () => {
    const s = Store.open(freshDir());
    try {
      assert.equal(s.fleet.recordShift(close), 'stored');
      assert.equal(s.fleet.recordShift({ ...close, fileName: 'again' }), 'duplicate');
      assert.throws(() => s.fleet.recordShift({ ...close, sha256: 'b2' }), isCode(ErrorCodes.SHIFT_CONFLICT, /shift 12 of terminal t1 was already closed/));
      assert.deepEqual(s.fleet.shifts('t1'), [close]);
      assert.deepEqual(s.fleet.shifts('t2'), []);
    } finally {
      s.close();
    }
  });

  it('gaps are replaced by terminal + shift + number and filtered by state; published and status rows are one per terminal', () => {
    const s = Store.open(freshDir());
    try {
      const g = { terminalId: 't1', shift: 12, receiptNo: 103, state: 'open' as const, fromDate: '2026-12-05', toDate: '2026-12-05', detectedAt: '2026-12-05T10:00:00.000Z', requests: 0 };
      s.fleet.putGap(g);
      s.fleet.putGap({ ...g, receiptNo: 104 });
      s.fleet.putGap({ ...g, state: 'requested', requests: 1, requestName: 'resend-20261205-20261205.req', nextRequestAt: '2026-12-05T10:10:00.000Z' });
      assert.deepEqual(s.fleet.gaps('t1').map((x) => [x.receiptNo, x.state, x.requests, x.nextRequestAt]), [[103, 'requested', 1, '2026-12-05T10:10:00.000Z'], [104, 'open', 0, undefined]]);
      assert.deepEqual(s.fleet.gaps('t1', ['open']).map((x) => x.receiptNo), [104]);
      s.fleet.recordPublished({ terminalId: 't1', name: 'goods-1-aa.csv', sha256: 'aa', publishedAt: '2026-12-05T09:00:00.000Z' });
      s.fleet.recordPublished({ terminalId: 't1', name: 'goods-2-bb.csv', sha256: 'bb', publishedAt: '2026-12-05T09:30:00.000Z' });
      assert.equal(s.fleet.published('t1')!.name, 'goods-2-bb.csv');
      s.fleet.saveStatus({ terminalId: 't1', seq: 3, writtenAt: '2026-12-05T09:59:00.000Z', readAt: '2026-12-05T10:00:00.000Z', status: { seq: 3, extra: { kept: true } } });
      assert.deepEqual(s.fleet.lastStatus('t1')!.status, { seq: 3, extra: { kept: true } });
    } finally {
      s.close();
    }
  });

  it('receipts and sales per hour come from collected; the report reconciles a closed shift and judges stale and behind', () => {
    const s = Store.open(freshDir());
    try {
      const body = (x: Sale) => JSON.stringify(x);
      s.collected.collect({ name: 'f', size: 1, sha256: 'x' }, [sale(101, 1000), sale(102, 2000, '2026-12-05T11:45:00+02:00')].map((x) => ({ sale: x, localDate: '2026-12-05', body: body(x) })));
      assert.deepEqual(s.fleet.receipts('t1', '2026-12-01').map((r) => [r.shift, r.receiptNo, r.payments[0]!.amount]), [[12, 101, 1000], [12, 102, 2000]]);
      assert.deepEqual([...s.fleet.salesPerHour('t1', '2026-12-05T00:00:00.000Z')], [['2026-12-05T08', 1], ['2026-12-05T09', 1]]);
      s.fleet.recordShift(close);
      s.fleet.recordPublished({ terminalId: 't1', name: 'goods-2-bb.csv', sha256: 'bb', publishedAt: '2026-12-05T09:30:00.000Z' });
      s.fleet.saveStatus({ terminalId: 't1', seq: 3, writtenAt: '2026-12-05T10:00:30.000Z', readAt: '2026-12-05T10:00:00.000Z', status: { cfxVersion: '1.4.0', catalog: { file: 'goods-1-aa.csv', sha256: 'aa', products: 7 }, sales: { pending: 2 }, shifts: [{ shift: 13, lastReceiptNo: 4, closed: false }] } });
      const cfg = { terminals: ['t1', 't2'], fleet: { staleAfterMs: 300_000, gapRetryMs: 600_000, gapRetryMaxMs: 21_600_000 } };
      const at = (iso: string) => fleetReport(s.fleet, cfg, new Date(iso));
      const t1 = at('2026-12-05T10:04:00.000Z').terminals[0]!;
      assert.deepEqual(
        [t1.ageSeconds, t1.stale, t1.clockSkewSeconds, t1.cfxVersion, t1.catalog, t1.pendingSales],
        [240, false, 30, '1.4.0', { state: 'behind', file: 'goods-1-aa.csv', products: 7, published: 'goods-2-bb.csv' }, 2],
      );
      assert.deepEqual(t1.shifts, [{ shift: 12, state: 'reconciled', lastReceiptNo: 102, difference: null, missing: null }, { shift: 13, state: 'open', lastReceiptNo: 4, difference: null, missing: null }]);
      assert.equal(at('2026-12-05T10:05:01.000Z').terminals[0]!.stale, true);
      const t2 = at('2026-12-05T10:04:00.000Z').terminals[1]!;
      assert.deepEqual([t2.lastSeen, t2.stale, t2.catalog.state, t2.pendingSales], [null, false, 'unknown', null]);
      assert.equal(fleetNeedsAttention(at('2026-12-05T10:04:00.000Z')), true, 'behind on prices');
    } finally {
      s.close();
    }
  });
});
