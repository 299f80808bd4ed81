// issue 17: CommerceML versions, packages joined by offer Ид (1C УТ 11's split export), price types
// referenced but not declared, offers without prices, exact decimals with more places.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ErrorCodes, type PriceRecord } from '@cfx/core/api';
import { combineCommerceML, createXmlFormat, joinCommerceML, readCommerceMLHead, checkCommerceMLSyntax, type XmlFormatOptions } from './index.js';
import { bytes, decode, failure, fixtureText, JOINED, products } from './test-support.js';

const IMPORT = fixtureText('import.xml');
const OFFERS = fixtureText('offers.xml');

const part = (fileName: string, text: string) => ({ fileName, input: Readable.from([bytes(text)]) });

async function joined(parts: [string, string][], options: XmlFormatOptions = {}): Promise<{ mode: string; records: PriceRecord[]; skipped: unknown }> {
  const d = await joinCommerceML(parts.map(([n, t]) => part(n, t)), options);
  const records: PriceRecord[] = [];
  for await (const r of d.records) records.push(r);
  return { mode: d.mode, records, skipped: d.skipped };
}

const HEAD = (attrs = 'xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08"') => `<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ${attrs} ДатаФормирования="2025-03-14T9:05:01">\n`;
const pkg = (offers: string, head = '') =>
  `${HEAD()}<ПакетПредложений СодержитТолькоИзменения="true"><Ид>c#</Ид><Наименование>p</Наименование><ИдКаталога>c</ИдКаталога><ИдКлассификатора>c</ИдКлассификатора>${head}<Предложения>\n${offers}</Предложения></ПакетПредложений>\n</КоммерческаяИнформация>\n`;
const NAMES = pkg('<Предложение><Ид>a</Ид><Наименование>Кава</Наименование></Предложение>\n<Предложение><Ид>b</Ид><Наименование>Чай</Наименование></Предложение>\n<Предложение><Ид>c</Ид><Наименование>Какао</Наименование></Предложение>\n');
const PRICES = pkg(
  '<Предложение><Ид>a</Ид><Цены><Цена><ИдТипаЦены>opt</ИдТипаЦены><ЦенаЗаЕдиницу>40</ЦенаЗаЕдиницу></Цена><Цена><ИдТипаЦены>ret</ИдТипаЦены><ЦенаЗаЕдиницу>45.5000</ЦенаЗаЕдиницу></Цена></Цены></Предложение>\n' +
    '<Предложение><Ид>b</Ид><Цены><Цена><ИдТипаЦены>ret</ИдТипаЦены><ЦенаЗаЕдиницу>30,00</ЦенаЗаЕдиницу></Цена></Цены></Предложение>\n',
);
const RESTS = pkg('<Предложение><Ид>a</Ид><Остатки><Остаток><Склад><Ид>w</Ид><Количество>2.5000</Количество></Склад></Остаток></Остатки></Предложение>\n');
const CLASSIFIER = `${HEAD()}<Классификатор><Ид>c</Ид><Наименование>К</Наименование><ТипыЦен><ТипЦены><Ид>opt</Ид><Наименование>Оптовая</Наименование></ТипЦены><ТипЦены><Ид>ret</Ид><Наименование>Розничная</Наименование></ТипЦены></ТипыЦен></Классификатор>\n</КоммерческаяИнформация>\n`;

describe('CommerceML versions', () => {
  it('2.03 to 2.10, without a version, without the namespace: read', async () => {
    for (const v of ['2.03', '2.04', '2.05', '2.07', '2.08', '2.09', '2.10']) {
      assert.equal(products((await decode(OFFERS.replace('ВерсияСхемы="2.07"', `ВерсияСхемы="${v}"`))).records).length, 2, v);
    }
    assert.equal(products((await decode(OFFERS.replace(' ВерсияСхемы="2.07"', '').replace(' xmlns="urn:1C.ru:commerceml_2"', ''))).records).length, 2);
  });

  it('3.x, 1.x or another namespace: refused naming ВерсияСхемы or the namespace, for prices, sales, the combiner and the head', async () => {
    const cases: [string, string, string][] = [
      ['ВерсияСхемы="2.07"', 'ВерсияСхемы="3.1"', 'ВерсияСхемы'],
      ['ВерсияСхемы="2.07"', 'ВерсияСхемы="2.02"', 'ВерсияСхемы'],
      ['ВерсияСхемы="2.07"', 'ВерсияСхемы="3.01"', 'ВерсияСхемы'],
      ['urn:1C.ru:commerceml_2', 'urn:1C.ru:commerceml_3', 'namespace'],
    ];
    for (const [from, to, field] of cases) {
      const doc = OFFERS.replace(from, to);
      const e = await failure(() => decode(doc));
      assert.deepEqual([e.code, e.location.field, e.location.line], [ErrorCodes.FORMAT_UNSUPPORTED, field, 2], to);
      assert.match(e.message, /2\.03–2\.10/);
      const c = await failure(() => combineCommerceML([part('import.xml', IMPORT), part('offers.xml', doc)]).toArray());
      assert.deepEqual([c.location.file, c.location.field], ['offers.xml', field]);
      assert.equal((await failure(() => readCommerceMLHead(Readable.from([bytes(doc)]), 'o.xml'))).location.field, field);
      assert.equal((await checkCommerceMLSyntax(Readable.from([bytes(doc)]), 'o.xml'))?.location.field, field);
      const order = fixtureText('order.xml').replace(/ВерсияСхемы="[^"]*"/, 'ВерсияСхемы="3.1"');
      const s = await failure(async () => {
        for await (const _ of createXmlFormat().decodeSales!(Readable.from([bytes(order)]), { fileName: 'box-1_o.xml', options: {} }));
      });
      assert.equal(s.location.field, 'ВерсияСхемы');
    }
  });
});

