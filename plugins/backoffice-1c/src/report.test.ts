import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { ErrorCodes, FormatError, type Sale } from '@cfx/core/api';
import { createAtolFormat, decodeReport, encodeReport, encodeSaleFragment, readReportHeader, reportProblem, type SalesDecodeOptions } from './index.js';
import { OneCImportError, read1CReport, totalsByCode } from './testing/one-c-reader.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/atol/${name}`, import.meta.url));

async function decodeAll(bytes: Uint8Array, opts: SalesDecodeOptions = {}): Promise<Sale[]> {
  const out: Sale[] = [];
  for await (const s of decodeReport(Readable.from([Buffer.from(bytes)]), { utcOffset: '+02:00', ...opts })) out.push(s);
  return out;
}
async function decodeError(bytes: Uint8Array | string, opts: SalesDecodeOptions = {}): Promise<FormatError> {
  try {
    await decodeAll(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, { fileName: 'bad.txt', ...opts });
  } catch (e) {
    assert.ok(e instanceof FormatError, `not a FormatError: ${e}`);
    return e;
  }
  assert.fail('no error');
}

/** [code, qty, amount] of every line of the sales 1C would import (cancelled excluded), in order */
const positions = (sales: Sale[]) => sales.filter((s) => s.kind !== 'cancel').flatMap((s) => s.lines.map((l) => [l.code, l.qty, l.amount]));
/** what fixtures/README.md says 1C imports from report.txt */
const FIXTURE_POSITIONS = [
  ['1', 2000, 70000],
  ['2', 1000, 17550],
  ['1', -1000, -35000],
];

const sale: Sale = {
  saleId: 'box-1-000123',
  terminalId: 'box-1',
  shift: 12,
  receiptNo: 345,
  cashier: 'Олена',
  time: '2025-03-15T09:05:00+02:00',
  kind: 'sale',
  lines: [
    { code: '1', barcode: '4601234567893', name: 'Билет взрослый', qty: 2000, price: 35000, amount: 70000 },
    { code: '3', name: 'Сир ваговий; "Звенигора"', qty: 250, price: 28990, amount: 7000, discount: 247 },
  ],
  payments: [
    { kind: 'cash', amount: 7000 },
    { kind: 'card', amount: 70000 },
  ],
  total: 77000,
};
const refund: Sale = {
  saleId: 'box-1-000124',
  terminalId: 'box-1',
  time: '2025-03-15T10:20:00+02:00',
  kind: 'return',
  lines: [{ code: '1', name: 'Билет взрослый', qty: -1000, price: 35000, amount: -35000 }],
  payments: [{ kind: 'other', amount: -35000 }],
  total: -35000,
};
const cancelled: Sale = {
  saleId: 'box-1-000125',
  terminalId: 'box-1',
  receiptNo: 345, // the same receipt number as `sale` (another shift): must not merge in 1C
  time: '2025-03-15T11:00:00+02:00',
  kind: 'cancel',
  lines: [{ code: '2', qty: 1000, price: 17550, amount: 17550 }],
  payments: [],
  total: 17550,
};

