import Database, { type Statement } from 'better-sqlite3';
import { CfxError } from '../api/errors.js';
import type { Product } from '../api/model.js';
import { LOG_INBOX_SQL, PRODUCT_COLUMNS as COLUMNS, SUPERSEDE_SQL, UPSERT_COLUMNS, UPSERT_SQL } from './price-apply.js';
import { BARCODE_INDEX, BARCODE_INDEX_SQL, CATALOG_MIGRATIONS, migrate, NAME_KEY_INDEX, NAME_KEY_INDEX_SQL, REBUILD_BARCODES_SQL, type Db } from './schema.js';

/** upserts per multi-row statement: 32 measured best on sorted codes (8: 25 % slower, 64: no better); 32 × 14 parameters is far below SQLite's limit */
const GROUP = 32;

/**
 * Out-of-order groups (of GROUP rows) after which the rest of a build goes to the stage table: a
 * file sorted by code never gets there, a file in any other order does within its first rows.
 */
const STAGE_AFTER = 4;

/** a short row's columns (SHORT_FIELDS), the others at the stage table's defaults, which are products' */
const SHORT_COLUMNS = 'code, barcodes, name, name_key, price';

/** `(?, …), …`: rows of cols parameters */
const values = (rows: number, cols: number) => Array(rows).fill(`(${Array(cols).fill('?').join(', ')})`).join(', ');

/** inbox_log's columns, named: the copy does not depend on the order a migration left them in */
const INBOX_COLUMNS = 'id, name, size, mtime, sha256, applied_at, records, mode, archived, skipped, skipped_lines, confirmed_at';

/**
 * Rows cross from the decoding thread to the build worker as ONE string per batch: a structured
 * clone of 14 values per row cost ~1.9 s of main-thread time per 1M rows, a joined string ~0.4 s.
 * Fields are separated by SEP, a null is the field NUL_FIELD; numbers go as decimal text and are
 * turned back by column (price, weighed, stock, enabled) so the stored values keep their types.
 * A batch holding a value that contains SEP or is NUL_FIELD goes as a plain array instead.
 */
export const SEP = '\u0001';
export const NUL_FIELD = '\u0002';
/** fields per row of a short batch: code, barcodes, name, name_key, price */
export const SHORT_FIELDS = 5;

/**
 * A product whose upsert row (writeProductRow) is short: code, barcodes, name, name key and price,
 * every other column at its default (null; weighed 0, enabled 1), so the row goes as SHORT_FIELDS
 * values; and whose text fields can travel in a batch string: no SEP inside, none equal to
 * NUL_FIELD. A barcodes JSON never holds either (JSON.stringify escapes control characters).
 */
export function isShortProduct(p: Product): boolean {
  const code = p.code, name = p.name;
  return (
    typeof code === 'string' && typeof name === 'string' && typeof p.price === 'number' && Array.isArray(p.barcodes) &&
    p.receiptName == null && p.unit == null && !p.weighed && p.groupCode == null && p.taxGroup == null && p.article == null &&
    p.stock == null && p.enabled !== false && p.extras === undefined &&
    code.indexOf(SEP) === -1 && name.indexOf(SEP) === -1 && code !== NUL_FIELD && name !== NUL_FIELD
  );
}

const NUMERIC = [false, false, false, false, false, true, false, true, false, false, false, true, true, false];

/** the messages of a build (to the worker, or handled in-thread) */
export type BuildMessage =
  | { t: 'open'; file: string; prev: string }
  | { t: 'rows'; n: number; short?: boolean; text?: string; vals?: unknown[] }
  | { t: 'delete' | 'disable'; code: string }
  | { t: 'clear' }
  | { t: 'count'; what: 'prev' | 'removed' }
  /** multi: a row had 2+ barcodes (else the side table of further barcodes stays empty, not even scanned for) */
  | { t: 'finish'; name: string; now: string; inboxRow: unknown[]; multi: boolean }
  | { t: 'close' };

export interface FinishResult {
  products: number;
  inboxId: number;
}

