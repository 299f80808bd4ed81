import type { PriceFileMode, Product, Sale, SaleKind } from '../api/model.js';
import type { FullFileGuard, InboxFile, PriceApply } from './price-apply.js';

/*
 * The store's repositories as interfaces: what a job, the CLI or the admin API needs of the store,
 * one small surface each, so that a DI ref (core/src/api/services.ts) can name one and a test can
 * stand in for it. They live here and not in core/src/api because no plugin needs them (plugin jobs
 * get narrow deps); the SQLite implementations are the classes beside this file, and `Store`
 * exposes one of each.
 */

// ---- catalog.db: the catalog, its import, the inbox log

export interface ListProductsOptions {
  limit?: number;
  offset?: number;
  /** prefix of the code, of a barcode or of the name */
  q?: string;
}

/** The last committed catalog (reads only: a till never sees a half-applied import). */
export interface Catalog {
  count(): number;
  get(code: string): Product | undefined;
  /** A barcode shared by several products (it happens in back-office data) yields the enabled one, then the lowest code. */
  findByBarcode(barcode: string): Product | undefined;
  /** a page by code; with `q`, code prefix matches, then barcode prefix, then name prefix in any case */
  list(opts?: ListProductsOptions): Product[];
}

/** Applying price files: one open write transaction at a time. */
export interface BeginOptions {
  /**
   * A full file that starts with its clear: build it into a fresh catalog file and swap that in at
   * commit (no journal while building, indexes once at the end), instead of rewriting the catalog
   * in place. Readers see the old catalog or the new one, never a mix.
   */
  fresh?: boolean;
}

