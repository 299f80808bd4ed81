import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import iconv from 'iconv-lite';
import { ErrorCodes, FormatError, type DecodeContext, type PriceRecord, type Product } from '@cfx/core/api';
import { createCsvFormat, type CsvFormatOptions } from './index.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const bytes = (s: string, enc: 'utf-8' | 'cp1251' = 'utf-8') => (enc === 'cp1251' ? iconv.encode(s, 'cp1251') : Buffer.from(s, 'utf8'));
const oneByteChunks = (b: Buffer) => Readable.from((function* () {
  for (const x of b) yield Buffer.of(x);
})());

async function decode(input: Buffer | Readable, fileName = 'prices.csv', options: CsvFormatOptions = {}, ctx: Partial<DecodeContext> = {}) {
  const d = await createCsvFormat(options).decodePrices!(Buffer.isBuffer(input) ? Readable.from([input]) : input, { fileName, options: {}, ...ctx });
  const records: PriceRecord[] = [];
  for await (const r of d.records) records.push(r);
  return { mode: d.mode, records };
}
const products = (rs: PriceRecord[]) => rs.flatMap((r) => (r.op === 'upsert' ? [r.product] : []));

/** collects what was yielded before the iterator threw, and the error */
async function decodeUntilError(input: Buffer | Readable, options: CsvFormatOptions = {}, ctx: Partial<DecodeContext> = {}) {
  const got: PriceRecord[] = [];
  try {
    const d = await createCsvFormat(options).decodePrices!(Buffer.isBuffer(input) ? Readable.from([input]) : input, { fileName: 'bad.csv', options: {}, ...ctx });
    for await (const r of d.records) got.push(r);
  } catch (e) {
    assert.ok(e instanceof FormatError, `not a FormatError: ${e}`);
    return { got, error: e };
  }
  assert.fail('no error');
}

const ONE_C = 'code;barcodes;name;price;unit;weighed;stock\r\n' +
  '1001;4820000000017;Квиток дорослий;350,00;шт;0;12,5\r\n' +
  '1002;4820000000024,4820000000031;Квиток дитячий;175,5;шт;ні;\r\n' +
  '2001;;Сир "Звенигора" ваговий;289,90;кг;1;1,234\r\n';

