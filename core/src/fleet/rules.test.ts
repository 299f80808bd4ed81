import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CollectedReceipt, CollectedShiftClose } from '../store/repositories.js';
import { catalogState, collectedTotals, detectGaps, isLostAtTill, MAX_GAPS_PER_SHIFT, reconcile, retryDelayMs } from './rules.js';

const r = (shift: number, receiptNo: number, localDate = '2026-12-05', kind: CollectedReceipt['kind'] = 'sale', payments: CollectedReceipt['payments'] = [{ kind: 'cash', amount: 1000 }]): CollectedReceipt => ({
  shift,
  receiptNo,
  localDate,
  time: `${localDate}T10:00:00+02:00`,
  kind,
  payments,
});

const close = (shift: number, lastReceiptNo: number, more: Partial<CollectedShiftClose> = {}): CollectedShiftClose => ({
  terminalId: 't1',
  shift,
  closedAt: '2026-12-06T20:00:00+02:00',
  localDate: '2026-12-06',
  lastReceiptNo,
  totals: {},
  sha256: 'x',
  fileName: 'f',
  receivedAt: '2026-12-06T18:00:00.000Z',
  ...more,
});

describe('receipt gaps', () => {
  it('a number missing between collected ones is a gap, its period the dates of the receipts around it', () => {
    const got = detectGaps([r(12, 101, '2026-12-04'), r(12, 102, '2026-12-04'), r(12, 104, '2026-12-05'), r(12, 105, '2026-12-05'), r(13, 1), r(13, 3)], []);
    assert.deepEqual(got, [
      { shift: 12, receiptNo: 103, fromDate: '2026-12-04', toDate: '2026-12-05' },
      { shift: 13, receiptNo: 2, fromDate: '2026-12-05', toDate: '2026-12-05' },
    ]);
  });

  it('no gap without a hole; a repeated receipt counts once', () => {
    assert.deepEqual(detectGaps([r(1, 5), r(1, 6), r(1, 6), r(1, 7)], []), []);
  });

  it("up to a shift close's lastReceiptNo (the period ends at the close's date), from its firstReceiptNo", () => {
    const got = detectGaps([r(12, 102, '2026-12-05'), r(12, 103, '2026-12-05')], [close(12, 105, { firstReceiptNo: 100 })]);
    assert.deepEqual(
      got.map((g) => [g.receiptNo, g.fromDate, g.toDate]),
      [
        [100, '2026-12-05', '2026-12-05'],
        [101, '2026-12-05', '2026-12-05'],
        [104, '2026-12-05', '2026-12-06'],
        [105, '2026-12-05', '2026-12-06'],
      ],
    );
  });

  it('a shift close with no collected receipt and no firstReceiptNo: only its last number is known to exist', () => {
    assert.deepEqual(detectGaps([], [close(9, 40)]), [{ shift: 9, receiptNo: 40, fromDate: '2026-12-06', toDate: '2026-12-06' }]);
  });

  it('a wild receipt number makes at most MAX_GAPS_PER_SHIFT gaps', () => {
    assert.equal(detectGaps([r(1, 1), r(1, 10_000_000)], []).length, MAX_GAPS_PER_SHIFT);
  });
});

describe('back-off', () => {
  it('10m after the first request, doubling, never above 6h', () => {
    const m = 60_000;
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => retryDelayMs(n, 10 * m, 360 * m) / m), [10, 20, 40, 80, 160, 320, 360, 360, 360]);
  });
});

