import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import iconvLite from 'iconv-lite';
import { ErrorCodes, FormatError, type PriceRecord } from '@cfx/core/api';
import { HeapWatch } from '@cfx/core/testing';
import { createXmlFormat, type XmlFormatOptions } from './index.js';
import {
  asCp1251, bytes, combined, decode, fixture, fixtureText, generatedDocument, generatedJoined, ID1, ID2, JOINED, joinedByText, OFFERS_ONLY, oneByteChunks, products, withoutNamespace, withPrefix,
} from './test-support.js';

/** collects what was handed out before the error, and the error (which must be a FormatError) */
async function decodeUntilError(input: Buffer | string | Readable, options: XmlFormatOptions = {}) {
  const got: PriceRecord[] = [];
  try {
    const src = input instanceof Readable ? input : Readable.from([typeof input === 'string' ? bytes(input) : input]);
    const d = await createXmlFormat(options).decodePrices!(src, { fileName: 'bad.xml', options: {} });
    for await (const r of d.records) got.push(r);
  } catch (e) {
    assert.ok(e instanceof FormatError, `not a FormatError: ${String(e)}`);
    return { got, error: e };
  }
  assert.fail('no error');
}

const IMPORT = fixtureText('import.xml');
const OFFERS = fixtureText('offers.xml');
const JOINED_TEXT = joinedByText(IMPORT, OFFERS);

/** a small offers package around the given Предложение elements */
const offersDoc = (offers: string, head = '', attrs = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" ДатаФормирования="2025-03-14T18:00:00">\n` +
  `<ПакетПредложений${attrs}><Ид>p</Ид><Наименование>p</Наименование><ИдКаталога>c</ИдКаталога>${head}<Предложения>\n${offers}</Предложения></ПакетПредложений>\n</КоммерческаяИнформация>\n`;
const offer = (id: string, price: string, extra = '', type = 't1') =>
  `<Предложение><Ид>${id}</Ид>${extra}<Цены><Цена><ИдТипаЦены>${type}</ИдТипаЦены><ЦенаЗаЕдиницу>${price}</ЦенаЗаЕдиницу></Цена></Цены></Предложение>\n`;

describe('xml decodePrices: the CommerceML fixtures', () => {
  it('import.xml + offers.xml, combined by combineCommerceML: 2 products, 350.00 and 175.50, stock 120 and 40, names and barcodes', async () => {
    const doc = await combined(fixture('import.xml'), fixture('offers.xml'));
    const { mode, records } = await decode(doc);
    assert.equal(mode, 'full');
    assert.equal(records[0]!.op, 'clear');
    assert.deepEqual(products(records), JOINED);
    const [a, b] = products(records);
    assert.equal(a!.price, 35000);
    assert.equal(b!.price, 17550);
    assert.equal(a!.stock, 120000);
    assert.equal(b!.stock, 40000);
    assert.deepEqual([a!.name, b!.name], ['Билет взрослый', 'Билет детский']);
    assert.deepEqual([a!.barcodes, b!.barcodes], [['4601234567893'], ['4601234567800']]);
    assert.equal(records.length, 3);
  });

  it('the same from one document joined by hand (Каталог, then ПакетПредложений under one root)', async () => {
    const { mode, records } = await decode(JOINED_TEXT);
    assert.equal(mode, 'full');
    assert.deepEqual(products(records), JOINED);
  });

  it('offers.xml alone streams through with what each offer carries (no groups, no taxes)', async () => {
    const { mode, records } = await decode(fixture('offers.xml'));
    assert.equal(mode, 'full');
    assert.deepEqual(records.map((r) => r.op), ['clear', 'upsert', 'upsert']);
    assert.deepEqual(products(records), OFFERS_ONLY);
  });

  it('every record carries its line: the catalog start for clear, each Предложение for its product', async () => {
    const { records } = await decode(JOINED_TEXT);
    const lines = JOINED_TEXT.split('\n');
    const catalogLine = lines.findIndex((l) => l.includes('<Каталог ')) + 1;
    const offerLines = lines.flatMap((l, i) => (l.includes('<Предложение>') ? [i + 1] : []));
    assert.deepEqual(records.map((r) => r.line), [catalogLine, ...offerLines]);
  });

  it('without the namespace, with a cml: prefix, in windows-1251, with a BOM, one byte at a time: the same products', async () => {
    const want = JOINED;
    assert.deepEqual(products((await decode(withoutNamespace(JOINED_TEXT))).records), want);
    assert.deepEqual(products((await decode(withPrefix(JOINED_TEXT))).records), want);
    const cp = asCp1251(JOINED_TEXT);
    assert.ok(!cp.includes(Buffer.from('Билет', 'utf8')), 'the cp1251 variant really is cp1251');
    assert.deepEqual(products((await decode(cp)).records), want);
    assert.deepEqual(products((await decode(asCp1251(withoutNamespace(JOINED_TEXT)))).records), want);
    assert.deepEqual(products((await decode(Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), bytes(JOINED_TEXT)]))).records), want);
    assert.deepEqual(products((await decode(oneByteChunks(cp))).records), want);
    assert.deepEqual(products((await decode(oneByteChunks(bytes(JOINED_TEXT)))).records), want);
    // separate files through the combiner, each in its own encoding
    const mixed = await combined(asCp1251(withoutNamespace(IMPORT)), bytes(withPrefix(OFFERS)));
    assert.deepEqual(products((await decode(mixed)).records), want);
    // encoding option overrides a wrong declaration
    const lying = iconvLying(JOINED_TEXT);
    assert.deepEqual(products((await decode(lying, { encoding: 'cp1251' })).records), want);
  });

  it('1C\'s "796 " unit code is trimmed; 166 (kg) marks the product weighed', async () => {
    const { records } = await decode(JOINED_TEXT.replaceAll('Код="796"', 'Код="796 "'));
    assert.deepEqual(products(records).map((p) => p.extras), [{ okei: '796' }, { okei: '796' }]);
    const kg = await decode(JOINED_TEXT.replace('Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт<', 'Код="166" НаименованиеПолное="Килограмм" МеждународноеСокращение="KGM">кг<'));
    assert.deepEqual(products(kg.records).map((p) => [p.unit, p.weighed, p.extras]), [['кг', true, { okei: '166' }], ['шт', undefined, { okei: '796' }]]);
  });
});

