import type { Statement } from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { PriceFileMode, PriceRecord, Product } from '../api/model.js';
import { NAME_KEY_INDEX, NAME_KEY_INDEX_SQL, nameKey, type Db } from './schema.js';

/** The remote file being applied; becomes its inbox_log row. */
export interface InboxFile {
  name: string;
  size: number;
  mtime?: Date;
  sha256: string;
  mode: PriceFileMode;
}

export interface PriceApplyResult {
  upserts: number;
  deletes: number;
  disables: number;
  cleared: boolean;
  /** products in the catalog after the commit */
  products: number;
}

/** Statements of the hot path, prepared once per Store and reused by every apply. */
export class PriceStatements {
  readonly clearProducts: Statement;
  readonly clearBarcodes: Statement;
  readonly upsert: Statement;
  readonly oldBarcodes: Statement;
  readonly deleteProduct: Statement;
  readonly deleteBarcode: Statement;
  readonly insertBarcode: Statement;
  readonly rebuildBarcodes: Statement;
  readonly disable: Statement;
  readonly logInbox: Statement;
  readonly count: Statement;
  constructor(db: Db) {
    this.clearProducts = db.prepare('DELETE FROM products');
    this.clearBarcodes = db.prepare('DELETE FROM barcodes');
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO products (code, barcodes, name, name_key, receipt_name, price, unit, weighed, group_code, tax_group, article, stock, enabled, extras)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.oldBarcodes = db.prepare('SELECT barcodes FROM products WHERE code = ?').pluck();
    this.deleteProduct = db.prepare('DELETE FROM products WHERE code = ?');
    this.deleteBarcode = db.prepare('DELETE FROM barcodes WHERE barcode = ? AND product_code = ?');
    this.insertBarcode = db.prepare('INSERT OR IGNORE INTO barcodes (barcode, product_code) VALUES (?, ?)');
    this.rebuildBarcodes = db.prepare(
      'INSERT OR IGNORE INTO barcodes (barcode, product_code) SELECT j.value, p.code FROM products p, json_each(p.barcodes) j ORDER BY 1, 2',
    );
    this.disable = db.prepare('UPDATE products SET enabled = 0 WHERE code = ?');
    this.logInbox = db.prepare('INSERT INTO inbox_log (name, size, mtime, sha256, applied_at, records, mode) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.count = db.prepare('SELECT count(*) FROM products').pluck();
  }
}

function badProduct(p: Product, line: number | undefined, why: string): CfxError {
  return new CfxError(ErrorCodes.FORMAT_INVALID, `product ${JSON.stringify(p.code)}${line !== undefined ? ` (line ${line})` : ''}: ${why}`, {
    details: { code: p.code, line, reason: why },
  });
}

/**
 * One price file applied as one catalog.db write transaction that stays open across the caller's
 * awaits (streamed decode). Readers use a separate connection, so they keep seeing the previous
 * catalog until commit; a crash or rollback leaves no trace, not even the inbox_log row.
 */
export class PriceApply {
  private upserts = 0;
  private deletes = 0;
  private disables = 0;
  private cleared = false;
  private open = true;

  constructor(
    private readonly db: Db,
    private readonly st: PriceStatements,
    private readonly file: InboxFile,
    private readonly onEnd: () => void,
  ) {}

  get active(): boolean {
    return this.open;
  }

