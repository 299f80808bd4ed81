import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import type { Payment, Sale, SaleKind, SaleLine } from '@cfx/core/api';
import { createAtolFormat, decodeReport, encodeReport, type AtolFormatOptions } from './index.js';
import { read1CReport, totalsByCode } from './testing/one-c-reader.js';

/** one receipt line: qty in thousandths, amount = price * qty (rounded) minus a discount */
const lineArb = fc
  .record({
    code: fc.integer({ min: 1, max: 30 }).map(String),
    qty: fc.oneof(fc.integer({ min: 1, max: 20 }).map((n) => n * 1000), fc.integer({ min: 1, max: 25_000 })),
    price: fc.integer({ min: 0, max: 2_000_000 }),
    discountPct: fc.integer({ min: 0, max: 30 }),
    barcode: fc.option(fc.stringMatching(/^\d{8,13}$/), { nil: undefined }),
    name: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  })
  .map(({ code, qty, price, discountPct, barcode, name }) => {
    const gross = Math.round((price * qty) / 1000);
    const discount = Math.floor((gross * discountPct) / 100);
    const l: SaleLine = { code, qty, price, amount: gross - discount };
    if (discount) l.discount = discount;
    if (barcode !== undefined) l.barcode = barcode;
    if (name !== undefined) l.name = name;
    return l;
  });

const pad = (n: number) => String(n).padStart(2, '0');

/** a journal of one terminal: sales, returns (negative, as the canonical model has them) and cancels */
const saleArb = (k: number) =>
  fc
    .record({
      kind: fc.constantFrom<SaleKind>('sale', 'sale', 'return', 'cancel'),
      lines: fc.array(lineArb, { minLength: 1, maxLength: 5 }),
      // few receipt numbers and shifts: collisions are the point
      receiptNo: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      shift: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      minute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
      split: fc.boolean(),
      payKind: fc.constantFrom<Payment['kind']>('cash', 'card', 'other'),
      cashier: fc.option(fc.oneof(fc.constant('Олена'), fc.integer({ min: 1, max: 99 }).map(String)), { nil: undefined }),
    })
    .map(({ kind, lines, receiptNo, shift, minute, split, payKind, cashier }) => {
      const sign = kind === 'return' ? -1 : 1;
      // `|| 0`: no -0 (a till never records one; JSON would not keep it)
      const ls = lines.map((l) => ({ ...l, qty: sign * l.qty || 0, amount: sign * l.amount || 0 }));
      const total = ls.reduce((a, l) => a + l.amount, 0);
      const payments: Payment[] = split && Math.abs(total) > 1 ? [{ kind: 'cash', amount: Math.trunc(total / 2) }, { kind: payKind, amount: total - Math.trunc(total / 2) }] : [{ kind: payKind, amount: total }];
      const s: Sale = { saleId: `S${k}`, terminalId: 'box-1', time: `2025-03-15T${pad(Math.floor(minute / 60))}:${pad(minute % 60)}:00+02:00`, kind, lines: ls, payments, total };
      if (receiptNo !== undefined) s.receiptNo = receiptNo;
      if (shift !== undefined) s.shift = shift;
      if (cashier !== undefined) s.cashier = cashier;
      return s;
    });

const journalArb = fc.integer({ min: 0, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, k) => saleArb(k))));

const optionsArb = fc.record({
  firstTransaction: fc.integer({ min: 1, max: 10_000_000 }),
  reportNumber: fc.integer({ min: 1, max: 9999 }),
  decimal: fc.constantFrom<',' | '.'>(',', '.'),
  lineEnd: fc.constantFrom<'crlf' | 'lf'>('crlf', 'lf'),
});

/** what 1C should end up with: every line of the sales and returns, cancelled receipts left out */
const expected = (sales: Sale[]) => totalsByCode(sales.filter((s) => s.kind !== 'cancel').flatMap((s) => s.lines));

async function decodeAll(bytes: Uint8Array, options: AtolFormatOptions = {}): Promise<Sale[]> {
  const out: Sale[] = [];
  for await (const s of decodeReport(Readable.from([Buffer.from(bytes)]), options)) out.push(s);
  return out;
}

describe('atol report: property tests (fast-check)', () => {
  it('any journal of sales, returns and cancels -> encodeReport -> the 1C reader: the same per-code qty/amount totals', () => {
    fc.assert(
      fc.property(journalArb, optionsArb, (sales, opts) => {
        const { bytes, nextTransaction, documents } = encodeReport(sales, opts);
        const got = read1CReport(bytes);
        assert.deepEqual(got.positions.length, sales.filter((s) => s.kind !== 'cancel').reduce((a, s) => a + s.lines.length, 0));
        assert.deepEqual(totalsByCode(got.positions), expected(sales));
        assert.equal(got.reportNumber, String(opts.reportNumber));
        // transaction numbers: unique and increasing from firstTransaction; document numbers unique
        const tx = new TextDecoder('windows-1251').decode(bytes).split(/\r?\n/).slice(3, -1).map((l) => l.split(';'));
        assert.deepEqual(tx.map((f) => Number(f[0])), Array.from({ length: tx.length }, (_, k) => opts.firstTransaction + k));
        assert.equal(nextTransaction, opts.firstTransaction + tx.length);
        assert.equal(new Set(documents.map((d) => d.document)).size, sales.length);
        assert.ok(!tx.some((f) => f[3] === '1'));
      }),
      { numRuns: 300 },
    );
  });

  it('the same journal -> encodeReport -> decodeSales (either return sign): the same totals, kinds and sale order', async () => {
    await fc.assert(
      fc.asyncProperty(journalArb, optionsArb, fc.constantFrom<'negative' | 'positive'>('negative', 'positive'), async (sales, opts, returnSign) => {
        const { bytes } = encodeReport(sales, { ...opts, returnSign });
        const back = await decodeAll(bytes, { cancelled: 'keep' });
        assert.deepEqual(back.map((s) => s.kind), sales.map((s) => s.kind));
        assert.deepEqual(back.map((s) => s.total), sales.map((s) => s.total));
        assert.deepEqual(totalsByCode(back.filter((s) => s.kind !== 'cancel').flatMap((s) => s.lines)), expected(sales));
      }),
      { numRuns: 200 },
    );
  });

  it('every sale -> encodeSale fragment -> decodeSales gives the sale back exactly', async () => {
    const fmt = createAtolFormat({ cancelled: 'keep' });
    await fc.assert(
      fc.asyncProperty(saleArb(1), async (sale) => {
        const out: Sale[] = [];
        for await (const s of fmt.decodeSales!(Readable.from([Buffer.from(fmt.encodeSale!(sale, { options: {} }))]), { fileName: 'box-1_S1.txt', options: {} })) out.push(s);
        assert.deepEqual(out, [sale]);
      }),
      { numRuns: 200 },
    );
  });
});