describe('atol report: the fixture', () => {
  it('report.txt decodes to what 1C imports: code 1 qty 2 700.00; code 2 qty 1 175.50; code 1 qty -1 -350.00; nothing of 1003', async () => {
    const sales = await decodeAll(fixture('report.txt'), { fileName: 'box-1_report.txt' });
    assert.deepEqual(positions(sales), FIXTURE_POSITIONS);
    assert.deepEqual(sales.map((s) => [s.saleId, s.kind, s.receiptNo, s.shift, s.total, s.terminalId, s.time]), [
      ['1/5/1001', 'sale', 1001, 5, 87550, 'box-1', '2025-03-15T10:15:02+02:00'],
      ['1/5/1002', 'return', 1002, 5, -35000, 'box-1', '2025-03-15T11:40:00+02:00'],
    ]);
    assert.deepEqual(sales[0]!.payments, [{ kind: 'cash', amount: 87550 }]);
    assert.deepEqual(sales[1]!.payments, [{ kind: 'card', amount: -35000 }]);
    assert.equal(sales[0]!.lines[0]!.barcode, '4601234567893');
    assert.ok(!sales.some((s) => s.receiptNo === 1003));
  });

  it('the test-only 1C reader gets the same positions from report.txt', () => {
    const r = read1CReport(fixture('report.txt'));
    assert.deepEqual([r.databaseId, r.reportNumber], ['1', '17']);
    assert.deepEqual(r.positions.map((p) => [p.code, p.qty, p.amount]), FIXTURE_POSITIONS);
    assert.deepEqual(r.positions.map((p) => p.operation), [0, 0, 1]);
  });

  it('encodeReport of those sales -> decode and the 1C reader give the same per-code totals', async () => {
    const sales = await decodeAll(fixture('report.txt'));
    const want = totalsByCode(sales.flatMap((s) => s.lines));
    assert.deepEqual([...want], [['1', { qty: 1000, amount: 35000 }], ['2', { qty: 1000, amount: 17550 }]]);
    const { bytes } = encodeReport(sales, { firstTransaction: 501, reportNumber: 17 });
    assert.deepEqual(totalsByCode((await decodeAll(bytes)).flatMap((s) => s.lines)), want);
    assert.deepEqual(totalsByCode(read1CReport(bytes).positions), want);
    assert.deepEqual(read1CReport(bytes).positions.map((p) => [p.code, p.qty, p.amount]), FIXTURE_POSITIONS);
  });

  it('cancelled: keep reads the 56 document as a cancel sale', async () => {
    const sales = await decodeAll(fixture('report.txt'), { cancelled: 'keep' });
    assert.deepEqual(sales.map((s) => [s.receiptNo, s.kind]), [[1001, 'sale'], [1002, 'return'], [1003, 'cancel']]);
    assert.deepEqual(sales[2]!.lines, [{ code: '2', qty: 1000, price: 17550, amount: 17550 }]);
  });

  it('readReportHeader: state, database id, report number; anything else is not a report', () => {
    assert.deepEqual(readReportHeader(fixture('report.txt')), { state: '#', stateOffset: 0, databaseId: '1', reportNumber: '17' });
    assert.equal(readReportHeader(Buffer.from('@\r\n1\r\n18\r\n')).state, '@');
    assert.throws(() => readReportHeader(Buffer.from('##@@&&\r\n#\r\n')), /line 1 must be "#" or "@"/);
  });
});

