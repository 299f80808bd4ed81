import type { PaymentKind, PriceFileMode, Product, Sale, SaleKind } from '../api/model.js';
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
  /**
   * The file's size as listed, when known: a fresh build of a small file runs on this thread, a
   * large one in the build worker (catalog-build.ts, buildPlacement).
   */
  expectedBytes?: number;
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

// ---- journal.db: the till's shift closes and what the fleet status reports (docs/fleet.md)

/** what the store needs of a shift close; the whole canonical close is its `body` */
export interface ShiftCloseKey {
  terminal: string;
  shift: number;
  /** ISO 8601 with the till's offset */
  closedAt: string;
}

export interface ShiftCloseRecord {
  terminalId: string;
  shift: number;
  closedAt: string;
  /** the till's local date of closedAt */
  localDate: string;
  /** the canonical `cfx.shift/1` text, pushed byte for byte */
  body: string;
  sha256: string;
  recordedAt: string;
  state: 'pending' | 'sent';
  attempts: number;
  lastError?: string;
  sentAt?: string;
  remoteName?: string;
}

/** the receipt numbers of one shift, ascending */
export interface ShiftReceipts {
  shift: number;
  receiptNos: number[];
}

/** an office resend request this till served */
export interface ServedResend {
  /** the request file's name */
  request: string;
  servedAt: string;
  from: string;
  to: string;
  /** sales of the period the journal held (and resent) */
  sales: number;
  /** per shift, every receipt number the journal holds in the period */
  receipts: ShiftReceipts[];
}

export interface ShiftSummary {
  shift: number;
  lastReceiptNo: number;
  /** the till reported the shift closed */
  closed: boolean;
}

/**
 * The till's shift closes (one per terminal + shift, with their outbox state) and the journal's
 * receipt numbers as the fleet status reports them.
 */
export interface ShiftJournal {
  /** durable when this returns; the same content again is a 'duplicate', different content SHIFT_CONFLICT */
  record(close: ShiftCloseKey, localDate: string, body: string): 'recorded' | 'duplicate';
  get(terminalId: string, shift: number): ShiftCloseRecord | undefined;
  /** not yet on the server, oldest first */
  pending(): ShiftCloseRecord[];
  countPending(): number;
  /** closes whose local date is within [fromDate, toDate], inclusive */
  between(fromDate: string, toDate: string): ShiftCloseRecord[];
  markSent(terminalId: string, shift: number, remoteName: string): boolean;
  markFailed(terminalId: string, shift: number, error: string): boolean;
  /** per shift, the receipt numbers of the journal's sales of `terminalId` in [fromDate, toDate] */
  receiptsBetween(terminalId: string, fromDate: string, toDate: string): ShiftReceipts[];
  /** per shift with receipt numbers among the sales since `fromDate`: the highest one, and whether it is closed; by shift */
  lastReceipts(terminalId: string, fromDate: string): ShiftSummary[];
  /** how many sales the journal holds, and the time of the newest */
  salesSummary(): { journaled: number; lastSaleAt?: string };
  /** keeps the newest SERVED_KEEP */
  recordServed(s: ServedResend): void;
  /** newest first */
  recentServed(limit: number): ServedResend[];
}

/** Small state: host keys, counters, forced retries. */
export interface KvStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  /** removes a key, or with `prefix` every key starting with it; how many were removed */
  delete(key: string, opts?: { prefix?: boolean }): number;
  /**
   * Adds 1 to the integer under `key` (absent: 0) in one statement and returns the new value:
   * two processes on the same journal (a `cfx publish` beside `cfx run`) never get the same number.
   */
  increment(key: string): number;
}

// ---- journal.db: the office's picture of its fleet (docs/fleet.md)

/** the last status file read from a terminal */
export interface FleetStatusRecord {
  terminalId: string;
  seq: number;
  /** the terminal's clock */
  writtenAt: string;
  /** the office's clock when it read the file: what "last seen" and "stale" go by */
  readAt: string;
  /** the whole parsed file (a reader ignores fields it does not know) */
  status: Record<string, unknown>;
}

/** a shift close collected from a terminal's `*.shift.json` (money in minor units) */
/** a shift close the office collected from a terminal's sales dir (cfx.shift/1) */
export interface CollectedShiftClose {
  terminalId: string;
  shift: number;
  closedAt: string;
  /** the till's local date of closedAt */
  localDate: string;
  firstReceiptNo?: number;
  lastReceiptNo: number;
  totals: Partial<Record<PaymentKind, number>>;
  sha256: string;
  fileName: string;
  receivedAt: string;
}

export type GapState = 'open' | 'requested' | 'lost' | 'closed' | 'acked';

/** a receipt number missing between collected ones (or up to a shift close) */
export interface ReceiptGap {
  terminalId: string;
  shift: number;
  receiptNo: number;
  state: GapState;
  /** the period asked for: local dates of the receipts around the gap */
  fromDate: string;
  toDate: string;
  detectedAt: string;
  requests: number;
  firstRequestAt?: string;
  lastRequestAt?: string;
  nextRequestAt?: string;
  /** the last `resend-*.req` written for it */
  requestName?: string;
  /** when it was closed (the sale arrived) or acknowledged */
  endedAt?: string;
}

/** a collected receipt as the gap detection and the reconciliation see it */
export interface CollectedReceipt {
  shift: number;
  receiptNo: number;
  localDate: string;
  time: string;
  kind: SaleKind;
  payments: { kind: PaymentKind; amount: number }[];
}

export interface PublishedRecord {
  terminalId: string;
  name: string;
  sha256: string;
  publishedAt: string;
}

/** The office's fleet state: statuses, shift closes, receipt gaps, what was published to each terminal. */
export interface FleetStore {
  lastStatus(terminalId: string): FleetStatusRecord | undefined;
  saveStatus(s: FleetStatusRecord): void;
  /** one per terminal + shift: the same content again is a 'duplicate'; different content throws SHIFT_CONFLICT */
  recordShift(s: CollectedShiftClose): 'stored' | 'duplicate';
  shifts(terminalId: string): CollectedShiftClose[];
  /** by shift, then receipt number; `states` filters */
  gaps(terminalId: string, states?: readonly GapState[]): ReceiptGap[];
  /** inserts a gap not known yet (any state), or replaces the one with the same terminal + shift + number */
  putGap(g: ReceiptGap): void;
  /** the collected receipts (sales carrying shift and receiptNo) of a terminal with local dates ≥ `sinceDate` */
  receipts(terminalId: string, sinceDate: string): CollectedReceipt[];
  /** per hour (`YYYY-MM-DDTHH`, UTC) the sales collected with `time` at or after `since` (ISO) */
  salesPerHour(terminalId: string, since: string): Map<string, number>;
  recordPublished(p: PublishedRecord): void;
  published(terminalId: string): PublishedRecord | undefined;
}
