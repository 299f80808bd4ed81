// The csv decoders under fuzz (fuzz.test.ts: 1k cases each; bench/src/fuzz-decoders.ts: 100k),
// seeded with the fixtures as 1C writes them and with files this format's encoder writes.
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { SAMPLE_PRICES, SAMPLE_SALES } from '@cfx/core/testing';
import { priceDecoder, salesDecoder, type DecoderFuzzTarget } from '@cfx/core/testing/fuzz';
import { createCsvFormat, type CsvFormatOptions } from './index.js';

/** small, so that the fuzzer reaches it and the endless inputs end fast */
const MAX_LINE = 4096;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

async function bytesOf(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

/** a header, then a line (or an open quoted field, its newlines inside) that never ends */
const endless = (header: string, encode = (s: string): Buffer => Buffer.from(s, 'utf8')) => [
  { head: encode(header), unit: Buffer.alloc(1024, 'x'), limit: MAX_LINE },
  { head: encode(`${header}1;;"`), unit: Buffer.from('a;b\r\n'.repeat(200)), limit: MAX_LINE },
];

export async function fuzzTargets(): Promise<DecoderFuzzTarget[]> {
  const csv = createCsvFormat();
  const priceSeeds = await Promise.all(SAMPLE_PRICES.map((s) => bytesOf(csv.encodePrices!(s.records, s.mode, { options: {} }))));
  const columns: CsvFormatOptions['columns'] = { Код: 'code', Штрихкод: 'barcodes', Найменування: 'name', Ціна: 'price', 'Од.': 'unit', Ваговий: 'weighed', Залишок: 'stock' };
  const oneC = createCsvFormat({ columns, thousands: true, encoding: 'cp1251' });
  return [
    {
      name: 'csv prices',
      decode: priceDecoder(csv, { fileName: 'prices.full.csv', options: {}, maxLineLength: MAX_LINE }),
      seeds: priceSeeds,
      tokens: ['code', 'barcodes', 'name', 'price', 'stock', 'unit', 'weighed', 'op', 'delete', 'disable', 'upsert'],
      endless: endless('code;barcodes;name;price\n'),
    },
    {
      name: 'csv prices (1C columns, cp1251, digit grouping)',
      decode: priceDecoder(oneC, { fileName: 'prices-1c.csv', options: {}, maxLineLength: MAX_LINE }),
      seeds: [fixture('prices-1c.csv'), fixture('prices-1c-grouped.csv')],
      endless: endless('Код;Штрихкод;Найменування;Ціна\r\n', (s) => iconv.encode(s, 'cp1251')),
    },
    {
      name: 'csv sales',
      decode: salesDecoder(csv, { fileName: 'box-1_S000001.csv', options: {}, maxLineLength: MAX_LINE }),
      seeds: SAMPLE_SALES.map((s) => Buffer.from(csv.encodeSale!(s, { options: {} }))),
      tokens: ['H', 'L', 'P', 'sale', 'return', 'cancel', 'cash', 'card', 'other'],
      endless: endless('record;saleId;terminal;time;kind;shift;receiptNo;cashier;code;barcode;name;qty;price;discount;amount;payment;total\r\n'),
    },
  ];
}