describe('joinCommerceML: a package of several documents', () => {
  it('names, rests and prices in separate documents, joined by offer Ид; the price type declared in the classifier', async () => {
    const { mode, records, skipped } = await joined([['import___1.xml', CLASSIFIER], ['offers___2.xml', NAMES], ['rests___3.xml', RESTS], ['prices___4.xml', PRICES]], { priceType: 'розничная' });
    assert.equal(mode, 'delta');
    assert.deepEqual(products(records), [
      { code: 'a', barcodes: [], name: 'Кава', price: 4550, stock: 2500 },
      { code: 'b', barcodes: [], name: 'Чай', price: 3000 },
    ]);
    assert.deepEqual(skipped, { count: 1, lines: [6], reasons: ['offer without a price of type ret'] }, 'c has a name and no price');
  });

  it('the pair import.xml + offers.xml through the join gives what the combined document gives', async () => {
    const { mode, records } = await joined([['import.xml', IMPORT], ['offers.xml', OFFERS]]);
    assert.equal(mode, 'full');
    assert.equal(records[0]!.op, 'clear');
    assert.deepEqual(products(records), JOINED);
  });

  it('a price type referenced but not declared, with priceType set: a FormatError naming it and the types there are', async () => {
    const e = await failure(() => joined([['offers___2.xml', NAMES], ['prices___4.xml', PRICES]], { priceType: 'Розничная' }));
    assert.equal(e.location.field, 'ИдТипаЦены');
    assert.equal(e.location.file, 'prices___4.xml');
    assert.match(e.message, /price type "Розничная" is not declared \(no ТипыЦен in the package\) and no price has ИдТипаЦены "Розничная"; the prices are of type "opt", "ret"/);
    // the same for one document (a terminal given prices___ alone)
    const one = await failure(() => decode(PRICES.replace('<Цены>', '<Наименование>x</Наименование><Цены>'), { priceType: 'Розничная' }));
    assert.equal(one.location.field, 'ИдТипаЦены');
    // given as the Ид, it is found
    assert.equal(products((await joined([['offers___2.xml', NAMES], ['prices___4.xml', PRICES]], { priceType: 'ret' })).records).length, 2);
  });

  it('offers without any price (an offers___ file alone) are refused by name, never "0 records"', async () => {
    const e = await failure(() => decode(NAMES));
    assert.equal(e.location.field, 'Цены');
    assert.equal(e.location.line, 4);
    assert.match(e.message, /none of the 3 offers has a price, so there is nothing to apply: "a" \(Кава\), "b" \(Чай\), "c" \(Какао\)/);
    const j = await failure(() => joined([['offers___2.xml', NAMES], ['rests___3.xml', RESTS]]));
    assert.match(j.message, /none of the 3 offers has a price/);
    // a package with no offers at all is no error: nothing to apply is what it says
    assert.deepEqual((await decode(pkg(''))).records, []);
  });

  it('a part that is broken XML fails naming that part and line', async () => {
    const e = await failure(() => joined([['offers___2.xml', NAMES], ['prices___4.xml', PRICES.replace('</Цены></Предложение>\n<Предложение><Ид>b', '</Цены></Предложениее>\n<Предложение><Ид>b')]]));
    assert.deepEqual([e.location.file, e.location.line], ['prices___4.xml', 4]);
  });

  it('readCommerceMLHead: version, sections and the catalog of each part, without reading the offers', async () => {
    assert.deepEqual(await readCommerceMLHead(Readable.from([bytes(CLASSIFIER)]), 'i.xml'), { version: '2.08', formedAt: '2025-03-14T9:05:01', sections: ['Классификатор'], classifierId: 'c', catalogId: undefined });
    const h = await readCommerceMLHead(Readable.from([bytes(PRICES)]), 'p.xml');
    assert.deepEqual([h.sections, h.classifierId, h.catalogId], [['ПакетПредложений'], 'c', 'c']);
    const imp = await readCommerceMLHead(Readable.from([bytes(IMPORT)]), 'import.xml');
    assert.equal(imp.catalogId, 'c1a55f00-0000-4000-8000-000000000001');
  });
});

describe('exact decimals with more places', () => {
  it('1.0000 and 350.0000 are whole thousandths and minor units: taken; 1.0005 and 350.001 are not', async () => {
    const doc = (price: string, qty: string) => pkg(`<Предложение><Ид>a</Ид><Наименование>a</Наименование><Цены><Цена><ЦенаЗаЕдиницу>${price}</ЦенаЗаЕдиницу></Цена></Цены><Количество>${qty}</Количество></Предложение>\n`);
    assert.deepEqual(products((await decode(doc('350.0000', '1.0000'))).records).map((p) => [p.price, p.stock]), [[35000, 1000]]);
    assert.deepEqual(products((await decode(doc('350,5000', '0.2500'))).records).map((p) => [p.price, p.stock]), [[35050, 250]]);
    assert.equal((await failure(() => decode(doc('350.001', '1')))).location.field, 'ЦенаЗаЕдиницу');
    assert.equal((await failure(() => decode(doc('350', '1.0005')))).location.field, 'Количество');
  });
});
