// The Service's run log and heartbeat on an injected clock: a run row spans the job from its real
// start, and "server reachable" follows a poll that moves no file, without a write every poll.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { coreServices, TransportError, type Format, type PriceRecord, type Transport } from '../api/index.js';
import { wireCore } from '../di/wiring.js';
import { JobExecutor } from './executor.js';
import { CORE_JOBS } from '../host/host.js';
import type { App } from '../app/app.js';
import { AdminMetrics } from '../admin/metrics.js';
import { collectStatus } from '../cli/status.js';
import { configFromObject } from '../config/index.js';
import { Store } from '../store/index.js';
import { recordSales } from '../sales/intake.js';
import { MemoryTransport } from '../testing/memory-transport.js';
import { silentLogger } from '../util/logger.js';
import { CONTACT_EVERY_MS, Service } from './service.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-service-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const T0 = Date.parse('2025-03-15T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

async function text(input: Readable): Promise<string> {
  let s = '';
  for await (const c of input) s += String(c);
  return s;
}

async function until<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** a terminal Service on memory://, its clock in the test's hands; the server can be switched off */
function terminal() {
  const dir = join(root, `t${++n}`);
  const volume = `service-${n}`;
  const config = configFromObject(
    { role: 'terminal', terminal: 'box-1', server: `memory://${volume}`, dataDir: './data', prices: { dir: '/inbox/{terminal}', format: 'lines', poll: '100ms' } },
    { baseDir: dir, env: {} },
  );
  const store = Store.open(config.dataDir);
  const clock = { ms: T0 };
  const remote = new MemoryTransport(volume);
  const server = { down: false, lists: 0 };
  // the server switched off: a listing (each poll starts with one) fails after 2 s of the test's clock
  const transport = new Proxy(remote, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop !== 'list') return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      return async (...a: unknown[]) => {
        server.lists++;
        if (server.down) {
          clock.ms += 2000;
          throw new TransportError('Unavailable', 'connection refused');
        }
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  }) as Transport;
  // `full` then `code;price` lines; decoding takes 5 s of the test's clock: the known work of a run
  const format: Format = {
    id: 'lines',
    extension: 'txt',
    async decodePrices(input) {
      const rows = (await text(input)).split('\n').filter(Boolean).slice(1);
      clock.ms += 5000;
      async function* records(): AsyncGenerator<PriceRecord> {
        yield { op: 'clear' };
        for (const r of rows) {
          const [code, price] = r.split(';') as [string, string];
          yield { op: 'upsert', product: { code, barcodes: [], name: code, price: Number(price) } };
        }
      }
      return { mode: 'full', records: records() };
    },
    encodePrices: () => Readable.from([]),
  };
  const app = {
    config,
    store,
    logger: silentLogger(),
    transport: async () => transport,
    newTransport: async () => transport,
    host: { format: async () => format, list: () => [], knownJobs: () => Object.keys(CORE_JOBS).map((id) => ({ id, plugin: 'core' })) },
  } as unknown as App;
  // the app's services as core wires them, with the test's clock: runs are recorded by the job executor
  const services = wireCore(app).value(coreServices.clock, { now: () => new Date(clock.ms) });
  Object.assign(app, { services, jobs: new JobExecutor(app) });
  const svc = new Service(app, { now: () => new Date(clock.ms) });
  return {
    config,
    store,
    clock,
    remote,
    server,
    svc,
    app,
    /** waits for `k` more listings of the inbox, i.e. poll cycles that reached the server or failed */
    async cycles(k: number) {
      const target = server.lists + k;
      await until(`${k} poll cycles`, () => server.lists >= target);
    },
    async close() {
      await svc.stop();
      store.close();
    },
  };
}

describe('Service: run times', () => {
  it('a run row starts when the job began, not when it was logged: the price pull that took 5 s shows 5 s, and so does /metrics', async () => {
    const t = terminal();
    try {
      await t.remote.mkdir('/inbox');
      await t.remote.mkdir('/inbox/box-1');
      await t.remote.write('/inbox/box-1/p1.txt', Buffer.from('full\n1;100\n2;250\n'));
      await t.remote.write('/inbox/box-1/p1.txt.done', Buffer.from(''));
      const metrics = new AdminMetrics(t.store, t.config);
      await t.svc.start();
      const run = await until('the pull run', () => t.store.lastRun('prices.pull'));
      assert.equal(run.result, 'ok');
      assert.equal(run.files, 1);
      assert.equal(run.startedAt, iso(T0), 'the clock when the job began');
      assert.equal(run.finishedAt, iso(T0 + 5000), 'after the 5 s of decoding');
      assert.equal(t.store.catalogCount(), 2);
      const prom = await metrics.text();
      assert.match(prom, /^cfx_exchange_duration_seconds_sum\{job="prices\.pull"\} 5$/m);
      assert.match(prom, /^cfx_exchange_duration_seconds_bucket\{le="2\.5",job="prices\.pull"\} 0$/m);
      assert.match(prom, /^cfx_exchange_duration_seconds_bucket\{le="5",job="prices\.pull"\} 1$/m);

      // a failed run too: from its start to the failure, 2 s waiting for the server
      const before = t.clock.ms;
      t.server.down = true;
      const failed = await until('the failed run', () => {
        const r = t.store.lastRun('prices.pull');
        return r?.result === 'failed' ? r : undefined;
      });
      assert.equal(failed.startedAt, iso(before));
      assert.equal(failed.finishedAt, iso(before + 2000));
      assert.deepEqual(failed.error, { code: 'CFX_E_TRANSPORT_UNAVAILABLE', message: 'connection refused' });
    } finally {
      await t.close();
    }
  });
});

