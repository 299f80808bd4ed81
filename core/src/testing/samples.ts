import type { PriceFileMode, PriceRecord, Product, Sale } from '../api/index.js';

/** A price file as records, for round trips. */
export interface PriceSample {
  mode: PriceFileMode;
  records: PriceRecord[];
  /** the file name handed to the decoder (default `prices.full.<ext>` / `prices.<ext>`) */
  fileName?: string;
}

/**
 * Products every format should carry: Cyrillic (incl. the Ukrainian letters cp1251 holds),
 * quotes and separators inside a name the way 1C writes them, several barcodes, none, a zero price.
 */
export const SAMPLE_PRODUCTS: readonly Product[] = Object.freeze([
  { code: '1001', barcodes: ['4820000000017', '4820000000024'], name: 'Квиток дорослий', price: 35000 },
  { code: '1002', barcodes: [], name: 'Сир "Звенигора"; ваговий, 1 кг', price: 28990 },
  { code: '1003', barcodes: ['4820000000031'], name: 'Ґудзик є ї і — Ёё', price: 0 },
  { code: 'A-7', barcodes: ['2000000000015'], name: 'Coffee americano 0,3 l', price: 4550 },
]);

export const SAMPLE_PRICES: readonly PriceSample[] = Object.freeze([
  { mode: 'full', records: [{ op: 'clear' }, ...SAMPLE_PRODUCTS.map((p): PriceRecord => ({ op: 'upsert', product: { ...p, barcodes: [...p.barcodes] } }))] },
  {
    mode: 'delta',
    records: [
      { op: 'upsert', product: { code: '1001', barcodes: ['4820000000017'], name: 'Квиток дорослий', price: 36050 } },
      { op: 'delete', code: '1002' },
    ],
  },
]);

/** A sale and a return as the till's journal holds them (money in minor units, quantities in thousandths). */
export const SAMPLE_SALES: readonly Sale[] = Object.freeze([
  {
    saleId: 'S000001',
    terminalId: 'box-1',
    shift: 7,
    receiptNo: 1,
    cashier: 'Олена',
    time: '2025-03-15T10:01:00+02:00',
    kind: 'sale',
    lines: [
      { code: '1001', barcode: '4820000000017', name: 'Квиток дорослий', qty: 2000, price: 35000, amount: 70000 },
      { code: '1002', name: 'Сир "Звенигора"; ваговий', qty: 250, price: 2000, amount: 450, discount: 50 },
    ],
    payments: [
      { kind: 'card', amount: 70000 },
      { kind: 'cash', amount: 450 },
    ],
    total: 70450,
  },
  {
    saleId: 'S000002',
    terminalId: 'box-1',
    time: '2025-03-15T11:00:00+02:00',
    kind: 'return',
    lines: [{ code: '1001', qty: -1000, price: 35000, amount: -35000 }],
    payments: [{ kind: 'cash', amount: -35000 }],
    total: -35000,
  },
] satisfies Sale[]);

/** A deterministic product for row `i` of a generated large file (names are Cyrillic: two-byte strings in V8). */
export function generatedProduct(i: number): Product {
  return { code: String(100000 + i), barcodes: [String(4820000000000 + i)], name: `Товар номер ${i} — тестовий`, price: 100 + (i % 100000) };
}
