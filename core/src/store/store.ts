import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Statement, Transaction } from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { PriceFileMode, Product, Sale, SaleKind } from '../api/model.js';
import { PriceApply, PriceStatements, type FullFileGuard, type InboxFile } from './price-apply.js';
import { CATALOG_MIGRATIONS, JOURNAL_MIGRATIONS, nameKey, openDb, type Db } from './schema.js';

export interface StoreOptions {
  /** open existing files without migrating, e.g. `cfx status` next to a running daemon */
  readonly?: boolean;
}

export interface StorePaths {
  catalog: string;
  journal: string;
}

export interface InboxEntry {
  id: number;
  name: string;
  size: number;
  /** ISO 8601 */
  mtime?: string;
  sha256: string;
  appliedAt: string;
  records: number;
  mode: PriceFileMode;
  /** the archive copy's path (chosen at apply) */
  archived?: string;
  /** lines/commands the decoder passed over, with the first line numbers and reasons */
  skipped: number;
  skippedLines?: number[];
  skippedReasons?: string[];
  /** when the remote delete was confirmed; absent: the delivery is still open (a crash or a failed delete) */
  confirmedAt?: string;
}

export interface ListProductsOptions {
  limit?: number;
  offset?: number;
  /** prefix of the code, of a barcode or of the name */
  q?: string;
}

export type RunResult = 'ok' | 'failed' | 'partial' | 'running';

export interface RunError {
  code: string;
  message: string;
}

export interface RunRecord {
  id: number;
  job: string;
  startedAt: string;
  finishedAt?: string;
  result: RunResult;
  files: number;
  bytes: number;
  error?: RunError;
  details?: Record<string, unknown>;
}

export interface RunFinish {
  result: Exclude<RunResult, 'running'>;
  files?: number;
  bytes?: number;
  error?: RunError;
  /** replaces the details given to startRun when present */
  details?: Record<string, unknown>;
}

export type QuarantineState = 'quarantined' | 'retried' | 'deleted';

export interface NewQuarantine {
  job: string;
  fileName: string;
  localPath: string;
  remotePath?: string;
  /** why: file, line, field, message ... */
  reason: object;
}

export interface QuarantineEntry {
  id: number;
  job: string;
  fileName: string;
  localPath: string;
  remotePath?: string;
  reason: Record<string, unknown>;
  createdAt: string;
  state: QuarantineState;
}

export interface SaleRecord {
  terminalId: string;
  saleId: string;
  time: string;
  localDate: string;
  kind: SaleKind;
  total: number;
  body: string;
  sha256: string;
  recordedAt: string;
}

export interface OutboxEntry {
  terminalId: string;
  saleId: string;
  dest: string;
  attempts: number;
  lastError?: string;
  localDate: string;
  /** the journaled body, ready to encode */
  body: string;
}

/** One sale to store in the office inbox: the decoded sale, its local date and canonical body. */
export interface CollectInput {
  sale: Sale;
  /** the till's local date of the sale, YYYY-MM-DD */
  localDate: string;
  /** canonical serialisation; its sha256 tells a repeat (resend) from a different sale reusing the id */
  body: string;
}

/** The sale file the sales came in (logged in `collected_files` in the same transaction). */
export interface CollectedFile {
  name: string;
  size: number;
  sha256: string;
}

export interface CollectOutcome {
  stored: number;
  duplicates: number;
  /** `terminal/saleId` of every sale stored now */
  storedKeys: string[];
  duplicateKeys: string[];
}

export interface CollectedSale {
  id: number;
  terminalId: string;
  saleId: string;
  time: string;
  localDate: string;
  kind: SaleKind;
  total: number;
  body: string;
  sha256: string;
  fileName: string;
  receivedAt: string;
  /** batch of its first delivery; absent: not handed to the back office yet */
  batchId?: string;
  /** when that batch was confirmed delivered */
  deliveredAt?: string;
}

export interface ListCollectedOptions {
  /** local dates, inclusive */
  from?: string;
  to?: string;
  /** only sales not yet delivered (waiting for a batch, or in a batch not confirmed yet) */
  pending?: boolean;
  limit?: number;
}

export type BatchState = 'assigned' | 'delivered';

export interface DeliveryBatch {
  id: string;
  seq: number;
  terminalId: string;
  backoffice: string;
  /** new: first delivery of collected sales; redeliver: an explicit re-delivery of a period */
  kind: 'new' | 'redeliver';
  state: BatchState;
  sales: number;
  fromDate?: string;
  toDate?: string;
  createdAt: string;
  deliveredAt?: string;
  attempts: number;
  lastError?: string;
}

type Row = Record<string, unknown>;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** sorts after every string with the same prefix (highest code point, UTF-8 F4 8F BF BF) */
const MAX_CHAR = '\u{10FFFF}';

