export { Store } from './store.js';
export { StoreConnection, type StoreOptions, type StorePaths } from './connection.js';
export { SqliteCatalog } from './catalog.js';
export { SqlitePriceImport } from './price-import.js';
export { SqliteInboxLog } from './inbox-log.js';
export { SqliteSalesJournal } from './sales-journal.js';
export { SqliteRunLog } from './runs.js';
export { SqliteQuarantineLog } from './quarantine.js';
export { SqliteCollectedSales } from './collected.js';
export { SqliteDeliveryBatches } from './batches.js';
export { SqliteKv } from './kv.js';
export { SqliteShiftJournal, SERVED_KEEP } from './shifts.js';
export { SqliteFleetStore } from './fleet.js';
export type {
  Catalog,
  PriceImport,
  BeginOptions,
  InboxLog,
  SalesJournal,
  RunLog,
  QuarantineLog,
  CollectedSales,
  DeliveryBatches,
  KvStore,
  ShiftJournal,
  ShiftCloseKey,
  ShiftCloseRecord,
  ShiftReceipts,
  ShiftSummary,
  ServedResend,
  InboxEntry,
  ListProductsOptions,
  SaleColumns,
  SaleRecord,
  OutboxEntry,
  SentMark,
  RunResult,
  RunError,
  RunRecord,
  RunFinish,
  QuarantineState,
  NewQuarantine,
  QuarantineEntry,
  CollectInput,
  CollectedFile,
  CollectOutcome,
  CollectedSale,
  ListCollectedOptions,
  BatchState,
  DeliveryBatch,
  NewBatchesOptions,
  FleetStore,
  FleetStatusRecord,
  CollectedShiftClose,
  GapState,
  ReceiptGap,
  CollectedReceipt,
  PublishedRecord,
} from './repositories.js';
export type { PriceApply, InboxFile, PriceApplyResult, FullFileGuard, CommitInfo } from './price-apply.js';
export { CATALOG_POINTER, currentCatalog } from './catalog-files.js';