describe('lost at the till', () => {
  const gap = { shift: 12, receiptNo: 103, fromDate: '2026-12-05', toDate: '2026-12-05', firstRequestAt: '2026-12-05T10:00:00.000Z' };
  const served = (servedAt: string, receiptNos: number[], from = '2026-12-05', to = '2026-12-05') => ({ request: 'resend-20261205-20261205.req', servedAt, from, to, receipts: [{ shift: 12, receiptNos }] });

  it('a resend served after the request, covering the period, without the number: lost', () => {
    assert.equal(isLostAtTill(gap, [served('2026-12-05T10:01:00.000Z', [101, 102, 104, 105])]), true);
  });
  it('the journal holds the number (it is on its way): not lost', () => {
    assert.equal(isLostAtTill(gap, [served('2026-12-05T10:01:00.000Z', [101, 102, 103, 104, 105])]), false);
  });
  it('served before the office asked, or not covering the period, or never asked: not lost', () => {
    assert.equal(isLostAtTill(gap, [served('2026-12-05T09:59:00.000Z', [101])]), false);
    assert.equal(isLostAtTill(gap, [served('2026-12-05T10:01:00.000Z', [101], '2026-12-06', '2026-12-06')]), false);
    assert.equal(isLostAtTill({ ...gap, firstRequestAt: undefined }, [served('2026-12-05T10:01:00.000Z', [101])]), false);
  });
  it("the terminal's clock is corrected by the skew seen in its status: 5 minutes behind still counts as after", () => {
    const late = served('2026-12-05T09:56:00.000Z', [101]);
    assert.equal(isLostAtTill(gap, [late]), false);
    assert.equal(isLostAtTill(gap, [late], -5 * 60_000), true);
  });
  it('no entry for the shift in the served resend: the journal holds none of it', () => {
    assert.equal(isLostAtTill(gap, [{ ...served('2026-12-05T10:01:00.000Z', []), receipts: [{ shift: 11, receiptNos: [103] }] }]), true);
  });
});

describe('reconciliation of a closed shift', () => {
  const receipts = [
    r(12, 101, '2026-12-05', 'sale', [{ kind: 'cash', amount: 3000 }]),
    r(12, 102, '2026-12-05', 'sale', [{ kind: 'card', amount: 2500 }]),
    // a return journaled with positive amounts, another with negative ones: both subtract
    r(12, 103, '2026-12-05', 'return', [{ kind: 'card', amount: 500 }]),
    r(12, 104, '2026-12-05', 'cancel', [{ kind: 'cash', amount: 9999 }]),
    r(12, 105, '2026-12-05', 'return', [{ kind: 'cash', amount: -1000 }]),
    r(11, 7, '2026-12-05', 'sale', [{ kind: 'cash', amount: 7777 }]),
  ];
  it('sums payments per kind: sales add, returns subtract, cancels are left out, other shifts ignored', () => {
    assert.deepEqual(collectedTotals(receipts, 12), { cash: 2000, card: 2000 });
  });
  it('every receipt present and the totals equal: reconciled', () => {
    assert.deepEqual(reconcile(close(12, 105, { firstReceiptNo: 101, totals: { cash: 2000, card: 2000 } }), receipts), { state: 'reconciled' });
  });
  it('totals differ: mismatch with the difference per kind (till − collected)', () => {
    assert.deepEqual(reconcile(close(12, 105, { totals: { cash: 2500, card: 2000, other: 100 } }), receipts), { state: 'mismatch', difference: { cash: 500, other: 100 } });
  });
  it('a receipt missing: incomplete with the numbers, whatever the totals', () => {
    assert.deepEqual(reconcile(close(12, 107, { totals: { cash: 2000, card: 2000 } }), receipts), { state: 'incomplete', missing: [106, 107] });
    assert.deepEqual(reconcile(close(12, 105, { firstReceiptNo: 100, totals: { cash: 2000, card: 2000 } }), receipts), { state: 'incomplete', missing: [100] });
  });
});

describe('catalog state', () => {
  const pub = { terminalId: 't1', name: 'goods-7-abc.csv', sha256: 'aa', publishedAt: '2026-12-05T10:00:00.000Z' };
  it('current when the applied sha256 is the published one, behind when not (or no catalog), unknown when nothing was published', () => {
    assert.equal(catalogState({ sha256: 'aa' }, pub), 'current');
    assert.equal(catalogState({ sha256: 'bb' }, pub), 'behind');
    assert.equal(catalogState(null, pub), 'behind');
    assert.equal(catalogState({ sha256: 'aa' }, undefined), 'unknown');
  });
});
