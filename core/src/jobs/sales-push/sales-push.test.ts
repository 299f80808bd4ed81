import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
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

function setup(n: number, failOn?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-push-'));
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
