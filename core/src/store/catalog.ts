import type { Product } from '../api/model.js';
import type { StoreConnection } from './connection.js';
import type { Catalog, ListProductsOptions } from './repositories.js';
import { MAX_CHAR, type Row } from './rows.js';
import { firstBarcode, nameKey } from './schema.js';

/** products p's first barcode, as its index reads it */
const FIRST = firstBarcode('p');

const PRODUCT_SELECT = 'SELECT p.* FROM products p';

/**
 * The three range reads of a catalog search (exported for the query-plan test): each must be a
 * SEARCH on an index in its own order, never a SCAN and never a sort of the matches. The name read
 * is ordered by name_key, then rowid, which is the index's own order (an index entry ends with the rowid).
 * The barcode read merges two (its parameters: the range twice): products' first barcodes (by
 * barcode, code: the order of products_barcode, an index on firstBarcode and code) and the side
 * table's other barcodes (by barcode, code: its key). Products sharing a barcode come by code from
 * both, as before version 4: one order whatever the catalog's history (a fresh build or deltas),
 * so offset pages neither repeat nor skip.
 */
export const CATALOG_SEARCH_SQL = {
  code: `${PRODUCT_SELECT} WHERE p.code >= ? AND p.code < ? ORDER BY p.code`,
  barcode:
    `SELECT ${FIRST} AS k1, p.code AS k2, p.* FROM products p WHERE ${FIRST} >= ? AND ${FIRST} < ? ` +
    'UNION ALL SELECT b.barcode, b.product_code, p.* FROM barcodes b JOIN products p ON p.code = b.product_code WHERE b.barcode >= ? AND b.barcode < ? ORDER BY 1, 2',
  name: `${PRODUCT_SELECT} WHERE p.name_key >= ? AND p.name_key < ? ORDER BY p.name_key, p.rowid`,
} as const;

/**
 * A lookup by barcode (its parameter twice): a product's first barcode from its index (firstBarcode),
 * the others from the side table; the few matches sorted (exported for the query-plan test).
 */
export const FIND_BY_BARCODE_SQL = `${PRODUCT_SELECT} WHERE ${FIRST} = ? OR p.code IN (SELECT product_code FROM barcodes WHERE barcode = ?) ORDER BY p.enabled DESC, p.code LIMIT 1`;

function toProduct(r: Row): Product {
  const p: Product = { code: r.code as string, barcodes: JSON.parse(r.barcodes as string) as string[], name: r.name as string, price: r.price as number };
  if (r.receipt_name !== null) p.receiptName = r.receipt_name as string;
  if (r.unit !== null) p.unit = r.unit as string;
  p.weighed = r.weighed === 1;
  if (r.group_code !== null) p.groupCode = r.group_code as string;
  if (r.tax_group !== null) p.taxGroup = r.tax_group as string;
  if (r.article !== null) p.article = r.article as string;
  if (r.stock !== null) p.stock = r.stock as number;
  p.enabled = r.enabled === 1;
  if (r.extras !== null) p.extras = JSON.parse(r.extras as string) as Record<string, string>;
  return p;
}

/** Catalog reads, on the read-only connection: the last committed catalog, of the generation in use at the read's start. */
export class SqliteCatalog implements Catalog {
  constructor(private readonly db: StoreConnection) {}

  count(): number {
    this.db.syncCatalog();
    return this.db.c('SELECT count(*) FROM products').pluck().get() as number;
  }

  get(code: string): Product | undefined {
    this.db.syncCatalog();
    const r = this.db.c(`${PRODUCT_SELECT} WHERE p.code = ?`).get(code) as Row | undefined;
    return r && toProduct(r);
  }

  findByBarcode(barcode: string): Product | undefined {
    this.db.syncCatalog();
    const r = this.db.c(FIND_BY_BARCODE_SQL).get(barcode, barcode) as Row | undefined;
    return r && toProduct(r);
  }

  /**
   * A page of the catalog: by code without `q`; with `q`, the products whose code starts with it
   * (by code), then those with a barcode starting with it (by barcode), then those whose name
   * starts with it in any case (by name): three index range reads, each product listed once, at
   * its first place, so offset pages neither repeat nor skip. A page costs offset + limit rows.
   */
  list(opts: ListProductsOptions = {}): Product[] {
    const limit = opts.limit ?? 50;
    const offset = opts.offset ?? 0;
    const q = opts.q ?? '';
    // once per page: its three reads come from one catalog generation
    this.db.syncCatalog();
    if (q === '') return (this.db.c(`${PRODUCT_SELECT} ORDER BY p.code LIMIT ? OFFSET ?`).all(limit, offset) as Row[]).map(toProduct);
    const key = nameKey(q);
    // one iterator at a time: a better-sqlite3 connection runs one statement while iterating
    const sources: (() => IterableIterator<unknown>)[] = [
      () => this.db.c(CATALOG_SEARCH_SQL.code).iterate(q, q + MAX_CHAR),
      () => this.db.c(CATALOG_SEARCH_SQL.barcode).iterate(q, q + MAX_CHAR, q, q + MAX_CHAR),
      () => this.db.c(CATALOG_SEARCH_SQL.name).iterate(key, key + MAX_CHAR),
    ];
    const seen = new Set<string>();
    const page: Product[] = [];
    let skipped = 0;
    for (const open of sources) {
      for (const r of open() as IterableIterator<Row>) {
        const code = r.code as string;
        if (seen.has(code)) continue;
        seen.add(code);
        if (skipped < offset) {
          skipped++;
          continue;
        }
        page.push(toProduct(r));
        // leaving the for-of closes the statement's iterator
        if (page.length >= limit) return page;
      }
    }
    return page;
  }
}
