import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Sale } from '../api/index.js';
import { checkSale } from './sale-check.js';
import { parseSaleInput } from './sale-input.js';

const good = (): Sale => ({
  saleId: 'R-1',
  terminalId: 'box-1',
  time: '2025-03-15T14:02:11+02:00',
  kind: 'sale',
  lines: [
    { code: '1', qty: 2000, price: 35000, amount: 70000 },
    { code: '5', qty: 750, price: 12000, discount: 500, amount: 8500 },
  ],
  payments: [{ kind: 'cash', amount: 78500 }],
  total: 78500,
});

const fields = (s: Sale) => checkSale(s).map((p) => p.field);

describe('checkSale: the rules of every canonical sale (till and office)', () => {
  it('passes a sound sale, a return with positive or with negative numbers, a cancel not paid', () => {
    assert.deepEqual(checkSale(good()), []);
    assert.deepEqual(checkSale({ ...good(), kind: 'return' }), []);
    const neg = good();
    neg.kind = 'return';
    neg.lines = neg.lines.map((l) => ({ ...l, qty: -l.qty, amount: -l.amount, ...(l.discount ? { discount: -l.discount } : {}) }));
    neg.payments = [{ kind: 'cash', amount: -78500 }];
    neg.total = -78500;
    assert.deepEqual(checkSale(neg), []);
    assert.deepEqual(checkSale({ ...good(), kind: 'cancel', payments: [] }), []);
  });

  it('refuses the tampered sale: negative qty and price in a sale, an amount that is not qty × price, a negative payment, a total nobody paid', () => {
    const t: Sale = { ...good(), total: 99999999, lines: [{ code: '1', qty: -5000, price: -100, amount: 12345 }], payments: [{ kind: 'cash', amount: -700 }] };
    assert.deepEqual(fields(t).sort(), ['lines[0].price', 'lines[0].qty', 'payments[0].amount']);
    // signs right, sums wrong: each sum named with both numbers
    const sums: Sale = { ...good(), total: 99999999, lines: [{ code: '1', qty: 5000, price: 100, amount: 12345 }], payments: [{ kind: 'cash', amount: 700 }] };
    const p = checkSale(sums);
    assert.deepEqual(p.map((x) => x.field), ['lines[0].amount', 'total', 'payments']);
    assert.match(p[0]!.message, /is 123\.45 but qty × price − discount is 5\.00/);
    assert.match(p[1]!.message, /is 999999\.99 but the lines add up to 123\.45/);
  });

  it('refuses mixed signs in a return, fractions, missing fields, a bad terminal', () => {
    const mixed = { ...good(), kind: 'return' as const, payments: [{ kind: 'cash' as const, amount: -78500 }] };
    assert.deepEqual(fields(mixed), ['payments[0].amount']);
    assert.deepEqual(fields({ ...good(), total: 785.5 }), ['total']);
    assert.deepEqual(fields({ ...good(), saleId: '', terminalId: '../x', time: 'yesterday', lines: [] }), ['saleId', 'terminal', 'time', 'lines']);
    assert.deepEqual(fields({ ...good(), lines: [{ code: '', qty: 0, price: 1, amount: 0 }], total: 0, payments: [] }), ['lines[0].code', 'lines[0].qty']);
  });

  it('exact on huge numbers: the product is never a float', () => {
    const qty = 9_000_000_001; // 9,000,000.001 units
    const price = 999_999_999; // 9,999,999.99
    const amount = Number((BigInt(qty) * BigInt(price) + 500n) / 1000n);
    assert.ok(Number.isSafeInteger(amount));
    assert.deepEqual(checkSale({ ...good(), lines: [{ code: '1', qty, price, amount }], payments: [{ kind: 'card', amount }], total: amount }), []);
  });

  it('is what cfx sale add applies: the till refuses the same sale the office would', () => {
    const input = { saleId: 'R-2', time: '2025-03-15T14:02:11+02:00', kind: 'sale', lines: [{ code: '1', qty: '-5', price: '-1.00', amount: '123.45' }], payments: [{ kind: 'cash', amount: '-7.00' }] };
    assert.throws(() => parseSaleInput(input, 'box-1'), (e: any) => {
      assert.equal(e.code, 'CFX_E_SALE_INVALID');
      assert.deepEqual(e.details.problems.map((p: any) => p.field).sort(), ['lines[0].price', 'lines[0].qty', 'payments[0].amount']);
      return true;
    });
  });
});