describe('csv decodePrices', () => {
  it('reads a cp1251 CRLF file with comma decimals as 1C writes it', async () => {
    const { mode, records } = await decode(bytes(ONE_C, 'cp1251'));
    assert.equal(mode, 'delta');
    assert.deepEqual(records, [
      { op: 'upsert', line: 2, product: { code: '1001', barcodes: ['4820000000017'], name: 'Квиток дорослий', price: 35000, unit: 'шт', weighed: false, stock: 12500 } },
      { op: 'upsert', line: 3, product: { code: '1002', barcodes: ['4820000000024', '4820000000031'], name: 'Квиток дитячий', price: 17550, unit: 'шт', weighed: false } },
      { op: 'upsert', line: 4, product: { code: '2001', barcodes: [], name: 'Сир "Звенигора" ваговий', price: 28990, unit: 'кг', weighed: true, stock: 1234 } },
    ]);
  });

  it('reads the same from UTF-8, with and without a BOM, and with LF line ends', async () => {
    const want = (await decode(bytes(ONE_C, 'cp1251'))).records;
    assert.deepEqual((await decode(bytes(ONE_C))).records, want);
    assert.deepEqual((await decode(Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), bytes(ONE_C)]))).records, want);
    assert.deepEqual((await decode(bytes(ONE_C.replaceAll('\r\n', '\n')))).records, want);
    assert.deepEqual((await decode(bytes(ONE_C, 'cp1251'), 'p.csv', { encoding: 'cp1251' })).records, want);
  });

  it('decodes input arriving one byte at a time (characters split across chunks)', async () => {
    const want = (await decode(bytes(ONE_C))).records;
    assert.deepEqual((await decode(oneByteChunks(bytes(ONE_C)))).records, want);
    assert.deepEqual((await decode(oneByteChunks(bytes(ONE_C, 'cp1251')))).records, want);
    assert.deepEqual((await decode(oneByteChunks(Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), bytes(ONE_C)])))).records, want);
    assert.deepEqual((await decode(oneByteChunks(bytes(ONE_C)), 'p.csv', { encoding: 'utf-8' })).records, want);
    assert.deepEqual((await decode(oneByteChunks(Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), bytes(ONE_C)])), 'p.csv', { encoding: 'utf-8' })).records, want);
  });

  it('decides the encoding from the first non-ASCII bytes, however late they come', async () => {
    const ascii = 'code;barcodes;name;price\n' + Array.from({ length: 3000 }, (_, k) => `${k};;item ${k};1\n`).join('');
    const tail = '9999;;Кава ґатунку Ї;2,50\n';
    for (const enc of ['utf-8', 'cp1251'] as const) {
      const b = Buffer.concat([Buffer.from(ascii), bytes(tail, enc)]);
      const chunks = Readable.from(Array.from({ length: Math.ceil(b.length / 4093) }, (_, k) => b.subarray(k * 4093, k * 4093 + 4093)));
      const { records } = await decode(chunks);
      assert.equal(records.length, 3001);
      assert.deepEqual(records.at(-1), { op: 'upsert', line: 3002, product: { code: '9999', barcodes: [], name: 'Кава ґатунку Ї', price: 250 } });
    }
  });

  it('a #full first line makes a full file: clear first, then upserts', async () => {
    const { mode, records } = await decode(bytes('#full\r\ncode;barcodes;name;price\r\n7;;Кава;45,00\r\n'));
    assert.equal(mode, 'full');
    assert.deepEqual(records, [
      { op: 'clear', line: 1 },
      { op: 'upsert', line: 3, product: { code: '7', barcodes: [], name: 'Кава', price: 4500 } },
    ]);
  });

  it('a *.full.csv name makes a full file', async () => {
    const { mode, records } = await decode(bytes('code;barcodes;name;price\n7;;Кава;45\n'), 'goods_2024.FULL.csv');
    assert.equal(mode, 'full');
    assert.deepEqual(records.map((r) => r.op), ['clear', 'upsert']);
  });

  it('delta: deleted=1 is a delete, deleted=0 an upsert; empty lines are skipped', async () => {
    const { mode, records } = await decode(bytes('code;barcodes;name;price;deleted\n\n1;;Чай;20;0\n2;;;;1\n\n3;;Какао;30,5;\n'));
    assert.equal(mode, 'delta');
    assert.deepEqual(records, [
      { op: 'upsert', line: 3, product: { code: '1', barcodes: [], name: 'Чай', price: 2000 } },
      { op: 'delete', line: 4, code: '2' },
      { op: 'upsert', line: 6, product: { code: '3', barcodes: [], name: 'Какао', price: 3050 } },
    ]);
  });

  it('maps headers case-insensitively, through `columns`, keeps unknown columns as extras', async () => {
    const text = 'Код;Штрихкоди;Назва;Ціна;GROUP;TaxGroup;Артикул;Колір;Примітка\n5;482;Чашка;99,9;G1;A;ART-5;синій;\n';
    const opts: CsvFormatOptions = { columns: { код: 'code', ШТРИХКОДИ: 'barcodes', Назва: 'name', Ціна: 'price', Артикул: 'article' } };
    assert.deepEqual(products((await decode(bytes(text), 'p.csv', opts)).records), [
      { code: '5', barcodes: ['482'], name: 'Чашка', price: 9990, groupCode: 'G1', taxGroup: 'A', article: 'ART-5', extras: { Колір: 'синій' } },
    ]);
  });

  it('parses decimals exactly, with comma or dot, and rejects extra digits', async () => {
    const rows = ['12,50', '12.50', '12', '0,5', ',05', ' 1234,56 ', '90071992547409,91'];
    const text = 'code;barcodes;name;price;stock\n' + rows.map((p, k) => `${k};;x;${p};${k % 2 ? '1,5' : '-0.001'}`).join('\n');
    const got = products((await decode(bytes(text))).records);
    assert.deepEqual(got.map((p) => p.price), [1250, 1250, 1200, 50, 5, 123456, 9007199254740991]);
    assert.deepEqual(got.map((p) => p.stock), [-1, 1500, -1, 1500, -1, 1500, -1]);
    const cases: [string, string, string][] = [
      ['12,505', '', 'has more than 2 decimals'],
      ['12,5x', '', 'is not a number'],
      ['1,2,3', '', 'is not a number'],
      ['', '', 'price is required'],
      ['-1', '', 'is negative'],
      ['90071992547409,92', '', 'is out of range'],
      ['1', '1,2345', 'has more than 3 decimals'],
    ];
    for (const [price, stock, msg] of cases) {
      const { error } = await decodeUntilError(bytes(`code;barcodes;name;price;stock\n1;;x;${price};${stock}\n`));
      assert.match(error.message, new RegExp(msg));
      assert.equal(error.location.field, stock ? 'stock' : 'price');
    }
    const { error } = await decodeUntilError(bytes('code;barcodes;name;price\n1;;x;12,50\n'), { decimal: '.' });
    assert.match(error.message, /price "12,50" is not a number/);
  });

  it('a space inside a number is an error naming line and field (it used to be read as digit grouping: 12 50 -> 1250,00)', async () => {
    for (const thousands of [false, true]) {
      const { got, error } = await decodeUntilError(bytes('code;barcodes;name;price\n1;;Чай;20\n2;;Кава;12 50\n'), { thousands });
      assert.equal(got.length, 1);
      assert.deepEqual(error.location, { file: 'bad.csv', line: 3, field: 'price' });
      assert.equal(error.message, `bad.csv, line 3, field price: price "12 50" ${thousands ? 'is not grouped in threes (like 1 234 567,89)' : 'has a space inside (digit grouping is not enabled)'}`);
    }
    const { error } = await decodeUntilError(bytes('code;barcodes;name;price;stock\n1;;Чай;20;1 5\n'), { thousands: true });
    assert.deepEqual(error.location, { file: 'bad.csv', line: 2, field: 'stock' });
  });

  it('thousands: true takes 1 234,50 (space, U+00A0 or U+202F between groups of three)', async () => {
    const text = 'code;barcodes;name;price;stock\n1;;a;1 234,50;1\u00a0000,5\n2;;b;1\u202f234\u202f567.8;\n';
    const got = products((await decode(bytes(text), 'p.csv', { thousands: true })).records);
    assert.deepEqual(got.map((p) => [p.price, p.stock]), [[123450, 1000500], [123456780, undefined]]);
    const { error } = await decodeUntilError(bytes(text));
    assert.equal(error.message, 'bad.csv, line 2, field price: price "1 234,50" has a space inside (digit grouping is not enabled)');
  });

  it('the fixtures as 1C writes them (cp1251, CRLF, comma decimals, trailing ;)', async () => {
    const columns: CsvFormatOptions['columns'] = { Код: 'code', Штрихкод: 'barcodes', Найменування: 'name', Ціна: 'price', 'Од.': 'unit', Ваговий: 'weighed', Залишок: 'stock' };
    const want: Product[] = [
      { code: '1001', barcodes: ['4820000000017'], name: 'Квиток дорослий', price: 35000, unit: 'шт', weighed: false, stock: 12500 },
      { code: '1002', barcodes: ['4820000000024', '4820000000031'], name: 'Квиток дитячий', price: 17550, unit: 'шт', weighed: false },
      { code: '2001', barcodes: [], name: 'Сир "Звенигора" ваговий', price: 28990, unit: 'кг', weighed: true, stock: 1234 },
      { code: '3001', barcodes: ['4820000000048'], name: 'Кава мелена «Ранкова» 1 кг', price: 123450, unit: 'шт', weighed: false, stock: 3000 },
    ];
    const plain = await createCsvFormat({ columns }).decodePrices!(Readable.from([fixture('prices-1c.csv')]), { fileName: 'prices-1c.csv', options: {} });
    const records: PriceRecord[] = [];
    for await (const r of plain.records) records.push(r);
    assert.deepEqual(products(records), want);
    assert.deepEqual(plain.skipped, { count: 0, lines: [], reasons: [] });

    const grouped = fixture('prices-1c-grouped.csv');
    assert.deepEqual(products((await decode(grouped, 'g.csv', { columns, thousands: true })).records), [
      ...want,
      { code: '3002', barcodes: ['4820000000055'], name: 'Кавоварка', price: 1249900, unit: 'шт', weighed: false, stock: 1250000 },
    ]);
    const { got, error } = await decodeUntilError(grouped, { columns });
    assert.equal(got.length, 3);
    assert.deepEqual(error.location, { file: 'bad.csv', line: 5, field: 'price' });
  });

  it('a stray byte that is not UTF-8 fails naming file, line and byte offset, never becoming U+FFFD', async () => {
    const rows = ['code;barcodes;name;price', ...Array.from({ length: 30 }, (_, k) => `${k + 1};;Товар ${k + 1};1,00`)];
    const before = rows.slice(0, 16).join('\r\n') + '\r\n17;;Тов';
    const text = Buffer.from(rows.join('\r\n') + '\r\n', 'utf8');
    const at = Buffer.byteLength(before);
    const bad = Buffer.concat([text.subarray(0, at), Buffer.of(0xc8), text.subarray(at)]);
    for (const encoding of ['auto', 'utf-8'] as const) {
      for (const input of [() => Readable.from([bad]), () => oneByteChunks(bad)]) {
        const { got, error } = await decodeUntilError(input(), { encoding });
        assert.ok(got.length <= 15);
        assert.deepEqual(error.location, { file: 'bad.csv', line: 17 });
        assert.equal(error.message, `bad.csv, line 17: invalid UTF-8 byte 0xC8 at byte offset ${at}`);
      }
    }
    // a record spanning lines in quotes: the line still counts physical lines
    const quoted = Buffer.concat([Buffer.from('code;barcodes;name;price\n1;;"a\nb\nc', 'utf8'), Buffer.of(0xff), Buffer.from('";1\n')]);
    assert.equal((await decodeUntilError(oneByteChunks(quoted), { encoding: 'utf-8' })).error.message, 'bad.csv, line 4: invalid UTF-8 byte 0xFF at byte offset 34');
  });

  it('reports a value under a column without a header name as skipped input', async () => {
    const d = await createCsvFormat().decodePrices!(Readable.from([bytes('code;barcodes;name;price;\n1;;a;1;\n2;;b;2;lost\n3;;c;3;\n4;;d;4;gone\n')]), { fileName: 'p.csv', options: {} });
    const records: PriceRecord[] = [];
    for await (const r of d.records) records.push(r);
    assert.equal(records.length, 4);
    assert.deepEqual(d.skipped, { count: 2, lines: [3, 5], reasons: ['a value in column 5, which has no name in the header'] });
  });

  it('weighed takes 1/0/true/false/yes/no', async () => {
    const vals = ['1', '0', 'true', 'FALSE', 'yes', 'no', ''];
    const text = 'code;barcodes;name;price;weighed\n' + vals.map((v, k) => `${k};;x;1;${v}`).join('\n');
    assert.deepEqual(products((await decode(bytes(text))).records).map((p) => p.weighed), [true, false, true, false, true, false, undefined]);
    const { error } = await decodeUntilError(bytes('code;barcodes;name;price;weighed\n1;;x;1;maybe\n'));
    assert.equal(error.location.field, 'weighed');
  });

  it('reads RFC 4180 quoted fields, counting physical lines inside them', async () => {
    const text = 'code;barcodes;name;price\r\n"1";"48,49";"Кава ""Львівська""; 250 г";"10,00"\r\n2;;"два\r\nрядки";5\r\n3;;x;"1,5"\r\n4;;;bad\r\n';
    const { got, error } = await decodeUntilError(bytes(text));
    assert.deepEqual(got, [
      { op: 'upsert', line: 2, product: { code: '1', barcodes: ['48', '49'], name: 'Кава "Львівська"; 250 г', price: 1000 } },
      { op: 'upsert', line: 3, product: { code: '2', barcodes: [], name: 'два\r\nрядки', price: 500 } },
      { op: 'upsert', line: 5, product: { code: '3', barcodes: [], name: 'x', price: 150 } },
    ]);
    assert.equal(error.location.line, 6);
  });

  it('a bad price on line 5000 fails naming file, line and field, after the rows before it', async () => {
    const input = Readable.from((function* () {
      yield Buffer.from('code;barcodes;name;price\n');
      for (let line = 2; line <= 6000; line++) yield iconv.encode(`${line};48${line};Товар №${line};${line === 5000 ? '12,5x' : `${line},25`}\r\n`, 'cp1251');
    })());
    const { got, error } = await decodeUntilError(input);
    assert.equal(got.length, 4998);
    assert.deepEqual(got.at(-1), { op: 'upsert', line: 4999, product: { code: '4999', barcodes: ['484999'], name: 'Товар №4999', price: 499925 } });
    assert.equal(error.code, ErrorCodes.FORMAT_INVALID);
    assert.deepEqual(error.location, { file: 'bad.csv', line: 5000, field: 'price' });
    assert.match(error.message, /bad\.csv, line 5000, field price: price "12,5x" is not a number/);
  });

  it('rejects a header without a required column, naming it, and duplicate columns', async () => {
    const missing = await decodeUntilError(bytes('code;barcodes;name;cost\n1;;x;1\n'));
    assert.deepEqual(missing.error.location, { file: 'bad.csv', line: 1, field: 'price' });
    assert.match(missing.error.message, /"price"/);
    const dup = await decodeUntilError(bytes('code;barcodes;name;price;CODE\n'));
    assert.match(dup.error.message, /"code" appears twice/);
    const dupMapped = await decodeUntilError(bytes('code;barcodes;name;price;Ціна\n'), { columns: { Ціна: 'price' } });
    assert.equal(dupMapped.error.location.field, 'price');
    assert.match((await decodeUntilError(bytes(''))).error.message, /no header/);
  });

  it('rejects rows with a missing code or the wrong number of fields', async () => {
    const noCode = await decodeUntilError(bytes('code;barcodes;name;price\n1;;a;1\n ;;b;2\n'));
    assert.equal(noCode.got.length, 1);
    assert.deepEqual(noCode.error.location, { file: 'bad.csv', line: 3, field: 'code' });
    const count = await decodeUntilError(bytes('code;barcodes;name;price\n1;;a;1\n2;;b;2;extra\n'));
    assert.equal(count.error.location.line, 3);
    assert.match(count.error.message, /expected 4 fields, found 5/);
  });

  it('a line over maxLineLength (option or ctx) fails with FORMAT_LIMIT, even without any line break', async () => {
    const long = `code;barcodes;name;price\n1;;${'я'.repeat(300)};1\n`;
    for (const [opts, ctx] of [[{ maxLineLength: 200 }, {}], [{}, { maxLineLength: 200 }], [{ maxLineLength: 1000 }, { maxLineLength: 200 }]] as const) {
      const { error } = await decodeUntilError(bytes(long), opts, ctx);
      assert.equal(error.code, ErrorCodes.FORMAT_LIMIT);
      assert.equal(error.location.line, 2);
    }
    assert.equal((await decode(bytes(long), 'p.csv', { maxLineLength: 400 })).records.length, 1);
    // an endless line: fails once the limit is passed, not at the end of the input
    let sent = 0;
    const endless = new Readable({ read() { sent++; this.push(Buffer.alloc(1024, 0x41)); } });
    const { error } = await decodeUntilError(endless, { maxLineLength: 10_000 });
    assert.equal(error.code, ErrorCodes.FORMAT_LIMIT);
    assert.ok(sent < 50);
  });

  it('decodes a 200k-row stream with small heap growth', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const input = Readable.from((function* () {
      yield Buffer.from('code;barcodes;name;price;stock\n');
      for (let k = 0; k < 200_000; k += 500) {
        let s = '';
        for (let j = k; j < k + 500; j++) s += `${j};482${j};Назва товару ${j};${j % 1000},${j % 100};${j % 7},5\n`;
        yield Buffer.from(s);
      }
    })());
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0, n = 0, sum = 0;
    const d = await createCsvFormat().decodePrices!(input, { fileName: 'big.csv', options: {} });
    for await (const r of d.records) {
      if (r.op === 'upsert') sum += r.product.price;
      if (++n % 25_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    assert.equal(n, 200_000);
    assert.ok(sum > 0);
    assert.ok(peak < 50 * 2 ** 20, `heap grew ${(peak / 2 ** 20).toFixed(1)} MB`);
  });
});

