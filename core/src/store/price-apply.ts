import type { Statement } from 'better-sqlite3';
import { CfxError, ErrorCodes, FormatError } from '../api/errors.js';
import type { SkippedInput } from '../api/format.js';
import type { PriceFileMode, PriceRecord, Product } from '../api/model.js';
import { NAME_KEY_INDEX, NAME_KEY_INDEX_SQL, nameKey, type Db } from './schema.js';

/** The remote file being applied; becomes its inbox_log row. */
export interface InboxFile {
  name: string;
  size: number;
  mtime?: Date;
  sha256: string;
  mode: PriceFileMode;
  /** where the staged copy will be archived: recorded with the row so the archive step can be repeated */
  archived?: string;
}

/** Checks a full file must pass before it may replace the catalog (prices.allowEmptyFull, prices.maxRemovedShare). */
export interface FullFileGuard {
  /** a full file with no products may empty the catalog */
  allowEmpty: boolean;
  /** refuse a full file that removes more than this share (0..1) of the catalog; undefined: no limit */
  maxRemovedShare?: number;
  /** an admin's "apply it anyway": removals are still counted, nothing is refused */
  forced?: boolean;
}

/** What the commit records besides the catalog: the decoder's skipped input. */
export interface CommitInfo {
  skipped?: SkippedInput;
}

export interface PriceApplyResult {
  upserts: number;
  deletes: number;
  disables: number;
  cleared: boolean;
  /** products in the catalog after the commit */
  products: number;
  /** the inbox_log row of this delivery (open until the remote delete is confirmed) */
  inboxId: number;
  /** full files: products of the previous catalog that this file removed */
  removed?: number;
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
  readonly supersede: Statement;
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
    this.logInbox = db.prepare(
      'INSERT INTO inbox_log (name, size, mtime, sha256, applied_at, records, mode, archived, skipped, skipped_lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // a new delivery of a name proves the previous one left the server (the office wrote over it)
    this.supersede = db.prepare('UPDATE inbox_log SET confirmed_at = ? WHERE name = ? AND confirmed_at IS NULL');
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
  /** products before a full file's clear, and whether their codes were kept to count removals */
  private before = 0;
  private keptCodes = false;

  constructor(
    private readonly db: Db,
    private readonly st: PriceStatements,
    private readonly file: InboxFile,
    private readonly onEnd: () => void,
    private readonly guard: FullFileGuard = { allowEmpty: true },
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
        if (!this.cleared) {
          this.db.exec(`DROP INDEX IF EXISTS ${NAME_KEY_INDEX}`);
          this.before = st.count.get() as number;
          // only with the guard on: a copy of 1M codes is not free, and nothing else needs it
          if (this.guard.maxRemovedShare !== undefined && this.before > 0) {
            this.db.exec('DROP TABLE IF EXISTS temp.cfx_prev_codes; CREATE TEMP TABLE cfx_prev_codes AS SELECT code FROM main.products');
            this.keptCodes = true;
          }
        }
        st.clearProducts.run();
        st.clearBarcodes.run();
        this.cleared = true;
        break;
    }
  }

  private unindex(code: string, barcodesJson: string): void {
    for (const b of JSON.parse(barcodesJson) as string[]) this.st.deleteBarcode.run(b, code);
  }

  commit(info: CommitInfo = {}): PriceApplyResult {
    this.check();
    const f = this.file;
    const failed = (e: unknown): CfxError =>
      e instanceof CfxError ? e : new CfxError(ErrorCodes.STORE_IO, `applying ${f.name} failed at commit, nothing changed: ${(e as Error).message}`, { cause: e });
    let products: number;
    let removed: number | undefined;
    let inboxId: number;
    try {
      if (this.cleared) {
        removed = this.checkFullFile();
        this.st.rebuildBarcodes.run();
        this.db.exec(NAME_KEY_INDEX_SQL);
      }
      const now = new Date().toISOString();
      const sk = info.skipped;
      this.st.supersede.run(now, f.name);
      inboxId = Number(
        this.st.logInbox.run(
          f.name, f.size, f.mtime?.toISOString() ?? null, f.sha256, now, this.upserts + this.deletes + this.disables, f.mode,
          f.archived ?? null, sk?.count ?? 0, sk && sk.count > 0 ? JSON.stringify({ lines: sk.lines, reasons: sk.reasons }) : null,
        ).lastInsertRowid,
      );
      products = this.st.count.get() as number;
    } catch (e) {
      this.rollback();
      throw failed(e);
    }
    try {
      this.end('COMMIT');
    } catch (e) {
      throw failed(e);
    }
    return { upserts: this.upserts, deletes: this.deletes, disables: this.disables, cleared: this.cleared, products, inboxId, ...(removed !== undefined ? { removed } : {}) };
  }

  /**
   * A full file replaces the catalog: one with no products would empty the till, and one that drops
   * most of the catalog is more often an export gone wrong than the office's intent. Refused as a
   * format problem, so the file is quarantined with the numbers and can be forced through.
   */
  private checkFullFile(): number | undefined {
    const f = this.file;
    const { allowEmpty, maxRemovedShare, forced } = this.guard;
    if (this.upserts === 0 && !allowEmpty) {
      throw new FormatError(`a full file with no products would empty the catalog (${this.before} products); set prices.allowEmptyFull: true if that is intended`, { file: f.name }, { code: ErrorCodes.FULL_FILE_REFUSED });
    }
    if (!this.keptCodes) return undefined;
    const removed = this.db.prepare('SELECT count(*) FROM temp.cfx_prev_codes p WHERE NOT EXISTS (SELECT 1 FROM main.products q WHERE q.code = p.code)').pluck().get() as number;
    this.db.exec('DROP TABLE temp.cfx_prev_codes');
    if (maxRemovedShare !== undefined && !forced && removed / this.before > maxRemovedShare) {
      const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
      throw new FormatError(
        `this full file would remove ${removed} of ${this.before} products (${pct(removed / this.before)}), more than prices.maxRemovedShare (${pct(maxRemovedShare)}); retry it with --force if that is intended`,
        { file: f.name },
        { code: ErrorCodes.FULL_FILE_REFUSED },
      );
    }
    return removed;
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
