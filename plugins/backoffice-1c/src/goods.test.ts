import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import iconv from 'iconv-lite';
import { ErrorCodes, FormatError, type PriceRecord, type Product } from '@cfx/core/api';
import { createAtolFormat, decodeGoods, readGoodsHeader, type AtolFormatOptions, type GoodsDecodeOptions } from './index.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/atol/${name}`, import.meta.url));
const cp1251 = (s: string) => iconv.encode(s, 'cp1251');
const oneByteChunks = (b: Buffer) => Readable.from((function* () {
  for (const x of b) yield Buffer.of(x);
})());

async function decode(input: Buffer | Readable, opts: GoodsDecodeOptions = {}) {
  const d = await decodeGoods(Buffer.isBuffer(input) ? Readable.from([input]) : input, { fileName: 'goods.txt', ...opts });
  const records: PriceRecord[] = [];
  for await (const r of d.records) records.push(r);
  return { mode: d.mode, state: d.state, records, warnings: d.warnings, skipped: d.skipped };
}

async function decodeUntilError(input: Buffer | Readable, opts: GoodsDecodeOptions = {}) {
  const got: PriceRecord[] = [];
  try {
    const d = await decodeGoods(Buffer.isBuffer(input) ? Readable.from([input]) : input, { fileName: 'bad.txt', ...opts });
    for await (const r of d.records) got.push(r);
  } catch (e) {
    assert.ok(e instanceof FormatError, `not a FormatError: ${e}`);
    return { got, error: e };
  }
  assert.fail('no error');
}

/** an item line with the given fields (1-based) set, 33 fields as 1C writes */
const L = (m: Record<number, string>, n = 33) => {
  const f = new Array<string>(n).fill('');
  for (const [k, v] of Object.entries(m)) f[Number(k) - 1] = v;
  return f.join(';');
};
const stripLines = (rs: PriceRecord[]) => rs.map(({ line: _l, ...r }) => r);
/** the catalog after the records, applied in order the way the store does (an upsert replaces the product) */
function applied(rs: PriceRecord[]): Map<string, Product> {
  const m = new Map<string, Product>();
  for (const r of rs) {
    if (r.op === 'clear') m.clear();
    else if (r.op === 'upsert') m.set(r.product.code, r.product);
    else if (r.op === 'delete') m.delete(r.code);
    else if (m.has(r.code)) m.set(r.code, { ...m.get(r.code)!, enabled: false });
  }
  return m;
}

/** fixtures/README.md: group 100 (not a product), items 1-3, code 4 disabled; a full file */
const FIXTURE_RECORDS: PriceRecord[] = [
  { op: 'clear', line: 3 },
  {
    op: 'upsert',
    line: 7,
    product: {
      code: '1',
      barcodes: ['4601234567893'],
      name: 'Билет взрослый, партер',
      receiptName: 'Билет взрослый',
      price: 35000,
      stock: 0,
      weighed: false,
      groupCode: '100',
      article: 'T-ADULT',
      extras: { reserved: '0', flags: '0,1,1,0,0,0,0,1', unitsPerBarcode: '1,000', field18: '0' },
    },
  },
  {
    op: 'upsert',
    line: 8,
    product: {
      code: '2',
      barcodes: ['4601234567800', '2000000000015'],
      name: 'Билет детский, партер',
      receiptName: 'Билет детский',
      price: 17550,
      stock: 0,
      weighed: false,
      groupCode: '100',
      article: 'T-CHILD',
      extras: { reserved: '0', flags: '0,1,1,0,0,0,0,1', unitsPerBarcode: '1,000', field18: '0' },
    },
  },
  {
    op: 'upsert',
    line: 9,
    product: { code: '3', barcodes: [], name: 'Программка', receiptName: 'Программка', price: 0, stock: 0, weighed: false, extras: { reserved: '0', flags: '0,1,1,0,0,0,1,1', unitsPerBarcode: '1,000', field18: '0' } },
  },
  { op: 'disable', code: '4', line: 10 },
];
/** goods-full.txt has the $$$ADDQUANTITY line the quirk variant lacks: its lines are one further down */
const inFull = (rs: PriceRecord[]) => rs.map((r) => ({ ...r, line: r.line! + (r.line! > 6 ? 1 : 0) }));

