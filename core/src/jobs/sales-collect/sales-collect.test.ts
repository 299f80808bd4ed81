import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCodes, FormatError, TransportError, type BackOffice, type DeliverOptions, type Format, type Sale } from '../../api/index.js';
import { configFromObject } from '../../config/index.js';
import type { CfxConfig } from '../../config/types.js';
import { Store } from '../../store/index.js';
import { MemoryTransport } from '../../testing/memory-transport.js';
import { silentLogger } from '../../util/logger.js';
import { canonicalJson, SalesCollect } from './sales-collect.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-collect-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** a tiny sale format for the tests: the file is a JSON array of sales; a bad one names its line (1-based index) and field */
const jsonFormat: Format = {
  id: 'json',
  extension: 'json',
  async *decodeSales(input: Readable, ctx) {
    // {"open": true}: not complete yet; {"bad": ...}: a part to set aside when the core takes parts
    const incomplete = (list: unknown[]) => list.some((s) => (s as { open?: boolean }).open);
    let text = '';
    for await (const c of input) text += String(c);
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (e) {
      throw new FormatError(`not JSON: ${(e as Error).message}`, { file: ctx.fileName, line: 1 });
    }
    if (!Array.isArray(list) || list.length === 0) throw new FormatError('the file holds no sale', { file: ctx.fileName });
    if (incomplete(list)) throw new FormatError('a sale is still open', { file: ctx.fileName }, { code: ErrorCodes.FORMAT_INCOMPLETE });
    for (const [i, s] of list.entries()) {
      if ((s as { bad?: unknown }).bad !== undefined && ctx.reject) {
        ctx.reject({ label: `sale ${i + 1}`, error: new FormatError('a bad sale', { file: ctx.fileName, line: i + 1, field: 'bad' }), content: Buffer.from(JSON.stringify(s)) });
        continue;
      }
      if (typeof (s as Sale).total !== 'number') throw new FormatError('total is not a number', { file: ctx.fileName, line: i + 1, field: 'total' });
      yield s as Sale;
    }
  },
};

function sale(terminalId: string, saleId: string, total: number, day = '2025-03-15'): Sale {
  return { saleId, terminalId, time: `${day}T10:00:00+02:00`, kind: 'sale', lines: [{ code: '1', qty: 1000, price: total, amount: total }], payments: [{ kind: 'cash', amount: total }], total };
}

class RecordingBackOffice implements BackOffice {
  id = 'rec';
  calls: { terminal: string; saleIds: string[]; batchId: string | undefined }[] = [];
  failNext = 0;
  async deliverSales(terminal: string, sales: Sale[], opts?: DeliverOptions): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('back office folder not writable');
    }
    this.calls.push({ terminal, saleIds: sales.map((s) => s.saleId), batchId: opts?.batchId });
  }
}

interface Env {
  config: CfxConfig;
  store: Store;
  remote: MemoryTransport;
  bo: RecordingBackOffice;
  job: (transport?: MemoryTransport) => SalesCollect;
}

function env(extra: Record<string, unknown> = {}): Env {
  const dir = join(root, `o${++n}`);
  const volume = `collect-${n}`;
  const config = configFromObject({ role: 'office', server: `memory://${volume}`, terminals: ['box-1', 'box-2'], dataDir: './data', sales: { dir: '/sales', format: 'json' }, ...extra }, { baseDir: dir, env: {} });
  const store = Store.open(config.dataDir);
  const remote = new MemoryTransport(volume);
  const bo = new RecordingBackOffice();
  return { config, store, remote, bo, job: (t = remote) => new SalesCollect({ config, store, transport: t, format: jsonFormat, logger: silentLogger(), backoffice: bo }) };
}

async function put(t: MemoryTransport, path: string, content: unknown): Promise<void> {
  await t.mkdir(path.slice(0, path.lastIndexOf('/')) || '/');
  await t.write(path, Buffer.from(typeof content === 'string' ? content : JSON.stringify(content)));
}

const names = async (t: MemoryTransport, dir: string) => (await t.list(dir)).map((e) => `${e.name}${e.type === 'dir' ? '/' : ''}`).sort();

