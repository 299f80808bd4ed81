import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { ErrorCodes, FormatError, type PriceFileMode, type PriceRecord, type Product } from '@cfx/core/api';
import { createXmlFormat, type XmlFormatOptions } from './index.js';
import { combined, decode, fixture, GROUP, ID1, ID2, JOINED, products, SUBSET_XSD, xmllint } from './test-support.js';

async function encode(records: PriceRecord[] | AsyncIterable<PriceRecord>, mode: PriceFileMode, options: XmlFormatOptions = {}): Promise<Buffer> {
  return Buffer.concat(await createXmlFormat(options).encodePrices!(records, mode, { options: {} }).toArray());
}

const strip = (rs: PriceRecord[]) => rs.map((r) => {
  const { line: _l, ...rest } = r as PriceRecord & { line?: number };
  return rest;
});

/** products that need every rule of the writer */
const EDGE: Product[] = [
  { code: '1001', barcodes: ['4820000000017', '4820000000024'], name: 'Квиток дорослий', price: 35000, stock: 2500 },
  { code: '1002', barcodes: ['123', '4820000000031'], name: '  пробіли по краях ', price: 1, stock: -1500, receiptName: 'Чек: <тест> & "лапки"' },
  { code: 'W-1', barcodes: [], name: 'Сир ваговий', price: 28990, unit: 'кг', extras: { okei: '166' }, weighed: true, stock: 1250 },
  { code: 'W-2', barcodes: ['4820000000048'], name: 'Не ваговий у кг', price: 100, extras: { okei: '166' }, weighed: false },
  { code: 'P-3', barcodes: [], name: 'Штучний', price: 0, weighed: true, enabled: false, article: ' A 1 ', taxGroup: 'Без налога', groupCode: 'grp-7' },
  { code: 'E', barcodes: [], name: '', price: 5, extras: { okei: '7', vendor: 'ТОВ "Ромашка"', long: 'x'.repeat(2500) } },
  { code: 'L', barcodes: [], name: `${'Дуже довга назва '.repeat(20)}🎭\r\nкінець`, price: 999999999999 },
];

