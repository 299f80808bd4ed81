import type { Statement } from 'better-sqlite3';
import { CfxError, ErrorCodes, FormatError } from '../api/errors.js';
import type { SkippedInput } from '../api/format.js';
import type { PriceFileMode, PriceRecord, Product } from '../api/model.js';
import { BARCODE_INDEX, BARCODE_INDEX_SQL, NAME_KEY_INDEX, NAME_KEY_INDEX_SQL, nameKey, REBUILD_BARCODES_SQL, type Db } from './schema.js';

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
    this.upsert = db.prepare(UPSERT_SQL);
    this.oldBarcodes = db.prepare('SELECT barcodes FROM products WHERE code = ?').pluck();
    this.deleteProduct = db.prepare('DELETE FROM products WHERE code = ?');
    this.deleteBarcode = db.prepare('DELETE FROM barcodes WHERE barcode = ? AND product_code = ?');
    this.insertBarcode = db.prepare('INSERT OR IGNORE INTO barcodes (barcode, product_code) VALUES (?, ?)');
    this.rebuildBarcodes = db.prepare(REBUILD_BARCODES_SQL);
    this.disable = db.prepare('UPDATE products SET enabled = 0 WHERE code = ?');
    this.logInbox = db.prepare(LOG_INBOX_SQL);
    this.supersede = db.prepare(SUPERSEDE_SQL);
    this.count = db.prepare('SELECT count(*) FROM products').pluck();
  }
}

function badProduct(p: Product, line: number | undefined, why: string): CfxError {
  return new CfxError(ErrorCodes.FORMAT_INVALID, `product ${JSON.stringify(p.code)}${line !== undefined ? ` (line ${line})` : ''}: ${why}`, {
    details: { code: p.code, line, reason: why },
  });
}

/**
 * One price file being applied: records go in (one by one or a batch at a time), then `commit()`
 * makes them the catalog together with the file's inbox_log row, or `rollback()` leaves no trace.
 * Two kinds: {@link InPlaceApply} (a delta, in the catalog's own transaction) and the full
 * file's fresh catalog (catalog-build.ts: a new file, swapped in at commit).
 */
export interface PriceApply {
  /** false once committed or rolled back */
  readonly active: boolean;
  apply(rec: PriceRecord): void;
  /** the records of one decoded batch, in file order: the hot path (no promise per record) */
  applyBatch(recs: readonly PriceRecord[]): void;
  commit(info?: CommitInfo): PriceApplyResult;
  rollback(): void;
}

/** a price that is not integer minor units (or stock not thousandths) never reaches the store */
export function checkMoney(p: Product, line: number | undefined): void {
  // the store is the last line before money hits the till: a float price must never get in
  if (!Number.isSafeInteger(p.price)) throw badProduct(p, line, `price ${p.price} is not integer minor units`);
  if (p.stock !== undefined && !Number.isSafeInteger(p.stock)) throw badProduct(p, line, `stock ${p.stock} is not integer thousandths`);
}

/** values per products upsert row (PriceStatements.upsert's columns) */
export const UPSERT_COLUMNS = 14;