/** UTF-8 bytes... of a document claiming UTF-8 but holding cp1251 (a web platform's bug) */
function iconvLying(xml: string): Buffer {
  const cp = asCp1251(xml);
  return Buffer.from(cp.toString('latin1').replace('encoding="windows-1251"', 'encoding="UTF-8"'), 'latin1');
}

describe('xml decodePrices: options and CommerceML rules', () => {
  const types = '<ТипыЦен><ТипЦены><Ид>t1</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены><ТипЦены><Ид>t2</Ид><Наименование>Оптовая</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>';
  const twoPrices = (id: string, a: string, b: string) =>
    `<Предложение><Ид>${id}</Ид><Наименование>Товар ${id}</Наименование><Цены><Цена><ИдТипаЦены>t2</ИдТипаЦены><ЦенаЗаЕдиницу>${b}</ЦенаЗаЕдиницу></Цена><Цена><ИдТипаЦены>t1</ИдТипаЦены><ЦенаЗаЕдиницу>${a}</ЦенаЗаЕдиницу></Цена></Цены></Предложение>\n`;
  const doc = offersDoc(twoPrices('1', '10.00', '8.00') + offer('2', '5', '<Наименование>только опт</Наименование>', 't2'), types);

  it('priceType: the first listed by default, else by Ид or by name (any case); offers without that price are left out', async () => {
    const price = async (o: XmlFormatOptions) => products((await decode(doc, o)).records).map((p) => [p.code, p.price]);
    assert.deepEqual(await price({}), [['1', 1000]]);
    const d = await createXmlFormat({}).decodePrices!(Readable.from([bytes(doc)]), { fileName: 'p.xml', options: {} });
    for await (const _ of d.records);
    assert.deepEqual(d.skipped, { count: 1, lines: [doc.split('\n').findIndex((l) => l.includes('только опт')) + 1], reasons: ['offer without a price of type t1'] });
    assert.deepEqual(await price({ priceType: 't2' }), [['1', 800], ['2', 500]]);
    assert.deepEqual(await price({ priceType: 'оптовая' }), [['1', 800], ['2', 500]]);
    const { error } = await decodeUntilError(doc, { priceType: 'Закупочная' });
    assert.equal(error.location.field, 'ТипыЦен');
    assert.match(error.message, /"Закупочная" is not among "Розничная" \(t1\), "Оптовая" \(t2\)/);
  });

  it('the price type given in ctx.options overrides the configured one', async () => {
    const d = await createXmlFormat({ priceType: 't1' }).decodePrices!(Readable.from([bytes(doc)]), { fileName: 'p.xml', options: { priceType: 'Оптовая' } });
    const got: PriceRecord[] = [];
    for await (const r of d.records) got.push(r);
    assert.deepEqual(products(got).map((p) => p.price), [800, 500]);
  });

  it('stock: Количество; or the warehouses (2.08 attributes, 2.10 Остатки); warehouse picks one by Ид or name', async () => {
    const wh = '<Склады><Склад><Ид>w1</Ид><Наименование>Фойе</Наименование></Склад><Склад><Ид>w2</Ид><Наименование>Склад</Наименование></Склад></Склады>';
    const d = offersDoc(
      offer('a', '1', '<Наименование>a</Наименование><Количество>7</Количество><Склад ИдСклада="w1" КоличествоНаСкладе="3"/><Склад ИдСклада="w2" КоличествоНаСкладе="4"/>') +
        offer('b', '1', '<Наименование>b</Наименование><Склад ИдСклада="w1" КоличествоНаСкладе="1.5"/><Склад ИдСклада="w2" КоличествоНаСкладе="2"/>') +
        offer('c', '1', '<Наименование>c</Наименование><Остатки><Остаток><Склад><Ид>w2</Ид><Количество>0.125</Количество></Склад></Остаток></Остатки>') +
        offer('d', '1', '<Наименование>d</Наименование>'),
      '<ТипыЦен><ТипЦены><Ид>t1</Ид><Наименование>Р</Наименование></ТипЦены></ТипыЦен>' + wh,
    );
    const stock = async (o: XmlFormatOptions) => products((await decode(d, o)).records).map((p) => p.stock);
    assert.deepEqual(await stock({}), [7000, 3500, 125, undefined]);
    assert.deepEqual(await stock({ warehouse: 'w2' }), [4000, 2000, 125, 0]);
    assert.deepEqual(await stock({ warehouse: 'фойе' }), [3000, 1500, 0, 0]);
    const { error } = await decodeUntilError(d, { warehouse: 'Магазин' });
    assert.equal(error.location.field, 'Склады');
  });

  it('СодержитТолькоИзменения=true: delta, no clear; deleted products and offers become deletes', async () => {
    const imp = IMPORT.replace('СодержитТолькоИзменения="false"', 'СодержитТолькоИзменения="true"').replace(`<Товар>\n        <Ид>${ID2}</Ид>`, `<Товар Статус="Удален">\n        <Ид>${ID2}</Ид>`);
    const { mode, records } = await decode(joinedByText(imp, OFFERS));
    assert.equal(mode, 'delta');
    assert.deepEqual(records.map((r) => [r.op, r.op === 'delete' ? r.code : r.op === 'upsert' ? r.product.code : '']), [['delete', ID2], ['upsert', ID1]]);
    // 2.09+: ПометкаУдаления on an offer; the offers' own flag makes the package a delta too
    const d = offersDoc(offer('x', '1', '<ПометкаУдаления>true</ПометкаУдаления>') + offer('y', '2', '<Наименование>y</Наименование>'), '', ' СодержитТолькоИзменения="true"');
    const r2 = await decode(d);
    assert.equal(r2.mode, 'delta');
    assert.deepEqual(r2.records.map((r) => r.op), ['delete', 'upsert']);
    // the 2.03 form: the flag as an element
    const r3 = await decode(offersDoc(offer('y', '2', '<Наименование>y</Наименование>'), '').replace('<Ид>p</Ид>', '<СодержитТолькоИзменения>true</СодержитТолькоИзменения><Ид>p</Ид>'));
    assert.equal(r3.mode, 'delta');
  });

  it('product#characteristic offers join their product, named by the offer', async () => {
    const offers = OFFERS.replace(`<Ид>${ID1}</Ид>\n        <Штрихкод>4601234567893</Штрихкод>`, `<Ид>${ID1}#77</Ид>\n        <Штрихкод>4601234567992</Штрихкод>`)
      .replace('<Наименование>Билет взрослый</Наименование>\n        <БазоваяЕдиница', '<Наименование>Билет взрослый (балкон)</Наименование>\n        <БазоваяЕдиница');
    const got = products((await decode(joinedByText(IMPORT, offers))).records);
    assert.deepEqual(got[0], { ...JOINED[0], code: `${ID1}#77`, name: 'Билет взрослый (балкон)', barcodes: ['4601234567992'] });
    assert.deepEqual(got[1], JOINED[1]);
  });

  it('an offer whose product is not in the catalog stands on its own fields; without a name it is an error', async () => {
    const type = '7c000000-0000-4000-8000-000000000001';
    const extra = offer('orphan', '3.10', '<Штрихкод>2000000000015</Штрихкод><Наименование>Программка</Наименование>', type);
    const offers = OFFERS.replace('</Предложения>', `${extra}</Предложения>`);
    const got = products((await decode(joinedByText(IMPORT, offers))).records);
    assert.deepEqual(got.at(-1), { code: 'orphan', barcodes: ['2000000000015'], name: 'Программка', price: 310 });
    const { got: before, error } = await decodeUntilError(joinedByText(IMPORT, OFFERS.replace('</Предложения>', `${offer('nameless', '1', '', type)}</Предложения>`)));
    assert.equal(before.length, 3);
    assert.equal(error.location.field, 'Наименование');
    assert.match(error.message, /offer "nameless" has no Наименование/);
  });

  it('a catalog alone, or after the offers, is refused as unsupported; so is a document without offers', async () => {
    const alone = await decodeUntilError(fixture('import.xml'));
    assert.equal(alone.error.code, ErrorCodes.FORMAT_UNSUPPORTED);
    assert.match(alone.error.message, /without offers has no prices/);
    const after = await decodeUntilError(OFFERS.replace('</КоммерческаяИнформация>', '<Каталог><Ид>c</Ид></Каталог></КоммерческаяИнформация>'));
    assert.equal(after.error.code, ErrorCodes.FORMAT_UNSUPPORTED);
    assert.equal(after.error.location.field, 'Каталог');
    const order = await decodeUntilError(fixture('order.xml'));
    assert.equal(order.error.location.field, 'ПакетПредложений');
  });
});

