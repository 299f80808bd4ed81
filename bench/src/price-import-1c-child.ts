// Child process of the 1C price-import bench: one full price pull in a fresh process (the terminal's
// PricePull with the format cfx.yaml names), then the catalog read back. Prints one JSON line.
//   node price-import-1c-child.js <cfx.yaml> <file name expected in the inbox> <code,code,…>
import { performance } from 'node:perf_hooks';
import { App, PricePull, silentLogger, type Format } from '@cfx/core';
import { pullUntilApplied, vmHwmKb } from './common.js';

const [configFile, fileName, codes] = process.argv.slice(2);
if (!configFile || !fileName || codes === undefined) {
  process.stderr.write('usage: price-import-1c-child <cfx.yaml> <file> <sample codes>\n');
  process.exit(2);
}

const app = App.open({ configFile, env: {}, store: 'rw', logger: silentLogger() });
try {
  const transport = await app.transport();
  const format = await app.host.format(app.config.prices.format, app.config.prices.options);
  // log in before the timed cycle: a running terminal keeps its connection open
  await transport.list('/');
  let decodeStart: number | undefined;
  // instrumentation only: when the download is over and the decode begins
  const timedFormat: Format = new Proxy(format, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop === 'decodePrices' && typeof v === 'function') {
        return (...a: unknown[]) => {
          decodeStart ??= performance.now();
          return (v as (...x: unknown[]) => unknown).apply(target, a);
        };
      }
      return v;
    },
  });
  const pull = new PricePull({ config: app.config, store: app.store, transport, format: timedFormat, logger: app.logger });
  const c0 = process.cpuUsage();
  const { outcome, cycles, start, end } = await pullUntilApplied(pull, fileName);
  const cpu = process.cpuUsage(c0);
  const products = app.store.catalog.count();
  const samples = Object.fromEntries(codes.split(',').filter(Boolean).map((c) => [c, app.store.catalog.get(c) ?? null]));
  process.stdout.write(
    JSON.stringify({
      ok: true,
      mode: outcome.mode,
      records: outcome.records,
      bytes: outcome.bytes,
      products,
      samples,
      cycles,
      wallMs: end - start,
      downloadMs: (decodeStart ?? end) - start,
      applyMs: end - (decodeStart ?? start),
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssKb: vmHwmKb(),
    }) + '\n',
  );
} finally {
  await app.close();
}