describe('atol report: encodeReport', () => {
  const lines = (b: Buffer) => iconv.decode(b, 'cp1251').split('\r\n');

  it('writes what 1C requires: header, 42/11/40/55, 56 for a cancel, 44 fields + ";", cp1251, CRLF, commas', () => {
    const { bytes, nextTransaction, documents, firstTransaction } = encodeReport([sale, refund, cancelled], { firstTransaction: 1000, reportNumber: 18, databaseId: '7' });
    const ls = lines(bytes);
    assert.deepEqual(ls.slice(0, 3), ['#', '7', '18']);
    assert.equal(ls.at(-1), '', 'ends with CRLF, no blank line');
    const tx = ls.slice(3, -1).map((l) => l.split(';'));
    for (const f of tx) {
      assert.equal(f.length, 45, '44 fields and a trailing ;');
      assert.equal(f[44], '');
    }
    assert.deepEqual(tx.map((f) => f[3]), ['42', '11', '11', '40', '40', '55', '42', '11', '40', '55', '42', '11', '56']);
    assert.deepEqual(tx.map((f) => Number(f[0])), Array.from({ length: 13 }, (_, k) => 1000 + k), 'unique, increasing from firstTransaction');
    assert.equal(firstTransaction, 1000);
    assert.equal(nextTransaction, 1013);
    // document numbers: receiptNo where free; the refund (none) and the cancel (345 taken) get new ones
    assert.deepEqual(documents, [{ saleId: 'box-1-000123', document: 345 }, { saleId: 'box-1-000124', document: 346 }, { saleId: 'box-1-000125', document: 347 }]);
    assert.deepEqual([...new Set(tx.map((f) => f[5]))], ['345', '346', '347']);
    // the sale: date/time as the till's wall clock, shift 12, field 26, operation 0, kind 1
    const [open, item1, item2, cash, card, close] = tx;
    assert.deepEqual([open![1], open![2], open![4], open![12], open![13], open![22], open![25]], ['15.03.2025', '09:05:00', '1', '0', '12', '1', '1/12/345']);
    assert.deepEqual([open![10], open![11]], ['2,25', '770,00']);
    assert.deepEqual([item1![7], item1![9], item1![10], item1![11], item1![14], item1![15], item1![18], item1![19]], ['1', '350,00', '2', '700,00', '350,00', '700,00', '4601234567893', '700,00']);
    assert.deepEqual([item2![7], item2![9], item2![10], item2![11], item2![14], item2![15], item2![19]], ['3', '289,90', '0,25', '72,47', '280,00', '70,00', '72,47']);
    assert.deepEqual([cash![8], cash![9], cash![10], card![8], card![9], card![10]], ['1', '0', '70,00', '2', '1', '700,00']);
    assert.equal(open!.slice(4).join(';'), close!.slice(4).join(';'));
    assert.equal(open!.slice(0, 3).join(), '1000,15.03.2025,09:05:00');
    // the return: negative qty and sums, operation 1, document kind 2, default shift 1
    const ret = tx.slice(6, 10);
    assert.deepEqual(ret.map((f) => [f[10], f[11], f[12], f[13], f[22]]), [
      ['-1', '-350,00', '1', '1', '2'],
      ['-1', '-350,00', '1', '1', '2'],
      ['-350,00', '-350,00', '1', '1', '2'],
      ['-1', '-350,00', '1', '1', '2'],
    ]);
    assert.deepEqual([ret[1]![9], ret[1]![15], ret[2]![8], ret[2]![9]], ['350,00', '-350,00', '3', '2']);
    // never type 1, and the cashier's name (not a number) becomes cashierCode
    assert.ok(!tx.some((f) => f[3] === '1'));
    assert.ok(tx.every((f) => f[6] === '1'));
  });

  it('the 1C reader imports exactly the sale and the return; decodeSales gives them back', async () => {
    const { bytes } = encodeReport([sale, refund, cancelled]);
    const got = read1CReport(bytes).positions;
    assert.deepEqual(got.map((p) => [p.document, p.code, p.qty, p.amount]), [
      [345, '1', 2000, 70000],
      [345, '3', 250, 7000],
      [346, '1', -1000, -35000],
    ]);
    const back = await decodeAll(bytes, { cancelled: 'keep' });
    assert.deepEqual(back.map((s) => [s.kind, s.total, s.lines.map((l) => [l.code, l.qty, l.price, l.amount, l.discount])]), [
      ['sale', 77000, [['1', 2000, 35000, 70000, undefined], ['3', 250, 28990, 7000, 247]]],
      ['return', -35000, [['1', -1000, 35000, -35000, undefined]]],
      ['cancel', 17550, [['2', 1000, 17550, 17550, undefined]]],
    ]);
    assert.deepEqual(back.map((s) => s.payments), [sale.payments, refund.payments, []]);
  });

  it('options [U]: positive returns, dot decimals, LF, UTF-8, workplace, payment codes', async () => {
    const { bytes } = encodeReport([refund], { returnSign: 'positive', decimal: '.', lineEnd: 'lf', encoding: 'utf-8', workplace: 3, paymentCodes: { other: 9 } });
    const ls = bytes.toString('utf8').split('\n');
    const [open, item, pay] = ls.slice(3).map((l) => l.split(';'));
    assert.deepEqual([item![4], item![10], item![11], item![15], item![25]], ['3', '1', '350.00', '350.00', '3/1/1']);
    assert.deepEqual([open![10], pay![8], pay![9], pay![10]], ['1', '9', '2', '350.00']);
    // the reader takes the sign from field 13 whatever the file had
    assert.deepEqual((await decodeAll(bytes))[0]!.lines.map((l) => [l.qty, l.amount]), [[-1000, -35000]]);
  });

  it('refuses what 1C would choke on, naming it; reportProblem lets the adapter hold such sales back', () => {
    const withCode = (code: string): Sale => ({ ...sale, lines: [{ code, qty: 1000, price: 1, amount: 1 }] });
    assert.match(reportProblem(withCode(''))!.message, /type 1/);
    assert.match(reportProblem(withCode('A-1'))!.message, /not a number/);
    assert.equal(reportProblem(withCode('A-1'), { numericCodes: false }), undefined);
    assert.equal(reportProblem(sale), undefined);
    assert.deepEqual(reportProblem({ ...sale, lines: [{ code: '1', qty: 1.5, price: 1, amount: 1 }] })?.field, 'qty');
    assert.equal(reportProblem({ ...sale, time: 'yesterday' })?.field, 'time');
    assert.throws(() => encodeReport([sale, withCode('X')]), (e: FormatError) => e instanceof FormatError && e.location.field === 'code' && /box-1-000123/.test(e.message));
    assert.throws(() => encodeReport([sale, { ...refund, terminalId: 'box-2' }]), /one register/);
    // a fragment (terminal -> office) carries any code: the office decides
    assert.doesNotThrow(() => encodeSaleFragment(withCode('A-1')));
  });

  it('an empty batch is a valid empty report', () => {
    const r = encodeReport([], { firstTransaction: 77 });
    assert.equal(r.bytes.toString(), '#\r\n1\r\n1\r\n');
    assert.equal(r.nextTransaction, 77);
    assert.deepEqual(read1CReport(r.bytes).positions, []);
  });
});