/** an error as it crosses threads: enough to rebuild a CfxError with its code and details */
export interface WireError {
  message: string;
  cfxCode?: string;
  details?: Record<string, unknown>;
  sqliteCode?: string;
}

export function toWire(e: unknown): WireError {
  if (e instanceof CfxError) return { message: e.message, cfxCode: e.code, details: e.details };
  const err = e as { message?: unknown; code?: unknown };
  return { message: String(err?.message ?? e), ...(typeof err?.code === 'string' ? { sqliteCode: err.code } : {}) };
}

export function fromWire(w: WireError): Error {
  if (w.cfxCode) return new CfxError(w.cfxCode as CfxError['code'], w.message, { details: w.details ?? {} });
  const e = new Error(w.message) as Error & { code?: string };
  if (w.sqliteCode) e.code = w.sqliteCode;
  return e;
}

/**
 * The SQLite side of a fresh catalog build (FreshCatalogBuild): the only connection to the new
 * file. It runs in the build worker, so the inserts and index builds use the second core while
 * the main thread downloads, hashes and decodes.
 */
export class BuildWriter {
  private readonly db: Db;
  private readonly upsert: Statement;
  private readonly upsertGroup: Statement;
  private readonly upsertShort: Statement;
  private readonly upsertShortGroup: Statement;
  private readonly shortArgs: unknown[] = new Array(GROUP * SHORT_FIELDS);
  private readonly shortRow: unknown[] = new Array(SHORT_FIELDS);
  private readonly args: unknown[] = new Array(GROUP * UPSERT_COLUMNS);
  private readonly row: unknown[] = new Array(UPSERT_COLUMNS);
  /** the last upserted code: are the codes coming in ascending order? */
  private lastCode = '';
  private readonly del: Statement;
  private readonly disable: Statement;
  private rows = false;
  /** groups of rows seen out of code order; past STAGE_AFTER the rows go to the stage table */
  private unordered = 0;
  /** rows in temp.stage, not yet in products (they go in sorted by code at the next flush) */
  private staged = 0;
  private stageShort?: Statement;
  private stageShortGroup?: Statement;
  private stageFull?: Statement;
  private stageFullGroup?: Statement;