describe('JobExecutor: a run that fails after part of its work', () => {
  it('a sales push whose connection dies at file 4 of 6: the failed run records the 3 files it did move', async () => {
    const dir = join(root, `t${++n}`);
    const volume = `service-${n}`;
    const config = configFromObject({ role: 'terminal', terminal: 'box-1', server: `memory://${volume}`, dataDir: './data', sales: { dir: '/sales', connections: 1 } }, { baseDir: dir, env: {} });
    const store = Store.open(config.dataDir);
    try {
      recordSales(store, 'box-1', Array.from({ length: 6 }, (_, i) => ({
        saleId: `S${i + 1}`, time: '2025-03-01T10:00:00+02:00', receiptNo: i + 1, shift: 1, cashier: 'A', kind: 'sale',
        lines: [{ code: '1', name: 'x', qty: '1', price: '1.00', amount: '1.00' }], payments: [{ kind: 'cash', amount: '1.00' }],
      })));
      let writes = 0;
      // the 4th write and every later one: the server is gone (the one new login fails too)
      const transport = new Proxy(new MemoryTransport(volume), {
        get(target, prop, recv) {
          const v = Reflect.get(target, prop, recv) as unknown;
          if (typeof v !== 'function') return v;
          if (prop !== 'write') return (v as (...x: unknown[]) => unknown).bind(target);
          return async (...a: unknown[]) => {
            if (++writes >= 4) throw new TransportError('Unavailable', 'connection reset');
            return (v as (...x: unknown[]) => unknown).apply(target, a);
          };
        },
      }) as Transport;
      const format = { id: 'lines', extension: 'txt', encodeSale: (sale: { saleId: string }) => new TextEncoder().encode(`${sale.saleId}\n`) } as unknown as Format;
      const app = {
        config, store, logger: silentLogger(),
        transport: async () => transport, newTransport: async () => transport,
        host: { format: async () => format, list: () => [], knownJobs: () => Object.keys(CORE_JOBS).map((id) => ({ id, plugin: 'core' })) },
      } as unknown as App;
      Object.assign(app, { services: wireCore(app), jobs: new JobExecutor(app) });
      await assert.rejects(app.jobs.run('sales.push', { trigger: 'cli' }), (e: TransportError) => e.details.sent === 3 && e.details.left === 3);
      const run = store.lastRun('sales.push');
      assert.equal(run?.result, 'failed');
      assert.equal(run?.files, 3);
      assert.equal(run?.bytes, 9);
      assert.equal(run?.error?.code, 'CFX_E_TRANSPORT_UNAVAILABLE');
    } finally {
      store.close();
    }
  });
});

describe('Service: heartbeat', () => {
  it('a poll that moves nothing still makes the server reachable; written at most once a minute, at once after a failure', async () => {
    const t = terminal();
    try {
      await t.remote.mkdir('/inbox');
      await t.remote.mkdir('/inbox/box-1');
      assert.deepEqual(collectStatus(t.app).reachability, { state: 'unknown' }, 'nothing tried yet');
      await t.svc.start();
      const first = await until('the first heartbeat', () => t.store.lastContacts()['prices.pull']);
      assert.equal(first, iso(T0));
      assert.deepEqual(t.store.listRuns(), [], 'no file moved: no run logged');
      const st = collectStatus(t.app);
      assert.deepEqual(st.lastContact, { 'prices.pull': iso(T0) });
      assert.deepEqual(st.reachability, { state: 'reachable', at: iso(T0), job: 'prices.pull' });

      assert.match(await new AdminMetrics(t.store, t.config).text(), new RegExp(`^cfx_server_last_contact_timestamp_seconds\\{job="prices\\.pull"\\} ${T0 / 1000}$`, 'm'));

      // polls within the minute write nothing
      t.clock.ms = T0 + CONTACT_EVERY_MS - 1000;
      await t.cycles(3);
      assert.equal(t.store.lastContacts()['prices.pull'], iso(T0));
      // a minute later, the next poll writes it
      t.clock.ms = T0 + CONTACT_EVERY_MS + 1000;
      await until('the heartbeat a minute later', () => t.store.lastContacts()['prices.pull'] === iso(T0 + CONTACT_EVERY_MS + 1000));

      // the server goes away: unreachable since the failure
      t.clock.ms = T0 + CONTACT_EVERY_MS + 10_000;
      t.server.down = true;
      const failed = await until('the failed run', () => t.store.lastRun('prices.pull', 'failed'));
      const down = collectStatus(t.app).reachability;
      assert.deepEqual(down, { state: 'unreachable', at: failed.finishedAt, job: 'prices.pull', error: { code: 'CFX_E_TRANSPORT_UNAVAILABLE', message: 'connection refused' } });
      assert.equal(failed.finishedAt, iso(T0 + CONTACT_EVERY_MS + 12_000));

      // back: the first poll that reaches it writes the heartbeat at once, though less than a minute passed
      const back = t.clock.ms + 1000;
      t.clock.ms = back;
      t.server.down = false;
      await until('the heartbeat after the failure', () => t.store.lastContacts()['prices.pull'] === iso(back));
      assert.deepEqual(collectStatus(t.app).reachability, { state: 'reachable', at: iso(back), job: 'prices.pull' });
    } finally {
      await t.close();
    }
  });
});
