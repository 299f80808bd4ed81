// Shared by this package's tests (not part of the API): fixtures, variants made from them, generated
// large documents, xmllint.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import assert from 'node:assert/strict';
import { FormatError, type DecodeContext, type PriceFileMode, type PriceRecord, type Product } from '@cfx/core/api';
import { combineCommerceML, createXmlFormat, type XmlFormatOptions } from './index.js';

/** copied from ../shared/fixtures/commerceml: nothing reads outside the package at run time */
export const FIXTURES = new URL('../fixtures/', import.meta.url);
export const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
export const fixtureText = (name: string): string => fixture(name).toString('utf8');
export const SUBSET_XSD = fileURLToPath(new URL('commerceml-2.08-document-subset.xsd', FIXTURES));

export const ID1 = '5e000000-0000-4000-8000-000000000001';
export const ID2 = '5e000000-0000-4000-8000-000000000002';
export const GROUP = '9b000000-0000-4000-8000-000000000100';

/** what import.xml + offers.xml of the fixtures hold, joined (fixtures/README: 2 products, 350.00 / 175.50, stock 120 / 40) */
export const JOINED: Product[] = [
  { code: ID1, barcodes: ['4601234567893'], name: 'Билет взрослый', price: 35000, article: 'T-ADULT', unit: 'шт', extras: { okei: '796' }, groupCode: GROUP, taxGroup: 'Без налога', stock: 120000 },
  { code: ID2, barcodes: ['4601234567800'], name: 'Билет детский', price: 17550, article: 'T-CHILD', unit: 'шт', extras: { okei: '796' }, groupCode: GROUP, taxGroup: '20', stock: 40000 },
];

/** offers.xml alone: what each Предложение carries itself */
export const OFFERS_ONLY: Product[] = [
  { code: ID1, barcodes: ['4601234567893'], name: 'Билет взрослый', price: 35000, article: 'T-ADULT', unit: 'шт', extras: { okei: '796' }, stock: 120000 },
  { code: ID2, barcodes: [], name: 'Билет детский', price: 17550, unit: 'шт', extras: { okei: '796' }, stock: 40000 },
];

export const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** the same document without the CommerceML namespace, as site platforms write it */
export const withoutNamespace = (xml: string): string => xml.replace(/ xmlns="urn:1C\.ru:commerceml_2"/g, '');

/** the same document with a `cml:` prefix on every element */
export const withPrefix = (xml: string): string =>
  xml.replace(/ xmlns="urn:1C\.ru:commerceml_2"/g, ' xmlns:cml="urn:1C.ru:commerceml_2"').replace(/<(\/?)([^?!/\s>]+)/g, '<$1cml:$2');

/** the same document in windows-1251, declared so in its prolog */
export const asCp1251 = (xml: string): Buffer => iconv.encode(xml.replace('encoding="UTF-8"', 'encoding="windows-1251"'), 'cp1251');

/** import.xml and offers.xml as one document by text surgery: the catalog, then the offers, under one root */
export function joinedByText(imp: string, offers: string): string {
  const start = offers.indexOf('<ПакетПредложений');
  const end = offers.lastIndexOf('</КоммерческаяИнформация>');
  const at = imp.lastIndexOf('</КоммерческаяИнформация>');
  return imp.slice(0, at) + offers.slice(start, end) + imp.slice(at);
}

export async function combined(imp: Buffer, offers: Buffer): Promise<Buffer> {
  return Buffer.concat(await combineCommerceML([{ fileName: 'import.xml', input: Readable.from([imp]) }, { fileName: 'offers.xml', input: Readable.from([offers]) }]).toArray());
}

export const oneByteChunks = (b: Buffer): Readable =>
  Readable.from(
    (function* () {
      for (const x of b) yield Buffer.of(x);
    })(),
  );

export async function decode(input: Buffer | string | Readable, options: XmlFormatOptions = {}, ctx: Partial<DecodeContext> = {}): Promise<{ mode: PriceFileMode; records: PriceRecord[] }> {
  const src = input instanceof Readable ? input : Readable.from([typeof input === 'string' ? bytes(input) : input]);
  const d = await createXmlFormat(options).decodePrices!(src, { fileName: 'prices.xml', options: {}, ...ctx });
  const records: PriceRecord[] = [];
  for await (const r of d.records) records.push(r);
  return { mode: d.mode, records };
}