  apply(rec: PriceRecord): void {
    this.check();
    const st = this.st;
    switch (rec.op) {
      case 'upsert': {
        const p = rec.product;
        // the store is the last line before money hits the till: a float price must never get in
        if (!Number.isSafeInteger(p.price)) throw badProduct(p, rec.line, `price ${p.price} is not integer minor units`);
        if (p.stock !== undefined && !Number.isSafeInteger(p.stock)) throw badProduct(p, rec.line, `stock ${p.stock} is not integer thousandths`);
        const barcodes = JSON.stringify(p.barcodes);
        // after a clear the barcode index is rebuilt at commit; a delta keeps it up to date row by row
        const old = this.cleared ? undefined : (st.oldBarcodes.get(p.code) as string | undefined);
        const reindex = !this.cleared && old !== barcodes;
        if (reindex && old !== undefined) this.unindex(p.code, old);
        st.upsert.run(
          p.code,
          barcodes,
          p.name,
          nameKey(p.name),
          p.receiptName ?? null,
          p.price,
          p.unit ?? null,
          p.weighed ? 1 : 0,
          p.groupCode ?? null,
          p.taxGroup ?? null,
          p.article ?? null,
          p.stock ?? null,
          p.enabled === false ? 0 : 1,
          p.extras === undefined ? null : JSON.stringify(p.extras),
        );
        if (reindex) for (const b of p.barcodes) st.insertBarcode.run(b, p.code);
        this.upserts++;
        break;
      }
      case 'delete': {
        if (!this.cleared) {
          const old = st.oldBarcodes.get(rec.code) as string | undefined;
          if (old !== undefined) this.unindex(rec.code, old);
        }
        st.deleteProduct.run(rec.code);
        this.deletes++;
        break;
      }
      case 'disable':
        st.disable.run(rec.code);
        this.disables++;
        break;
      case 'clear':
        // every name key is inserted again: into no index, then sorted once at commit, costs about
        // a second for 1M rows where 1M random-order index inserts doubled the whole import
        if (!this.cleared) this.db.exec(`DROP INDEX IF EXISTS ${NAME_KEY_INDEX}`);
        st.clearProducts.run();
        st.clearBarcodes.run();
        this.cleared = true;
        break;
    }
  }

  private unindex(code: string, barcodesJson: string): void {
    for (const b of JSON.parse(barcodesJson) as string[]) this.st.deleteBarcode.run(b, code);
  }

  commit(): PriceApplyResult {
    this.check();
    const f = this.file;
    const failed = (e: unknown): CfxError =>
      e instanceof CfxError ? e : new CfxError(ErrorCodes.STORE_IO, `applying ${f.name} failed at commit, nothing changed: ${(e as Error).message}`, { cause: e });
    let products: number;
    try {
      if (this.cleared) {
        this.st.rebuildBarcodes.run();
        this.db.exec(NAME_KEY_INDEX_SQL);
      }
      this.st.logInbox.run(f.name, f.size, f.mtime?.toISOString() ?? null, f.sha256, new Date().toISOString(), this.upserts + this.deletes + this.disables, f.mode);
      products = this.st.count.get() as number;
    } catch (e) {
      this.rollback();
      if ((e as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw failed(e);
      throw new CfxError(ErrorCodes.STORE_IO, `${f.name} (sha256 ${f.sha256}) was already applied; nothing changed`, {
        cause: e,
        details: { name: f.name, sha256: f.sha256, reason: 'already-applied' },
      });
    }
    try {
      this.end('COMMIT');
    } catch (e) {
      throw failed(e);
    }
    return { upserts: this.upserts, deletes: this.deletes, disables: this.disables, cleared: this.cleared, products };
  }

  rollback(): void {
    if (this.open) this.end('ROLLBACK');
  }

  private end(sql: 'COMMIT' | 'ROLLBACK'): void {
    this.open = false;
    try {
      if (this.db.inTransaction) this.db.exec(sql);
      else if (sql === 'COMMIT') throw this.lost();
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    } finally {
      this.onEnd();
    }
  }

  private check(): void {
    if (!this.open) throw new CfxError(ErrorCodes.INTERNAL, `price apply of ${this.file.name} is already committed or rolled back`);
    // after SQLITE_FULL/IOERR SQLite rolls back by itself; going on would autocommit row by row
    if (!this.db.inTransaction) {
      this.open = false;
      this.onEnd();
      throw this.lost();
    }
  }

  private lost(): CfxError {
    return new CfxError(ErrorCodes.STORE_IO, `price apply of ${this.file.name} was rolled back by SQLite after an earlier error; nothing was applied`);
  }
}