describe('SalesCollect', () => {
  let e: Env;
  beforeEach(() => {
    e?.store.close();
    e = env();
  });
  after(() => e?.store.close());

  it('a missing sales dir is nothing to do', async () => {
    const r = await e.job().cycle();
    assert.deepEqual([r.dirs, r.files, r.stored], [['/sales'], [], 0]);
  });

  it('collects complete files by name, skips temp names, archives each, deletes it on the server', async () => {
    await put(e.remote, '/sales/box-2_S2.json', [sale('box-2', 'S2', 200)]);
    await put(e.remote, '/sales/box-1_S1.json', [sale('box-1', 'S1', 100)]);
    await put(e.remote, '/sales/.box-1_S3.json.part', 'half a file');
    await e.remote.mkdir('/sales/rejected');
    const r = await e.job().cycle();
    assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['box-1_S1.json', 'collected'], ['box-2_S2.json', 'collected']]);
    assert.deepEqual([r.sales, r.stored, r.duplicates, r.quarantined], [2, 2, 0, 0]);
    assert.deepEqual(await names(e.remote, '/sales'), ['.box-1_S3.json.part', 'rejected/']);
    const f = r.files[0] as { archived: string };
    assert.match(f.archived, /archive\/sales-in\/\d{4}-\d{2}-\d{2}\/box-1_S1\.json$/);
    assert.deepEqual(JSON.parse(readFileSync(f.archived, 'utf8')), [sale('box-1', 'S1', 100)]);
    const c = e.store.getCollected('box-1', 'S1')!;
    assert.equal(c.body, canonicalJson(sale('box-1', 'S1', 100)));
    assert.equal(c.localDate, '2025-03-15');
    assert.deepEqual(readdirSync(join(e.config.dataDir, 'staging')), [], 'staging is empty afterwards');
  });

  it('a resent file is counted as duplicate, archived, deleted and not delivered again', async () => {
    await put(e.remote, '/sales/box-1_S1.json', [sale('box-1', 'S1', 100)]);
    await e.job().cycle();
    const d1 = await e.job().deliver();
    assert.deepEqual(d1.batches.map((b) => [b.terminal, b.sales, b.kind, b.resumed]), [['box-1', 1, 'new', false]]);
    await put(e.remote, '/sales/box-1_S1.json', [sale('box-1', 'S1', 100)]);
    const r = await e.job().cycle();
    assert.deepEqual([r.stored, r.duplicates], [0, 1]);
    assert.deepEqual(await names(e.remote, '/sales'), []);
    const d2 = await e.job().deliver();
    assert.deepEqual(d2.batches, []);
    assert.equal(e.bo.calls.length, 1);
  });

  it('quarantines a malformed file with file, line and field; moves it to rejected/; the rest is collected', async () => {
    await put(e.remote, '/sales/box-1_A.json', [sale('box-1', 'A', 1), { ...sale('box-1', 'B', 2), total: '2,00' }]);
    await put(e.remote, '/sales/box-1_C.json', [sale('box-1', 'C', 3)]);
    const r = await e.job().cycle();
    assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['box-1_A.json', 'quarantined'], ['box-1_C.json', 'collected']]);
    const q = r.files[0] as { reason: Record<string, unknown>; quarantined: string };
    assert.deepEqual([q.reason.file, q.reason.line, q.reason.field], ['box-1_A.json', 2, 'total']);
    const reason = JSON.parse(readFileSync(`${q.quarantined}.reason.json`, 'utf8'));
    assert.deepEqual([reason.file, reason.line, reason.field, reason.remote], ['box-1_A.json', 2, 'total', '/sales/box-1_A.json']);
    assert.ok(existsSync(q.quarantined), 'the bad file is kept locally');
    assert.equal(e.store.getCollected('box-1', 'A'), undefined, 'nothing of the bad file is stored');
    assert.deepEqual(await names(e.remote, '/sales'), ['rejected/']);
    assert.deepEqual(await names(e.remote, '/sales/rejected'), ['box-1_A.json']);
    assert.deepEqual(e.store.listQuarantine().map((x) => [x.job, x.fileName, x.remotePath]), [['sales.collect', 'box-1_A.json', '/sales/rejected/box-1_A.json']]);
  });

  it('input the format says is not complete yet (FORMAT_INCOMPLETE) stays on the server, nothing stored; read again once complete', async () => {
    await put(e.remote, '/sales/box-1_R.json', [sale('box-1', 'R1', 1), { ...sale('box-1', 'R2', 2), open: true }]);
    const r = await e.job().cycle();
    assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['box-1_R.json', 'waiting']]);
    assert.match((r.files[0] as { reason: string }).reason, /still open/);
    assert.deepEqual([r.stored, r.quarantined], [0, 0]);
    assert.deepEqual(await names(e.remote, '/sales'), ['box-1_R.json'], 'never deleted unread');
    assert.equal(e.store.getCollected('box-1', 'R1'), undefined);
    assert.deepEqual(readdirSync(join(e.config.dataDir, 'staging')), []);
    await put(e.remote, '/sales/box-1_R.json', [sale('box-1', 'R1', 1), sale('box-1', 'R2', 2)]);
    const again = await e.job().cycle();
    assert.deepEqual([again.files[0]!.result, again.stored], ['collected', 2]);
    assert.deepEqual(await names(e.remote, '/sales'), []);
  });

  it('a part the format sets aside is quarantined on its own; the other sales of the file are collected; once, also when the file is read again', async () => {
    const content = [sale('box-1', 'P1', 1), { bad: 'empty document' }, sale('box-1', 'P3', 3)];
    await put(e.remote, '/sales/box-1_P.json', content);
    const r = await e.job().cycle();
    assert.deepEqual([r.files[0]!.result, r.stored, r.quarantined], ['collected', 2, 1]);
    const parts = (r.files[0] as { rejectedParts: { part: string; reason: Record<string, unknown>; quarantined: string }[] }).rejectedParts;
    assert.deepEqual(parts.map((p) => [p.part, p.reason.file, p.reason.line, p.reason.field]), [['sale 2', 'box-1_P.json', 2, 'bad']]);
    assert.equal(readFileSync(parts[0]!.quarantined, 'utf8'), '{"bad":"empty document"}');
    assert.equal(JSON.parse(readFileSync(`${parts[0]!.quarantined}.reason.json`, 'utf8')).part, 'sale 2');
    assert.deepEqual(e.store.listQuarantine().map((q) => [q.job, q.fileName]), [['sales.collect', 'box-1_P.json#sale 2']]);
    assert.deepEqual(await names(e.remote, '/sales'), [], 'the file is collected: archived and deleted');
    // the same file again (a resend, or a crash before the delete): no second quarantine row
    await put(e.remote, '/sales/box-1_P.json', content);
    const again = await e.job().cycle();
    assert.deepEqual([again.stored, again.duplicates, again.quarantined], [0, 2, 1]);
    assert.equal(e.store.listQuarantine().length, 1);
  });

  it('quarantines a sale whose terminal does not match the file name or is not served, and a conflicting saleId', async () => {
    await put(e.remote, '/sales/box-1_X.json', [sale('box-2', 'X', 1)]);
    await put(e.remote, '/sales/box-9_Y.json', [sale('box-9', 'Y', 1)]);
    await put(e.remote, '/sales/box-1_Z.json', [sale('box-1', 'Z', 1)]);
    await e.job().cycle();
    await put(e.remote, '/sales/box-1_Z.json', [sale('box-1', 'Z', 999)]);
    const r = await e.job().cycle();
    const all = [...readdirSync(join(e.config.dataDir, 'quarantine'))].filter((f) => f.endsWith('.reason.json')).map((f) => JSON.parse(readFileSync(join(e.config.dataDir, 'quarantine', f), 'utf8')));
    const byFile = Object.fromEntries(all.map((x) => [x.file, x]));
    assert.equal(byFile['box-1_X.json'].field, 'terminal');
    assert.match(byFile['box-1_X.json'].message, /terminal box-2, but the file name does not start with "box-2_"/);
    assert.match(byFile['box-9_Y.json'].message, /box-9 is not one of this office's terminals \(box-1, box-2\)/);
    assert.equal(byFile['box-1_Z.json'].code, 'CFX_E_SALE_CONFLICT');
    assert.equal(byFile['box-1_Z.json'].saleId, 'Z');
    assert.deepEqual(r.files.map((f) => f.result), ['quarantined']);
    assert.equal(e.store.getCollected('box-1', 'Z')!.total, 1, 'the first one is kept');
    assert.deepEqual(await names(e.remote, '/sales/rejected'), ['box-1_X.json', 'box-1_Z.json', 'box-9_Y.json']);
  });

  it('a crash between the store commit and the remote delete: the next cycle stores nothing again and finishes', async () => {
    await put(e.remote, '/sales/box-1_S1.json', [sale('box-1', 'S1', 100), sale('box-1', 'S2', 50)]);
    const failing = new MemoryTransport(new URL(e.config.server).hostname);
    failing.delete = async (p) => {
      throw new TransportError('Unavailable', `connection lost deleting ${p}`);
    };
    await assert.rejects(e.job(failing).cycle(), /connection lost/);
    assert.equal(e.store.collectedCounts().collected, 2, 'committed before the failure');
    const r = await e.job().cycle();
    assert.deepEqual(r.files.map((f) => [f.name, f.result, (f as { stored?: number }).stored, (f as { duplicates?: number }).duplicates]), [['box-1_S1.json', 'collected', 0, 2]]);
    assert.deepEqual(await names(e.remote, '/sales'), []);
    assert.equal(readdirSync(join(e.config.dataDir, 'archive', 'sales-in')).length, 1);
  });

  it('delivers each sale once: a failed delivery leaves its batch assigned (the other terminals go on), the next run re-delivers the same batch id first', async () => {
    await put(e.remote, '/sales/box-1_A.json', [sale('box-1', 'A', 1)]);
    await put(e.remote, '/sales/box-2_B.json', [sale('box-2', 'B', 2)]);
    await e.job().cycle();
    e.bo.failNext = 1;
    await assert.rejects(e.job().deliver(), /not writable/);
    assert.deepEqual(e.store.assignedBatches().map((b) => [b.terminalId, b.attempts, b.lastError]), [['box-1', 1, 'back office folder not writable']]);
    assert.deepEqual(e.bo.calls.map((c) => [c.terminal, c.saleIds]), [['box-2', ['B']]], "box-1's failure does not hold up box-2");
    const ids = e.store.assignedBatches().map((b) => b.id);
    await put(e.remote, '/sales/box-1_C.json', [sale('box-1', 'C', 3)]);
    await e.job().cycle();
    const d = await e.job().deliver();
    assert.deepEqual(d.batches.map((b) => [b.batchId, b.terminal, b.sales, b.resumed]), [[ids[0], 'box-1', 1, true], [d.batches[1]!.batchId, 'box-1', 1, false]]);
    assert.deepEqual(e.bo.calls.slice(1).map((c) => [c.terminal, c.saleIds, c.batchId]), [['box-1', ['A'], ids[0]], ['box-1', ['C'], d.batches[1]!.batchId]]);
    assert.deepEqual((await e.job().deliver()).batches, []);
  });

  it('redeliver: a new batch with exactly the period', async () => {
    await put(e.remote, '/sales/box-1_A.json', [sale('box-1', 'A', 1, '2025-03-14'), sale('box-1', 'B', 2, '2025-03-15')]);
    await e.job().cycle();
    await e.job().deliver();
    const r = await e.job().redeliver('2025-03-15', '2025-03-15');
    assert.deepEqual(r.batches.map((b) => [b.terminal, b.kind, b.sales]), [['box-1', 'redeliver', 1]]);
    assert.deepEqual(e.bo.calls.map((c) => c.saleIds), [['A', 'B'], ['B']]);
    assert.notEqual(e.bo.calls[1]!.batchId, e.bo.calls[0]!.batchId);
  });

  it('a sales.dir with {terminal} is one dir per served terminal', async () => {
    e.store.close();
    e = env({ sales: { dir: '/box/{terminal}/sales', format: 'json' } });
    await put(e.remote, '/box/box-2/sales/box-2_S.json', [sale('box-2', 'S', 5)]);
    const r = await e.job().cycle();
    assert.deepEqual(r.dirs, ['/box/box-1/sales', '/box/box-2/sales']);
    assert.deepEqual(r.files.map((f) => [f.dir, f.name, f.result]), [['/box/box-2/sales', 'box-2_S.json', 'collected']]);
  });

  it('re-validates every sale like cfx sale add: a tampered one is quarantined naming file, sale and field, never delivered; the rest goes on', async () => {
    const tampered: Sale = { ...sale('box-1', 'T', 100), total: 99999999, lines: [{ code: '1', qty: -5000, price: -100, amount: 12345 }], payments: [{ kind: 'cash', amount: -700 }] };
    await put(e.remote, '/sales/box-1_T.json', [sale('box-1', 'T0', 100), tampered]);
    await put(e.remote, '/sales/box-1_U.json', [sale('box-1', 'U', 100)]);
    const r = await e.job().cycle();
    assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['box-1_T.json', 'quarantined'], ['box-1_U.json', 'collected']]);
    const q = r.files[0] as { reason: Record<string, unknown> };
    assert.deepEqual([q.reason.file, q.reason.saleId, q.reason.sale, q.reason.code, q.reason.field], ['box-1_T.json', 'T', 2, 'CFX_E_SALE_INVALID', 'lines[0].price']);
    assert.match(String(q.reason.message), /lines\[0\]\.qty: must not be negative/);
    assert.match(String(q.reason.message), /payments\[0\]\.amount: must not be negative/);
    assert.equal(e.store.getCollected('box-1', 'T0'), undefined, 'nothing of the file is stored');
    await e.job().deliver();
    assert.deepEqual(e.bo.calls.map((c) => c.saleIds), [['U']]);
  });

  it('per-terminal dirs: a file claiming another terminal (by content or by name) is quarantined, never delivered as that terminal', async () => {
    e.store.close();
    e = env({ sales: { dir: '/box/{terminal}/sales', format: 'json' } });
    // box-1 writes box-2's sales: its name and content both say box-2, the dir says box-1
    await put(e.remote, '/box/box-1/sales/box-2_P.json', [sale('box-2', 'P', 5)]);
    await put(e.remote, '/box/box-1/sales/box-1_Q.json', [sale('box-2', 'Q', 5)]);
    await put(e.remote, '/box/box-1/sales/box-1_R.json', [sale('box-1', 'R', 5)]);
    const r = await e.job().cycle();
    assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['box-1_Q.json', 'quarantined'], ['box-1_R.json', 'collected'], ['box-2_P.json', 'quarantined']]);
    for (const f of r.files.filter((x) => x.result === 'quarantined') as { reason: Record<string, unknown> }[]) {
      assert.equal(f.reason.field, 'terminal');
      assert.match(String(f.reason.message), /claims terminal box-2, but it was found in \/box\/box-1\/sales, terminal box-1's sales dir/);
    }
    assert.deepEqual(await names(e.remote, '/box/box-1/sales/rejected'), ['box-1_Q.json', 'box-2_P.json']);
    await e.job().deliver();
    assert.deepEqual(e.bo.calls.map((c) => [c.terminal, c.saleIds]), [['box-1', ['R']]]);
  });

  it('takes only plain names from the listing, and stops a download at sales.maxFileSize whatever the listing said', async () => {
    e.store.close();
    e = env({ sales: { dir: '/sales', format: 'json', maxFileSize: 4096 } });
    await put(e.remote, '/other/box-1_O.json', [sale('box-1', 'O', 7)]);
    await put(e.remote, '/sales/box-1_BIG.json', 'x'.repeat(100_000));
    await put(e.remote, '/sales/box-1_OK.json', [sale('box-1', 'OK', 7)]);
    // a server that lies: names that climb out, and the big file listed at 10 bytes
    const lying = new MemoryTransport(new URL(e.config.server).hostname);
    const list = lying.list.bind(lying);
    const touched: string[] = [];
    lying.list = async (dir, o) => {
      const real = await list(dir, o);
      if (dir !== '/sales') return real;
      return [...real.map((x) => (x.name === 'box-1_BIG.json' ? { ...x, size: 10 } : x)), ...['../other/box-1_O.json', 'x\\..\\box-1_O.json', '..', 'box-1_\u0007.json'].map((name) => ({ name, size: 10, type: 'file' as const }))];
    };
    for (const m of ['read', 'delete', 'rename'] as const) {
      const orig = (lying[m] as (...a: unknown[]) => unknown).bind(lying);
      (lying as unknown as Record<string, unknown>)[m] = (path: string, ...rest: unknown[]) => {
        touched.push(path);
        return orig(path, ...rest);
      };
    }
    const r = await e.job(lying).cycle();
    assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['box-1_BIG.json', 'quarantined'], ['box-1_OK.json', 'collected']]);
    const q = r.files[0] as { reason: Record<string, unknown>; quarantined: string };
    assert.equal(q.reason.code, 'CFX_E_FILE_TOO_LARGE');
    assert.match(String(q.reason.message), /larger than its listing \(10 bytes\) \/ over the limit: the server sent more than 4096 bytes \(sales\.maxFileSize\)/);
    assert.ok(touched.every((p) => p.startsWith('/sales/') && !p.includes('..')), touched.join(' '));
    assert.deepEqual(await names(e.remote, '/other'), ['box-1_O.json'], 'nothing outside the dir was touched');
    const local = join(e.config.dataDir, 'quarantine');
    for (const f of readdirSync(local)) assert.ok(statSync(join(local, f)).size <= 4096, f);
    assert.deepEqual(readdirSync(join(e.config.dataDir, 'staging')), []);
    const kv = e.store.kv.get('wire.unsafeNames.sales.collect');
    assert.deepEqual(JSON.parse(kv!)['/sales'].names, ['../other/box-1_O.json', 'x\\..\\box-1_O.json', '..', 'box-1_\u0007.json']);
  });

  it('canonicalJson sorts keys at every level and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: undefined, w: 'z' }], c: null } }), '{"a":{"c":null,"d":[1,{"w":"z","y":2}]},"b":1}');
  });
});
