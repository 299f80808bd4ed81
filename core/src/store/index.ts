export { Store } from './store.js';
export type {
  StoreOptions,
  StorePaths,
  InboxEntry,
  ListProductsOptions,
  RunResult,
  RunError,
  RunRecord,
  RunFinish,
  QuarantineState,
  NewQuarantine,
  QuarantineEntry,
  SaleRecord,
  OutboxEntry,
  CollectInput,
  CollectedFile,
  CollectOutcome,
  CollectedSale,
  ListCollectedOptions,
  BatchState,
  DeliveryBatch,
} from './store.js';
export type { PriceApply, InboxFile, PriceApplyResult, FullFileGuard, CommitInfo } from './price-apply.js';
