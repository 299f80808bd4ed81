import { coreServices, type BackOfficeFactory, type CallOptions, type CatalogReader, type DeploymentInfo, type FormatFactory, type KeyValueStore, type Transport, type TransportFactory, type WatchOptions } from '../api/index.js';
import type { App } from '../app/app.js';
import type { CfxConfig } from '../config/types.js';
import { fault } from '../faults/index.js';
import { SalesPush } from '../jobs/sales-push/sales-push.js';
import { systemClock } from '../util/clock.js';
import { coreRefs } from './refs.js';
import { Services } from './services.js';

/** what a job may know about the deployment: no server URL, no secrets */
export function deploymentInfo(c: CfxConfig): DeploymentInfo {
  return Object.freeze({
    role: c.role,
    ...(c.terminal !== undefined ? { terminal: c.terminal } : {}),
    terminals: Object.freeze([...c.terminals]),
    dataDir: c.dataDir,
    prices: { dir: c.prices.dir, format: c.prices.format },
    sales: { dir: c.sales.dir, format: c.sales.format },
  });
}

/** a kv view under `prefix`: a plugin's job sees and writes only its own keys */
export function prefixedKv(app: App, prefix: string): KeyValueStore {
  const kv = () => app.store.kv;
  return Object.freeze({
    get: (k: string) => kv().get(prefix + k),
    set: (k: string, v: string) => kv().set(prefix + k, v),
    delete: (k: string) => void kv().delete(prefix + k),
  });
}

/**
 * The one wiring file: core's implementation of every service ref, registered in the app's
 * container. `App`, the CLI, the service and the test host all resolve from it; a test overrides a
 * ref with `app.services.value(ref, fake)` before the first resolve (a fixed clock, a fault hook).
 */
export function wireCore(app: App, services = new Services()): Services {
  const c = app.config;
  const transports: TransportFactory = {
    // A job's connection: its own, or — for a transport whose one connection carries concurrent
    // calls (capabilities.multiplexed, NATS) — the app's shared one, lent with a close() that leaves
    // it open (the app closes it). A NATS terminal then holds one connection, not one per job and
    // watch: one login, and one follower per bucket for the pull's listings and its watch.
    open: async () => {
      const shared = await app.transport();
      return shared.capabilities?.multiplexed ? lent(shared) : app.newTransport();
    },
  };
  const formats: FormatFactory = {
    // the config's options for the configured formats; others get the format's defaults
    get: (id, options) => app.host.format(id, options ?? (id === c.prices.format ? c.prices.options : id === c.sales.format ? c.sales.options : {})),
  };
  const backoffice: BackOfficeFactory = { open: () => app.host.backoffice(c.backoffice.use, c.backoffice.options) };
  // made once; a failure (a plugin that did not activate) is tried again by the next caller
  let push: Promise<SalesPush> | undefined;
  const salesPush = (): Promise<SalesPush> =>
    (push ??= (async () => {
      const format = await formats.get(c.sales.format, c.sales.options);
      const conns = await Promise.all(Array.from({ length: c.sales.connections }, () => transports.open('sales.push')));
      return new SalesPush({ config: c, store: app.store, transports: conns, format, logger: app.logger });
    })().catch((e) => {
      push = undefined;
      throw e;
    }));
  return services
    .value(coreRefs.app, app)
    .factory(coreRefs.jobs, () => app.jobs)
    .value(coreRefs.salesPush, salesPush)
    .value(coreRefs.config, c)
    .value(coreRefs.host, app.host)
    .factory(coreRefs.store, () => app.store)
    .factory(coreRefs.catalog, () => app.store.catalog)
    .factory(coreRefs.priceImport, () => app.store.priceImport)
    .factory(coreRefs.inboxLog, () => app.store.inbox)
    .factory(coreRefs.salesJournal, () => app.store.journal)
    .factory(coreRefs.runs, () => app.store.runs)
    .factory(coreRefs.quarantine, () => app.store.quarantine)
    .factory(coreRefs.collected, () => app.store.collected)
    .factory(coreRefs.batches, () => app.store.batches)
    .factory(coreRefs.kv, () => app.store.kv)
    .factory(coreRefs.shifts, () => app.store.shifts)
    .factory(coreRefs.fleet, () => app.store.fleet)
    .value(coreServices.deployment, deploymentInfo(c))
    .value(coreServices.logger, app.logger)
    .value(coreServices.clock, systemClock)
    // the process-wide hook: CFX_FAULT in a crash test's child process, setFaultHook in-process
    .value(coreServices.faults, { at: fault })
    .value(coreServices.transports, transports)
    .value(coreServices.formats, formats)
    .value(coreServices.backoffice, backoffice)
    .factory(coreServices.catalog, (): CatalogReader => {
      const cat = app.store.catalog;
      return Object.freeze({
        count: () => cat.count(),
        getProduct: (code: string) => cat.get(code),
        findByBarcode: (b: string) => cat.findByBarcode(b),
        listProducts: (o?: { q?: string; limit?: number; offset?: number }) => cat.list(o),
      });
    })
    .factory(coreServices.kv, () => prefixedKv(app, 'core.'));
}

/** `t` for a borrower: every call goes to it, but closing it is its owner's */
function lent(t: Transport): Transport {
  return {
    ...(t.capabilities ? { capabilities: t.capabilities } : {}),
    ...(t.watch ? { watch: (dir: string, o: WatchOptions) => t.watch!(dir, o) } : {}),
    list: (dir, o) => t.list(dir, o),
    read: (path, o) => t.read(path, o),
    write: (path, data, o) => t.write(path, data, o),
    rename: (from, to, o) => t.rename(from, to, o),
    ...(t.writeThenRename ? { writeThenRename: (tmp: string, target: string, data: Uint8Array, between: () => Promise<void> | void, o?: CallOptions) => t.writeThenRename!(tmp, target, data, between, o) } : {}),
    delete: (path, o) => t.delete(path, o),
    mkdir: (path, o) => t.mkdir(path, o),
    close: async () => undefined,
  };
}