  constructor(file: string, prev: string) {
    const db = new Database(file);
    try {
      // a file nobody reads until it is complete and synced needs neither journal nor syncs
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      // the sorts of the index builds at the end on 2 threads (SQLite's sorter helpers; the main
      // thread only waits then): commit 1.4 -> 1.1 s per 1M rows. The sorter sorts in runs of the
      // page cache's size: a small cache (2 MiB) gives runs the helper threads sort while the table
      // is still being read, and 8 KiB pages halve the page count; index/commit 1.01-1.04 s (4 KiB,
      // 8 MiB) -> 0.80-0.84 s per 1M rows, and peak RSS 156-171 -> 133-150 MB (bench/README.md,
      // issue 20 round 5). 16 MiB of cache had passed the 200 MB budget. The page size is the new
      // file's (set before its first write); a catalog made any other way keeps SQLite's 4 KiB.
      db.pragma('cache_size = -2048');
      db.pragma('threads = 2');
      db.pragma('page_size = 8192');
      migrate(db, file, CATALOG_MIGRATIONS);
      // built once, sorted, at the end
      db.exec(`DROP INDEX IF EXISTS ${NAME_KEY_INDEX}; DROP INDEX IF EXISTS ${BARCODE_INDEX}`);
      db.prepare('ATTACH ? AS prev').run(prev);
      db.exec('BEGIN');
      this.upsert = db.prepare(UPSERT_SQL);
      this.upsertGroup = db.prepare(`${UPSERT_SQL.slice(0, UPSERT_SQL.indexOf('VALUES'))}VALUES ${values(GROUP, UPSERT_COLUMNS)}`);
      // a short row binds its 5 values, the other columns take products' defaults (null, weighed 0,
      // enabled 1: what writeProductRow gives a product without them, see isShortProduct)
      this.upsertShort = db.prepare(`INSERT OR REPLACE INTO products (${SHORT_COLUMNS}) VALUES ${values(1, SHORT_FIELDS)}`);
      this.upsertShortGroup = db.prepare(`INSERT OR REPLACE INTO products (${SHORT_COLUMNS}) VALUES ${values(GROUP, SHORT_FIELDS)}`);
      this.del = db.prepare('DELETE FROM main.products WHERE code = ?');
      this.disable = db.prepare('UPDATE main.products SET enabled = 0 WHERE code = ?');
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
  }

  handle(m: BuildMessage): number | FinishResult | undefined {
    // a stage holds upserts not yet in products: they go in before anything that reads or changes it
    if (this.staged && m.t !== 'rows' && m.t !== 'close') {
      // a clear drops them: nothing staged before it survives it
      if (m.t === 'clear') this.dropStage();
      else this.flushStage();
    }
    switch (m.t) {
      case 'rows':
        if (this.unordered > STAGE_AFTER) this.stage(m.n, m.text !== undefined ? m.text.split(SEP) : m.vals!, m.text !== undefined, m.short === true);
        else this.upserts(m.n, m.text !== undefined ? m.text.split(SEP) : m.vals!, m.text !== undefined, m.short === true);
        return undefined;
      case 'delete':
        this.del.run(m.code);
        return undefined;
      case 'disable':
        this.disable.run(m.code);
        return undefined;
      case 'clear':
        // the leading clear of a full file finds the new file empty; a later one empties it again
        if (this.rows) this.db.exec('DELETE FROM main.products');
        this.rows = false;
        return undefined;
      case 'count':
        return this.db
          .prepare(m.what === 'prev' ? 'SELECT count(*) FROM prev.products' : 'SELECT count(*) FROM prev.products p WHERE NOT EXISTS (SELECT 1 FROM main.products q WHERE q.code = p.code)')
          .pluck()
          .get() as number;
      case 'finish':
        return this.finish(m.name, m.now, m.inboxRow, m.multi);
      case 'close':
        if (this.db.open) this.db.close();
        return undefined;
      case 'open':
        return undefined;
    }
  }

  /**
   * n rows of UPSERT_COLUMNS values. Runs in ascending code order (a file sorted by code) go in
   * GROUP rows per statement (one multi-row INSERT): the per-call cost of a statement (bind, step,
   * reset, the JS/C++ crossing) was ~0.75 s of a 1M-row file. Codes in random order (a file sorted
   * by name) measured slower that way (~+10 %), so a group that is not ascending goes row by row.
   */
  private upserts(n: number, vals: readonly unknown[], text: boolean, short: boolean): void {
    const W = short ? SHORT_FIELDS : UPSERT_COLUMNS;
    const args = short ? this.shortArgs : this.args;
    const row = short ? this.shortRow : this.row;
    const group = short ? this.upsertShortGroup : this.upsertGroup;
    const one = short ? this.upsertShort : this.upsert;
    for (let i = 0; i < n; i += GROUP) {
      const m = Math.min(GROUP, n - i);
      let ascending = m === GROUP;
      for (let k = 0; k < m; k++) {
        const base = (i + k) * W;
        const o = k * W;
        for (let c = 0; c < W; c++) args[o + c] = this.field(vals[base + c], c, text, short);
        const code = args[o] as string;
        if (code <= this.lastCode) ascending = false;
        this.lastCode = code;
      }
      if (ascending) group.run(args);
      else {
        if (m === GROUP) this.unordered++;
        for (let k = 0; k < m; k++) {
          for (let c = 0; c < W; c++) row[c] = args[k * W + c];
          one.run(row);
        }
      }
    }
    if (n) this.rows = true;
  }

  /**
   * Rows in random code order (a file sorted by name): appended to an unindexed temp table, then
   * put into products in one INSERT … SELECT … ORDER BY code (flushStage). Random-order inserts
   * into the code key kept the build worker busy ~3.9 s per 1M rows while the main thread waited;
   * appending is cheap and the sorted insert is SQLite's fastest. Duplicate codes: ordered by
   * code, then by arrival (rowid), so the last row of the file wins, as in place.
   */
  private stage(n: number, vals: readonly unknown[], text: boolean, short: boolean): void {
    if (!this.stageFull) {
      const db = this.db;
      // products' defaults, so a short row's missing columns read as they would in products
      db.exec(
        'CREATE TEMP TABLE stage (code, barcodes, name, name_key, receipt_name, price, unit, weighed DEFAULT 0, group_code, tax_group, article, stock, enabled DEFAULT 1, extras)',
      );
      this.stageShort = db.prepare(`INSERT INTO temp.stage (${SHORT_COLUMNS}) VALUES ${values(1, SHORT_FIELDS)}`);
      this.stageShortGroup = db.prepare(`INSERT INTO temp.stage (${SHORT_COLUMNS}) VALUES ${values(GROUP, SHORT_FIELDS)}`);
      this.stageFull = db.prepare(`INSERT INTO temp.stage (${COLUMNS}) VALUES ${values(1, UPSERT_COLUMNS)}`);
      this.stageFullGroup = db.prepare(`INSERT INTO temp.stage (${COLUMNS}) VALUES ${values(GROUP, UPSERT_COLUMNS)}`);
    }
    const W = short ? SHORT_FIELDS : UPSERT_COLUMNS;
    const one = short ? this.stageShort! : this.stageFull!;
    const group = short ? this.stageShortGroup! : this.stageFullGroup!;
    // the full rows' arrays have the right length already; the short ones have their own
    const args = short ? this.shortArgs : this.args;
    const row = short ? this.shortRow : this.row;
    let i = 0;
    for (; i + GROUP <= n; i += GROUP) {
      for (let k = 0; k < GROUP * W; k++) args[k] = this.field(vals[i * W + k], k % W, text, short);
      group.run(args);
    }
    for (; i < n; i++) {
      for (let c = 0; c < W; c++) row[c] = this.field(vals[i * W + c], c, text, short);
      one.run(row);
    }
    this.staged += n;
    if (n) this.rows = true;
  }

  /** a value as stored: text fields turned back into null and numbers by column */
  private field(v: unknown, c: number, text: boolean, short: boolean): unknown {
    if (short) return c === SHORT_FIELDS - 1 ? Number(v) : v;
    return text ? (v === NUL_FIELD ? null : NUMERIC[c] ? Number(v) : v) : v;
  }

  /** the staged rows into products, ascending by code, the later of two rows of a code last */
  private flushStage(): void {
    this.db.exec(`INSERT OR REPLACE INTO main.products (${COLUMNS}) SELECT ${COLUMNS} FROM temp.stage ORDER BY code, rowid`);
    this.dropStage();
  }

  private dropStage(): void {
    this.db.exec('DELETE FROM temp.stage');
    this.staged = 0;
  }

  /** indexes, the old generation's inbox log and meta, the new row; COMMIT, WAL, close */
  private finish(name: string, now: string, inboxRow: unknown[], multi: boolean): FinishResult {
    const db = this.db;
    db.exec(BARCODE_INDEX_SQL);
    // a scan of every row for the few with 2+ barcodes: only when the file had one
    if (multi) db.prepare(REBUILD_BARCODES_SQL).run();
    db.exec(NAME_KEY_INDEX_SQL);
    // the history and settings of the catalog carry over; the caller's lock keeps them still since begin
    db.exec(`INSERT INTO main.inbox_log (${INBOX_COLUMNS}) SELECT ${INBOX_COLUMNS} FROM prev.inbox_log; INSERT INTO main.meta SELECT * FROM prev.meta`);
    db.prepare(SUPERSEDE_SQL).run(now, name);
    const inboxId = Number(db.prepare(LOG_INBOX_SQL).run(inboxRow).lastInsertRowid);
    const products = db.prepare('SELECT count(*) FROM main.products').pluck().get() as number;
    db.exec('COMMIT');
    db.exec('DETACH prev');
    // readers open it in WAL like every catalog; on a file with no journal this only rewrites the header
    db.pragma('journal_mode = WAL');
    db.close();
    return { products, inboxId };
  }
}
