// The shared format conformance kit, run against the atol format like every built-in format.
import { describeFormatConformance } from '@cfx/core/testing';
import type { Product } from '@cfx/core/api';
import iconv from 'iconv-lite';
import { createAtolFormat } from './index.js';

const goods = (lines: string[]) => iconv.encode(['##@@&&', '#', '$$$REPLACEQUANTITY', ...lines].join('\r\n') + '\r\n', 'win1251');

// what an ATOL goods line carries: 1C writes the receipt text and the flags field on every item
const item = (code: string, barcodes: string[], name: string, price: number): Product => ({
  code,
  barcodes,
  name,
  price,
  receiptName: name,
  weighed: false,
  extras: { flags: '0,1,1,0,0,0,0,1' },
});

describeFormatConformance('atol (@cfx/backoffice-1c)', {
  create: () => createAtolFormat(),
  samplePrices: [
    {
      mode: 'full',
      records: [
        { op: 'clear' },
        { op: 'upsert', product: item('1001', ['4820000000017', '4820000000024'], 'Квиток дорослий', 35000) },
        { op: 'upsert', product: item('1003', ['4820000000031'], 'Ґудзик є ї і — Ёё', 0) },
        { op: 'upsert', product: item('7', ['2000000000015'], 'Кава американо 0,3 л', 4550) },
      ],
    },
    { mode: 'delta', records: [{ op: 'upsert', product: item('1001', ['4820000000017'], 'Квиток дорослий', 36050) }, { op: 'delete', code: '1003' }] },
  ],
  malformed: [{ name: 'a price that is not a number', bytes: goods(['1;4820000000011;Квиток;Квиток;350,00;;;0,1,1', '2;;Програмка;Програмка;abc;;;0,1,1']), line: 5, field: 'price' }],
});
