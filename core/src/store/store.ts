import type { Product, Sale } from '../api/model.js';
import { SqliteDeliveryBatches } from './batches.js';
import { SqliteCatalog } from './catalog.js';
import { SqliteCollectedSales } from './collected.js';
import { SqliteFleetStore } from './fleet.js';
import { StoreConnection, type StoreOptions, type StorePaths } from './connection.js';
import { SqliteInboxLog } from './inbox-log.js';
import { SqliteKv } from './kv.js';
import type { FullFileGuard, InboxFile, PriceApply } from './price-apply.js';
import { SqlitePriceImport } from './price-import.js';
import { SqliteQuarantineLog } from './quarantine.js';
import type {
  Catalog,
  CollectedFile,
  CollectedSale,
  CollectedSales,
  CollectInput,
  CollectOutcome,
  DeliveryBatch,
  DeliveryBatches,
  FleetStore,
  InboxEntry,
  InboxLog,
  KvStore,
  ListCollectedOptions,
  ListProductsOptions,
  NewBatchesOptions,
  NewQuarantine,
  OutboxEntry,
  PriceImport,
  QuarantineEntry,
  QuarantineLog,
  QuarantineState,
  RunFinish,
  RunLog,
  RunRecord,
  RunResult,
  SaleRecord,
  SalesJournal,
  SentMark,
  ShiftJournal,
} from './repositories.js';
import { SqliteRunLog } from './runs.js';
import { SqliteSalesJournal } from './sales-journal.js';
import { SqliteShiftJournal } from './shifts.js';

export { CATALOG_SEARCH_SQL } from './catalog.js';
export type { StoreOptions, StorePaths } from './connection.js';
export type * from './repositories.js';

/**
 * The local SQLite store: opens catalog.db and journal.db (one {@link StoreConnection}) and holds
 * one repository of each kind over it. Use the repositories (`store.journal.recordSale(…)`); the
 * methods below them are the store's old one-class surface, kept as delegates while call sites move.
 */
export class Store {
  readonly catalog: Catalog;
  readonly priceImport: PriceImport;
  readonly inbox: InboxLog;
  readonly journal: SalesJournal;
  readonly runs: RunLog;
  readonly quarantine: QuarantineLog;
  readonly collected: CollectedSales;
  readonly batches: DeliveryBatches;
  readonly kv: KvStore;
  /** shift closes and the receipt numbers the fleet status reports */
  readonly shifts: ShiftJournal;
  /** the office's fleet: terminal statuses, shift closes, receipt gaps, what was published (docs/fleet.md) */
  readonly fleet: FleetStore;
  /** the same object as priceImport, typed to reach abort() on close */
  private readonly imports: SqlitePriceImport;

  private constructor(private readonly db: StoreConnection) {
    this.catalog = new SqliteCatalog(db);
    this.priceImport = this.imports = new SqlitePriceImport(db);
    this.inbox = new SqliteInboxLog(db);
    this.journal = new SqliteSalesJournal(db);
    this.kv = new SqliteKv(db);
    this.runs = new SqliteRunLog(db, this.kv);
    this.quarantine = new SqliteQuarantineLog(db);
    this.collected = new SqliteCollectedSales(db);
    this.batches = new SqliteDeliveryBatches(db);
    this.shifts = new SqliteShiftJournal(db);
    this.fleet = new SqliteFleetStore(db);
  }

  static open(dataDir: string, opts: StoreOptions = {}): Store {
    return new Store(StoreConnection.open(dataDir, opts));
  }

  get dir(): string {
    return this.db.dir;
  }

  get readonly(): boolean {
    return this.db.readonly;
  }

  get paths(): StorePaths {
    return this.db.paths;
  }

  /** rolls back a price apply still open, then closes the connections; idempotent */
  close(): void {
    if (this.db.closed) return;
    this.imports.abort();
    this.db.close();
  }

  // ---- the old surface: one-line delegates (the lead moves jobs/ and scheduler/ to the repositories, then these go)

  /** @deprecated use store.priceImport.begin */
  beginPriceApply(file: InboxFile, guard?: FullFileGuard): PriceApply { return this.priceImport.begin(file, guard); }
  /** @deprecated use store.inbox.contains */
  inboxOpen(name: string, sha256: string): InboxEntry | undefined { return this.inbox.contains(name, sha256); }
  /** @deprecated use store.inbox.open */
  inboxOpenAll(): InboxEntry[] { return this.inbox.open(); }
  /** @deprecated use store.inbox.confirm */
  inboxConfirm(id: number): void { this.inbox.confirm(id); }
  /** @deprecated use store.inbox.last */
  lastInbox(): InboxEntry | undefined { return this.inbox.last(); }
  /** @deprecated use store.inbox.recent */
  recentInbox(limit?: number): InboxEntry[] { return this.inbox.recent(limit); }

  /** @deprecated use store.catalog.count */
  catalogCount(): number { return this.catalog.count(); }
  /** @deprecated use store.catalog.get */
  getProduct(code: string): Product | undefined { return this.catalog.get(code); }
  /** @deprecated use store.catalog.findByBarcode */
  findByBarcode(barcode: string): Product | undefined { return this.catalog.findByBarcode(barcode); }
  /** @deprecated use store.catalog.list */
  listProducts(opts?: ListProductsOptions): Product[] { return this.catalog.list(opts); }

