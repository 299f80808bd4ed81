import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCodes, type Format, type Sale, type Transport } from '../../api/index.js';
import { configFromObject } from '../../config/index.js';
import { Store } from '../../store/index.js';
import { MemoryTransport } from '../../testing/memory-transport.js';
import { fixedClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { StatusPublisher } from '../status-publish/status.js';
import { FleetCollect } from './fleet.js';
import { SalesCollect } from './sales-collect.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-fleet-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** one sale per file, as JSON */
const jsonFormat: Format = {
  id: 'json',
  extension: 'json',
  async *decodeSales(input: Readable) {
    let text = '';
    for await (const c of input) text += String(c);
    yield JSON.parse(text) as Sale;
  },
};

const sale = (receiptNo: number, kind: Sale['kind'] = 'sale', amount = 1000, pay: 'cash' | 'card' = 'cash'): Sale => ({
  saleId: `S${receiptNo}`,
  terminalId: 'box-1',
  shift: 12,
  receiptNo,
  time: `2026-12-05T1${receiptNo % 10}:00:00+02:00`,
  kind,
  lines: [{ code: '1', qty: 1000, price: amount, amount }],
  payments: [{ kind: pay, amount }],
  total: amount,
});

const statusOf = (seq: number, writtenAt: string, more: Record<string, unknown> = {}) =>
  JSON.stringify({ format: 'cfx.status/1', terminal: 'box-1', seq, writtenAt, cfxVersion: '1.4.0', catalog: null, sales: { pending: 0 }, shifts: [], resends: [], lastError: null, ...more });

function env() {
  const dir = join(root, `o${++n}`);
  const volume = `fleet-${n}`;
  const config = configFromObject(
    { role: 'office', server: `memory://${volume}`, terminals: ['box-1'], dataDir: './data', sales: { dir: '/sales/{terminal}', format: 'json' }, prices: { dir: '/in/{terminal}' }, status: { dir: '/status' } },
    { baseDir: dir, env: {} },
  );
  const store = Store.open(config.dataDir);
  const remote = new MemoryTransport(volume);
  const clock = fixedClock('2026-12-05T10:00:00.000Z');
  const collect = new SalesCollect({ config, store, transport: remote, format: jsonFormat, logger: silentLogger() });
  const fleet = new FleetCollect({ config, store, transport: remote, logger: silentLogger(), clock });
  const put = async (path: string, text: string) => {
    await remote.mkdir(path.slice(0, path.lastIndexOf('/')));
    await remote.write(path, Buffer.from(text));
  };
  const names = async (dir: string) => (await remote.list(dir).catch(() => [])).map((e) => e.name).sort();
  return { config, store, remote, clock, collect, fleet, put, names, close: () => store.close() };
}

describe('fleet: status files', () => {
  it('missing is "never seen"; bad JSON, a wrong terminal or more than 64 KiB is a warning; a newer seq (or a newer writtenAt) replaces the last one', async () => {
    const e = env();
    try {
      assert.deepEqual(await e.fleet.readStatus('box-1'), { terminal: 'box-1', result: 'missing' });
      await e.put('/status/box-1.status.json', '{"format":"cfx.status/1",');
      const bad = await e.fleet.readStatus('box-1');
      assert.deepEqual([bad.result, bad.field], ['warning', '(file)']);
      await e.put('/status/box-1.status.json', statusOf(1, '2026-12-05T10:00:00.000Z').replace('"terminal":"box-1"', '"terminal":"box-2"'));
      assert.deepEqual([(await e.fleet.readStatus('box-1')).field], ['terminal']);
      await e.put('/status/box-1.status.json', statusOf(1, '2026-12-05T10:00:00.000Z', { pad: 'x'.repeat(70_000) }));
      assert.match((await e.fleet.readStatus('box-1')).message ?? '', /larger than 65536 bytes/);
      assert.equal(e.store.fleet.lastStatus('box-1'), undefined, 'nothing kept of a bad file');

      await e.put('/status/box-1.status.json', statusOf(5, '2026-12-05T09:59:50.000Z'));
      assert.equal((await e.fleet.readStatus('box-1')).result, 'read');
      assert.deepEqual([e.store.fleet.lastStatus('box-1')!.seq, e.store.fleet.lastStatus('box-1')!.readAt], [5, '2026-12-05T10:00:00.000Z']);
      e.clock.advance(60_000);
      assert.equal((await e.fleet.readStatus('box-1')).result, 'unchanged');
      assert.equal(e.store.fleet.lastStatus('box-1')!.readAt, '2026-12-05T10:00:00.000Z', 'an unchanged file does not make the terminal seen again');
      // reinstalled: seq starts again at 1, a newer writtenAt still counts
      await e.put('/status/box-1.status.json', statusOf(1, '2026-12-05T10:00:55.000Z'));
      assert.equal((await e.fleet.readStatus('box-1')).result, 'read');
      assert.deepEqual([e.store.fleet.lastStatus('box-1')!.seq, e.store.fleet.lastStatus('box-1')!.readAt], [1, '2026-12-05T10:01:00.000Z']);
      assert.deepEqual(await e.names('/status'), ['box-1.status.json'], 'a status file is never deleted');
    } finally {
      e.close();
    }
  });
  it("a relative status.dir is taken from the server's root on both sides: the office reads where the terminal wrote, whatever its login dir", async () => {
    // an account that is not chrooted (SFTP): a relative path is resolved against its home dir
    const HOME = '/home/cfx';
    const volume = `fleet-rel-${++n}`;
    MemoryTransport.reset(volume);
    const mem = new MemoryTransport(volume);
    const abs = (p: string) => (p.startsWith('/') ? p : `${HOME}/${p}`);
    const loginRelative: Transport = {
      list: (d, o) => mem.list(abs(d), o),
      read: (p, o) => mem.read(abs(p), o),
      write: (p, data, o) => mem.write(abs(p), data, o),
      rename: (a, b, o) => mem.rename(abs(a), abs(b), o),
      delete: (p, o) => mem.delete(abs(p), o),
      mkdir: (p, o) => mem.mkdir(abs(p), o),
      close: () => mem.close(),
    };
    const dir = join(root, `rel${n}`);
    const common = { server: `memory://${volume}`, dataDir: './data', status: { dir: 'status/{terminal}' } };
    const tConfig = configFromObject({ ...common, role: 'terminal', terminal: 'box-1' }, { baseDir: join(dir, 't'), env: {} });
    const oConfig = configFromObject({ ...common, role: 'office', terminals: ['box-1'], sales: { dir: '/sales/{terminal}', format: 'json' }, prices: { dir: '/in/{terminal}' } }, { baseDir: join(dir, 'o'), env: {} });
    const tStore = Store.open(tConfig.dataDir);
    const oStore = Store.open(oConfig.dataDir);
    try {
      const clock = fixedClock('2026-12-05T10:00:00.000Z');
      const written = await new StatusPublisher({ config: tConfig, store: tStore, transport: loginRelative, clock, logger: silentLogger() }).publish();
      assert.equal(written.path, '/status/box-1/box-1.status.json');
      const fleet = new FleetCollect({ config: oConfig, store: oStore, transport: loginRelative, logger: silentLogger(), clock });
      assert.equal(fleet.statusDir('box-1'), '/status/box-1');
      assert.deepEqual(await fleet.readStatus('box-1'), { terminal: 'box-1', result: 'read' });
      assert.equal(oStore.fleet.lastStatus('box-1')!.seq, 1);
    } finally {
      tStore.close();
      oStore.close();
    }
  });
});

describe('fleet: shift close files', () => {
  const shiftFile = (more: Record<string, unknown> = {}) =>
    JSON.stringify({ format: 'cfx.shift/1', terminal: 'box-1', shift: 12, closedAt: '2026-12-05T20:00:00+02:00', firstReceiptNo: 101, lastReceiptNo: 105, totals: { cash: 3000, card: 2000 }, ...more });

  it('taken like a sale file: stored once, archived, deleted; a repeat is not stored again; different content is quarantined (field shift)', async () => {
    const e = env();
    try {
      await e.put('/sales/box-1/box-1_shift-12.shift.json', shiftFile());
      const r = await e.collect.cycle();
      assert.deepEqual(r.files.map((f) => [f.name, f.result, f.result === 'shift' ? f.stored : undefined]), [['box-1_shift-12.shift.json', 'shift', true]]);
      assert.equal(r.shifts, 1);
      assert.deepEqual(await e.names('/sales/box-1'), []);
      const [s] = e.store.fleet.shifts('box-1');
      assert.deepEqual([s!.shift, s!.firstReceiptNo, s!.lastReceiptNo, s!.totals, s!.localDate], [12, 101, 105, { cash: 3000, card: 2000 }, '2026-12-05']);

      await e.put('/sales/box-1/box-1_shift-12.shift.json', shiftFile());
      const again = await e.collect.cycle();
      assert.deepEqual(again.files.map((f) => [f.result, f.result === 'shift' ? f.stored : undefined]), [['shift', false]]);

      await e.put('/sales/box-1/box-1_shift-12.shift.json', shiftFile({ totals: { cash: 1 } }));
      const conflict = await e.collect.cycle();
      const q = conflict.files[0]!;
      assert.equal(q.result, 'quarantined');
      assert.deepEqual(q.result === 'quarantined' ? [q.reason.field, q.reason.code] : [], ['shift', ErrorCodes.SHIFT_CONFLICT]);
      assert.deepEqual(e.store.fleet.shifts('box-1')[0]!.totals, { cash: 3000, card: 2000 }, 'the first close is kept');
    } finally {
      e.close();
    }
  });

  it('a bad field or another terminal in the file: quarantined with the field named, nothing stored', async () => {
    const e = env();
    try {
      await e.put('/sales/box-1/box-1_shift-1.shift.json', shiftFile({ shift: 1, totals: { cash: '30.00' } }));
      await e.put('/sales/box-1/box-1_shift-2.shift.json', shiftFile({ shift: 2, terminal: 'box-2' }));
      await e.put('/sales/box-1/box-1_shift-3.shift.json', shiftFile({ shift: 3, closedAt: '2026-12-05 20:00' }));
      const r = await e.collect.cycle();
      assert.deepEqual(
        r.files.map((f) => [f.name, f.result, f.result === 'quarantined' ? f.reason.field : '']),
        [
          ['box-1_shift-1.shift.json', 'quarantined', 'totals.cash'],
          ['box-1_shift-2.shift.json', 'quarantined', 'terminal'],
          ['box-1_shift-3.shift.json', 'quarantined', 'closedAt'],
        ],
      );
      assert.equal(r.quarantined, 3);
      assert.deepEqual(e.store.fleet.shifts('box-1'), []);
      assert.deepEqual(await e.names('/sales/box-1/rejected'), ['box-1_shift-1.shift.json', 'box-1_shift-2.shift.json', 'box-1_shift-3.shift.json']);
    } finally {
      e.close();
    }
  });
});

describe('fleet: receipt gaps', () => {
  it('a missing receipt is asked for at once, again after 10m, 20m, 40m (fixed clock); closes when the sale arrives', async () => {
    const e = env();
    try {
      for (const no of [101, 102, 104, 105]) await e.put(`/sales/box-1/box-1_S${no}.json`, JSON.stringify(sale(no)));
      await e.collect.cycle();
      const first = await e.fleet.cycle();
      assert.deepEqual([first.gaps.opened, first.gaps.requests], [1, [{ terminal: 'box-1', request: 'resend-20261205-20261205.req', gaps: ['12/103'] }]]);
      assert.deepEqual(await e.names('/in/box-1'), ['resend-20261205-20261205.req']);
      const g = () => e.store.fleet.gaps('box-1')[0]!;
      assert.deepEqual([g().state, g().requests, g().lastRequestAt, g().nextRequestAt], ['requested', 1, '2026-12-05T10:00:00.000Z', '2026-12-05T10:10:00.000Z']);

      // the terminal took the request; asked again only when due
      await e.remote.delete('/in/box-1/resend-20261205-20261205.req');
      const asked: string[] = [];
      for (const minutes of [9, 1, 19, 1, 39, 1]) {
        e.clock.advance(minutes * 60_000);
        const r = await e.fleet.cycle();
        if (r.gaps.requests.length) {
          asked.push(e.clock.now().toISOString().slice(11, 16));
          await e.remote.delete('/in/box-1/resend-20261205-20261205.req');
        }
      }
      assert.deepEqual(asked, ['10:10', '10:30', '11:10']);
      assert.deepEqual([g().requests, g().nextRequestAt], [4, '2026-12-05T12:30:00.000Z']);

      await e.put('/sales/box-1/box-1_S103.json', JSON.stringify(sale(103)));
      await e.collect.cycle();
      const closed = await e.fleet.cycle();
      assert.deepEqual([closed.gaps.closed, g().state, g().endedAt], [1, 'closed', '2026-12-05T11:10:00.000Z']);
      e.clock.advance(6 * 3600_000);
      assert.deepEqual((await e.fleet.cycle()).gaps.requests, [], 'a closed gap is never asked for');
    } finally {
      e.close();
    }
  });

  it("lost at the till once the terminal's status shows the served request without the number; no more requests; a late arrival still closes it", async () => {
    const e = env();
    try {
      for (const no of [101, 102, 104, 105]) await e.put(`/sales/box-1/box-1_S${no}.json`, JSON.stringify(sale(no)));
      await e.collect.cycle();
      await e.fleet.cycle();
      e.clock.advance(60_000);
      const served = { request: 'resend-20261205-20261205.req', servedAt: '2026-12-05T10:00:30.000Z', from: '2026-12-05', to: '2026-12-05', sales: 4, receipts: [{ shift: 12, receiptNos: [101, 102, 104, 105] }] };
      await e.put('/status/box-1.status.json', statusOf(2, '2026-12-05T10:00:59.000Z', { resends: [served] }));
      const r = await e.fleet.cycle();
      assert.deepEqual([r.gaps.lost, e.store.fleet.gaps('box-1')[0]!.state], [1, 'lost']);
      e.clock.advance(24 * 3600_000);
      assert.deepEqual((await e.fleet.cycle()).gaps.requests, []);
      await e.put('/sales/box-1/box-1_S103.json', JSON.stringify(sale(103)));
      await e.collect.cycle();
      assert.equal((await e.fleet.cycle()).gaps.closed, 1);
      assert.equal(e.store.fleet.gaps('box-1')[0]!.state, 'closed');
    } finally {
      e.close();
    }
  });

  it("up to a shift close's last receipt: the missing tail is asked for over the close's date", async () => {
    const e = env();
    try {
      for (const no of [101, 102]) await e.put(`/sales/box-1/box-1_S${no}.json`, JSON.stringify(sale(no)));
      await e.put('/sales/box-1/box-1_shift-12.shift.json', JSON.stringify({ format: 'cfx.shift/1', terminal: 'box-1', shift: 12, closedAt: '2026-12-06T01:00:00+02:00', lastReceiptNo: 104, totals: { cash: 4000 } }));
      await e.collect.cycle();
      const r = await e.fleet.cycle();
      assert.deepEqual(r.gaps.requests, [{ terminal: 'box-1', request: 'resend-20261205-20261206.req', gaps: ['12/103', '12/104'] }]);
    } finally {
      e.close();
    }
  });
});
