// The core's format conformance kit: price round trips through the offers-only package cfx writes,
// decoding on the fixtures (incl. cp1251 and namespace-less variants) and a generated package.
import { describeFormatConformance } from '@cfx/core/testing';
import { createXmlFormat } from './index.js';
import { asCp1251, bytes, fixture, fixtureText, generatedDocument, OFFERS_ONLY, withoutNamespace } from './test-support.js';

const offers = fixtureText('offers.xml');
const badPrice = offers.replace('<ЦенаЗаЕдиницу>175.50</ЦенаЗаЕдиницу>', '<ЦенаЗаЕдиницу>175,5,0</ЦенаЗаЕдиницу>');
const badPriceLine = badPrice.split('\n').findIndex((l) => l.includes('175,5,0')) + 1;
const order = fixtureText('order.xml');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describeFormatConformance('xml', {
  create: () => createXmlFormat(),
  malformed: [
    { name: 'not XML', bytes: 'this is not xml\n', line: 1 },
    { name: 'not CommerceML', bytes: '<?xml version="1.0"?>\n<prices/>\n', line: 2 },
    { name: 'a bad price', bytes: badPrice, line: badPriceLine, field: 'ЦенаЗаЕдиницу' },
    { name: 'a DOCTYPE (XXE)', bytes: offers.replace('?>\n', '?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'), line: 2, field: 'DOCTYPE' },
    { name: 'a catalog without offers', bytes: fixture('import.xml'), field: 'ПакетПредложений' },
    { name: 'a sale with a bad quantity', kind: 'sales', bytes: order.replace('<Количество>2</Количество>', '<Количество>2,0,0</Количество>'), line: lineOf(order, '<Количество>2</Количество>'), field: 'Количество' },
    { name: 'a sale that is not a sale', kind: 'sales', bytes: order.replace('Заказ товара', 'Переоценка товаров'), line: lineOf(order, 'Заказ товара'), field: 'ХозОперация' },
  ],
  encodings: [
    { encoding: 'auto', bytes: fixture('offers.xml'), products: OFFERS_ONLY },
    { encoding: 'utf-8', bytes: bytes(withoutNamespace(offers)), products: OFFERS_ONLY, options: { encoding: 'utf-8' } },
    { encoding: 'cp1251', bytes: asCp1251(offers), products: OFFERS_ONLY },
    { encoding: 'cp1251', bytes: asCp1251(offers).subarray(asCp1251(offers).indexOf('\n') + 1), products: OFFERS_ONLY, options: { encoding: 'cp1251' } },
  ],
  large: { records: 50_000, input: (n) => generatedDocument(n, { catalog: false }), fileName: 'offers.xml' },
});