  /** @deprecated use store.runs.start */
  startRun(job: string, details?: Record<string, unknown>): number { return this.runs.start(job, details); }
  /** @deprecated use store.runs.finish */
  finishRun(id: number, f: RunFinish): void { this.runs.finish(id, f); }
  /** @deprecated use store.runs.addFinished */
  addFinishedRun(job: string, f: RunFinish, times?: { startedAt?: Date; finishedAt?: Date }): number { return this.runs.addFinished(job, f, times); }
  /** @deprecated use store.runs.recordContact */
  recordContact(job: string, at: Date): void { this.runs.recordContact(job, at); }
  /** @deprecated use store.runs.lastContacts */
  lastContacts(): Record<string, string> { return this.runs.lastContacts(); }
  /** @deprecated use store.runs.list */
  listRuns(opts?: { limit?: number; job?: string }): RunRecord[] { return this.runs.list(opts); }
  /** @deprecated use store.runs.get */
  getRun(id: number): RunRecord | undefined { return this.runs.get(id); }
  /** @deprecated use store.runs.updateDetails */
  updateRunDetails(id: number, details: Record<string, unknown>): boolean { return this.runs.updateDetails(id, details); }
  /** @deprecated use store.runs.last */
  lastRun(job: string, result?: RunResult): RunRecord | undefined { return this.runs.last(job, result); }

  /** @deprecated use store.quarantine.add */
  addQuarantine(q: NewQuarantine): number { return this.quarantine.add(q); }
  /** @deprecated use store.quarantine.list */
  listQuarantine(opts?: { state?: QuarantineState }): QuarantineEntry[] { return this.quarantine.list(opts); }
  /** @deprecated use store.quarantine.setState */
  setQuarantineState(id: number, state: QuarantineState): boolean { return this.quarantine.setState(id, state); }

  /** @deprecated use store.journal.recordSale */
  recordSale(sale: Sale, localDate: string, body: string): 'recorded' | 'duplicate' { return this.journal.recordSale(sale, localDate, body); }
  /** @deprecated use store.journal.pendingOutbox */
  pendingOutbox(limit?: number): OutboxEntry[] { return this.journal.pendingOutbox(limit); }
  /** @deprecated use store.journal.markSent */
  markSent(saleId: string, terminalId: string, dest: string, remoteName: string): boolean { return this.journal.markSent(saleId, terminalId, dest, remoteName); }
  /** @deprecated use store.journal.markSentMany */
  markSentMany(marks: readonly SentMark[]): number { return this.journal.markSentMany(marks); }
  /** @deprecated use store.journal.markFailed */
  markFailed(saleId: string, terminalId: string, dest: string, error: string): boolean { return this.journal.markFailed(saleId, terminalId, dest, error); }
  /** @deprecated use store.journal.salesBetween */
  salesBetween(fromDate: string, toDate: string): SaleRecord[] { return this.journal.salesBetween(fromDate, toDate); }
  /** @deprecated use store.journal.countPending */
  countPending(): number { return this.journal.countPending(); }

  /** @deprecated use store.collected.collect */
  collectSales(file: CollectedFile, sales: CollectInput[]): CollectOutcome { return this.collected.collect(file, sales); }
  /** @deprecated use store.collected.get */
  getCollected(terminalId: string, saleId: string): CollectedSale | undefined { return this.collected.get(terminalId, saleId); }
  /** @deprecated use store.collected.list */
  listCollected(opts?: ListCollectedOptions): CollectedSale[] { return this.collected.list(opts); }
  /** @deprecated use store.collected.counts */
  collectedCounts(): { collected: number; undelivered: number; assignedBatches: number } { return this.collected.counts(); }

  /** @deprecated use store.batches.createNew */
  createDeliveryBatches(backoffice: string, opts?: NewBatchesOptions): DeliveryBatch[] { return this.batches.createNew(backoffice, opts); }
  /** @deprecated use store.batches.createRedelivery */
  createRedeliveryBatches(backoffice: string, from: string, to: string): DeliveryBatch[] { return this.batches.createRedelivery(backoffice, from, to); }
  /** @deprecated use store.batches.assigned */
  assignedBatches(): DeliveryBatch[] { return this.batches.assigned(); }
  /** @deprecated use store.batches.get */
  getBatch(id: string): DeliveryBatch | undefined { return this.batches.get(id); }
  /** @deprecated use store.batches.list */
  listBatches(opts?: { limit?: number }): DeliveryBatch[] { return this.batches.list(opts); }
  /** @deprecated use store.batches.sales */
  batchSales(batchId: string): CollectedSale[] { return this.batches.sales(batchId); }
  /** @deprecated use store.batches.markDelivered */
  markBatchDelivered(batchId: string): boolean { return this.batches.markDelivered(batchId); }
  /** @deprecated use store.batches.markFailed */
  markBatchFailed(batchId: string, error: string): boolean { return this.batches.markFailed(batchId, error); }

  /** @deprecated use store.kv.get */
  kvGet(key: string): string | undefined { return this.kv.get(key); }
  /** @deprecated use store.kv.set */
  kvSet(key: string, value: string): void { this.kv.set(key, value); }
  /** @deprecated use store.kv.delete */
  kvDelete(key: string, opts?: { prefix?: boolean }): number { return this.kv.delete(key, opts); }
}