const PRODUCT_SELECT = 'SELECT p.* FROM products p';
/** kv keys of the heartbeats: `contact.prices.pull` … */
const CONTACT_KEY = 'contact.';

/**
 * The three range reads of a catalog search (exported for the query-plan test): each must be a
 * SEARCH on an index in its own order, never a SCAN and never a sort of the matches. The name read
 * is ordered by name_key, then rowid, which is the index's own order (an index entry ends with the rowid).
 */
export const CATALOG_SEARCH_SQL = {
  code: `${PRODUCT_SELECT} WHERE p.code >= ? AND p.code < ? ORDER BY p.code`,
  barcode: 'SELECT p.* FROM barcodes b JOIN products p ON p.code = b.product_code WHERE b.barcode >= ? AND b.barcode < ? ORDER BY b.barcode, b.product_code',
  name: `${PRODUCT_SELECT} WHERE p.name_key >= ? AND p.name_key < ? ORDER BY p.name_key, p.rowid`,
} as const;

const now = (): string => new Date().toISOString();

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

const toInbox = (r: Row): InboxEntry => ({
  id: r.id as number,
  name: r.name as string,
  size: r.size as number,
  ...(r.mtime !== null ? { mtime: r.mtime as string } : {}),
  sha256: r.sha256 as string,
  appliedAt: r.applied_at as string,
  records: r.records as number,
  mode: r.mode as PriceFileMode,
  ...(r.archived !== null ? { archived: r.archived as string } : {}),
  skipped: r.skipped as number,
  ...(r.skipped_lines !== null ? (({ lines, reasons }: { lines: number[]; reasons: string[] }) => ({ skippedLines: lines, skippedReasons: reasons }))(JSON.parse(r.skipped_lines as string)) : {}),
  ...(r.confirmed_at !== null ? { confirmedAt: r.confirmed_at as string } : {}),
});

const toRun = (r: Row): RunRecord => ({
  id: r.id as number,
  job: r.job as string,
  startedAt: r.started_at as string,
  ...(r.finished_at !== null ? { finishedAt: r.finished_at as string } : {}),
  result: r.result as RunResult,
  files: r.files as number,
  bytes: r.bytes as number,
  ...(r.error_code !== null ? { error: { code: r.error_code as string, message: (r.error_message ?? '') as string } } : {}),
  ...(r.details !== null ? { details: JSON.parse(r.details as string) as Record<string, unknown> } : {}),
});

const toQuarantine = (r: Row): QuarantineEntry => ({
  id: r.id as number,
  job: r.job as string,
  fileName: r.file_name as string,
  localPath: r.local_path as string,
  ...(r.remote_path !== null ? { remotePath: r.remote_path as string } : {}),
  reason: JSON.parse(r.reason as string) as Record<string, unknown>,
  createdAt: r.created_at as string,
  state: r.state as QuarantineState,
});

/** the columns a journaled sale (sales) and a collected one (collected) share */
const saleColumns = (r: Row) => ({
  terminalId: r.terminal_id as string,
  saleId: r.sale_id as string,
  time: r.time as string,
  localDate: r.local_date as string,
  kind: r.kind as SaleKind,
  total: r.total as number,
  body: r.body as string,
  sha256: r.sha256 as string,
});

const toSale = (r: Row): SaleRecord => ({ ...saleColumns(r), recordedAt: r.recorded_at as string });

const toCollected = (r: Row): CollectedSale => ({
  id: r.id as number,
  ...saleColumns(r),
  fileName: r.file_name as string,
  receivedAt: r.received_at as string,
  ...(r.batch_id !== null ? { batchId: r.batch_id as string } : {}),
  ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at as string } : {}),
});

const toBatch = (r: Row): DeliveryBatch => ({
  id: r.id as string,
  seq: r.seq as number,
  terminalId: r.terminal_id as string,
  backoffice: r.backoffice as string,
  kind: r.kind as 'new' | 'redeliver',
  state: r.state as BatchState,
  sales: r.sales as number,
  ...(r.from_date !== null ? { fromDate: r.from_date as string } : {}),
  ...(r.to_date !== null ? { toDate: r.to_date as string } : {}),
  createdAt: r.created_at as string,
  ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at as string } : {}),
  attempts: r.attempts as number,
  ...(r.last_error !== null ? { lastError: r.last_error as string } : {}),
});