describe('atol report: fragments (encodeSale / decodeSales)', () => {
  const fmt = createAtolFormat();
  const roundTrip = async (s: Sale, opts = {}) => {
    const out: Sale[] = [];
    const f = createAtolFormat(opts);
    for await (const x of f.decodeSales!(Readable.from([Buffer.from(f.encodeSale!(s, { options: {} }))]), { fileName: `${s.terminalId}_${s.saleId}.txt`, options: {} })) out.push(x);
    return out;
  };

  it('a sale and a return round-trip exactly (saleId, terminal, time offset, names, cashier) through the trailer', async () => {
    for (const s of [sale, refund]) assert.deepEqual(await roundTrip(s), [s]);
    assert.deepEqual(await roundTrip(sale, { encoding: 'utf-8', decimal: '.', lineEnd: 'lf', returnSign: 'positive' }), [sale]);
    assert.deepEqual(await roundTrip(cancelled), [], 'a cancelled receipt is dropped, as 1C does');
    assert.deepEqual(await roundTrip(cancelled, { cancelled: 'keep' }), [cancelled]);
  });

  it('is transaction lines (no report header), a blank line, then the trailer; cp1251 holds everything', () => {
    const text = iconv.decode(Buffer.from(fmt.encodeSale!(sale, { options: {} })), 'cp1251');
    const ls = text.split('\r\n');
    assert.match(ls[0]!, /^1;15\.03\.2025;09:05:00;42;1;345;/);
    assert.equal(ls[6], '');
    assert.match(ls[7]!, /^#cfx;sale;345;\{"saleId":"box-1-000123"/);
    assert.match(ls[7]!, /\\u041e\\u043b\\u0435\\u043d\\u0430/, 'non-ASCII escaped');
    const emoji = { ...sale, lines: [{ ...sale.lines[0]!, name: 'Квиток 🎭' }] };
    assert.doesNotThrow(() => fmt.encodeSale!(emoji, { options: {} }));
  });

  it('without the trailer a fragment still reads: ids from field 26 and the file name', async () => {
    const out = await roundTrip(sale, { cfxTrailer: false, utcOffset: '+02:00' });
    assert.deepEqual(out, [
      {
        saleId: '1/12/345',
        terminalId: 'box-1',
        shift: 12,
        receiptNo: 345,
        cashier: '1',
        time: '2025-03-15T09:05:00+02:00',
        kind: 'sale',
        lines: [
          { code: '1', barcode: '4601234567893', qty: 2000, price: 35000, amount: 70000 },
          { code: '3', qty: 250, price: 28990, amount: 7000, discount: 247 },
        ],
        payments: sale.payments,
        total: 77000,
      },
    ]);
  });

  it('a trailer that disagrees with the transaction lines is an error', async () => {
    const text = iconv.decode(Buffer.from(fmt.encodeSale!(sale, { options: {} })), 'cp1251');
    const forged = text.replace('"qty":2000', '"qty":3000');
    const e = await decodeError(iconv.encode(forged, 'cp1251'));
    assert.match(e.message, /disagrees with its transactions: line 1/);
    assert.equal(e.location.line, 8);
    assert.match((await decodeError(text.replace('#cfx;sale;345;{', '#cfx;sale;345;['))).message, /trailer/);
  });

  it('storno (12) removes the last line of its document; 56 drops a document; a report with a document not closed yet is not complete', async () => {
    const L = (txn: number, type: number, doc: number, more: Record<number, string> = {}) => {
      const f = new Array<string>(44).fill('');
      Object.assign(f, { 0: String(txn), 1: '01.02.2025', 2: '8:05:09', 3: String(type), 4: '1', 5: String(doc), 12: '0', 13: '3' });
      for (const [k, v] of Object.entries(more)) f[Number(k) - 1] = v;
      return f.join(';') + ';';
    };
    const item = (txn: number, doc: number, code: string, qty: string, amount: string) => L(txn, 11, doc, { 8: code, 10: '1,00', 11: qty, 16: amount });
    const text = ['#', '1', '1',
      L(1, 42, 1), item(2, 1, '5', '1', '1,00'), item(3, 1, '6', '2', '2,00'), L(4, 12, 1), item(5, 1, '7', '0,5', '0,50'), L(6, 55, 1),
      L(7, 42, 2), item(8, 2, '5', '1', '1,00'), L(9, 56, 2),
      L(10, 42, 3), item(11, 3, '5', '1', '1,00'),
      L(12, 61, 4),
    ].join('\r\n');
    const open = await decodeError(text);
    assert.deepEqual([open.code, open.location.line, open.location.field], [ErrorCodes.FORMAT_INCOMPLETE, 13, 'type']);
    // closed: read
    const closed = text.replace(L(12, 61, 4), `${L(12, 55, 3)}\r\n${L(13, 61, 4)}`);
    const sales = await decodeAll(Buffer.from(closed));
    assert.deepEqual(sales.map((s) => [s.receiptNo, s.time, s.lines.map((l) => [l.code, l.qty])]), [[1, '2025-02-01T08:05:09+02:00', [['5', 1000], ['7', 500]]], [3, '2025-02-01T08:05:09+02:00', [['5', 1000]]]]);
    // 1C itself skips the open one
    assert.deepEqual(read1CReport(Buffer.from(text)).positions.map((p) => [p.document, p.code]), [[1, '5'], [1, '7']]);
  });

  it('Frontol\'s report with a receipt still open (fixture report-frontol-open.txt): FORMAT_INCOMPLETE while the file is young, a FormatError naming it once older than openReceiptWait', async () => {
    const fmt = createAtolFormat({ utcOffset: '+02:00' });
    const read = async (modifiedAt?: Date, options: Record<string, unknown> = {}) => {
      const out: Sale[] = [];
      for await (const s of fmt.decodeSales!(Readable.from([fixture('report-frontol-open.txt')]), { fileName: 'box-1_frontol.txt', options, ...(modifiedAt ? { modifiedAt } : {}) })) out.push(s);
      return out;
    };
    const fails = async (...a: Parameters<typeof read>) => {
      try {
        await read(...a);
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
        return e;
      }
      return assert.fail('read');
    };
    for (const young of [undefined, new Date(Date.now() - 59 * 60_000)]) {
      const e = await fails(young);
      assert.equal(e.code, ErrorCodes.FORMAT_INCOMPLETE);
      assert.equal(e.location.line, 10);
      assert.match(e.message, /receipt 12 \(workplace\/shift\/document 1\/8\/12, opened on line 10\) has no closing line \(55 or 56\) yet/);
    }
    const old = await fails(new Date(Date.now() - 61 * 60_000));
    assert.equal(old.code, ErrorCodes.FORMAT_INVALID);
    assert.match(old.message, /receipt 12 .* has no closing line \(55 or 56\), and the file has not changed for 61 min \(openReceiptWait 1 h\)/);
    assert.equal((await fails(new Date(Date.now() - 3 * 60_000), { openReceiptWait: '2m' })).code, ErrorCodes.FORMAT_INVALID);
    // closed by the register: both receipts, one-digit hours and the 45 line read as Frontol writes them
    const text = iconv.decode(fixture('report-frontol-open.txt'), 'cp1251');
    const closedLine = text.trimEnd().split('\r\n').at(-1)!.replace(/^808;/, '809;').replace(';11;1;12;3;105;;64,00;1;64,00;', ';55;1;12;3;;;;1;64,00;');
    const sales: Sale[] = [];
    for await (const s of fmt.decodeSales!(Readable.from([iconv.encode(`${text}${closedLine}\r\n`, 'cp1251')]), { fileName: 'box-1_frontol.txt', options: {} })) sales.push(s);
    assert.deepEqual(sales.map((s) => [s.terminalId, s.receiptNo, s.time, s.total, s.lines.map((l) => [l.code, l.qty, l.amount])]), [
      ['box-1', 11, '2025-03-17T08:56:44+02:00', 9575, [['101', 2000, 8600], ['104', 25, 975]]],
      ['box-1', 12, '2025-03-17T09:02:11+02:00', 6400, [['105', 1000, 6400]]],
    ]);
  });

  it('bad lines fail naming line and field', async () => {
    const ok = '1;15.03.2025;10:15:02;42;1;1001;1;;;;3;875,50;0;5;;;1;;;875,50;;;1;;;1/5/1001;1;;;;;;;;;;;;;;;;;;';
    const cases: [string, number, string][] = [
      [ok.replace(/^1;/, 'x;'), 1, 'transaction'],
      [ok.replace(';42;', ';4a;'), 4, 'type'],
      [ok.replace(';1001;', ';;'), 6, 'document'],
      [ok.replace(';0;5;', ';0;v;'), 14, 'shift'],
      [ok.replace('15.03.2025', '2025-03-15'), 2, 'date'],
      [ok.replace('10:15:02', '25:00:00'), 3, 'time'],
      [ok.replace(';42;', ';11;').replace(';3;875,50;', ';3x;875,50;'), 11, 'qty'],
    ];
    for (const [line, column, field] of cases) {
      const e = await decodeError(`#\r\n1\r\n1\r\n${line}\r\n`);
      assert.deepEqual(e.location, { file: 'bad.txt', line: 4, field, column }, line);
    }
    assert.match((await decodeError('##@@&&\r\n#\r\n')).message, /line 1 must be "#" or "@"/);
    assert.match((await decodeError('')).message, /empty/);
    assert.match((await decodeError(`#\r\n1\r\n1\r\n${ok}\r\n\r\n${ok}\r\n`)).message, /blank line ends the report/);
    assert.match((await decodeError(`${ok}\r\n`)).message, /not closed/, 'a fragment must close its document');
  });
});

describe('the test-only 1C reader itself', () => {
  it('refuses what 1C refuses', () => {
    const { bytes } = encodeReport([sale]);
    const text = iconv.decode(bytes, 'cp1251');
    assert.throws(() => read1CReport(undefined), /does not exist/);
    assert.throws(() => read1CReport(iconv.encode(text.replace(/^#/, '@'), 'cp1251')), /already loaded/);
    assert.throws(() => read1CReport(iconv.encode('x' + text, 'cp1251')), /wrong format/);
    assert.throws(() => read1CReport(iconv.encode(text.replace(';11;1;345;', ';1;1;345;'), 'cp1251')), OneCImportError);
    assert.throws(() => read1CReport(iconv.encode(text.replace(';12;', ';x;'), 'cp1251')), /field 14/);
    assert.throws(() => read1CReport(iconv.encode(text.replace(';11;1;345;1;1;;', ';11;1;345;1;A1;;'), 'cp1251')), /item code/);
  });
});
