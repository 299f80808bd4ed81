// The atol decoders under fuzz (fuzz.test.ts: 1k cases each; bench/src/fuzz-decoders.ts: 100k):
// goods files and sales reports, seeded with the fixtures as 1C and Frontol write them and with
// what this format's encoders write.
import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { SAMPLE_PRICES, SAMPLE_SALES } from '@cfx/core/testing';
import { priceDecoder, salesDecoder, type DecoderFuzzTarget } from '@cfx/core/testing/fuzz';
import { createAtolFormat, encodeReport } from './index.js';

/** small, so that the fuzzer reaches it and the endless inputs end fast */
const MAX_LINE = 4096;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/atol/${name}`, import.meta.url));
const cp1251 = (s: string) => iconv.encode(s, 'cp1251');
const line = { unit: Buffer.alloc(1024, '7'), limit: MAX_LINE };

export async function fuzzTargets(): Promise<DecoderFuzzTarget[]> {
  const atol = createAtolFormat();
  const encodedGoods = await Promise.all(SAMPLE_PRICES.map(async (s) => Buffer.concat(await atol.encodePrices!(s.records, s.mode, { options: {} }).toArray())));
  return [
    {
      name: 'atol goods',
      decode: priceDecoder(atol, { fileName: 'goods.txt', options: {}, maxLineLength: MAX_LINE }),
      seeds: [fixture('goods-full.txt'), fixture('goods-full-quirks.txt'), fixture('goods-delta-unknown.txt'), ...encodedGoods],
      tokens: ['$$$DELETEALLWARES', '$$$DELETEALLBARCODES', '$$$DELETEALLASPECTREMAINS', '$$$ADDQUANTITY', '$$$REPLACEQUANTITY', '$$$DELETEWARESBYWARECODE', '$$$ADDBARCODES', '0,1,1,0,0,0,0,1'],
      endless: [
        { head: cp1251('##@@&&\r\n#\r\n$$$ADDQUANTITY\r\n'), ...line },
        { head: cp1251('##@@&&\r\n#\r\n$$$REPLACEQUANTITY\r\n1;;'), ...line },
      ],
    },
    {
      name: 'atol report',
      decode: salesDecoder(atol, { fileName: 'box-1_report.txt', options: {}, maxLineLength: MAX_LINE }),
      seeds: [fixture('report.txt'), encodeReport(SAMPLE_SALES).bytes, ...SAMPLE_SALES.map((s) => Buffer.from(atol.encodeSale!(s, { options: {} })))],
      tokens: ['#cfx;sale;', '42', '11', '12', '40', '55', '56', '15.03.2025', '10:15:02', '1/5/1001'],
      endless: [
        { head: cp1251('#\r\n1\r\n17\r\n'), ...line },
        { head: cp1251('#\r\n1\r\n17\r\n501;15.03.2025;10:15:02;42;'), ...line },
      ],
    },
  ];
}