export interface PriceImport {
  /** begins the catalog write of one file (holding its write lock); its commit also adds the file's inbox log row */
  begin(file: InboxFile, guard?: FullFileGuard, opts?: BeginOptions): PriceApply;
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

/**
 * The inbox log as Camel's idempotent repository (add / contains / confirm). There is no `add`
 * here: a row is added by `PriceApply.commit()`, in the same transaction as the catalog it
 * changed, so an applied file and its row cannot part. A row stays open until the remote delete
 * is confirmed; only an open row makes a delivery "already applied" — a confirmed one is history,
 * so the same name and bytes arriving later are a new delivery, applied again. No `remove` either:
 * `confirm` ends a delivery and the row stays as its record.
 */
export interface InboxLog {
  /** the open delivery of this name and content, if a crash or failed delete left one */
  contains(name: string, sha256: string): InboxEntry | undefined;
  /** the remote file is gone: the delivery is over */
  confirm(id: number): void;
  /** deliveries whose remote delete is not confirmed yet, oldest first */
  open(): InboxEntry[];
  last(): InboxEntry | undefined;
  /** the latest deliveries, newest first (status, admin page) */
  recent(limit?: number): InboxEntry[];
}

// ---- journal.db: the till's journal and outbox, runs, quarantine, the office's collected sales and batches, kv

/** what a journaled sale (`sales`) and a collected one (`collected`) both have */
export interface SaleColumns {
  terminalId: string;
  saleId: string;
  time: string;
  localDate: string;
  kind: SaleKind;
  total: number;
  /** the canonical serialisation */
  body: string;
  sha256: string;
}

export interface SaleRecord extends SaleColumns {
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

export interface SentMark {
  saleId: string;
  terminalId: string;
  dest: string;
  remoteName: string;
}

/** The till's sales and the outbox that takes them to the server: a sale and its outbox row are one transaction. */
export interface SalesJournal {
  /** durable when this returns; an identical repeat is a 'duplicate', a different sale under the same id SALE_CONFLICT */
  recordSale(sale: Sale, localDate: string, body: string): 'recorded' | 'duplicate';
  /** oldest first */
  pendingOutbox(limit?: number): OutboxEntry[];
  markSent(saleId: string, terminalId: string, dest: string, remoteName: string): boolean;
  /** markSent for a batch of uploads in one transaction without a sync of its own; how many rows changed */
  markSentMany(marks: readonly SentMark[]): number;
  markFailed(saleId: string, terminalId: string, dest: string, error: string): boolean;
  /** sales whose local date is within [fromDate, toDate], both inclusive, in journal order per day */
  salesBetween(fromDate: string, toDate: string): SaleRecord[];
  countPending(): number;
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
  /** replaces the details given to start() when present */
  details?: Record<string, unknown>;
}

/** The exchange log (runs of jobs) and the heartbeats of the jobs that talk to a server. */
export interface RunLog {
  start(job: string, details?: Record<string, unknown>): number;
  finish(id: number, f: RunFinish): void;
  /** start + finish of a run that is already over, in one statement */
  addFinished(job: string, f: RunFinish, times?: { startedAt?: Date; finishedAt?: Date }): number;
  /** replaces the details of a run still running (progress); false when it is finished or unknown */
  updateDetails(id: number, details: Record<string, unknown>): boolean;
  get(id: number): RunRecord | undefined;
  /** newest first */
  list(opts?: { limit?: number; job?: string }): RunRecord[];
  last(job: string, result?: RunResult): RunRecord | undefined;
  /** a heartbeat: `job` talked to the server successfully at `at` */
  recordContact(job: string, at: Date): void;
  /** the last heartbeat of each job that has one: job → ISO time */
  lastContacts(): Record<string, string>;
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

/** Files set aside as bad input, with why. */
export interface QuarantineLog {
  add(q: NewQuarantine): number;
  /** newest first */
  list(opts?: { state?: QuarantineState }): QuarantineEntry[];
  /** false when there is no such entry */
  setState(id: number, state: QuarantineState): boolean;
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

export interface CollectedSale extends SaleColumns {
  id: number;
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

/** The office's inbox of sales collected from the terminals, keyed by terminal + saleId. */
export interface CollectedSales {
  /** the sales of one file and its `collected_files` row in one transaction; a conflict stores nothing */
  collect(file: CollectedFile, sales: CollectInput[]): CollectOutcome;
  get(terminalId: string, saleId: string): CollectedSale | undefined;
  /** by local date, then time, then terminal and saleId */
  list(opts?: ListCollectedOptions): CollectedSale[];
  /** counts for status: collected, not yet delivered, batches waiting to be (re)delivered */
  counts(): { collected: number; undelivered: number; assignedBatches: number };
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

export interface NewBatchesOptions {
  /** sales per batch at most (default 5000): a terminal with more waiting gets several */
  maxSales?: number;
  /** terminals that get no new batch now (an earlier one still waits) */
  exceptTerminals?: Iterable<string>;
}

/**
 * Delivery of collected sales to the back office in batches. A batch's sales are fixed when it is
 * created (and `collected.batch_id` set in the same transaction), so a crash re-delivers the same batch.
 */
export interface DeliveryBatches {
  /** a new batch per terminal with every collected sale not yet in one, in one transaction */
  createNew(backoffice: string, opts?: NewBatchesOptions): DeliveryBatch[];
  /** an explicit re-delivery: a batch per terminal with the delivered sales of the local dates [from, to] */
  createRedelivery(backoffice: string, from: string, to: string): DeliveryBatch[];
  /** batches created but not confirmed delivered (a crash or a failed call): oldest first */
  assigned(): DeliveryBatch[];
  get(id: string): DeliveryBatch | undefined;
  /** newest first */
  list(opts?: { limit?: number }): DeliveryBatch[];
  /** the sales of a batch, always the same ones in the same order */
  sales(batchId: string): CollectedSale[];
  /** the back office has the batch: its sales count as delivered; false when it was already */
  markDelivered(batchId: string): boolean;
  markFailed(batchId: string, error: string): boolean;
}

/** Small state: host keys, counters, forced retries. */
export interface KvStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  /** removes a key, or with `prefix` every key starting with it; how many were removed */
  delete(key: string, opts?: { prefix?: boolean }): number;
}