describe('atol goods: the fixtures', () => {
  it('goods-full.txt (cp1251, CRLF, as 1C writes it) -> clear + exactly the records of fixtures/README.md', async () => {
    const { mode, state, records, warnings } = await decode(fixture('goods-full.txt'));
    assert.equal(mode, 'full');
    assert.equal(state, '#');
    assert.deepEqual(records, inFull(FIXTURE_RECORDS));
    assert.equal(records.length, 5);
    assert.deepEqual(warnings, []);
    const products = records.flatMap((r) => (r.op === 'upsert' ? [r.product] : []));
    assert.deepEqual(products.map((p) => [p.code, p.name, p.price]), [
      ['1', 'Билет взрослый, партер', 35000],
      ['2', 'Билет детский, партер', 17550],
      ['3', 'Программка', 0],
    ]);
    assert.ok(!products.some((p) => p.code === '100'), 'the group is not a product');
    assert.deepEqual(products.map((p) => p.groupCode), ['100', '100', undefined], 'items keep their group');
  });

  it('the quirk variant (DELETEALLBACODES misspelt, lines with no ADD command after delete-only commands) gives the same records', async () => {
    const text = iconv.decode(fixture('goods-full-quirks.txt'), 'cp1251');
    assert.match(text, /\$\$\$DELETEALLBACODES\r\n/);
    assert.doesNotMatch(text, /ADDQUANTITY|REPLACEQUANTITY/);
    const { mode, records, warnings } = await decode(fixture('goods-full-quirks.txt'));
    assert.equal(mode, 'full');
    assert.deepEqual(records, FIXTURE_RECORDS);
    assert.deepEqual(warnings, []);
  });

  it('reads the same from UTF-8, with and without BOM, with LF, and one byte at a time', async () => {
    const want = stripLines((await decode(fixture('goods-full.txt'))).records);
    const text = iconv.decode(fixture('goods-full.txt'), 'cp1251');
    const variants = [
      Buffer.from(text, 'utf8'),
      Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), Buffer.from(text, 'utf8')]),
      cp1251(text.replaceAll('\r\n', '\n')),
      Buffer.from(text.replaceAll('\r\n', '\n'), 'utf8'),
    ];
    for (const v of variants) {
      assert.deepEqual(stripLines((await decode(v)).records), want);
      assert.deepEqual(stripLines((await decode(oneByteChunks(v))).records), want);
    }
    assert.deepEqual(stripLines((await decode(fixture('goods-full.txt'), { encoding: 'cp1251' })).records), want);
  });

  it('readGoodsHeader: state, where to acknowledge, mode — without decoding the file', () => {
    const buf = fixture('goods-full.txt');
    const h = readGoodsHeader(buf);
    assert.deepEqual(h, { state: '#', stateOffset: 8, mode: 'full' });
    assert.equal(String.fromCharCode(buf[h.stateOffset]!), '#');
    const loaded = Buffer.from(buf);
    loaded[h.stateOffset] = 0x40;
    assert.equal(readGoodsHeader(loaded).state, '@');
    assert.equal(readGoodsHeader(Buffer.from('\ufeff##@@&&\n@\n$$$REPLACEQUANTITY\n1;;x;1\n')).mode, 'delta');
    assert.equal(readGoodsHeader(Buffer.from('##@@&&\r\n#\r\n')).mode, undefined);
    assert.equal(readGoodsHeader(Buffer.from('##@@&&\r\n#\r\n$$$DELETEALLBACODES\r\n$$$DELETEALLWARES\r\n')).mode, 'full');
    assert.throws(() => readGoodsHeader(Buffer.from('#\r\n1\r\n')), FormatError);
    assert.throws(() => readGoodsHeader(Buffer.from('##@@&&\r\nx\r\n')), /line 2/);
  });

  it('readGoodsHeader and decodeGoods agree on the mode: full when DELETEALLWARES comes before any record', async () => {
    const cases: [string, 'full' | 'delta'][] = [
      ['$$$DELETEALLWARES\n1;;a;;1\n', 'full'],
      ['$$$REPLACEQUANTITY\n$$$DELETEALLWARES\n1;;a;;1\n', 'full'],
      ['$$$ADDTAXRATES\n1;20%\n$$$DELETEALLWARES\n', 'full'],
      ['$$$DELETEWARESBYWARECODE\n1\n$$$DELETEALLWARES\n', 'delta'],
      ['1;;a;;1\n$$$DELETEALLWARES\n', 'delta'],
      ['$$$REPLACEQUANTITY\n1;;a;;1\n', 'delta'],
    ];
    for (const [body, mode] of cases) {
      const buf = Buffer.from(`##@@&&\r\n#\r\n${body}`);
      assert.equal(readGoodsHeader(buf).mode, mode, body);
      assert.equal((await decode(buf)).mode, mode, body);
    }
  });

  it('a file already loaded (`@`) is decoded all the same, its state reported', async () => {
    const { state, records } = await decode(Buffer.from('##@@&&\n@\n$$$REPLACEQUANTITY\n7;;Кава;45,00\n'));
    assert.equal(state, '@');
    assert.equal(records.length, 1);
  });
});