/** `20250315T101500Z-000042`: sorts by creation, unique per store, safe in a file name */
function batchIdOf(seq: number, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${String(seq).padStart(6, '0')}`;
}

const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

function checkDate(d: string, what: string): void {
  if (!DATE.test(d)) throw new CfxError(ErrorCodes.SALE_INVALID, `${what} must be a local date YYYY-MM-DD, got ${JSON.stringify(d)}`, { details: { field: what } });
}

/**
 * The local SQLite store: two files so that a long price import (one write transaction on
 * catalog.db, held across awaits) never delays journaling a sale (short transactions on journal.db).
 * Catalog reads go through their own connection and so see the last committed catalog, never a
 * half-applied one.
 */
export class Store {
  private readonly journalStmts = new Map<string, Statement>();
  private readonly catalogStmts = new Map<string, Statement>();
  private readonly priceStatements: PriceStatements | undefined;
  private current: PriceApply | undefined;
  private closed = false;
  private readonly recordTx: Transaction<(sale: Sale, localDate: string, body: string, sha: string) => 'recorded' | 'duplicate'> | undefined;

  private constructor(
    readonly dir: string,
    readonly readonly: boolean,
    /** undefined when read-only */
    private readonly catalogWriter: Db | undefined,
    private readonly catalogReader: Db,
    private readonly journal: Db,
  ) {
    if (catalogWriter) this.priceStatements = new PriceStatements(catalogWriter);
    if (!readonly) {
      // IMMEDIATE: take the write lock before the duplicate check, so two writers cannot both insert
      const tx = journal.transaction((sale: Sale, localDate: string, body: string, sha: string): 'recorded' | 'duplicate' => {
        const prev = this.j('SELECT sha256 FROM sales WHERE terminal_id = ? AND sale_id = ?').pluck().get(sale.terminalId, sale.saleId) as string | undefined;
        if (prev === sha) return 'duplicate';
        if (prev !== undefined) {
          throw new CfxError(
            ErrorCodes.SALE_CONFLICT,
            `sale ${sale.saleId} of terminal ${sale.terminalId} was already recorded with different content (sha256 ${prev}, now ${sha})`,
            { details: { saleId: sale.saleId, terminalId: sale.terminalId, recorded: prev, received: sha } },
          );
        }
        this.j('INSERT INTO sales (terminal_id, sale_id, time, local_date, kind, total, body, sha256, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
          sale.terminalId, sale.saleId, sale.time, localDate, sale.kind, sale.total, body, sha, now(),
        );
        this.j("INSERT INTO outbox (terminal_id, sale_id, dest) VALUES (?, ?, 'server')").run(sale.terminalId, sale.saleId);
        return 'recorded';
      });
      this.recordTx = tx.immediate as typeof tx;
    }
  }

  static open(dataDir: string, opts: StoreOptions = {}): Store {
    const dir = resolve(dataDir);
    const readonly = opts.readonly === true;
    if (!readonly) mkdirSync(dir, { recursive: true });
    const opened: Db[] = [];
    try {
      const writer = readonly ? undefined : openDb(join(dir, 'catalog.db'), CATALOG_MIGRATIONS, false);
      if (writer) {
        opened.push(writer);
        // the import's index pages stay in memory; 16 MiB measured as fast as 64 (bench/) at ~75 MB less peak RSS
        writer.pragma('cache_size = -16384');
        // a 1M-row import grows the WAL to hundreds of MB; give the disk back after the checkpoint
        writer.pragma('journal_size_limit = 67108864');
      }
      const reader = openDb(join(dir, 'catalog.db'), CATALOG_MIGRATIONS, true);
      opened.push(reader);
      const journal = openDb(join(dir, 'journal.db'), JOURNAL_MIGRATIONS, readonly);
      opened.push(journal);
      return new Store(dir, readonly, writer, reader, journal);
    } catch (e) {
      for (const db of opened) db.close();
      throw e;
    }
  }

  get paths(): StorePaths {
    return { catalog: join(this.dir, 'catalog.db'), journal: join(this.dir, 'journal.db') };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.rollback();
    this.catalogWriter?.close();
    this.catalogReader.close();
    this.journal.close();
  }

  // ---- price import

  beginPriceApply(file: InboxFile, guard?: FullFileGuard): PriceApply {
    this.writable();
    const db = this.catalogWriter!;
    if (this.current) throw new CfxError(ErrorCodes.INTERNAL, `cannot apply ${file.name}: the apply of another price file is still open`);
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      throw new CfxError(ErrorCodes.STORE_IO, `cannot start applying ${file.name}: ${(e as Error).message} (is another cfx writing ${this.paths.catalog}?)`, { cause: e });
    }
    this.current = new PriceApply(
      db,
      this.priceStatements!,
      file,
      () => {
        this.current = undefined;
      },
      guard,
    );
    return this.current;
  }

  /*
   * The inbox log as an idempotent repository (Camel's add / contains / confirm): a row is added by
   * the apply's commit, and stays open until the remote delete is confirmed. Only an open row makes a
   * delivery "already applied"; a confirmed one is history, so the same name and bytes arriving later
   * are a new delivery and are applied again.
   */

  /** the open delivery of this name and content, if a crash or failed delete left one */
  inboxOpen(name: string, sha256: string): InboxEntry | undefined {
    const r = this.c('SELECT * FROM inbox_log WHERE name = ? AND sha256 = ? AND confirmed_at IS NULL ORDER BY id DESC LIMIT 1').get(name, sha256) as Row | undefined;
    return r && toInbox(r);
  }

  /** deliveries whose remote delete is not confirmed yet */
  inboxOpenAll(): InboxEntry[] {
    return (this.c('SELECT * FROM inbox_log WHERE confirmed_at IS NULL ORDER BY id').all() as Row[]).map(toInbox);
  }

  /** the remote file is gone: the delivery is over */
  inboxConfirm(id: number): void {
    this.writable();
    this.catalogWriter!.prepare('UPDATE inbox_log SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL').run(new Date().toISOString(), id);
  }

  lastInbox(): InboxEntry | undefined {
    const r = this.c('SELECT * FROM inbox_log ORDER BY id DESC LIMIT 1').get() as Row | undefined;
    return r && toInbox(r);
  }

  /** the latest deliveries, newest first (status, admin page) */
  recentInbox(limit = 10): InboxEntry[] {
    return (this.c('SELECT * FROM inbox_log ORDER BY id DESC LIMIT ?').all(limit) as Row[]).map(toInbox);
  }

  // ---- catalog reads (last committed catalog)

  catalogCount(): number {
    return this.c('SELECT count(*) FROM products').pluck().get() as number;
  }

  getProduct(code: string): Product | undefined {
    const r = this.c(`${PRODUCT_SELECT} WHERE p.code = ?`).get(code) as Row | undefined;
    return r && toProduct(r);
  }

  /** A barcode shared by several products (it happens in back-office data) yields the enabled one, then the lowest code. */
  findByBarcode(barcode: string): Product | undefined {
    const r = this.c(`${PRODUCT_SELECT} WHERE p.code IN (SELECT product_code FROM barcodes WHERE barcode = ?) ORDER BY p.enabled DESC, p.code LIMIT 1`).get(barcode) as Row | undefined;
    return r && toProduct(r);
  }

  /**
   * A page of the catalog: by code without `q`; with `q`, the products whose code starts with it
   * (by code), then those with a barcode starting with it (by barcode), then those whose name
   * starts with it in any case (by name): three index range reads, each product listed once, at
   * its first place, so offset pages neither repeat nor skip. A page costs offset + limit rows.
   */
  listProducts(opts: ListProductsOptions = {}): Product[] {
    const limit = opts.limit ?? 50;
    const offset = opts.offset ?? 0;
    const q = opts.q ?? '';
    if (q === '') return (this.c(`${PRODUCT_SELECT} ORDER BY p.code LIMIT ? OFFSET ?`).all(limit, offset) as Row[]).map(toProduct);
    const key = nameKey(q);
    // one iterator at a time: a better-sqlite3 connection runs one statement while iterating
    const sources: (() => IterableIterator<unknown>)[] = [
      () => this.c(CATALOG_SEARCH_SQL.code).iterate(q, q + MAX_CHAR),
      () => this.c(CATALOG_SEARCH_SQL.barcode).iterate(q, q + MAX_CHAR),
      () => this.c(CATALOG_SEARCH_SQL.name).iterate(key, key + MAX_CHAR),
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

  // ---- runs

  startRun(job: string, details?: Record<string, unknown>): number {
    this.writable();
    const info = this.j('INSERT INTO runs (job, started_at, details) VALUES (?, ?, ?)').run(job, now(), details === undefined ? null : JSON.stringify(details));
    return Number(info.lastInsertRowid);
  }

  finishRun(id: number, f: RunFinish): void {
    this.writable();
    this.j(
      `UPDATE runs SET finished_at = ?, result = ?, files = coalesce(?, files), bytes = coalesce(?, bytes),
         error_code = ?, error_message = ?, details = coalesce(?, details) WHERE id = ?`,
    ).run(now(), f.result, f.files ?? null, f.bytes ?? null, f.error?.code ?? null, f.error?.message ?? null, f.details === undefined ? null : JSON.stringify(f.details), id);
  }

  /**
   * startRun + finishRun of a run that is already over, in ONE statement (one journal sync instead
   * of two). `times.startedAt` is when the run began (default: now, a run of no duration), so the
   * exchange log and the duration histogram show how long it took.
   */
  addFinishedRun(job: string, f: RunFinish, times: { startedAt?: Date; finishedAt?: Date } = {}): number {
    this.writable();
    const finished = times.finishedAt?.toISOString() ?? now();
    const started = times.startedAt?.toISOString() ?? finished;
    const info = this.j(
      `INSERT INTO runs (job, started_at, finished_at, result, files, bytes, error_code, error_message, details)
       VALUES (?, ?, ?, ?, coalesce(?, 0), coalesce(?, 0), ?, ?, ?)`,
    ).run(job, started, finished, f.result, f.files ?? null, f.bytes ?? null, f.error?.code ?? null, f.error?.message ?? null, f.details === undefined ? null : JSON.stringify(f.details));
    return Number(info.lastInsertRowid);
  }

  /**
   * A heartbeat: `job` talked to the server successfully at `at`. Kept in kv, committed without a
   * sync of its own (like markSentMany): a heartbeat lost to a power cut is only an older one shown.
   */
  recordContact(job: string, at: Date): void {
    this.writable();
    const sync = this.journal.pragma('synchronous', { simple: true }) as number;
    this.journal.pragma('synchronous = NORMAL');
    try {
      this.kvSet(`${CONTACT_KEY}${job}`, at.toISOString());
    } finally {
      this.journal.pragma(`synchronous = ${sync}`);
    }
  }

  /** the last heartbeat of each job that has one: job → ISO time */
  lastContacts(): Record<string, string> {
    const rows = this.j('SELECT key, value FROM kv WHERE key > ? AND key < ? ORDER BY key').raw().all(CONTACT_KEY, CONTACT_KEY + MAX_CHAR) as [string, string][];
    return Object.fromEntries(rows.map(([k, v]) => [k.slice(CONTACT_KEY.length), v]));
  }

  /** newest first */
  listRuns(opts: { limit?: number; job?: string } = {}): RunRecord[] {
    const limit = opts.limit ?? 50;
    const rows = opts.job === undefined
      ? this.j('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit)
      : this.j('SELECT * FROM runs WHERE job = ? ORDER BY id DESC LIMIT ?').all(opts.job, limit);
    return (rows as Row[]).map(toRun);
  }

  getRun(id: number): RunRecord | undefined {
    const r = this.j('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return r && toRun(r);
  }

  /** replaces the details of a run still running (progress of a long run); false when it is finished or unknown */
  updateRunDetails(id: number, details: Record<string, unknown>): boolean {
    this.writable();
    return this.j("UPDATE runs SET details = ? WHERE id = ? AND result = 'running'").run(JSON.stringify(details), id).changes > 0;
  }

  lastRun(job: string, result?: RunResult): RunRecord | undefined {
    const r = (result === undefined
      ? this.j('SELECT * FROM runs WHERE job = ? ORDER BY id DESC LIMIT 1').get(job)
      : this.j('SELECT * FROM runs WHERE job = ? AND result = ? ORDER BY id DESC LIMIT 1').get(job, result)) as Row | undefined;
    return r && toRun(r);
  }

  // ---- quarantine

  addQuarantine(q: NewQuarantine): number {
    this.writable();
    const info = this.j('INSERT INTO quarantine (job, file_name, local_path, remote_path, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      q.job, q.fileName, q.localPath, q.remotePath ?? null, JSON.stringify(q.reason), now(),
    );
    return Number(info.lastInsertRowid);
  }

  /** newest first */
  listQuarantine(opts: { state?: QuarantineState } = {}): QuarantineEntry[] {
    const rows = opts.state === undefined
      ? this.j('SELECT * FROM quarantine ORDER BY id DESC').all()
      : this.j('SELECT * FROM quarantine WHERE state = ? ORDER BY id DESC').all(opts.state);
    return (rows as Row[]).map(toQuarantine);
  }

  /** false when there is no such entry */
  setQuarantineState(id: number, state: QuarantineState): boolean {
    this.writable();
    return this.j('UPDATE quarantine SET state = ? WHERE id = ?').run(state, id).changes > 0;
  }

  // ---- sales journal

  /**
   * Journals the sale and queues it for the server in one transaction; durable (WAL, synchronous=FULL)
   * when this returns. `body` is the sale's canonical serialisation; its sha256 tells a harmless
   * repeat from a different sale reusing the id.
   */
  recordSale(sale: Sale, localDate: string, body: string): 'recorded' | 'duplicate' {
    this.writable();
    checkDate(localDate, 'localDate');
    if (typeof sale.saleId !== 'string' || sale.saleId === '' || typeof sale.terminalId !== 'string' || sale.terminalId === '') {
      throw new CfxError(ErrorCodes.SALE_INVALID, 'a sale needs a non-empty saleId and terminalId', { details: { saleId: sale.saleId, terminalId: sale.terminalId } });
    }
    if (!Number.isSafeInteger(sale.total)) {
      throw new CfxError(ErrorCodes.SALE_INVALID, `sale ${sale.saleId}: total ${sale.total} is not integer minor units`, { details: { saleId: sale.saleId, field: 'total' } });
    }
    try {
      return this.recordTx!(sale, localDate, body, createHash('sha256').update(body).digest('hex'));
    } catch (e) {
      if (e instanceof CfxError) throw e;
      // the till must hear "not recorded" with a code it can match, e.g. on a full disk
      throw new CfxError(ErrorCodes.STORE_IO, `sale ${sale.saleId} of terminal ${sale.terminalId} was not recorded: ${(e as Error).message}`, {
        cause: e,
        details: { saleId: sale.saleId, terminalId: sale.terminalId },
      });
    }
  }

  /** oldest first */
  pendingOutbox(limit = 100): OutboxEntry[] {
    const rows = this.j(
      `SELECT o.terminal_id, o.sale_id, o.dest, o.attempts, o.last_error, s.local_date, s.body
       FROM outbox o JOIN sales s USING (terminal_id, sale_id) WHERE o.state = 'pending' ORDER BY o.id LIMIT ?`,
    ).all(limit) as Row[];
    return rows.map((r) => ({
      terminalId: r.terminal_id as string,
      saleId: r.sale_id as string,
      dest: r.dest as string,
      attempts: r.attempts as number,
      ...(r.last_error !== null ? { lastError: r.last_error as string } : {}),
      localDate: r.local_date as string,
      body: r.body as string,
    }));
  }

  markSent(saleId: string, terminalId: string, dest: string, remoteName: string): boolean {
    this.writable();
    return (
      this.j(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, remote_name = ?, last_error = NULL WHERE terminal_id = ? AND sale_id = ? AND dest = ?",
      ).run(now(), remoteName, terminalId, saleId, dest).changes > 0
    );
  }

  /**
   * markSent for a batch of uploads in ONE transaction, committed without a sync of its own
   * (synchronous=NORMAL for this transaction only; journal.db is synchronous=FULL). A mark lost to
   * a crash or power cut only means the sale is uploaded again under the same name (idempotent:
   * rename replaces). The sales themselves were made durable by recordSale, and the next FULL
   * commit syncs the WAL up to it, these marks included. Returns how many rows changed.
   */
  markSentMany(marks: readonly { saleId: string; terminalId: string; dest: string; remoteName: string }[]): number {
    this.writable();
    if (marks.length === 0) return 0;
    const st = this.j(
      "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, remote_name = ?, last_error = NULL WHERE terminal_id = ? AND sale_id = ? AND dest = ?",
    );
    const at = now();
    let changed = 0;
    const sync = this.journal.pragma('synchronous', { simple: true }) as number;
    this.journal.pragma('synchronous = NORMAL');
    try {
      this.journal.transaction(() => {
        for (const m of marks) changed += st.run(at, m.remoteName, m.terminalId, m.saleId, m.dest).changes;
      })();
    } finally {
      this.journal.pragma(`synchronous = ${sync}`);
    }
    return changed;
  }

  markFailed(saleId: string, terminalId: string, dest: string, error: string): boolean {
    this.writable();
    return this.j('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE terminal_id = ? AND sale_id = ? AND dest = ?').run(error, terminalId, saleId, dest).changes > 0;
  }

  /** sales whose local date is within [fromDate, toDate], both inclusive, in journal order per day */
  salesBetween(fromDate: string, toDate: string): SaleRecord[] {
    checkDate(fromDate, 'fromDate');
    checkDate(toDate, 'toDate');
    return (this.j('SELECT * FROM sales WHERE local_date BETWEEN ? AND ? ORDER BY local_date, rowid').all(fromDate, toDate) as Row[]).map(toSale);
  }

  countPending(): number {
    return this.j("SELECT count(*) FROM outbox WHERE state = 'pending'").pluck().get() as number;
  }

  // ---- office inbox (sales collect) and delivery to the back office

  /**
   * Stores the sales of one collected file in ONE transaction with its `collected_files` row.
   * A sale already collected with the same body is a duplicate (a resend) and is not stored again;
   * the same (terminal, saleId) with a different body throws SALE_CONFLICT and nothing of the file
   * is stored: accounting data is never overwritten silently.
   */
  collectSales(file: CollectedFile, sales: CollectInput[]): CollectOutcome {
    this.writable();
    for (const c of sales) checkDate(c.localDate, 'localDate');
    const run = this.journal.transaction((): CollectOutcome => {
      const out: CollectOutcome = { stored: 0, duplicates: 0, storedKeys: [], duplicateKeys: [] };
      const at = now();
      for (const { sale, localDate, body } of sales) {
        const sha = sha256Hex(body);
        const key = `${sale.terminalId}/${sale.saleId}`;
        const prev = this.j('SELECT sha256, file_name FROM collected WHERE terminal_id = ? AND sale_id = ?').get(sale.terminalId, sale.saleId) as Row | undefined;
        if (prev && prev.sha256 === sha) {
          out.duplicates++;
          out.duplicateKeys.push(key);
          continue;
        }
        if (prev) {
          throw new CfxError(
            ErrorCodes.SALE_CONFLICT,
            `sale ${sale.saleId} of terminal ${sale.terminalId} was already collected (from ${prev.file_name as string}) with different content ` +
              `(sha256 ${prev.sha256 as string}, now ${sha}); the collected sale is kept, this file is not taken`,
            { details: { terminalId: sale.terminalId, saleId: sale.saleId, field: 'saleId', collectedFrom: prev.file_name, collected: prev.sha256, received: sha } },
          );
        }
        this.j(
          'INSERT INTO collected (terminal_id, sale_id, time, local_date, kind, total, body, sha256, file_name, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(sale.terminalId, sale.saleId, sale.time, localDate, sale.kind, sale.total, body, sha, file.name, at);
        out.stored++;
        out.storedKeys.push(key);
      }
      this.j('INSERT INTO collected_files (name, size, sha256, sales, stored, duplicates, collected_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        file.name, file.size, file.sha256, sales.length, out.stored, out.duplicates, at,
      );
      return out;
    });
    return run.immediate();
  }

  getCollected(terminalId: string, saleId: string): CollectedSale | undefined {
    const r = this.j('SELECT * FROM collected WHERE terminal_id = ? AND sale_id = ?').get(terminalId, saleId) as Row | undefined;
    return r && toCollected(r);
  }

  /** collected sales by local date, then time, then terminal and saleId */
  listCollected(opts: ListCollectedOptions = {}): CollectedSale[] {
    if (opts.from !== undefined) checkDate(opts.from, 'from');
    if (opts.to !== undefined) checkDate(opts.to, 'to');
    const rows = this.j(
      `SELECT * FROM collected
       WHERE local_date >= @from AND local_date <= @to AND (@pending = 0 OR delivered_at IS NULL)
       ORDER BY local_date, time, terminal_id, sale_id LIMIT @limit`,
    ).all({ from: opts.from ?? '0000-00-00', to: opts.to ?? '9999-99-99', pending: opts.pending ? 1 : 0, limit: opts.limit ?? -1 }) as Row[];
    return rows.map(toCollected);
  }

  /** counts for status: collected, not yet delivered, batches waiting to be (re)delivered */
  collectedCounts(): { collected: number; undelivered: number; assignedBatches: number } {
    return {
      collected: this.j('SELECT count(*) FROM collected').pluck().get() as number,
      undelivered: this.j('SELECT count(*) FROM collected WHERE delivered_at IS NULL').pluck().get() as number,
      assignedBatches: this.j("SELECT count(*) FROM delivery_batches WHERE state = 'assigned'").pluck().get() as number,
    };
  }

  /**
   * In one transaction: a new batch per terminal (several when a terminal has more than
   * `maxSales` waiting) with every collected sale not yet assigned to a batch. Returns them in order.
   */
  createDeliveryBatches(backoffice: string, opts: { maxSales?: number; /** terminals that get no new batch now (an earlier one still waits) */ exceptTerminals?: Iterable<string> } = {}): DeliveryBatch[] {
    this.writable();
    const max = opts.maxSales ?? 5000;
    const except = new Set(opts.exceptTerminals ?? []);
    const run = this.journal.transaction((): DeliveryBatch[] => {
      const created: DeliveryBatch[] = [];
      const terminals = this.j('SELECT DISTINCT terminal_id FROM collected WHERE batch_id IS NULL ORDER BY terminal_id').pluck().all() as string[];
      for (const terminal of terminals) {
        if (except.has(terminal)) continue;
        for (;;) {
          const ids = this.j('SELECT id FROM collected WHERE terminal_id = ? AND batch_id IS NULL ORDER BY local_date, time, sale_id LIMIT ?').pluck().all(terminal, max) as number[];
          if (ids.length === 0) break;
          const batch = this.insertBatch(terminal, backoffice, 'new', ids);
          for (const id of ids) this.j('UPDATE collected SET batch_id = ? WHERE id = ?').run(batch.id, id);
          created.push(batch);
          if (ids.length < max) break;
        }
      }
      return created;
    });
    return run.immediate();
  }

  /**
   * An explicit re-delivery (`cfx collect --redeliver`): in one transaction, a new batch per terminal
   * with every collected sale of the local dates [from, to] that was already delivered.
   */
  createRedeliveryBatches(backoffice: string, from: string, to: string): DeliveryBatch[] {
    this.writable();
    checkDate(from, 'from');
    checkDate(to, 'to');
    const run = this.journal.transaction((): DeliveryBatch[] => {
      const created: DeliveryBatch[] = [];
      const rows = this.j(
        `SELECT c.id, c.terminal_id FROM collected c JOIN delivery_batches b ON b.id = c.batch_id
         WHERE b.state = 'delivered' AND c.local_date BETWEEN ? AND ? ORDER BY c.terminal_id, c.local_date, c.time, c.sale_id`,
      ).all(from, to) as Row[];
      const byTerminal = new Map<string, number[]>();
      for (const r of rows) {
        const t = r.terminal_id as string;
        if (!byTerminal.has(t)) byTerminal.set(t, []);
        byTerminal.get(t)!.push(r.id as number);
      }
      for (const [terminal, ids] of byTerminal) created.push(this.insertBatch(terminal, backoffice, 'redeliver', ids, from, to));
      return created;
    });
    return run.immediate();
  }

  private insertBatch(terminal: string, backoffice: string, kind: 'new' | 'redeliver', ids: number[], from?: string, to?: string): DeliveryBatch {
    const seq = ((this.j('SELECT max(seq) FROM delivery_batches').pluck().get() as number | null) ?? 0) + 1;
    const at = new Date();
    const id = batchIdOf(seq, at);
    this.j('INSERT INTO delivery_batches (id, seq, terminal_id, backoffice, kind, sales, from_date, to_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      id, seq, terminal, backoffice, kind, ids.length, from ?? null, to ?? null, at.toISOString(),
    );
    for (const cid of ids) this.j('INSERT INTO delivery_items (batch_id, collected_id) VALUES (?, ?)').run(id, cid);
    return toBatch(this.j('SELECT * FROM delivery_batches WHERE id = ?').get(id) as Row);
  }

  /** batches created but not confirmed delivered (a crash or a failed call): oldest first */
  assignedBatches(): DeliveryBatch[] {
    return (this.j("SELECT * FROM delivery_batches WHERE state = 'assigned' ORDER BY seq").all() as Row[]).map(toBatch);
  }

  getBatch(id: string): DeliveryBatch | undefined {
    const r = this.j('SELECT * FROM delivery_batches WHERE id = ?').get(id) as Row | undefined;
    return r && toBatch(r);
  }

  /** newest first */
  listBatches(opts: { limit?: number } = {}): DeliveryBatch[] {
    return (this.j('SELECT * FROM delivery_batches ORDER BY seq DESC LIMIT ?').all(opts.limit ?? 50) as Row[]).map(toBatch);
  }

  /** the sales of a batch, always the same ones in the same order */
  batchSales(batchId: string): CollectedSale[] {
    return (this.j(
      `SELECT c.* FROM delivery_items i JOIN collected c ON c.id = i.collected_id WHERE i.batch_id = ?
       ORDER BY c.local_date, c.time, c.sale_id`,
    ).all(batchId) as Row[]).map(toCollected);
  }

  /** the back office has the batch: its sales count as delivered (first delivery) */
  markBatchDelivered(batchId: string): boolean {
    this.writable();
    const run = this.journal.transaction((): boolean => {
      const at = now();
      const changed = this.j("UPDATE delivery_batches SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND state = 'assigned'").run(at, batchId).changes > 0;
      if (changed) this.j('UPDATE collected SET delivered_at = ? WHERE batch_id = ? AND delivered_at IS NULL').run(at, batchId);
      return changed;
    });
    return run.immediate();
  }

  markBatchFailed(batchId: string, error: string): boolean {
    this.writable();
    return this.j("UPDATE delivery_batches SET attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'assigned'").run(error, batchId).changes > 0;
  }

  // ---- small state

  kvGet(key: string): string | undefined {
    return this.j('SELECT value FROM kv WHERE key = ?').pluck().get(key) as string | undefined;
  }

  kvSet(key: string, value: string): void {
    this.writable();
    this.j('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** removes a key, or with `prefix` every key starting with it; how many were removed */
  kvDelete(key: string, opts: { prefix?: boolean } = {}): number {
    this.writable();
    const st = opts.prefix ? this.j('DELETE FROM kv WHERE key >= ? AND key < ?').run(key, key + MAX_CHAR) : this.j('DELETE FROM kv WHERE key = ?').run(key);
    return st.changes;
  }

  // ---- internals

  /** journal.db statement, prepared on first use */
  private j(sql: string): Statement {
    return this.prepared(this.journal, this.journalStmts, sql);
  }

  /** catalog reader statement, prepared on first use */
  private c(sql: string): Statement {
    return this.prepared(this.catalogReader, this.catalogStmts, sql);
  }

  private prepared(db: Db, cache: Map<string, Statement>, sql: string): Statement {
    if (this.closed) throw new CfxError(ErrorCodes.INTERNAL, `store ${this.dir} is closed`);
    let st = cache.get(sql);
    if (!st) cache.set(sql, (st = db.prepare(sql)));
    return st;
  }

  private writable(): void {
    if (this.closed) throw new CfxError(ErrorCodes.INTERNAL, `store ${this.dir} is closed`);
    if (this.readonly) throw new CfxError(ErrorCodes.USAGE, `store ${this.dir} is open read-only`);
  }
}