/** a barcode JSON.stringify writes as it is between quotes: printable ASCII but `"` and `\\` */
const PLAIN_JSON = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * JSON.stringify(barcodes), without its cost for the usual product of one plain barcode (~0.2 s of
 * the main thread's CPU per 1M rows of a full import). Equal to JSON.stringify for every input (test).
 */
export function barcodesJson(barcodes: readonly string[]): string {
  if (Array.isArray(barcodes)) {
    if (barcodes.length === 1) {
      const b: unknown = barcodes[0];
      if (typeof b === 'string' && PLAIN_JSON.test(b)) return `["${b}"]`;
    } else if (barcodes.length === 0) return '[]';
  }
  return JSON.stringify(barcodes);
}

/** writes the upsert's 14 values of `p` into `out` from `o` on (a multi-row insert fills one array) */
export function writeProductRow(p: Product, out: unknown[], o: number): void {
  out[o] = p.code;
  out[o + 1] = barcodesJson(p.barcodes);
  out[o + 2] = p.name;
  out[o + 3] = nameKey(p.name);
  out[o + 4] = p.receiptName ?? null;
  out[o + 5] = p.price;
  out[o + 6] = p.unit ?? null;
  out[o + 7] = p.weighed ? 1 : 0;
  out[o + 8] = p.groupCode ?? null;
  out[o + 9] = p.taxGroup ?? null;
  out[o + 10] = p.article ?? null;
  out[o + 11] = p.stock ?? null;
  out[o + 12] = p.enabled === false ? 0 : 1;
  out[o + 13] = p.extras === undefined ? null : JSON.stringify(p.extras);
}

/**
 * writes a short product's 5 values (code, barcodes, name, name key, price: SHORT_COLUMNS of the
 * fresh build, catalog-build-writer.ts) into `out` from `o` on: writeProductRow's columns 0-3 and 5,
 * for a product whose other columns are at their defaults (isShortProduct)
 */
export function writeShortRow(p: Product, out: unknown[], o: number): void {
  out[o] = p.code;
  out[o + 1] = barcodesJson(p.barcodes);
  out[o + 2] = p.name;
  out[o + 3] = nameKey(p.name);
  out[o + 4] = p.price;
}

/** the upsert's values of one product */
export function productRow(p: Product): unknown[] {
  const row = new Array<unknown>(UPSERT_COLUMNS);
  writeProductRow(p, row, 0);
  return row;
}

/** products' columns in the order writeProductRow fills them (the fresh build's stage table uses it too) */
export const PRODUCT_COLUMNS = 'code, barcodes, name, name_key, receipt_name, price, unit, weighed, group_code, tax_group, article, stock, enabled, extras';
export const UPSERT_SQL = `INSERT OR REPLACE INTO products (${PRODUCT_COLUMNS})
       VALUES (${Array(UPSERT_COLUMNS).fill('?').join(', ')})`;
export const LOG_INBOX_SQL = 'INSERT INTO inbox_log (name, size, mtime, sha256, applied_at, records, mode, archived, skipped, skipped_lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
// a new delivery of a name proves the previous one left the server (the office wrote over it)
export const SUPERSEDE_SQL = 'UPDATE inbox_log SET confirmed_at = ? WHERE name = ? AND confirmed_at IS NULL';

/** the inbox_log row's values of a committed file */
export function inboxRow(f: InboxFile, now: string, records: number, sk: SkippedInput | undefined): unknown[] {
  return [f.name, f.size, f.mtime?.toISOString() ?? null, f.sha256, now, records, f.mode, f.archived ?? null, sk?.count ?? 0, sk && sk.count > 0 ? JSON.stringify({ lines: sk.lines, reasons: sk.reasons }) : null];
}

/** the error of a commit that failed before anything became visible */
export function commitFailed(e: unknown, name: string): CfxError {
  return e instanceof CfxError ? e : new CfxError(ErrorCodes.STORE_IO, `applying ${name} failed at commit, nothing changed: ${(e as Error).message}`, { cause: e });
}

/**
 * A full file with no products would empty the till, and one that drops most of the catalog is
 * more often an export gone wrong than the office's intent. Refused as a format problem, so the file
 * is quarantined with the numbers and can be forced through. `removed` is asked only with the share guard on.
 */
export function checkFullFile(f: InboxFile, guard: FullFileGuard, upserts: number, before: () => number, removed: () => number): number | undefined {
  const { allowEmpty, maxRemovedShare, forced } = guard;
  if (upserts === 0 && !allowEmpty) {
    throw new FormatError(`a full file with no products would empty the catalog (${before()} products); set prices.allowEmptyFull: true if that is intended`, { file: f.name }, { code: ErrorCodes.FULL_FILE_REFUSED });
  }
  if (maxRemovedShare === undefined) return undefined;
  const n = before();
  if (n === 0) return undefined;
  const r = removed();
  if (!forced && r / n > maxRemovedShare) {
    const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
    throw new FormatError(
      `this full file would remove ${r} of ${n} products (${pct(r / n)}), more than prices.maxRemovedShare (${pct(maxRemovedShare)}); retry it with --force if that is intended`,
      { file: f.name },
      { code: ErrorCodes.FULL_FILE_REFUSED },
    );
  }
  return r;
}

/**
 * One price file applied as one catalog write transaction that stays open across the caller's
 * awaits (streamed decode). Readers use a separate connection, so they keep seeing the previous
 * catalog until commit; a crash or rollback leaves no trace, not even the inbox_log row.
 * Deltas go this way; a full file too when it does not start with its clear (see SqlitePriceImport).
 */
export class InPlaceApply implements PriceApply {
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
        checkMoney(p, rec.line);
        const row = productRow(p);
        const barcodes = row[1] as string;
        // after a clear the barcode index is rebuilt at commit; a delta keeps it up to date row by row
        // (the first barcode's index is SQLite's to keep, an expression index; the side table has the rest)
        const old = this.cleared ? undefined : (st.oldBarcodes.get(p.code) as string | undefined);
        const reindex = !this.cleared && old !== barcodes;
        if (reindex && old !== undefined) this.unindex(p.code, old);
        st.upsert.run(row);
        if (reindex) for (let i = 1; i < p.barcodes.length; i++) st.insertBarcode.run(p.barcodes[i], p.code);
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
          this.db.exec(`DROP INDEX IF EXISTS ${NAME_KEY_INDEX}; DROP INDEX IF EXISTS ${BARCODE_INDEX}`);
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

  applyBatch(recs: readonly PriceRecord[]): void {
    for (const r of recs) this.apply(r);
  }

  /** the side table's rows of a product's barcodes (all but the first) */
  private unindex(code: string, barcodesJson: string): void {
    const old = JSON.parse(barcodesJson) as string[];
    for (let i = 1; i < old.length; i++) this.st.deleteBarcode.run(old[i], code);
  }

  commit(info: CommitInfo = {}): PriceApplyResult {
    this.check();
    const f = this.file;
    let products: number;
    let removed: number | undefined;
    let inboxId: number;
    try {
      if (this.cleared) {
        removed = this.checkFullFile();
        this.db.exec(BARCODE_INDEX_SQL);
        this.st.rebuildBarcodes.run();
        this.db.exec(NAME_KEY_INDEX_SQL);
      }
      const now = new Date().toISOString();
      this.st.supersede.run(now, f.name);
      inboxId = Number(this.st.logInbox.run(inboxRow(f, now, this.upserts + this.deletes + this.disables, info.skipped)).lastInsertRowid);
      products = this.st.count.get() as number;
    } catch (e) {
      this.rollback();
      throw commitFailed(e, f.name);
    }
    try {
      this.end('COMMIT');
    } catch (e) {
      throw commitFailed(e, f.name);
    }
    return { upserts: this.upserts, deletes: this.deletes, disables: this.disables, cleared: this.cleared, products, inboxId, ...(removed !== undefined ? { removed } : {}) };
  }

  private checkFullFile(): number | undefined {
    const removed = checkFullFile(this.file, this.guard, this.upserts, () => this.before, () =>
      this.db.prepare('SELECT count(*) FROM temp.cfx_prev_codes p WHERE NOT EXISTS (SELECT 1 FROM main.products q WHERE q.code = p.code)').pluck().get() as number,
    );
    if (this.keptCodes) this.db.exec('DROP TABLE temp.cfx_prev_codes');
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