describe('xml encodePrices (CommerceML ПакетПредложений)', () => {
  it('the fixtures (import.xml + offers.xml) round-trip: 2 products, 350.00 / 175.50, barcodes, Cyrillic names, stock 120 / 40', async () => {
    const joined = await decode(await combined(fixture('import.xml'), fixture('offers.xml')));
    assert.deepEqual(products(joined.records), JOINED);
    const bytes = await encode(joined.records, joined.mode);
    const text = bytes.toString('utf8');
    assert.ok(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" ДатаФормирования="1970-01-01T00:00:00">\n  <ПакетПредложений СодержитТолькоИзменения="false">'));
    assert.match(text, /<Ид>5e000000-0000-4000-8000-000000000001<\/Ид><Штрихкод>4601234567893<\/Штрихкод><Артикул>T-ADULT<\/Артикул><Наименование>Билет взрослый<\/Наименование><БазоваяЕдиница Код="796">шт<\/БазоваяЕдиница>/);
    assert.match(text, /<ЦенаЗаЕдиницу>350\.00<\/ЦенаЗаЕдиницу><Валюта>RUB<\/Валюта><\/Цена><\/Цены><Количество>120<\/Количество>/);
    assert.match(text, /<ЦенаЗаЕдиницу>175\.50<\/ЦенаЗаЕдиницу><Валюта>RUB<\/Валюта><\/Цена><\/Цены><Количество>40<\/Количество>/);
    assert.match(text, new RegExp(`<Группы><Ид>${GROUP}</Ид></Группы><СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка>`));
    const back = await decode(bytes);
    assert.equal(back.mode, 'full');
    assert.deepEqual(strip(back.records), [{ op: 'clear' }, ...JOINED.map((product) => ({ op: 'upsert', product }))]);
    const [a, b] = products(back.records);
    assert.deepEqual([a!.code, a!.price, a!.stock, a!.barcodes, a!.name], [ID1, 35000, 120000, ['4601234567893'], 'Билет взрослый']);
    assert.deepEqual([b!.code, b!.price, b!.stock, b!.barcodes, b!.name], [ID2, 17550, 40000, ['4601234567800'], 'Билет детский']);
  });

  it('every product field survives, exactly (several or odd barcodes, names Наименование cannot hold, weighed, enabled, extras)', async () => {
    const recs: PriceRecord[] = [{ op: 'clear' }, ...EDGE.map((product): PriceRecord => ({ op: 'upsert', product }))];
    const back = await decode(await encode(recs, 'full'));
    const got = products(back.records);
    // the decoder adds what the document says besides (the unit OKEI implies weighed)
    assert.deepEqual(got.map((p, i) => Object.fromEntries(Object.keys(EDGE[i]!).map((k) => [k, p[k as keyof Product]]))), EDGE);
    assert.equal(got[1]!.name, '  пробіли по краях ');
    assert.deepEqual(got[1]!.barcodes, ['123', '4820000000031']);
    assert.equal(got[1]!.stock, -1500);
    assert.equal(got[6]!.price, 999999999999);
  });

  it('delta: СодержитТолькоИзменения="true", delete and disable survive in order', async () => {
    const recs: PriceRecord[] = [
      { op: 'upsert', product: { code: '1001', barcodes: ['4820000000017'], name: 'Квиток дорослий', price: 36050 } },
      { op: 'delete', code: '1002' },
      { op: 'disable', code: '1003' },
      { op: 'upsert', product: { code: '1004', barcodes: [], name: 'Новий', price: 17550, stock: 40000 } },
    ];
    const bytes = await encode(recs, 'delta');
    const text = bytes.toString('utf8');
    assert.match(text, /<ПакетПредложений СодержитТолькоИзменения="true">/);
    assert.match(text, /<Предложение Статус="Удален"><Ид>1002<\/Ид><Наименование>1002<\/Наименование><\/Предложение>/);
    assert.match(text, /<Предложение><Ид>1003<\/Ид><Наименование>1003<\/Наименование><ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>cfx\.op<\/Наименование><Значение>disable<\/Значение>/);
    const back = await decode(bytes);
    assert.equal(back.mode, 'delta');
    assert.deepEqual(strip(back.records), recs);
  });

  it('windows-1251 when the options say so: declared in the prolog, what cp1251 lacks as character references', async () => {
    const recs: PriceRecord[] = [{ op: 'clear' }, ...EDGE.map((product): PriceRecord => ({ op: 'upsert', product }))];
    const bytes = await encode(recs, 'full', { encoding: 'cp1251' });
    assert.ok(bytes.subarray(0, 45).toString('latin1').startsWith('<?xml version="1.0" encoding="windows-1251"?>'));
    assert.ok(bytes.includes(iconv.encode('Квиток дорослий', 'cp1251')));
    assert.ok(!bytes.includes(Buffer.from('Квиток', 'utf8')));
    assert.ok(bytes.includes(Buffer.from('&#x1F3AD;', 'latin1')), 'the emoji as a character reference');
    const back = await decode(bytes);
    assert.deepEqual(products(back.records).map((p) => [p.code, p.name, p.price]), EDGE.map((p) => [p.code, p.name, p.price]));
    // the same records give the same bytes: publish names files by content
    assert.ok(bytes.equals(await encode(recs, 'full', { encoding: 'cp1251' })));
  });

  it('priceType, currency and warehouse options: written so the decoder with the same options picks them', async () => {
    const o: XmlFormatOptions = { priceType: 'Роздрібна', currency: 'UAH', warehouse: 'Каса фойє' };
    const bytes = await encode([{ op: 'upsert', product: { code: '1', barcodes: [], name: 'Квиток', price: 12050, stock: 3000 } }], 'delta', o);
    const text = bytes.toString('utf8');
    assert.match(text, /<ТипЦены><Ид>Роздрібна<\/Ид><Наименование>Роздрібна<\/Наименование><Валюта>UAH<\/Валюта><\/ТипЦены>/);
    assert.match(text, /<Склад ИдСклада="Каса фойє" КоличествоНаСкладе="3"\/>/);
    const back = products((await decode(bytes, o)).records);
    assert.deepEqual(back.map((p) => [p.price, p.stock]), [[12050, 3000]]);
  });

  it('refuses what it cannot write, with a FormatError naming the field (and the record line)', async () => {
    const p = (x: Partial<Product>): PriceRecord => ({ op: 'upsert', product: { code: '1', barcodes: [], name: 'n', price: 1, ...x }, line: 7 });
    const cases: [PriceRecord[], PriceFileMode, string, string?][] = [
      [[{ op: 'clear' }], 'delta', 'clear', ErrorCodes.FORMAT_UNSUPPORTED],
      [[p({}), { op: 'clear' }], 'full', 'clear', ErrorCodes.FORMAT_UNSUPPORTED],
      [[p({ code: 'x'.repeat(81) })], 'full', 'code', ErrorCodes.FORMAT_UNSUPPORTED],
      [[p({ code: ' 1' })], 'full', 'code', ErrorCodes.FORMAT_UNSUPPORTED],
      [[p({ price: -1 })], 'full', 'price'],
      [[p({ price: 1.5 })], 'full', 'price'],
      [[p({ stock: 0.5 })], 'full', 'stock'],
      [[p({ name: 'bell \u0007' })], 'full', 'name'],
      [[p({ groupCode: ' g' })], 'full', 'groupCode', ErrorCodes.FORMAT_UNSUPPORTED],
    ];
    for (const [recs, mode, field, code] of cases) {
      await assert.rejects(encode(recs, mode), (e: unknown) => e instanceof FormatError && e.location.field === field && (code === undefined || e.code === code), `${field}: ${JSON.stringify(recs).slice(0, 80)}`);
    }
    await assert.rejects(encode([p({ price: -1 })], 'full'), (e: unknown) => e instanceof FormatError && e.location.line === 7);
  });

  it('streams: 100 000 products come out in chunks of about 64 KiB and read back', async () => {
    const n = 100_000;
    let maxChunk = 0;
    let chunks = 0;
    const gen = (function* (): Generator<PriceRecord> {
      yield { op: 'clear' };
      for (let i = 0; i < n; i++) yield { op: 'upsert', product: { code: String(100000 + i), barcodes: [String(4820000000000 + i)], name: `Товар номер ${i}`, price: i, stock: i * 10 } };
    })();
    const stream = createXmlFormat().encodePrices!(gen, 'full', { options: {} });
    const sizes = stream.map((c: Buffer) => {
      maxChunk = Math.max(maxChunk, c.length);
      chunks++;
      return c;
    });
    const d = await createXmlFormat().decodePrices!(sizes as never, { fileName: 'big.xml', options: {} });
    let count = 0;
    let last: Product | undefined;
    for await (const r of d.records) {
      if (r.op !== 'upsert') continue;
      count++;
      last = r.product;
    }
    assert.equal(count, n);
    assert.deepEqual([last!.code, last!.price, last!.stock], [String(100000 + n - 1), n - 1, (n - 1) * 10]);
    assert.ok(chunks > 50, `${chunks} chunks`);
    assert.ok(maxChunk < 256 * 1024, `a chunk of ${maxChunk} bytes`);
  });
});

describe('xml encodePrices: written packages validate against the CommerceML 2.08 subset schema (xmllint)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-xml-prices-xsd-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const probe = xmllint(SUBSET_XSD.replace(/\.xsd$/, '.missing'), SUBSET_XSD);
  const skip = probe === undefined ? 'xmllint is not installed (Debian: apt-get install libxml2-utils)' : false;
  if (skip && process.env.CI) it('xmllint is installed (CI)', () => assert.fail('xmllint is missing on CI'));
  const official = process.env.CFX_COMMERCEML_XSD;

  it('full, delta (delete, disable), cp1251 and edge packages validate; a broken one does not', { skip }, async () => {
    const docs: [string, Buffer][] = [
      ['full', await encode([{ op: 'clear' }, ...JOINED.map((product): PriceRecord => ({ op: 'upsert', product }))], 'full')],
      ['edge', await encode(EDGE.map((product): PriceRecord => ({ op: 'upsert', product })), 'delta', { warehouse: 'w1' })],
      ['cp1251', await encode(EDGE.map((product): PriceRecord => ({ op: 'upsert', product })), 'full', { encoding: 'cp1251' })],
      ['delta', await encode([{ op: 'delete', code: '1002' }, { op: 'disable', code: '1003' }], 'delta')],
      ['empty', await encode([], 'delta')],
    ];
    for (const [name, bytes] of docs) {
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, bytes);
      for (const xsd of [SUBSET_XSD, ...(official ? [official] : [])]) {
        const r = xmllint(file, xsd)!;
        assert.ok(r.ok, `${name} against ${xsd}: ${r.output}`);
      }
    }
    const good = docs[0]![1].toString('utf8');
    for (const wrong of [good.replace('350.00', '350.005'), good.replace('<Наименование>Билет детский</Наименование>', ''), good.replace('<Предложение>', '<Предложение Статус="Удалён">')]) {
      const file = join(dir, 'broken.xml');
      writeFileSync(file, wrong);
      const r = xmllint(file, SUBSET_XSD)!;
      assert.ok(!r.ok, `accepted: ${wrong.slice(0, 200)}`);
    }
  });
});
