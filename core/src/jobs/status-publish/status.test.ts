import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TransportError, type Sale } from '../../api/index.js';
import { configFromObject } from '../../config/index.js';
import { recordShiftClose } from '../../sales/intake.js';
import { Store } from '../../store/index.js';
import { applyAll, fullCatalog } from '../../store/test-fixtures.js';
import { MemoryTransport } from '../../testing/memory-transport.js';
import { fixedClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { lastErrorOf, STATUS_MAX_BYTES, StatusPublisher, statusBytes, statusWriteState, type StatusDoc } from './status.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-status-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function text(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
}

function sale(k: number, day: string, shift: number, receiptNo: number): Sale {
  return { saleId: `S${k}`, terminalId: 't1', time: `${day}T10:0${k % 10}:00+02:00`, kind: 'sale', shift, receiptNo, lines: [{ code: '1001', qty: 1000, price: 500, amount: 500 }], payments: [{ kind: 'cash', amount: 500 }], total: 500 };
}

function setup() {
  const dir = join(root, `t${++n}`);
  const volume = `status-${n}`;
  MemoryTransport.reset(volume);
  const config = configFromObject({ role: 'terminal', terminal: 't1', server: `memory://${volume}`, dataDir: './data', status: { dir: '/fleet/{terminal}' } }, { baseDir: dir, env: {} });
  const store = Store.open(config.dataDir);
  const clock = fixedClock('2026-12-05T10:15:00.000Z');
  const transport = new MemoryTransport(volume);
  const publisher = new StatusPublisher({ config, store, transport, clock, logger: silentLogger() });
  return { config, store, clock, transport, publisher };
}