describe('csv encodePrices', () => {
  const sample: Product[] = [
    { code: '1001', barcodes: ['4820000000017', '4820000000024'], name: 'Квиток дорослий', receiptName: 'Квиток дор.', price: 35000, unit: 'шт', weighed: false, groupCode: 'G;1', taxGroup: 'А', article: 'A-1', stock: -1500, extras: { Колір: 'синій' } },
    { code: '2001', barcodes: [], name: 'Сир "Звенигора"\nваговий', price: 5, weighed: true, stock: 1 },
  ];
  const text = async (r: Readable) => Buffer.concat(await r.toArray()).toString('utf8');

  for (const opts of [{}, { encoding: 'cp1251', decimal: ',' }, { separator: ',' }, { separator: '\t', columns: { Ціна: 'price' } }] as CsvFormatOptions[]) {
    it(`round-trips through decodePrices ${JSON.stringify(opts)}`, async () => {
      const fmt = createCsvFormat(opts);
      for (const mode of ['full', 'delta'] as const) {
        const records: PriceRecord[] = [...(mode === 'full' ? [{ op: 'clear' } as const] : []), ...sample.map((product) => ({ op: 'upsert', product }) as const), { op: 'delete', code: '3' }];
        const encoded = Buffer.concat(await fmt.encodePrices!(records, mode, { options: {} }).toArray());
        const d = await fmt.decodePrices!(Readable.from([encoded]), { fileName: 'x.csv', options: {} });
        assert.equal(d.mode, mode);
        const back: PriceRecord[] = [];
        for await (const r of d.records) back.push(r);
        assert.deepEqual(back.map(({ line: _line, ...r }) => r), records);
      }
    });
  }

  it('writes the dialect: #full, header, dot decimals, quoting only where needed', async () => {
    const out = await text(createCsvFormat().encodePrices!([{ op: 'upsert', product: { code: '7', barcodes: ['1', '2'], name: 'a;b', price: 1250 } }], 'full', { options: {} }));
    assert.equal(out, '#full\r\ncode;barcodes;name;price;receiptName;unit;weighed;group;taxGroup;article;stock;deleted\r\n7;1,2;"a;b";12.50;;;;;;;;\r\n');
  });

  it('refuses what the dialect cannot carry', async () => {
    const fmt = createCsvFormat({ encoding: 'cp1251' });
    await assert.rejects(text(fmt.encodePrices!([{ op: 'upsert', product: { code: '1', barcodes: [], name: 'emoji 🙂', price: 1 } }], 'delta', { options: {} })), /cp1251/);
    await assert.rejects(text(fmt.encodePrices!([{ op: 'upsert', product: { code: '1', barcodes: [], name: 'x', price: 1.5 } }], 'delta', { options: {} })), /price 1.5/);
    await assert.rejects(text(fmt.encodePrices!([{ op: 'disable', code: '1' }], 'delta', { options: {} })), (e: FormatError) => e.code === ErrorCodes.FORMAT_UNSUPPORTED);
  });
});
