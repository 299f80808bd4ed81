import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TransportError, type Format, type Sale, type Transport } from '../../api/index.js';
import { configFromObject } from '../../config/index.js';
import { recordSales } from '../../sales/intake.js';
import { Store } from '../../store/index.js';
import { MemoryTransport } from '../../testing/memory-transport.js';
import { silentLogger } from '../../util/logger.js';
import { SalesPush } from './sales-push.js';

// what the till journals: valid sale input, one line, day `2025-03-0<1 + n % 3>`
const saleInput = (n: number) => ({
  saleId: `S${String(n).padStart(4, '0')}`,
  time: `2025-03-0${1 + (n % 3)}T10:00:00+02:00`,
  receiptNo: n,
  shift: 1,
  cashier: 'Олена',
  kind: 'sale',
  lines: [{ code: '1001', barcode: '4820000001001', name: 'Хліб', qty: '2', price: '15.50', amount: '31.00' }],
  payments: [{ kind: 'cash', amount: '31.00' }],
});

const format: Format = {
  id: 'test',
  extension: 'txt',
  encodeSale: (sale: Sale) => new TextEncoder().encode(`${sale.saleId};${sale.total}\n`),
} as unknown as Format;

/** a memory:// connection that logs its calls into `events` as `<k>:<op>` */
function logged(k: number, volume: string, events: string[], failLogin = false): Transport {
  const t = new MemoryTransport(volume);
  return new Proxy(t, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function' || !['mkdir', 'write', 'rename'].includes(String(prop))) return v;
      return async (...args: unknown[]) => {
        events.push(`${k}:${String(prop)}`);
        if (prop === 'mkdir' && failLogin) throw new TransportError('Unavailable', `connection ${k}: login refused`);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function setup(n: number, failOn?: number, base = tmpdir()) {
  const dir = mkdtempSync(join(base, 'cfx-push-'));
  const volume = `push-${randomBytes(4).toString('hex')}`;
  const config = configFromObject({ role: 'terminal', terminal: 'box-1', server: `memory://${volume}`, dataDir: './data', sales: { dir: '/sales', connections: 4 } }, { baseDir: dir, env: {} });
  const store = Store.open(config.dataDir);
  recordSales(store, 'box-1', Array.from({ length: n }, (_, i) => saleInput(i + 1)));
  const events: string[] = [];
  const transports = [0, 1, 2, 3].map((k) => logged(k, volume, events, k === failOn));
  const push = new SalesPush({ config, store, transports, format, logger: silentLogger() });
  const server = new MemoryTransport(volume);
  return { dir, config, store, events, push, server };
}

test('a backlog: all four connections log in before the first upload, every sale once under its name, its local copy the bytes sent', async () => {
  const { config, store, events, push, server } = setup(40);
  try {
    const r = await push.flush();
    assert.equal(r.sent, 40);
    const firstWrite = events.findIndex((e) => e.endsWith(':write'));
    assert.deepEqual(events.slice(0, firstWrite).filter((e) => e.endsWith(':mkdir')).sort(), ['0:mkdir', '1:mkdir', '2:mkdir', '3:mkdir'], 'the logins started together, before any upload');
    const names = (await server.list('/sales')).map((e) => e.name).sort();
    assert.deepEqual(names, Array.from({ length: 40 }, (_, i) => `box-1_S${String(i + 1).padStart(4, '0')}.txt`), 'each sale once, no temp name');
    for (const i of [1, 17, 40]) {
      const name = `box-1_S${String(i).padStart(4, '0')}.txt`;
      const copy = readFileSync(join(config.dataDir, 'archive', 'sales', `2025-03-0${1 + (i % 3)}`, name), 'utf8');
      assert.equal(copy, `S${String(i).padStart(4, '0')};3100\n`, 'the local copy is the bytes sent');
      assert.equal(Buffer.concat(await server.read(`/sales/${name}`).toArray()).toString('utf8'), copy);
    }
    assert.equal(store.journal.countPending(), 0);
  } finally {
    store.close();
  }
});

test('a backlog tells the transport another upload follows (`more`) except in its last round: one file per connection', async () => {
  const { dir, config, store } = setup(20);
  const volume = config.server.replace('memory://', '');
  const hints = new Map<string, boolean>();
  const hinting = () =>
    new Proxy(new MemoryTransport(volume), {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv) as unknown;
        if (prop !== 'write' || typeof v !== 'function') return v;
        return (path: string, data: unknown, opts?: { more?: boolean }) => {
          hints.set(path.slice(path.lastIndexOf('/') + 1), opts?.more === true);
          return (v as (...a: unknown[]) => unknown).call(target, path, data, opts);
        };
      },
    }) as Transport;
  try {
    const push = new SalesPush({ config, store, transports: [0, 1, 2, 3].map(hinting), format, logger: silentLogger() });
    assert.equal((await push.flush()).sent, 20);
    const name = (i: number) => `.box-1_S${String(i).padStart(4, '0')}.txt.part`;
    // the lanes take the sales in order: after sale i, 20 - i are left for 4 lanes
    assert.deepEqual([...hints].sort(), Array.from({ length: 20 }, (_, i) => [name(i + 1), i + 1 <= 16] as [string, boolean]).sort());
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a connection that cannot log in fails its lane only: the others send the whole backlog, then its error is thrown', async () => {
  const { store, push, server } = setup(40, 2);
  try {
    await assert.rejects(push.flush(), (e: Error) => e instanceof TransportError && /connection 2: login refused/.test(e.message));
    assert.equal((await server.list('/sales')).length, 40, 'the other three sent every sale');
    assert.equal(store.journal.countPending(), 0, 'and marked each sent');
  } finally {
    store.close();
  }
});

/** open descriptors of this process (Linux) */
const openFds = () => readdirSync('/proc/self/fd').length;

/** a memory:// connection whose writes fail (Unavailable) from the `from`-th one on, `count` times */
function failingWrites(volume: string, from: number, count = Infinity): Transport & { writes: number } {
  const state = { writes: 0 };
  return new Proxy(new MemoryTransport(volume), {
    get(target, prop, recv) {
      if (prop === 'writes') return state.writes;
      const v = Reflect.get(target, prop, recv) as unknown;
      if (prop !== 'write' || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const n = ++state.writes;
        if (n >= from && n < from + count) throw new TransportError('Unavailable', 'connection 3: reset by peer');
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as unknown as Transport & { writes: number };
}

/** a push on four connections to setup's volume: three that work and `fourth` */
function withFourth(config: ReturnType<typeof setup>['config'], store: Store, fourth: Transport): SalesPush {
  const volume = new URL(config.server).host;
  return new SalesPush({ config, store, transports: [0, 1, 2].map(() => new MemoryTransport(volume) as Transport).concat(fourth), format, logger: silentLogger() });
}

test('an upload failing mid-backlog: every other sale sent and recorded with its copy on disk, the failed one pending, no copy descriptor left open', async () => {
  // setup's own push is not used: this one's connection 3 fails from its 5th upload on (the
  // server is gone for it: the one new login after the lost session fails too)
  const { config, store, server } = setup(60);
  const volume = new URL(config.server).host;
  const failing = failingWrites(volume, 5);
  const fdsBefore = openFds();
  const push4 = withFourth(config, store, failing);
  try {
    await assert.rejects(push4.flush(), (e: TransportError) => /connection 3: reset by peer/.test(e.message) && e.details.sent === 59 && e.details.pending === 60 && e.details.left === 1);
    assert.equal(failing.writes, 6, 'one upload again after the lost session, then the lane stopped');
    const names = (await server.list('/sales')).map((e) => e.name);
    assert.equal(names.filter((n) => !n.startsWith('.')).length, 59, 'the three other lanes sent the rest');
    const pending = store.journal.pendingOutbox(100);
    assert.equal(pending.length, 1, 'only the failed sale is pending');
    const failed = `box-1_${pending[0]!.saleId}.txt`;
    assert.ok(!names.includes(failed));
    for (const n of names.filter((x) => !x.startsWith('.'))) {
      const day = `2025-03-0${1 + (Number(n.slice(7, 11)) % 3)}`;
      assert.equal(readFileSync(join(config.dataDir, 'archive', 'sales', day, n), 'utf8'), `${n.slice(6, 11)};3100\n`, `${n}: its local copy`);
    }
    // copies written ahead and never uploaded are closed once their writes finish
    for (let i = 0; i < 200 && openFds() > fdsBefore; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(openFds(), fdsBefore, 'no descriptor of a local copy or a day dir left open');
  } finally {
    store.close();
  }
});

test('a session the server ends mid-backlog: the lane logs in again and sends the same file again; every sale once, none pending', async () => {
  const { config, store, server } = setup(60);
  const failing = failingWrites(new URL(config.server).host, 5, 1);
  const push4 = withFourth(config, store, failing);
  try {
    const r = await push4.flush();
    assert.equal(r.sent, 60);
    assert.equal(r.failed, 0);
    assert.equal(r.reconnects, 1);
    const names = (await server.list('/sales')).map((e) => e.name).sort();
    assert.deepEqual(names, Array.from({ length: 60 }, (_, i) => `box-1_S${String(i + 1).padStart(4, '0')}.txt`), 'each sale once under its name, no temp file left');
    assert.equal(store.journal.countPending(), 0);
  } finally {
    store.close();
  }
});

test('a server that ends every session at once: the lane fails without logging in again and again', async () => {
  const { config, store } = setup(20);
  const failing = failingWrites(new URL(config.server).host, 1);
  const push4 = withFourth(config, store, failing);
  try {
    await assert.rejects(push4.flush(), /connection 3: reset by peer/);
    assert.equal(failing.writes, 1, 'no new login after a session that sent nothing');
    assert.equal(store.journal.countPending(), 1);
  } finally {
    store.close();
  }
});

test('a push stopped mid-backlog: the sales sent are recorded, the rest pending, the copies written ahead closed', async () => {
  const { config, store } = setup(60);
  // uploads that take a macrotask, as a real server's do: the look-ahead writes copies meanwhile
  const volume = new URL(config.server).host;
  const slow = () =>
    new Proxy(new MemoryTransport(volume), {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv) as unknown;
        if (prop !== 'write' || typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          await new Promise((res) => setTimeout(res, 1));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Transport;
  const push = new SalesPush({ config, store, transports: [slow(), slow(), slow(), slow()], format, logger: silentLogger() });
  const fdsBefore = openFds();
  const stop = new AbortController();
  push.onProgress = (p) => {
    if (p.done === 10) stop.abort();
  };
  try {
    const r = await push.flush(100_000, { stop: stop.signal });
    assert.ok(r.sent >= 10 && r.sent < 60, `stopped early: ${r.sent}`);
    assert.equal(store.journal.pendingOutbox(100).length, 60 - r.sent, 'every sale sent is recorded, the others pending');
    for (let i = 0; i < 200 && openFds() > fdsBefore; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(openFds(), fdsBefore, 'no descriptor of a copy written ahead left open');
  } finally {
    store.close();
  }
});

// /dev/shm (tmpfs): a sync costs < 1 µs there, so the groups' fdatasync/fsync calls run on the main thread
test('a backlog on tmpfs: its copies synced on the main thread, every sale once with its copy, recorded, no descriptor left open', { skip: !existsSync('/dev/shm') && 'no /dev/shm' }, async () => {
  const { dir, config, store, push, server } = setup(120, undefined, '/dev/shm');
  const fdsBefore = openFds();
  try {
    const r = await push.flush();
    assert.equal(r.sent, 120);
    assert.equal((push as unknown as { syncCost: { measured: number } }).syncCost.measured > 0, true, 'syncs made on the main thread');
    const names = (await server.list('/sales')).map((e) => e.name).sort();
    assert.deepEqual(names, Array.from({ length: 120 }, (_, i) => `box-1_S${String(i + 1).padStart(4, '0')}.txt`));
    for (let i = 1; i <= 120; i++) {
      const name = `box-1_S${String(i).padStart(4, '0')}.txt`;
      assert.equal(readFileSync(join(config.dataDir, 'archive', 'sales', `2025-03-0${1 + (i % 3)}`, name), 'utf8'), `S${String(i).padStart(4, '0')};3100\n`);
    }
    assert.equal(store.journal.countPending(), 0);
    // the day dirs' descriptors are closed in the thread pool once the push ended
    for (let i = 0; i < 200 && openFds() > fdsBefore; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(openFds(), fdsBefore, 'every copy descriptor closed, and the day dirs\'');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
