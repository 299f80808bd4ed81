import { createToken } from '../api/tokens.js';
import type { App } from '../app/app.js';
import type { CfxConfig } from '../config/types.js';
import type { SalesPush } from '../jobs/sales-push/sales-push.js';
import type { JobExecutor } from '../scheduler/executor.js';
import type { PluginHost } from '../host/index.js';
import type { Catalog, CollectedSales, DeliveryBatches, FleetStore, InboxLog, KvStore, PriceImport, QuarantineLog, RunLog, SalesJournal, ShiftJournal, Store } from '../store/index.js';

/**
 * Core-internal service refs: what core's own jobs and components depend on besides the public
 * catalogue (`coreServices` in api/services.ts). Plugins never see these; they get narrow refs.
 */
export const coreRefs = Object.freeze({
  /** the whole validated config (secrets included: never hand it to plugin code) */
  config: createToken<CfxConfig>('core.internal.config'),
  /** the local store; its repositories are reached through it */
  store: createToken<Store>('core.internal.store'),
  host: createToken<PluginHost>('core.internal.host'),
  // one ref per store repository (core/src/store/): a job asks for what it uses, a test fakes one
  catalog: createToken<Catalog>('store.catalog'),
  priceImport: createToken<PriceImport>('store.priceImport'),
  inboxLog: createToken<InboxLog>('store.inboxLog'),
  salesJournal: createToken<SalesJournal>('store.salesJournal'),
  runs: createToken<RunLog>('store.runs'),
  quarantine: createToken<QuarantineLog>('store.quarantine'),
  collected: createToken<CollectedSales>('store.collected'),
  batches: createToken<DeliveryBatches>('store.batches'),
  kv: createToken<KvStore>('store.kv'),
  shifts: createToken<ShiftJournal>('store.shifts'),
  fleet: createToken<FleetStore>('store.fleet'),
  /** the opened deployment, for core jobs that still take it whole (collect, publish) */
  app: createToken<App>('core.internal.app'),
  /** runs jobs by id and records their runs (a job that starts another: the pull serving a resend request) */
  jobs: createToken<JobExecutor>('core.internal.jobs'),
  /** the terminal's one sales push (its connections), shared by sales.push, sales.resend, the library and the admin API */
  salesPush: createToken<() => Promise<SalesPush>>('core.internal.salesPush'),
});