describe('status.publish: the cfx.status/1 file (docs/fleet.md)', () => {
  it('writes catalog, pending sales, shifts, served resends and the last error, as of the clock, seq one more each write', async () => {
    const { store, clock, transport, publisher } = setup();
    try {
      await applyAll(store, 'prices-0007.csv', 'full', fullCatalog);
      for (const [k, day, shift, no] of [[1, '2026-12-04', 11, 50], [2, '2026-12-05', 12, 101], [3, '2026-12-05', 12, 102], [4, '2026-12-05', 12, 104], [5, '2026-11-20', 3, 9]] as const) {
        const s = sale(k, day, shift, no);
        store.journal.recordSale(s, day, JSON.stringify(s));
      }
      store.journal.markSent('S1', 't1', 'server', 't1_S1.csv');
      recordShiftClose(store, 't1', { shift: 11, closedAt: '2026-12-04T22:00:00+02:00', lastReceiptNo: 50, totals: { cash: '5.00' } });
      store.shifts.recordServed({ request: 'resend-20261205-20261205.req', servedAt: '2026-12-05T10:14:59.000Z', from: '2026-12-05', to: '2026-12-05', sales: 3, receipts: [{ shift: 12, receiptNos: [101, 102, 104] }] });
      // a failed pull, later fine again (a heartbeat after it); a failed push still failing
      store.runs.addFinished('prices.pull', { result: 'failed', error: { code: 'CFX_E_TRANSPORT_UNAVAILABLE', message: 'down' } }, { startedAt: new Date('2026-12-05T10:00:00Z'), finishedAt: new Date('2026-12-05T10:00:01Z') });
      store.runs.recordContact('prices.pull', new Date('2026-12-05T10:05:00Z'));
      store.runs.addFinished('sales.push', { result: 'failed', error: { code: 'CFX_E_TRANSPORT_TIMEOUT', message: 'no answer' } }, { startedAt: new Date('2026-12-05T10:10:00Z'), finishedAt: new Date('2026-12-05T10:10:00Z') });

      const w = await publisher.publish();
      assert.deepEqual([w.path, w.seq], ['/fleet/t1/t1.status.json', 1]);
      assert.deepEqual(await transport.list('/fleet/t1').then((l) => l.map((e) => e.name)), ['t1.status.json'], 'no temp name left');
      const doc = JSON.parse(await text(transport.read('/fleet/t1/t1.status.json'))) as StatusDoc;
      const inbox = store.inbox.last()!;
      assert.deepEqual(doc, {
        format: 'cfx.status/1',
        terminal: 't1',
        seq: 1,
        writtenAt: '2026-12-05T10:15:00.000Z',
        cfxVersion: VERSION,
        catalog: { file: 'prices-0007.csv', sha256: 'sha-prices-0007.csv', appliedAt: inbox.appliedAt, products: 3 },
        sales: { pending: 4 + 1, journaled: 5, lastSaleAt: '2026-11-20T10:05:00+02:00' },
        shifts: [
          { shift: 11, lastReceiptNo: 50, closed: true },
          { shift: 12, lastReceiptNo: 104, closed: false },
        ],
        resends: [{ request: 'resend-20261205-20261205.req', servedAt: '2026-12-05T10:14:59.000Z', from: '2026-12-05', to: '2026-12-05', sales: 3, receipts: [{ shift: 12, receiptNos: [101, 102, 104] }] }],
        lastError: { at: '2026-12-05T10:10:00.000Z', job: 'sales.push', code: 'CFX_E_TRANSPORT_TIMEOUT', message: 'no answer' },
      });
      assert.deepEqual(statusWriteState(store), { written: { at: '2026-12-05T10:15:00.000Z', seq: 1, path: '/fleet/t1/t1.status.json', bytes: w.bytes } });

      // the push works again: no last error; the next write is seq 2 at the new time
      store.runs.addFinished('sales.push', { result: 'ok', files: 4 }, { startedAt: new Date('2026-12-05T10:16:00Z'), finishedAt: new Date('2026-12-05T10:16:01Z') });
      clock.set('2026-12-05T10:16:30.000Z');
      const w2 = await publisher.publish();
      const doc2 = JSON.parse(await text(transport.read(w2.path))) as StatusDoc;
      assert.deepEqual([doc2.seq, doc2.writtenAt, doc2.lastError], [2, '2026-12-05T10:16:30.000Z', null]);
    } finally {
      store.close();
    }
  });

  it('a failed write is kept for cfx status (and thrown), the next good one clears it; the seq is never reused', async () => {
    const { store, clock, transport, publisher } = setup();
    try {
      const write = transport.write.bind(transport);
      transport.write = async () => {
        throw new TransportError('Unavailable', 'connection refused');
      };
      await assert.rejects(publisher.publish(), /connection refused/);
      assert.deepEqual(statusWriteState(store), { error: { at: '2026-12-05T10:15:00.000Z', message: 'connection refused' } });
      transport.write = write;
      clock.advance(1000);
      const w = await publisher.publish();
      assert.equal(w.seq, 2);
      assert.deepEqual(statusWriteState(store), { written: { at: '2026-12-05T10:15:01.000Z', seq: 2, path: '/fleet/t1/t1.status.json', bytes: w.bytes } });
      const doc = JSON.parse(await text(transport.read(w.path))) as StatusDoc;
      assert.deepEqual([doc.catalog, doc.sales, doc.shifts, doc.resends], [null, { pending: 0, journaled: 0, lastSaleAt: null }, [], []]);
    } finally {
      store.close();
    }
  });

  it('stays under 64 KiB: the oldest served resends go first, then the oldest shifts', () => {
    const receipts = [{ shift: 1, receiptNos: Array.from({ length: 2000 }, (_, i) => 100000 + i) }];
    const resends = Array.from({ length: 20 }, (_, i) => ({ request: `r${i}`, servedAt: 'x', from: '2026-12-05', to: '2026-12-05', sales: 2000, receipts }));
    const doc: StatusDoc = { format: 'cfx.status/1', terminal: 't1', seq: 1, writtenAt: 'x', cfxVersion: '1', catalog: null, sales: { pending: 0, journaled: 0, lastSaleAt: null }, shifts: [{ shift: 1, lastReceiptNo: 5, closed: false }], resends, lastError: null };
    const bytes = statusBytes(doc);
    assert.ok(bytes.length <= STATUS_MAX_BYTES, `${bytes.length} bytes`);
    const back = JSON.parse(Buffer.from(bytes).toString()) as StatusDoc;
    // one resend is ~14 KB: four fit
    assert.deepEqual(back.resends.map((r) => r.request), ['r0', 'r1', 'r2', 'r3']);
    assert.deepEqual(back.shifts, doc.shifts);
  });

  it('lastError: the newest failed job whose later run or heartbeat did not succeed', () => {
    const run = (id: number, job: string, result: 'ok' | 'failed' | 'running', at: string) => ({ id, job, result, startedAt: at, finishedAt: at, files: 0, bytes: 0, ...(result === 'failed' ? { error: { code: 'C', message: `${job} ${id}` } } : {}) });
    const runs = [run(5, 'prices.pull', 'running', 't5'), run(4, 'prices.pull', 'failed', 't4'), run(3, 'sales.push', 'ok', 't3'), run(2, 'sales.push', 'failed', 't2'), run(1, 'status.publish', 'failed', 't1')];
    assert.deepEqual(lastErrorOf(runs, {}), { at: 't4', job: 'prices.pull', code: 'C', message: 'prices.pull 4' });
    assert.equal(lastErrorOf(runs, { 'prices.pull': 't4x' }), null, 'a heartbeat after the failure');
  });
});
