/**
 * The canonical model every format decodes to and encodes from.
 * Money is integer minor units (kopiyky/kopeks); quantity is integer thousandths. Never floats:
 * a price of 12,50 is 1250, a quantity of 1,5 kg is 1500.
 */
export type Minor = number;
export type Milli = number;

export interface Product {
  code: string;
  barcodes: string[];
  name: string;
  receiptName?: string;
  /** minor units */
  price: Minor;
  unit?: string;
  weighed?: boolean;
  groupCode?: string;
  taxGroup?: string;
  article?: string;
  /** thousandths */
  stock?: Milli;
  /** false: the code exists but must not be sold (1C's "empty name" lines) */
  enabled?: boolean;
  /** columns/fields the format read but the model has no place for; kept, never interpreted */
  extras?: Record<string, string>;
}

/** One step of a streamed price file. Applying them in order inside one transaction gives the new catalog. */
export type PriceRecord =
  | { op: 'clear'; line?: number }
  | { op: 'upsert'; product: Product; line?: number }
  | { op: 'delete'; code: string; line?: number }
  | { op: 'disable'; code: string; line?: number };

export type PriceFileMode = 'full' | 'delta';

/** A whole price file, for small inputs and tests; large files stream PriceRecords instead. */
export interface PriceFile {
  mode: PriceFileMode;
  products: Product[];
  deletions: string[];
}

export type SaleKind = 'sale' | 'return' | 'cancel';
export type PaymentKind = 'cash' | 'card' | 'other';

export interface SaleLine {
  code: string;
  barcode?: string;
  name?: string;
  /** thousandths */
  qty: Milli;
  /** minor units per unit */
  price: Minor;
  /** minor units, final line amount after discount */
  amount: Minor;
  /** minor units */
  discount?: Minor;
}

export interface Payment {
  kind: PaymentKind;
  amount: Minor;
}

export interface Sale {
  saleId: string;
  terminalId: string;
  shift?: number;
  receiptNo?: number;
  cashier?: string;
  /** ISO 8601 with offset, as the till gave it */
  time: string;
  kind: SaleKind;
  lines: SaleLine[];
  payments: Payment[];
  /** minor units */
  total: Minor;
}
