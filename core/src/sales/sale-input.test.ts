import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSaleInput } from './sale-input.js';
import { parseDecimal } from './decimal.js';

const sale = (over: Record<string, unknown> = {}) => ({
  saleId: 'R-1001',
  time: '2025-03-15T14:02:11+02:00',
  receiptNo: 1001,
  shift: 7,
  kind: 'sale',
  lines: [
    { code: '1', qty: '2', price: '350,00', amount: '700.00' },
    { code: '5', qty: '0.750', price: '120.00', discount: '5.00', amount: '85.00' },
  ],
  payments: [{ kind: 'cash', amount: '785.00' }],
  ...over,
});

describe('sale input', () => {
  it('parses decimals exactly, never through floats', () => {
    assert.equal(parseDecimal('350,00', 2), 35000);
    assert.equal(parseDecimal('0.1', 2), 10);
    assert.equal(parseDecimal(0.29, 2), 29);
    assert.equal(parseDecimal('1.5', 3), 1500);
    assert.equal(parseDecimal('1.2345', 3), undefined);
    assert.equal(parseDecimal('1.2300', 2), 123);
    assert.equal(parseDecimal('12a', 2), undefined);
    assert.equal(parseDecimal(1e21, 2), undefined);
  });

  it('turns a till sale into minor units and thousandths', () => {
    const s = parseSaleInput(sale(), 'box-1');
    assert.equal(s.terminalId, 'box-1');
    assert.equal(s.total, 78500);
    assert.deepEqual(s.lines[1], { code: '5', qty: 750, price: 12000, discount: 500, amount: 8500 });
    assert.deepEqual(s.payments, [{ kind: 'cash', amount: 78500 }]);
  });

  it('names every bad field at once', () => {
    assert.throws(
      () => parseSaleInput(sale({ kind: 'gift', lines: [{ code: '1', qty: 'x', price: '1', amount: '1' }], extra: 1, time: 'yesterday' }), 'box-1'),
      (e: any) => {
        const fields = e.details.problems.map((p: any) => p.field).sort();
        assert.deepEqual(fields, ['extra', 'kind', 'lines[0].qty', 'time']);
        assert.match(e.message, /kind: must be one of: sale, return, cancel/);
        assert.match(e.message, /time: must be an ISO 8601 date-time with an offset/);
        return true;
      },
    );
  });

  it('checks line amounts and the payment total, with both numbers', () => {
    assert.throws(() => parseSaleInput(sale({ lines: [{ code: '1', qty: '2', price: '350.00', amount: '600.00' }], payments: [{ kind: 'card', amount: '600.00' }] }), 'b'), /lines\[0\]\.amount: is 600\.00 but qty × price − discount is 700\.00/);
    assert.throws(() => parseSaleInput(sale({ payments: [{ kind: 'cash', amount: '700.00' }] }), 'b'), /payments: lines total 785\.00 but payments total 700\.00/);
    // cash rounding to 0.10 leaves up to 0.05
    assert.equal(parseSaleInput(sale({ payments: [{ kind: 'cash', amount: '785.04' }] }), 'b').total, 78500);
  });

  it('refuses a sale for another terminal', () => {
    assert.throws(() => parseSaleInput(sale({ terminal: 'box-2' }), 'box-1'), /terminal: is "box-2" but this terminal is "box-1"/);
  });
});