describe('atol goods: commands and fields', () => {
  it('a delta with every command: upserts, deletes per code, barcode commands applied where the file carries them, the rest skipped with warnings', async () => {
    const text = [
      '##@@&&',
      '#',
      '$$$REPLACEQUANTITY',
      L({ 1: '10', 2: '111,222', 3: 'Чай', 5: '20,5', 6: '1,5', 8: '1,1,1', 17: '1', 23: 'A', 26: 'ART-10' }),
      L({ 1: '11', 3: 'Сир ваговий', 5: '289.90', 8: '1,1,1', 16: '7', 17: '1' }),
      '$$$DELETEWARESBYWARECODE',
      '12',
      '13;',
      '$$$ADDBARCODES',
      '999;14;;1',
      '$$$DELETEBARCODESBYWARECODE',
      '10',
      '$$$ADDPRICES',
      '10;1;30,00',
      '$$$ADDTAXRATES',
      '1;20%;20',
      '$$$ADDQUANTITY',
      '14;;Кава;;45',
      '$$$REPLACEQUANTITYWITHOUTSALE',
      '15;;Какао;;1234,50;;;0,0,1',
      '',
    ].join('\r\n');
    const seen: string[] = [];
    const { mode, records, warnings, skipped } = await decode(cp1251(text), { onWarning: (w) => seen.push(w.command!) });
    assert.equal(mode, 'delta');
    assert.deepEqual(records, [
      { op: 'upsert', line: 4, product: { code: '10', barcodes: ['111', '222'], name: 'Чай', price: 2050, stock: 1500, weighed: true, taxGroup: 'A', article: 'ART-10', extras: { flags: '1,1,1' } } },
      { op: 'upsert', line: 5, product: { code: '11', barcodes: [], name: 'Сир ваговий', price: 28990, weighed: true, groupCode: '7', extras: { flags: '1,1,1' } } },
      { op: 'delete', line: 7, code: '12' },
      { op: 'delete', line: 8, code: '13' },
      // ADDBARCODES before the item's line: merged into it
      { op: 'upsert', line: 18, product: { code: '14', barcodes: ['999'], name: 'Кава', price: 4500 } },
      { op: 'upsert', line: 20, product: { code: '15', barcodes: [], name: 'Какао', price: 123450, weighed: false, enabled: false, extras: { flags: '0,0,1' } } },
    ]);
    // DELETEBARCODESBYWARECODE of 10, whose line came before it: the model cannot carry it, counted
    assert.deepEqual(warnings.map((w) => [w.line, w.command]), [
      [13, 'ADDPRICES'],
      [15, 'ADDTAXRATES'],
      [12, 'DELETEBARCODESBYWARECODE'],
    ]);
    assert.match(warnings[1]!.message, /unknown command \$\$\$ADDTAXRATES/);
    assert.match(warnings[2]!.message, /barcodes of "10" cannot be removed/);
    assert.deepEqual(seen, ['ADDPRICES', 'ADDTAXRATES', 'DELETEBARCODESBYWARECODE']);
    assert.deepEqual(skipped, {
      count: 3,
      lines: [12, 13, 15],
      reasons: ['$$$ADDPRICES (prices of price lists)', 'unknown command $$$ADDTAXRATES', '$$$DELETEBARCODESBYWARECODE of an item without a line after it (its barcodes stay)'],
    });
  });

  it('Frontol\'s one line per barcode: the lines of a code add barcodes (fixture goods-frontol-lines.txt)', async () => {
    const { mode, records, skipped } = await decode(fixture('goods-frontol-lines.txt'));
    assert.equal(mode, 'delta');
    assert.equal(records.length, 10, 'one upsert a line: the last one of a code has all its barcodes');
    assert.deepEqual(skipped, { count: 0, lines: [], reasons: [] });
    const catalog = applied(records);
    assert.deepEqual([...catalog.values()].map((p) => [p.code, p.barcodes, p.price, p.stock, p.weighed]), [
      ['101', ['4820000001011', '4820000001028', '4820000001035', '4820000001097'], 4300, 10000, false],
      ['102', ['4820000001042'], 3120, 5000, false],
      ['103', ['4820000001059', '4820000001066', '4820000001073'], 2700, 20000, false],
      ['104', ['2000000001043', '2000000001050'], 38990, 3250, true],
      ['105', ['4820000001080'], 6400, 7000, false],
    ]);
    assert.equal(catalog.get('103')!.name, 'Хліб житній');
    assert.equal([...catalog.values()].reduce((n, p) => n + p.barcodes.length, 0), 11);
  });

  it('103 barcodes over 66 codes, the lines of a code not next to each other: all 103 reach the catalog', async () => {
    const lines = ['##@@&&', '#', '$$$ADDQUANTITY'];
    const want = new Map<string, string[]>();
    for (let k = 0; k < 103; k++) {
      // codes 1..66, the first 37 twice, in an order that never repeats a code on the next line
      const code = String(k < 66 ? k + 1 : ((k - 66) * 7) % 37 + 1);
      const bc = `48200${String(k).padStart(8, '0')}`;
      want.set(code, [...(want.get(code) ?? []), bc]);
      lines.push(`${code};${bc};Товар ${code};;1,00`);
    }
    const catalog = applied((await decode(cp1251(lines.join('\r\n')))).records);
    assert.equal(catalog.size, 66);
    assert.equal([...catalog.values()].reduce((n, p) => n + p.barcodes.length, 0), 103);
    for (const [code, bcs] of want) assert.deepEqual(catalog.get(code)!.barcodes, bcs, code);
  });

  it('5000 codes, each again after all the others, barcodes of every shape: every line\'s barcodes kept, in order', async () => {
    const lines = ['##@@&&', '#', '$$$ADDQUANTITY'];
    const codes = Array.from({ length: 5000 }, (_, k) => (k % 5 === 0 ? `A-${k}` : k % 7 === 0 ? `0${k}` : String(k + 1)));
    const first = (k: number) => (k % 3 === 0 ? `0${4820000000000 + k}` : String(4820000000000 + k));
    const second = (k: number) => (k % 4 === 0 ? `X${k},${2000000000000 + k}` : String(2000000000000 + k));
    codes.forEach((c, k) => lines.push(`${c};${first(k)};Товар ${k};;1`));
    // a deleted code starts afresh; another gets none the second time
    lines.push('$$$DELETEWARESBYWARECODE', codes[11]!, '$$$ADDQUANTITY');
    codes.forEach((c, k) => lines.push(`${c};${k === 12 ? '' : second(k)};Товар ${k};;2`));
    const catalog = applied((await decode(Buffer.from(lines.join('\n')))).records);
    assert.equal(catalog.size, 5000);
    codes.forEach((c, k) => {
      const want = k === 11 ? second(k).split(',') : k === 12 ? [first(k)] : [first(k), ...second(k).split(',')];
      assert.deepEqual(catalog.get(c)!.barcodes, want, c);
    });
  });

  it('DELETEBARCODESBYWARECODE then the items: exactly the barcodes of the file; ADDBARCODES merged into a later line; an item not in the file counted (fixture goods-delta-barcodes.txt)', async () => {
    const { mode, records, skipped, warnings } = await decode(fixture('goods-delta-barcodes.txt'));
    assert.equal(mode, 'delta');
    assert.deepEqual(records.map((r) => r.line), [8, 9, 10, 14]);
    const catalog = applied(records);
    assert.deepEqual([...catalog.values()].map((p) => [p.code, p.barcodes, p.price]), [
      ['101', ['4820000001011'], 4400],
      ['ТП008316', ['4607001234561', '4607001234578'], 44900],
      ['102', ['4820000009999'], 3190],
    ]);
    assert.deepEqual(skipped, { count: 1, lines: [6], reasons: ['$$$DELETEBARCODESBYWARECODE of an item without a line after it (its barcodes stay)'] });
    assert.match(warnings[0]!.message, /"777"/);
  });

  it('barcode commands and a full file: a removal for an item the file does not bring back is moot; an ADDBARCODES without its item is counted', async () => {
    const text = ['##@@&&', '#', '$$$DELETEALLWARES', '$$$DELETEBARCODESBYWARECODE', '5', '$$$ADDBARCODES', '4820000000017;6', '$$$ADDQUANTITY', '7;4820000000024;Кава;;45', ''].join('\n');
    const { mode, records, skipped } = await decode(Buffer.from(text));
    assert.equal(mode, 'full');
    assert.deepEqual(stripLines(records), [{ op: 'clear' }, { op: 'upsert', product: { code: '7', barcodes: ['4820000000024'], name: 'Кава', price: 4500 } }]);
    assert.deepEqual(skipped, { count: 1, lines: [7], reasons: ['$$$ADDBARCODES for an item without a line after it (not added)'] });
    const missing = await decodeUntilError(Buffer.from('##@@&&\n#\n$$$ADDBARCODES\n4820000000017\n'));
    assert.deepEqual(missing.error.location, { file: 'bad.txt', line: 4, field: 'code', column: 2 });
  });

  it('an ADDQUANTITY followed at once by an empty DELETEBARCODESBYWARECODE (a Frontol quirk) is just the items', async () => {
    const { records, skipped } = await decode(Buffer.from('##@@&& \r\n#\r\n$$$ADDQUANTITY\r\n$$$DELETEBARCODESBYWARECODE\r\n$$$ADDQUANTITY\r\n1;4820000000017;a;;1\r\n'));
    assert.deepEqual(stripLines(records), [{ op: 'upsert', product: { code: '1', barcodes: ['4820000000017'], name: 'a', price: 100 } }]);
    assert.equal(skipped.count, 0);
  });

  it('an unknown command is skipped input: counted with its line, through the atol format too', async () => {
    const want = { count: 1, lines: [6], reasons: ['unknown command $$$ADDTAXRATES'] };
    const { mode, records, skipped } = await decode(fixture('goods-delta-unknown.txt'));
    assert.equal(mode, 'delta');
    assert.deepEqual(records.map((r) => [r.line, r.op, r.op === 'upsert' ? r.product.price : r.op === 'delete' ? r.code : '']), [[4, 'upsert', 38000], [5, 'upsert', 420000], [10, 'delete', '3']]);
    assert.equal(records[1]!.op === 'upsert' && records[1]!.product.name, 'Абонемент «Сезон»');
    assert.deepEqual(skipped, want);
    const d = await createAtolFormat().decodePrices!(Readable.from([fixture('goods-delta-unknown.txt')]), { fileName: 'g.txt', options: {} });
    for await (const _ of d.records);
    assert.deepEqual(d.skipped, want);
    assert.deepEqual((await decode(fixture('goods-full.txt'))).skipped, { count: 0, lines: [], reasons: [] });
  });

  it('numbers are strict: 1 234,50 only with thousands: true, 12 50 never', async () => {
    const text = (price: string) => cp1251(['##@@&&', '#', '$$$REPLACEQUANTITY', '1;;Чай;;20', `2;;Какао;;${price};1 000,5`, ''].join('\r\n'));
    const { records } = await decode(text('1 234,50'), { thousands: true });
    assert.deepEqual(records.map((r) => r.op === 'upsert' && [r.product.price, r.product.stock]), [[2000, undefined], [123450, 1000500]]);
    const off = await decodeUntilError(text('1 234,50'));
    assert.equal(off.got.length, 1);
    assert.deepEqual(off.error.location, { file: 'bad.txt', line: 5, field: 'price', column: 5 });
    assert.equal(off.error.message, 'bad.txt, line 5, field price: field 5 (price): "1 234,50" has a space inside (digit grouping is not enabled)');
    for (const thousands of [false, true]) {
      const { error } = await decodeUntilError(text('12 50'), { thousands });
      assert.deepEqual(error.location, { file: 'bad.txt', line: 5, field: 'price', column: 5 });
    }
  });

  it('a byte the encoding has no character for fails naming line and byte offset', async () => {
    const head = '##@@&&\r\n#\r\n$$$REPLACEQUANTITY\r\n1;;Чай;;20\r\n2;;Ка';
    const utf8 = Buffer.concat([Buffer.from(head, 'utf8'), Buffer.of(0xc0), Buffer.from('ва;;45\r\n', 'utf8')]);
    for (const input of [() => Readable.from([utf8]), () => oneByteChunks(utf8)]) {
      const { error } = await decodeUntilError(input(), { encoding: 'utf-8' });
      assert.equal(error.message, `bad.txt, line 5: invalid UTF-8 byte 0xC0 at byte offset ${Buffer.byteLength(head)}`);
    }
    const cp = Buffer.concat([cp1251(head), Buffer.of(0x98), cp1251('ва;;45\r\n')]);
    const { error } = await decodeUntilError(cp);
    assert.deepEqual(error.location, { file: 'bad.txt', line: 5 });
    assert.match(error.message, new RegExp(`^bad.txt, line 5: invalid cp1251 byte 0x98 at byte offset ${cp1251(head).length} `));
  });

  it('DELETEALLBARCODES in a delta cannot be carried: a warning; before DELETEALLWARES it is moot', async () => {
    const delta = await decode(Buffer.from('##@@&&\n#\n$$$DELETEALLBARCODES\n$$$REPLACEQUANTITY\n1;;a;;1\n'));
    assert.equal(delta.mode, 'delta');
    assert.deepEqual(delta.warnings.map((w) => w.command), ['DELETEALLBARCODES']);
    assert.deepEqual(delta.skipped, { count: 1, lines: [3], reasons: ['$$$DELETEALLBARCODES (barcodes of items not in the file stay)'] });
    const full = await decode(Buffer.from('##@@&&\n#\n$$$DELETEALLBACODES\n$$$DELETEALLWARES\n1;;a;;1\n'));
    assert.equal(full.mode, 'full');
    assert.deepEqual(stripLines(full.records), [{ op: 'clear' }, { op: 'upsert', product: { code: '1', barcodes: [], name: 'a', price: 100 } }]);
    assert.deepEqual(full.warnings, []);
    assert.equal(full.skipped.count, 0);
  });

  it('a DELETEALLWARES later in a file is a clear in place; a file that is only a header is an empty delta', async () => {
    const { mode, records } = await decode(Buffer.from('##@@&&\n#\n$$$REPLACEQUANTITY\n1;;a;;1\n$$$DELETEALLWARES\n2;;b;;2\n'));
    assert.equal(mode, 'delta');
    assert.deepEqual(records.map((r) => r.op), ['upsert', 'clear', 'upsert']);
    const empty = await decode(Buffer.from('##@@&&\r\n#\r\n'));
    assert.deepEqual([empty.mode, empty.records], ['delta', []]);
  });

  it('disable = code with empty name and price 0 (or empty price); a group line is no product', async () => {
    const { records } = await decode(Buffer.from(`##@@&&\n#\n$$$REPLACEQUANTITY\n5;;;;;\n6;;   ;;0,00\n${L({ 1: '7', 3: 'Група', 17: '0' })}\n8;;;Текст;5\n`));
    assert.deepEqual(stripLines(records), [
      { op: 'disable', code: '5' },
      { op: 'disable', code: '6' },
      { op: 'upsert', product: { code: '8', barcodes: [], name: '', receiptName: 'Текст', price: 500 } },
    ]);
  });

  it('keeps fields the model has no place for, up to Frontol 6\'s 68', async () => {
    const f = new Array<string>(68).fill('');
    Object.assign(f, { 0: '9', 2: 'x', 4: '1', 8: '0,50', 9: '31.12.2025', 12: '4', 24: '123', 32: '0,1', 67: 'last' });
    const { records } = await decode(Buffer.from(`##@@&&\n#\n${f.join(';')}\n`));
    assert.deepEqual(records[0], { op: 'upsert', line: 3, product: { code: '9', barcodes: [], name: 'x', price: 100, extras: { minPrice: '0,50', expiryDate: '31.12.2025', paymentSubject: '4', plu: '123', quantityStep: '0,1', field68: 'last' } } });
  });

  it('a bad price fails naming file, line and field, after the records before it', async () => {
    const lines = ['##@@&&', '#', '$$$REPLACEQUANTITY'];
    for (let k = 1; k <= 3000; k++) lines.push(`${k};;Товар №${k};;${k === 2500 ? '12,5x' : `${k},25`}`);
    const { got, error } = await decodeUntilError(cp1251(lines.join('\r\n')));
    assert.equal(got.length, 2499);
    assert.equal(error.code, ErrorCodes.FORMAT_INVALID);
    assert.deepEqual(error.location, { file: 'bad.txt', line: 2503, field: 'price', column: 5 });
    assert.match(error.message, /bad\.txt, line 2503, field price: field 5 \(price\): "12,5x" is not a number/);
  });

  it('other bad lines: decimals, negative price, stock, flags, kind, missing code, signature, state', async () => {
    const head = '##@@&&\n#\n$$$REPLACEQUANTITY\n';
    const cases: [string, string, RegExp][] = [
      ['1;;a;;1,234', 'price', /more than 2 decimals/],
      ['1;;a;;-1', 'price', /negative/],
      ['1;;a;;1;1,2345', 'stock', /more than 3 decimals/],
      ['1;;a;;1;;;x,1', 'flags', /weighed/],
      [L({ 1: '1', 3: 'a', 5: '1', 17: '2' }), 'kind', /neither 1 \(item\) nor 0/],
      [' ;;a;;1', 'code', /code is empty/],
    ];
    for (const [line, field, msg] of cases) {
      const { error } = await decodeUntilError(Buffer.from(head + line + '\n'));
      assert.equal(error.location.field, field, line);
      assert.equal(error.location.line, 4);
      assert.match(error.message, msg);
    }
    assert.match((await decodeUntilError(Buffer.from('$$$DELETEWARESBYWARECODE\n1\n'))).error.message, /not an ATOL goods file/);
    assert.match((await decodeUntilError(Buffer.from(''))).error.message, /empty/);
    assert.equal((await decodeUntilError(Buffer.from('##@@&&\n1;;a;1\n'))).error.location.line, 2);
    assert.equal((await decodeUntilError(Buffer.from(head + '$$$DELETEWARESBYWARECODE\n;\n'))).error.location.field, 'code');
    // decimal: only a dot configured
    assert.match((await decodeUntilError(Buffer.from(head + '1;;a;;1,5\n'), { decimal: '.' })).error.message, /not a number/);
  });

  it('a line over maxLineLength fails with FORMAT_LIMIT, even without any line break', async () => {
    const { error } = await decodeUntilError(Buffer.from(`##@@&&\n#\n1;;${'я'.repeat(300)};1\n`), { maxLineLength: 200 });
    assert.equal(error.code, ErrorCodes.FORMAT_LIMIT);
    assert.equal(error.location.line, 3);
    let sent = 0;
    const endless = new Readable({ read() { sent++; this.push(sent === 1 ? Buffer.from('##@@&&\n#\n') : Buffer.alloc(1024, 0x41)); } });
    const e2 = await decodeUntilError(endless, { maxLineLength: 10_000 });
    assert.equal(e2.error.code, ErrorCodes.FORMAT_LIMIT);
    assert.ok(sent < 50);
  });

  it('decodes a generated 100,000-item cp1251 goods file in bounded memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const N = 100_000;
    const input = Readable.from((function* () {
      yield cp1251('##@@&&\r\n#\r\n$$$DELETEALLWARES\r\n$$$DELETEALLBACODES\r\n$$$DELETEALLASPECTREMAINS\r\n');
      for (let k = 0; k < N; k += 500) {
        let s = '';
        for (let j = k + 1; j <= k + 500; j++) s += `${j};482${String(j).padStart(10, '0')};Назва товару ${j}, пакет;Товар ${j};${j % 1000},${String(j % 100).padStart(2, '0')};0;0;${j % 7 ? 0 : 1},1,1,0,0,0,0,1;;;;;;1,000;;100;1;0;;;;;;;;ART-${j};;;;;;;\r\n`;
        yield cp1251(s);
      }
    })());
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0, n = 0, sum = 0, weighed = 0;
    const d = await decodeGoods(input, { fileName: 'big.txt' });
    assert.equal(d.mode, 'full');
    for await (const r of d.records) {
      if (r.op === 'upsert') {
        sum += r.product.price;
        if (r.product.weighed) weighed++;
      }
      if (++n % 20_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    assert.equal(n, N + 1);
    let want = 0;
    for (let j = 1; j <= N; j++) want += (j % 1000) * 100 + (j % 100);
    assert.equal(sum, want);
    assert.equal(weighed, Math.floor(N / 7));
    assert.ok(peak < 40 * 2 ** 20, `heap grew ${(peak / 2 ** 20).toFixed(1)} MB`);
  });
});

describe('atol goods: encodePrices', () => {
  const sample: Product[] = [
    { code: '1001', barcodes: ['4820000000017', '4820000000024'], name: 'Квиток дорослий', receiptName: 'Квиток дор.', price: 35000, weighed: false, groupCode: '10', taxGroup: '1', article: 'A-1', stock: -1500 },
    { code: '2001', barcodes: [], name: 'Сир ваговий', price: 5, weighed: true, stock: 1, enabled: false, extras: { minPrice: '0,01', field40: 'x' } },
  ];

  for (const opts of [{}, { encoding: 'utf-8', decimal: '.', lineEnd: 'lf' }] as AtolFormatOptions[]) {
    it(`round-trips through decodePrices ${JSON.stringify(opts)}`, async () => {
      const fmt = createAtolFormat(opts);
      for (const mode of ['full', 'delta'] as const) {
        const records: PriceRecord[] = [
          ...(mode === 'full' ? [{ op: 'clear' } as const] : []),
          ...sample.map((product) => ({ op: 'upsert', product }) as const),
          { op: 'delete', code: '3' },
          { op: 'disable', code: '4' },
          { op: 'upsert', product: { code: '5', barcodes: [], name: 'Кава', price: 100 } },
        ];
        const encoded = Buffer.concat(await fmt.encodePrices!(records, mode, { options: {} }).toArray());
        const d = await fmt.decodePrices!(Readable.from([encoded]), { fileName: 'x.txt', options: {} });
        assert.equal(d.mode, mode);
        const back: PriceRecord[] = [];
        for await (const r of d.records) back.push(r);
        const want = records.map((r) => {
          if (r.op !== 'upsert') return r;
          // the writer fills 1C's defaults: receipt text = name, the flags field
          const p = r.product;
          const flags = p.code === '2001' ? '1,0,1,0,0,0,0,1' : '0,1,1,0,0,0,0,1';
          return { op: 'upsert', product: { ...p, receiptName: p.receiptName ?? p.name, weighed: p.weighed ?? false, extras: { ...p.extras, flags } } };
        });
        assert.deepEqual(stripLines(back), want);
      }
    });
  }

  it('writes 1C\'s layout: signature, #, DELETEALLWARES, REPLACEQUANTITY, 33 fields, cp1251, CRLF, commas', async () => {
    const bytes = Buffer.concat(
      await createAtolFormat().encodePrices!([{ op: 'clear' }, { op: 'upsert', product: { code: '7', barcodes: ['1', '2'], name: 'Кава; #1', price: 1250, stock: 2500 } }, { op: 'disable', code: '8' }], 'full', { options: {} }).toArray(),
    );
    assert.equal(
      iconv.decode(bytes, 'cp1251'),
      '##@@&&\r\n#\r\n$$$DELETEALLWARES\r\n$$$REPLACEQUANTITY\r\n' +
        '7;1,2;Кава   1;Кава   1;12,50;2,5;;0,1,1,0,0,0,0,1;;;;;;;;;1;;;;;;;;;;;;;;;;\r\n' +
        '8;;;;0,00;;;;;;;;;;;;1;;;;;;;;;;;;;;;;\r\n',
    );
    assert.equal(bytes.indexOf(Buffer.from('Кава', 'utf8')), -1, 'cp1251, not UTF-8');
  });

  it('the fixture survives decode -> encode -> decode', async () => {
    const { records } = await decode(fixture('goods-full.txt'));
    const bytes = Buffer.concat(await createAtolFormat().encodePrices!(records, 'full', { options: {} }).toArray());
    assert.deepEqual(stripLines((await decode(bytes)).records), stripLines(records));
  });

  it('refuses what a goods file cannot carry', async () => {
    const fmt = createAtolFormat();
    const enc = (rs: PriceRecord[], mode: 'full' | 'delta' = 'delta') => fmt.encodePrices!(rs, mode, { options: {} }).toArray();
    await assert.rejects(enc([{ op: 'clear' }]), /delta goods file cannot carry a clear/);
    await assert.rejects(enc([{ op: 'upsert', product: { code: '1;2', barcodes: [], name: 'x', price: 1 } }]), /code/);
    await assert.rejects(enc([{ op: 'upsert', product: { code: '1', barcodes: ['4,8'], name: 'x', price: 1 } }]), /barcode/);
    await assert.rejects(enc([{ op: 'upsert', product: { code: '1', barcodes: [], name: '', price: 0 } }]), /read it as disabled/);
    await assert.rejects(enc([{ op: 'upsert', product: { code: '1', barcodes: [], name: 'x', price: 1.5 } }]), /price 1.5/);
    await assert.rejects(enc([{ op: 'upsert', product: { code: '1', barcodes: [], name: 'emoji 🙂', price: 1 } }]), /cp1251/);
  });
});