describe('xml decodePrices: hostile and broken input', () => {
  const XXE = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE КоммерческаяИнформация [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n' +
    offersDoc(offer('1', '1', '<Наименование>&xxe;</Наименование>')).split('\n').slice(1).join('\n');

  it('a DOCTYPE with an external entity (XXE) is refused before anything is read from it', async () => {
    for (const input of [bytes(XXE), oneByteChunks(bytes(XXE))]) {
      const { got, error } = await decodeUntilError(input);
      assert.equal(got.length, 0);
      assert.equal(error.code, ErrorCodes.FORMAT_UNSUPPORTED);
      assert.equal(error.location.field, 'DOCTYPE');
      assert.equal(error.location.line, 2);
      assert.match(error.message, /DOCTYPE .* not accepted/);
      assert.doesNotMatch(error.message, /root:/);
    }
  });

  it('an internal-subset entity bomb ("billion laughs") is refused the same way, without expanding anything', async () => {
    let dtd = '<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n';
    for (let i = 1; i < 10; i++) dtd += `<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">\n`;
    const doc = `<?xml version="1.0"?>\n${dtd}]>\n<КоммерческаяИнформация>&lol9;</КоммерческаяИнформация>`;
    const { error } = await decodeUntilError(doc);
    assert.equal(error.location.field, 'DOCTYPE');
    // an endless DTD is refused at once, not buffered
    let sent = 0;
    const endless = new Readable({
      read() {
        this.push(Buffer.from(sent++ === 0 ? '<?xml version="1.0"?>\n<!DOCTYPE x [' : '<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'.repeat(100)));
      },
    });
    const e2 = await decodeUntilError(endless);
    assert.equal(e2.error.location.field, 'DOCTYPE');
    assert.ok(sent < 5, `read ${sent} chunks`);
  });

  it('an entity reference without a DTD is malformed XML, named by line and column', async () => {
    const { error } = await decodeUntilError(offersDoc(offer('1', '1', '<Наименование>&xxe;</Наименование>')));
    assert.equal(error.code, ErrorCodes.FORMAT_INVALID);
    assert.equal(error.location.line, 4);
    assert.ok(error.location.column! > 1);
    assert.match(error.message, /malformed XML: undefined entity/);
  });

  it('malformed XML fails at its place, after the records before it', async () => {
    const d = offersDoc(offer('1', '1', '<Наименование>a</Наименование>') + offer('2', '2', '<Наименование>b</Наименование>') + '<Предложение><Ид>3</Ид></Предложени>\n');
    const { got, error } = await decodeUntilError(d);
    assert.deepEqual(got.map((r) => r.op), ['clear', 'upsert', 'upsert']);
    assert.equal(error.location.line, 6);
    assert.equal(error.location.file, 'bad.xml');
    assert.match(error.message, /bad\.xml, line 6: malformed XML/);
  });

  it('a truncated document (an upload cut short) fails after its records: nothing of it can be applied', async () => {
    const cut = JOINED_TEXT.slice(0, JOINED_TEXT.indexOf(`<Ид>${ID2}</Ид>`, JOINED_TEXT.indexOf('<Предложения>')));
    const { got, error } = await decodeUntilError(cut);
    assert.deepEqual(got.map((r) => r.op), ['clear', 'upsert']);
    assert.equal(error.code, ErrorCodes.FORMAT_INVALID);
    assert.match(error.message, /malformed XML/);
  });

  it('a bad price names line and field', async () => {
    const { got, error } = await decodeUntilError(offersDoc(offer('1', '1.5', '<Наименование>a</Наименование>') + offer('2', '35O.00', '<Наименование>b</Наименование>')));
    assert.equal(got.length, 2);
    assert.deepEqual({ ...error.location, column: undefined }, { file: 'bad.xml', line: 5, column: undefined, field: 'ЦенаЗаЕдиницу' });
    assert.ok(error.location.column! > 1);
    assert.match(error.message, /ЦенаЗаЕдиницу "35O\.00" is not a number/);
    assert.match((await decodeUntilError(offersDoc(offer('1', '-1', '<Наименование>a</Наименование>')))).error.message, /negative/);
    assert.match((await decodeUntilError(offersDoc(offer('1', '1.005', '<Наименование>a</Наименование>')))).error.message, /more than 2 decimals/);
  });

  it('a space inside a price is an error (CommerceML numbers are xs:decimal: no digit grouping)', async () => {
    const { error } = await decodeUntilError(offersDoc(offer('1', '1 234.50', '<Наименование>a</Наименование>')));
    assert.equal(error.location.field, 'ЦенаЗаЕдиницу');
    assert.equal(error.location.line, 4);
    assert.match(error.message, /ЦенаЗаЕдиницу "1 234.50" has a space inside/);
  });

  it('a byte the encoding has no character for fails naming file, line and byte offset', async () => {
    const text = offersDoc(offer('1', '1', '<Наименование>Чай</Наименование>') + offer('2', '2', '<Наименование>Кава</Наименование>'));
    const at = Buffer.from(text, 'utf8').indexOf(Buffer.from('ава<', 'utf8'));
    const utf8 = Buffer.from(text, 'utf8');
    const bad = Buffer.concat([utf8.subarray(0, at), Buffer.of(0xc8), utf8.subarray(at)]);
    for (const input of [() => Readable.from([bad]), () => oneByteChunks(bad)]) {
      const { error } = await decodeUntilError(input());
      assert.deepEqual(error.location, { file: 'bad.xml', line: 5 });
      assert.equal(error.message, `bad.xml, line 5: invalid UTF-8 byte 0xC8 at byte offset ${at}`);
    }
    const cp = asCp1251(text);
    const k = cp.indexOf(iconvLite.encode('Кава', 'cp1251'));
    const cpBad = Buffer.concat([cp.subarray(0, k), Buffer.of(0x98), cp.subarray(k)]);
    const { error } = await decodeUntilError(oneByteChunks(cpBad));
    assert.deepEqual(error.location, { file: 'bad.xml', line: 5 });
    assert.match(error.message, new RegExp(`^bad.xml, line 5: invalid cp1251 byte 0x98 at byte offset ${k} `));
    const u16 = Buffer.concat([Buffer.of(0xff, 0xfe), Buffer.from(text.replace('UTF-8', 'UTF-16'), 'utf16le').subarray(0, 200), Buffer.of(0x00, 0xdc, 0x41, 0x00)]);
    assert.match((await decodeUntilError(u16)).error.message, /invalid utf-16le text/);
  });

  it('something that is not CommerceML, or nothing, is refused with a FormatError', async () => {
    const html = await decodeUntilError('<html><body>Not found</body></html>');
    assert.match(html.error.message, /root element is <html>/);
    assert.equal(html.error.location.line, 1);
    const foreign = await decodeUntilError('<КоммерческаяИнформация xmlns="urn:example"/>');
    assert.match(foreign.error.message, /not a CommerceML document/);
    for (const empty of ['', '   ', '<?xml version="1.0"?>']) assert.equal((await decodeUntilError(empty)).error.code, ErrorCodes.FORMAT_INVALID);
    assert.equal((await decodeUntilError('<?xml version="1.0" encoding="koi8-x"?><a/>')).error.code, ErrorCodes.FORMAT_UNSUPPORTED);
  });

  it('limits: depth, one text piece, total bytes, catalog size — FORMAT_LIMIT, early', async () => {
    const deep = `<КоммерческаяИнформация>${'<a>'.repeat(100)}`;
    assert.equal((await decodeUntilError(deep)).error.code, ErrorCodes.FORMAT_LIMIT);
    let sent = 0;
    const endlessText = new Readable({
      read() {
        this.push(Buffer.from(sent++ === 0 ? '<КоммерческаяИнформация><ПакетПредложений><Наименование>' : 'я'.repeat(16 * 1024)));
      },
    });
    const text = await decodeUntilError(endlessText, { maxTextLength: 100_000 });
    assert.equal(text.error.code, ErrorCodes.FORMAT_LIMIT);
    assert.ok(sent < 20, `read ${sent} chunks`);
    const big = await decodeUntilError(bytes(JOINED_TEXT), { maxBytes: 1000 });
    assert.equal(big.error.code, ErrorCodes.FORMAT_LIMIT);
    const items = await decodeUntilError(JOINED_TEXT, { maxItems: 1 });
    assert.equal(items.error.code, ErrorCodes.FORMAT_LIMIT);
    assert.equal(items.error.location.field, 'Товар');
    // the core's maxLineLength bounds a text piece too
    const d = await createXmlFormat().decodePrices!(Readable.from([bytes(offersDoc(offer('1', '1', `<Наименование>${'x'.repeat(5000)}</Наименование>`)))]), { fileName: 'l.xml', options: {}, maxLineLength: 2048 }).catch((e: unknown) => e);
    assert.ok(d instanceof FormatError && d.code === ErrorCodes.FORMAT_LIMIT, String(d));
  });
});

describe('xml decodePrices: bounded memory', () => {
  it('streams a generated 100k-item offers package with small heap growth', async (t) => {
    const watch = new HeapWatch();
    const d = await createXmlFormat().decodePrices!(generatedDocument(100_000, { catalog: false }), { fileName: 'offers.xml', options: {} });
    let n = 0;
    for await (const r of d.records) {
      if (r.op !== 'upsert') continue;
      if (n === 0 || n === 54321 || n === 99_999) assert.deepEqual(r.product, generatedJoined(n, false));
      if (++n % 10_000 === 0) watch.sample();
    }
    watch.sample();
    assert.equal(n, 100_000);
    t.diagnostic(`offers only, 100k items: retained heap grew ${(watch.growth / 2 ** 20).toFixed(1)} MiB${watch.exact ? '' : ' (no forced GC: an upper bound)'}`);
    assert.ok(watch.growth < 16 * 2 ** 20, `heap grew ${(watch.growth / 2 ** 20).toFixed(1)} MiB`);
  });

  it('joins a generated 100k-item import + offers document holding only the compact catalog map (~230 bytes a product)', async (t) => {
    const watch = new HeapWatch();
    const d = await createXmlFormat().decodePrices!(generatedDocument(100_000, { catalog: true }), { fileName: 'combined.xml', options: {} });
    watch.sample();
    let n = 0;
    for await (const r of d.records) {
      if (r.op !== 'upsert') continue;
      if (n === 0 || n === 54321 || n === 99_999) assert.deepEqual(r.product, generatedJoined(n, true));
      if (++n % 10_000 === 0) watch.sample();
    }
    assert.equal(n, 100_000);
    t.diagnostic(`import + offers, 100k items: retained heap grew ${(watch.growth / 2 ** 20).toFixed(1)} MiB (the document is ~106 MB of UTF-8)`);
    // the catalog map is O(items) by design; the document (or a DOM of it) would be several times this
    assert.ok(watch.growth < 40 * 2 ** 20, `heap grew ${(watch.growth / 2 ** 20).toFixed(1)} MiB`);
  });
});

