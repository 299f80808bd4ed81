// Child process of the price-import bench: one full price pull in a fresh process, so its peak
// RSS is the pull's own. Prints one JSON line on stdout.
//   node price-import-child.js <cfx.yaml> <file name expected in the inbox>
import { performance } from 'node:perf_hooks';
import { App, PricePull, silentLogger, type Format } from '@cfx/core';
import { pullUntilApplied, vmHwmKb } from './common.js';

const [configFile, fileName] = process.argv.slice(2);
if (!configFile || !fileName) {
  process.stderr.write('usage: price-import-child <cfx.yaml> <file>\n');
  process.exit(2);
}

const t0 = performance.now();
const app = App.open({ configFile, env: {}, store: 'rw', logger: silentLogger() });
try {
  const transport = await app.transport();
  const format = await app.host.format(app.config.prices.format, app.config.prices.options);
  // log in before the timed cycle: a running terminal keeps its connection open
  await transport.list('/');
  const rssOpenKb = vmHwmKb();

  // Instrumentation only (the pull code is unchanged): timestamps where the phases meet.
  const marks: Record<string, number> = {};
  let memBeforeCommit: NodeJS.MemoryUsage | undefined;
  const timedFormat: Format = new Proxy(format, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop === 'decodePrices' && typeof v === 'function') {
        return (...a: unknown[]) => {
          marks.decodeStart ??= performance.now();
          return (v as (...x: unknown[]) => unknown).apply(target, a);
        };
      }
      return v;
    },
  });
  const store = app.store;
  // the apply's commit: patched on the repository itself, so it is timed whether the pull calls
  // store.priceImport.begin or the store's old beginPriceApply (a delegate to it)
  const imports = store.priceImport;
  const begin = imports.begin.bind(imports);
  imports.begin = (...a: Parameters<typeof begin>) => {
    const tx = begin(...a);
    const commit = tx.commit.bind(tx);
    tx.commit = (...c: Parameters<typeof commit>) => {
      marks.commitStart = performance.now();
      memBeforeCommit = process.memoryUsage();
      const r = commit(...c);
      marks.commitEnd = performance.now();
      return r;
    };
    return tx;
  };

  // the statements of the commit (TS-private, a plain property of the price import at runtime): time the barcode
  // rebuild and the count, so the rest of the commit is the COMMIT itself (WAL write + fsync + checkpoint)
  const st = (imports as unknown as { statements?: Record<string, { run?: (...a: unknown[]) => unknown; get?: (...a: unknown[]) => unknown }> }).statements;
  const timeStmt = (name: string, method: 'run' | 'get', from: string, to: string) => {
    const stmt = st?.[name];
    const f = stmt?.[method];
    if (!stmt || typeof f !== 'function') return;
    stmt[method] = (...a: unknown[]) => {
      marks[from] = performance.now();
      try {
        return f.apply(stmt, a);
      } finally {
        marks[to] = performance.now();
      }
    };
  };
  timeStmt('rebuildBarcodes', 'run', 'rebuildStart', 'rebuildEnd');
  timeStmt('count', 'get', 'countStart', 'countEnd');

  // what-if knob for diagnosis (never set by the bench itself): pragmas for the catalog writer,
  // e.g. CFX_BENCH_PRAGMAS="cache_size=-32768" to see what a smaller page cache does to speed and RSS
  const pragmas = process.env.CFX_BENCH_PRAGMAS?.split(';').map((x) => x.trim()).filter(Boolean) ?? [];
  const writer = (store as unknown as { db?: { catalogWriter?: { pragma(s: string): unknown } } }).db?.catalogWriter;
  for (const p of pragmas) writer?.pragma(p);

  const pull = new PricePull({ config: app.config, store, transport, format: timedFormat, logger: app.logger });
  const { outcome, cycles, start, end } = await pullUntilApplied(pull, fileName);
  const ru = process.resourceUsage();
  const products = store.catalog.count();
  process.stdout.write(
    JSON.stringify({
      ok: true,
      pragmas,
      records: outcome.records,
      bytes: outcome.bytes,
      products,
      cycles,
      wallMs: end - start,
      // list + download to staging + fsync
      downloadMs: (marks.decodeStart ?? end) - start,
      // decode + insert rows (inside one transaction)
      applyMs: (marks.commitStart ?? end) - (marks.decodeStart ?? start),
      // sorted barcode index rebuild + inbox_log + count + COMMIT
      commitMs: (marks.commitEnd ?? end) - (marks.commitStart ?? end),
      // inside the commit: the sorted barcode index rebuild, the product count, and the rest (COMMIT)
      rebuildMs: marks.rebuildEnd !== undefined ? marks.rebuildEnd - marks.rebuildStart! : undefined,
      countMs: marks.countEnd !== undefined ? marks.countEnd - marks.countStart! : undefined,
      commitSqlMs: marks.countEnd !== undefined && marks.commitEnd !== undefined ? marks.commitEnd - marks.countEnd : undefined,
      // archive rename + remote delete
      finishMs: end - (marks.commitEnd ?? end),
      openMs: start - t0,
      maxRssKb: ru.maxRSS,
      vmHwmKb: vmHwmKb(),
      rssAfterOpenKb: rssOpenKb,
      // epoch ms of the phase boundaries, so the parent can place its RSS samples
      epoch: Object.fromEntries(Object.entries({ start, ...marks, end }).map(([k, v]) => [k, performance.timeOrigin + v])),
      memBeforeCommit,
      memEnd: process.memoryUsage(),
      cpuUserMs: ru.userCPUTime / 1000,
      cpuSystemMs: ru.systemCPUTime / 1000,
    }) + '\n',
  );
} finally {
  await app.close();
}
