// The CommerceML decoders under fuzz (fuzz.test.ts: 1k cases each; bench/src/fuzz-decoders.ts:
// 100k), seeded with the fixtures as 1C exports them and with what this format writes.
import { SAMPLE_PRICES, SAMPLE_SALES } from '@cfx/core/testing';
import { priceDecoder, salesDecoder, type DecoderFuzzTarget } from '@cfx/core/testing/fuzz';
import { createXmlFormat } from './index.js';
import { asCp1251, combined, fixture } from './test-support.js';

/** the text limit the core's maxLineLength sets (at least 1024 counts), small so the fuzzer reaches it */
const MAX_LINE = 4096;
const ROOT = '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" ДатаФормирования="2025-03-15T10:00:00">';
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** text, an attribute value, a comment that never end; elements nested without end */
const endless = (open: string) => [
  { head: utf8(`${ROOT}${open}<Наименование>`), unit: Buffer.alloc(1024, 'x'), limit: MAX_LINE },
  { head: utf8(`${ROOT}${open}<Ид a="`), unit: Buffer.alloc(1024, 'y'), limit: MAX_LINE },
  { head: utf8(`${ROOT}<!--`), unit: Buffer.alloc(1024, 'z'), limit: MAX_LINE },
  { head: utf8(ROOT), unit: utf8('<Группа>'.repeat(64)), limit: MAX_LINE },
];

export async function fuzzTargets(): Promise<DecoderFuzzTarget[]> {
  const xml = createXmlFormat();
  const offers = fixture('offers.xml');
  const written = await Promise.all(SAMPLE_PRICES.map(async (s) => Buffer.concat(await xml.encodePrices!(s.records, s.mode, { options: {} }).toArray())));
  const tokens = ['Ид', 'Наименование', 'Цена', 'ЦенаЗаЕдиницу', 'ТипЦены', 'Предложение', 'Количество', 'Штрихкод', 'Документ', 'Товар', 'Сумма', 'ХозОперация', 'Возврат товара', 'encoding="windows-1251"', 'СодержитТолькоИзменения="true"'];
  return [
    {
      name: 'commerceml prices',
      decode: priceDecoder(xml, { fileName: 'offers.xml', options: {}, maxLineLength: MAX_LINE }),
      seeds: [offers, await combined(fixture('import.xml'), offers), asCp1251(offers.toString('utf8')), ...written],
      tokens,
      endless: endless('<ПакетПредложений><Предложения><Предложение>'),
    },
    {
      name: 'commerceml sales',
      decode: salesDecoder(xml, { fileName: 'box-1_S000001.xml', options: {}, maxLineLength: MAX_LINE }),
      seeds: [fixture('order.xml'), ...SAMPLE_SALES.map((s) => Buffer.from(xml.encodeSale!(s, { options: {} })))],
      tokens,
      endless: endless('<Документ><Товары><Товар>'),
    },
  ];
}