export const products = (rs: PriceRecord[]): Product[] => rs.flatMap((r) => (r.op === 'upsert' ? [r.product] : []));

export const guid = (i: number, kind = 'e'): string => `5${kind}000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** what row `i` of a generated document decodes to (joined: with group and tax) */
export function generatedJoined(i: number, joined: boolean): Product {
  const p: Product = { code: guid(i), barcodes: [String(4600000000000 + i)], name: `Товар номер ${i} — тестовий`, price: 100 * (i % 100000) + (i % 100), article: `A-${i}`, unit: 'шт', extras: { okei: '796' } };
  if (joined) {
    p.groupCode = guid(i % 50, 'b');
    p.taxGroup = '20';
  }
  p.stock = (i % 50) * 1000 + 500;
  return p;
}

/**
 * A generated CommerceML document of `n` products, written as it is read: the catalog (when asked)
 * first, then the offers. Rows look like 1C's (GUID ids, Cyrillic names).
 */
export function generatedDocument(n: number, o: { catalog: boolean; offers?: boolean }): Readable {
  const BATCH = 500;
  return Readable.from(
    (function* () {
      yield bytes('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" ДатаФормирования="2025-03-14T18:00:00">\n');
      if (o.catalog) {
        yield bytes('<Каталог СодержитТолькоИзменения="false"><Ид>c</Ид><Наименование>Каталог</Наименование><Товары>\n');
        for (let k = 0; k < n; k += BATCH) {
          let s = '';
          for (let i = k; i < Math.min(n, k + BATCH); i++) {
            s += `<Товар><Ид>${guid(i)}</Ид><Штрихкод>${4600000000000 + i}</Штрихкод><Артикул>A-${i}</Артикул><Наименование>Товар номер ${i} — тестовий</Наименование>` +
              `<БазоваяЕдиница Код="796 " НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница><Группы><Ид>${guid(i % 50, 'b')}</Ид></Группы>` +
              '<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов></Товар>\n';
          }
          yield bytes(s);
        }
        yield bytes('</Товары></Каталог>\n');
      }
      if (o.offers !== false) {
        yield bytes('<ПакетПредложений СодержитТолькоИзменения="false"><Ид>c#</Ид><Наименование>Пакет</Наименование><ИдКаталога>c</ИдКаталога>' +
          '<ТипыЦен><ТипЦены><Ид>7c</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>\n');
        for (let k = 0; k < n; k += BATCH) {
          let s = '';
          for (let i = k; i < Math.min(n, k + BATCH); i++) {
            const cat = o.catalog ? '' : `<Штрихкод>${4600000000000 + i}</Штрихкод><Артикул>A-${i}</Артикул><Наименование>Товар номер ${i} — тестовий</Наименование><БазоваяЕдиница Код="796">шт</БазоваяЕдиница>`;
            s += `<Предложение><Ид>${guid(i)}</Ид>${cat}<Цены><Цена><ИдТипаЦены>7c</ИдТипаЦены><ЦенаЗаЕдиницу>${i % 100000}.${String(i % 100).padStart(2, '0')}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>` +
              `<Количество>${i % 50}.5</Количество></Предложение>\n`;
          }
          yield bytes(s);
        }
        yield bytes('</Предложения></ПакетПредложений>\n');
      }
      yield bytes('</КоммерческаяИнформация>\n');
    })(),
  );
}

export interface Lint {
  ok: boolean;
  output: string;
}

/** undefined: xmllint is not installed */
export function xmllint(file: string, xsd: string): Lint | undefined {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file], { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** the FormatError `run` fails with (anything else, or no error, fails the test) */
export async function failure(run: () => Promise<unknown>): Promise<FormatError> {
  try {
    await run();
  } catch (e) {
    assert.ok(e instanceof FormatError, `not a FormatError: ${String(e)}`);
    return e;
  }
  return assert.fail('no error');
}
