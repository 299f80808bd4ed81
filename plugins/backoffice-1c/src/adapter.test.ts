import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { isCfxError, type BackOffice, type Sale, type WaitingExport } from '@cfx/core/api';
import { describeBackOfficeConformance } from '@cfx/core/testing';
import { createOneCBackOffice, type OneCOptions, type OneCState } from './adapter.js';
import { decodeReport } from './report.js';
import { read1COrders } from './testing/one-c-orders-reader.js';
import { read1CReport, totalsByCode } from './testing/one-c-reader.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/atol/${name}`, import.meta.url));
const pad = (n: number, w: number) => String(n).padStart(w, '0');

function mkSale(terminal: string, n: number, codes: string[] = ['1', '2']): Sale {
  const lines = codes.map((code, i) => ({ code, qty: (i + 1) * 1000, price: 35000, amount: (i + 1) * 35000 }));
  const total = lines.reduce((a, l) => a + l.amount, 0);
  return {
    saleId: `S${pad(n, 6)}`,
    terminalId: terminal,
    shift: 7,
    receiptNo: n,
    cashier: 'Олена',
    time: `2025-03-15T${pad(10 + (n % 10), 2)}:${pad(n % 60, 2)}:00+02:00`,
    kind: 'sale',
    lines,
    payments: [{ kind: 'cash', amount: total }],
    total,
  };
}

interface Env {
  base: string;
  bo: BackOffice;
  dir: (t: string) => string;
  report: (t: string) => Buffer | undefined;
  state: (t: string) => OneCState;
  /** what 1C does after importing: line 1 becomes "@" */
  imported: (t: string) => void;
}

const bases: string[] = [];
after(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});

function env(opts: Partial<OneCOptions> = {}): Env {
  const base = mkdtempSync(join(tmpdir(), 'cfx-1c-'));
  bases.push(base);
  const bo = createOneCBackOffice({ exchangeDir: './1c/{terminal}', ...opts }, { baseDir: base });
  const dir = (t: string) => join(base, '1c', t);
  const reportPath = (t: string) => join(dir(t), opts.reportFile ?? 'atolexp.txt');
  return {
    base,
    bo,
    dir,
    report: (t) => (existsSync(reportPath(t)) ? readFileSync(reportPath(t)) : undefined),
    state: (t) => JSON.parse(readFileSync(join(dir(t), '.cfx', 'state.json'), 'utf8')) as OneCState,
    imported: (t) => {
      const b = readFileSync(reportPath(t));
      assert.equal(b[0], 0x23);
      b[0] = 0x40;
      writeFileSync(reportPath(t), b);
    },
  };
}

/** the goods fixture and its flag in a terminal's exchange dir, as 1C leaves them */
function oneCExports(e: Env, t: string, goods = fixture('goods-full.txt')): void {
  mkdirSync(e.dir(t), { recursive: true });
  writeFileSync(join(e.dir(t), 'atolimp.txt'), goods);
  writeFileSync(join(e.dir(t), 'atolimp.flg'), '');
}

async function publishAndAck(e: Env, t: string): Promise<void> {
  const ex = await e.bo.pendingExports!({ terminals: [t] });
  assert.equal(ex.length, 1);
  await ex[0]!.ack();
}

/** transaction numbers (field 1) of a report, in order */
const transactions = (b: Buffer) =>
  b
    .toString('latin1')
    .split('\r\n')
    .slice(3)
    .filter((l) => l !== '')
    .map((l) => Number(l.split(';')[0]));

const deliver = (e: Env, t: string, sales: Sale[], batchId: string) => e.bo.deliverSales!(t, sales, { batchId });

async function rejects(p: Promise<unknown>, re: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.match(String((err as Error).message), re);
    return err as Error;
  }
  assert.fail(`did not throw ${re}`);
}

describe('1c back office: delivering sales into the report file', () => {
  it('writes a report only when there is none or 1C has imported the last one ("@"); otherwise a retryable error', async () => {
    const e = env();
    assert.deepEqual(await deliver(e, 'box-1', [mkSale('box-1', 1), mkSale('box-1', 2)], 'B1'), { heldBack: [] });
    const first = e.report('box-1')!;
    const r1 = read1CReport(first);
    assert.deepEqual([r1.databaseId, r1.reportNumber, r1.positions.length], ['1', '1', 4]);

    const err = await rejects(deliver(e, 'box-1', [mkSale('box-1', 3)], 'B2'), /1C has not imported the previous report yet: .*atolexp\.txt \(report No\. 1\)/);
    assert.ok(isCfxError(err));
    assert.equal((err as { details: Record<string, unknown> }).details.retryable, true);
    assert.ok(e.report('box-1')!.equals(first), 'the waiting report is untouched');

    e.imported('box-1');
    await deliver(e, 'box-1', [mkSale('box-1', 3)], 'B2');
    const r2 = read1CReport(e.report('box-1'));
    assert.equal(r2.reportNumber, '2');
    assert.deepEqual(r2.positions.map((p) => p.document), [3, 3]);
    // another terminal has its own folder, report and numbering
    await deliver(e, 'box-2', [mkSale('box-2', 1)], 'B3');
    assert.equal(read1CReport(e.report('box-2')).reportNumber, '1');
  });

  it('the same batch id twice gives one report, before and after 1C imported it', async () => {
    const e = env();
    const sales = [mkSale('box-1', 1), mkSale('box-1', 2)];
    await deliver(e, 'box-1', sales, 'B1');
    const once = e.report('box-1')!;
    const st = e.state('box-1');
    await deliver(e, 'box-1', sales, 'B1');
    assert.ok(e.report('box-1')!.equals(once));
    assert.deepEqual(e.state('box-1'), st);
    e.imported('box-1');
    const imported = e.report('box-1')!;
    await deliver(e, 'box-1', sales, 'B1');
    assert.ok(e.report('box-1')!.equals(imported), 'not written again after the import');
    assert.equal(e.state('box-1').reportNumber, 1);
  });

  it('a crash between recording the report and writing it: the same batch writes the very same report', async () => {
    const e = env();
    await deliver(e, 'box-1', [mkSale('box-1', 1)], 'B1');
    e.imported('box-1');
    const before = e.report('box-1')!;
    const sales = [mkSale('box-1', 2), mkSale('box-1', 3)];
    await deliver(e, 'box-1', sales, 'B2');
    const written = e.report('box-1')!;
    // as if cfx died after the intent in state.json, before the report file was renamed into place
    writeFileSync(join(e.dir('box-1'), 'atolexp.txt'), before);
    const st = e.state('box-1');
    writeFileSync(join(e.dir('box-1'), '.cfx', 'state.json'), JSON.stringify({ ...st, last: { ...st.last, landed: false } }));
    await deliver(e, 'box-1', sales, 'B2');
    assert.ok(e.report('box-1')!.equals(written), 'byte for byte the report of the first attempt');
    assert.equal(e.state('box-1').last!.landed, true);
  });

  it('transaction and report numbers go on across reports, also when state.json is lost', async () => {
    const e = env({ format: { firstTransaction: 100, reportNumber: 17 } });
    await deliver(e, 'box-1', [mkSale('box-1', 1), mkSale('box-1', 2)], 'B1');
    const t1 = transactions(e.report('box-1')!);
    assert.deepEqual(t1, Array.from({ length: t1.length }, (_, i) => 100 + i));
    assert.equal(read1CReport(e.report('box-1')).reportNumber, '17');
    e.imported('box-1');
    await deliver(e, 'box-1', [mkSale('box-1', 3)], 'B2');
    const t2 = transactions(e.report('box-1')!);
    assert.equal(t2[0], t1[t1.length - 1]! + 1);
    assert.equal(read1CReport(e.report('box-1')).reportNumber, '18');
    // state.json deleted: numbering continues from the report file itself
    e.imported('box-1');
    rmSync(join(e.dir('box-1'), '.cfx', 'state.json'));
    await deliver(e, 'box-1', [mkSale('box-1', 4)], 'B3');
    assert.equal(transactions(e.report('box-1')!)[0], t2[t2.length - 1]! + 1);
    assert.equal(read1CReport(e.report('box-1')).reportNumber, '19');
  });

  it('holds back a sale 1C would refuse (code not in the published catalog, code marked unused, non-numeric code) and delivers the rest', async () => {
    const e = env({ databaseId: 'A7' });
    oneCExports(e, 'box-1');
    await publishAndAck(e, 'box-1');
    const ok = mkSale('box-1', 1, ['1', '2']);
    const unknown = mkSale('box-1', 2, ['1', '99']);
    const unused = mkSale('box-1', 3, ['4']);
    const letters = mkSale('box-1', 4, ['T-ADULT']);
    const ok2 = mkSale('box-1', 5, ['3']);
    const r = (await deliver(e, 'box-1', [ok, unknown, unused, letters, ok2], 'B1'))!;
    assert.deepEqual(r.heldBack!.map((h) => [h.saleId, h.field]), [['S000002', 'code'], ['S000003', 'code'], ['S000004', 'code']]);
    assert.match(r.heldBack![0]!.reason, /line 2: item code "99" is not in the catalog cfx published to box-1/);
    assert.match(r.heldBack![1]!.reason, /"4" is marked unused by 1C/);
    assert.match(r.heldBack![2]!.reason, /"T-ADULT" is not a number/);
    const file = r.heldBack![0]!.file!;
    assert.equal(file, join(e.dir('box-1'), 'attention', 'B1.json'));
    const att = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(att.sales.map((s: { saleId: string; sale: Sale }) => [s.saleId, s.sale.total]), [['S000002', unknown.total], ['S000003', unused.total], ['S000004', letters.total]]);
    // the report holds the others, and 1C imports it
    const imp = read1CReport(e.report('box-1'));
    assert.equal(imp.databaseId, 'A7');
    assert.deepEqual([...totalsByCode(imp.positions)].map(([c, t]) => [c, t.qty]), [['1', 1000], ['2', 2000], ['3', 1000]]);
    // delivered again (a crash before cfx marked it): the same answer, nothing new
    const again = await deliver(e, 'box-1', [ok, unknown, unused, letters, ok2], 'B1');
    assert.deepEqual(again, r);
    // checkCodes: numeric holds back only what 1C can never import
    const n = env({ checkCodes: 'numeric' });
    oneCExports(n, 'box-1');
    await publishAndAck(n, 'box-1');
    assert.deepEqual((await deliver(n, 'box-1', [ok, unknown, letters], 'B1'))!.heldBack!.map((h) => h.saleId), ['S000004']);
  });

  it('a batch whose sales are all held back needs no report, even while 1C has not imported the last one', async () => {
    const e = env();
    await deliver(e, 'box-1', [mkSale('box-1', 1)], 'B1');
    const r = await deliver(e, 'box-1', [mkSale('box-1', 2, [''])], 'B2');
    assert.deepEqual(r!.heldBack!.map((h) => h.field), ['code']);
    assert.match(r!.heldBack![0]!.reason, /free-price line \(type 1\)/);
    assert.equal(read1CReport(e.report('box-1')).reportNumber, '1');
    assert.deepEqual(readdirSync(join(e.dir('box-1'), 'attention')), ['B2.json']);
  });

  it('removes 1C\'s report request flag once a report waits for 1C', async () => {
    const e = env({ reportFlag: 'atolexp.flg' });
    mkdirSync(e.dir('box-1'), { recursive: true });
    const flag = join(e.dir('box-1'), 'atolexp.flg');
    writeFileSync(flag, '$$$TRANSACTIONSBYDATERANGE\r\n15.03.2025;15.03.2025\r\n');
    assert.deepEqual(await e.bo.pendingExports!({ terminals: ['box-1'] }), []);
    assert.ok(existsSync(flag), 'no report yet: the flag stays');
    await deliver(e, 'box-1', [mkSale('box-1', 1)], 'B1');
    assert.ok(!existsSync(flag));
  });

  it('another live process holding the folder\'s lock is a retryable error; a dead one\'s lock is taken over', async () => {
    const e = env();
    mkdirSync(join(e.dir('box-1'), '.cfx'), { recursive: true });
    const lock = join(e.dir('box-1'), '.cfx', 'lock');
    writeFileSync(lock, '1\n'); // pid 1 is always alive
    await rejects(deliver(e, 'box-1', [mkSale('box-1', 1)], 'B1'), /locked by another cfx process \(pid 1/);
    writeFileSync(lock, '999999999\n');
    await deliver(e, 'box-1', [mkSale('box-1', 1)], 'B1');
    assert.ok(!existsSync(lock));
  });
});

describe('1c back office: goods exports and their acknowledgement', () => {
  it('offers the goods file when the flag exists and line 2 is "#"; ack writes "@" in place, deletes the flag and keeps the catalog codes', async () => {
    const e = env();
    const goods = fixture('goods-full.txt');
    assert.deepEqual(await e.bo.pendingExports!({ terminals: ['box-1', 'box-2'] }), [], 'nothing exported yet');
    oneCExports(e, 'box-1');
    writeFileSync(join(e.dir('box-1'), 'unrelated.txt'), 'x');
    mkdirSync(e.dir('box-2'), { recursive: true });
    writeFileSync(join(e.dir('box-2'), 'atolimp.txt'), goods); // no flag: 1C is still writing
    const ex = await e.bo.pendingExports!({ terminals: ['box-1', 'box-2'] });
    assert.deepEqual(ex.map((x) => [x.terminal, x.formatId]), [['box-1', 'atol']]);
    assert.equal(ex[0]!.fileName, join(e.dir('box-1'), 'atolimp.txt'));
    const chunks: Buffer[] = [];
    for await (const c of ex[0]!.open()) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(goods));

    await ex[0]!.ack();
    const after = readFileSync(join(e.dir('box-1'), 'atolimp.txt'));
    const expected = Buffer.from(goods);
    expected[goods.indexOf('\r\n#\r\n') + 2] = 0x40;
    assert.ok(after.equals(expected), 'only line 2 changed, to "@"');
    assert.ok(!existsSync(join(e.dir('box-1'), 'atolimp.flg')));
    const cat = JSON.parse(readFileSync(join(e.dir('box-1'), '.cfx', 'catalog.json'), 'utf8'));
    assert.deepEqual(cat.codes, { '1': 1, '2': 1, '3': 1, '4': 0 });
    assert.deepEqual([cat.lastFile.mode, cat.lastFile.records], ['full', 4]);
    assert.deepEqual(await e.bo.pendingExports!({ terminals: ['box-1'] }), []);
    // a stale flag next to a loaded file is no export either, and it says so
    writeFileSync(join(e.dir('box-1'), 'atolimp.flg'), '');
    const waiting: WaitingExport[] = [];
    assert.deepEqual(await e.bo.pendingExports!({ terminals: ['box-1'], onWaiting: (w) => waiting.push(w) }), []);
    assert.deepEqual(waiting.map((w) => [w.terminal, w.fileName]), [['box-1', join(e.dir('box-1'), 'atolimp.txt')]]);
    assert.match(waiting[0]!.reason, /^already loaded by the register \(line 2 is "@"\)/);
  });

  it('a delta updates the catalog codes; 1C rewriting the file during the publish is not acknowledged', async () => {
    const e = env();
    oneCExports(e, 'box-1');
    await publishAndAck(e, 'box-1');
    const delta = Buffer.from('##@@&&\r\n#\r\n$$$REPLACEQUANTITY\r\n7;;New;;10,00;;;;;;;;;;;;1;\r\n$$$DELETEWARESBYWARECODE\r\n2\r\n', 'latin1');
    oneCExports(e, 'box-1', delta);
    const [ex] = await e.bo.pendingExports!({ terminals: ['box-1'] });
    writeFileSync(join(e.dir('box-1'), 'atolimp.txt'), fixture('goods-full.txt'));
    await rejects(ex!.ack(), /1C rewrote .*atolimp\.txt while it was being published/);
    assert.ok(existsSync(join(e.dir('box-1'), 'atolimp.flg')), 'nothing acknowledged');
    oneCExports(e, 'box-1', delta);
    await publishAndAck(e, 'box-1');
    const cat = JSON.parse(readFileSync(join(e.dir('box-1'), '.cfx', 'catalog.json'), 'utf8'));
    assert.deepEqual([cat.codes, cat.complete], [{ '1': 1, '3': 1, '4': 0, '7': 1 }, true]);
  });

  it('before a full goods file was ever published, only the codes known to be unused are held back', async () => {
    const e = env();
    oneCExports(e, 'box-1', Buffer.from('##@@&&\r\n#\r\n$$$REPLACEQUANTITY\r\n7;;New;;10,00;;;;;;;;;;;;1;\r\n8;;;;0;;;;;;;;;;;;1;\r\n', 'latin1'));
    await publishAndAck(e, 'box-1');
    const r = await deliver(e, 'box-1', [mkSale('box-1', 1, ['1', '7']), mkSale('box-1', 2, ['8'])], 'B1');
    assert.deepEqual(r!.heldBack!.map((h) => h.saleId), ['S000002']);
    assert.equal(read1CReport(e.report('box-1')).positions.length, 2);
  });

  it('options: relative exchangeDir is relative to the config dir; two terminals cannot share a folder; names are file names', async () => {
    const e = env();
    oneCExports(e, 'box-1');
    assert.equal((await e.bo.pendingExports!({ terminals: ['box-1'] }))[0]!.fileName, join(e.base, '1c', 'box-1', 'atolimp.txt'));
    const shared = createOneCBackOffice({ exchangeDir: './1c' }, { baseDir: e.base });
    await rejects(shared.pendingExports!({ terminals: ['box-1', 'box-2'] }), /box-1 and box-2 would share the exchange folder/);
    const perTerminal = createOneCBackOffice({ exchangeDir: './1c', terminals: { 'box-2': { exchangeDir: './other' } } }, { baseDir: e.base });
    assert.deepEqual(await perTerminal.pendingExports!({ terminals: ['box-1', 'box-2'] }), []);
    assert.throws(() => createOneCBackOffice({ exchangeDir: './x', goodsFile: '../atolimp.txt' }), /goods must be a file name/);
    assert.throws(() => createOneCBackOffice({} as OneCOptions), /exchangeDir is required/);
    assert.throws(() => createOneCBackOffice({ exchangeDir: './x', format: { returnSign: 'sideways' as 'negative' } }), /returnSign/);
  });
});

// The core's back-office kit, with 1C in the loop: before every delivery (and before reading back)
// 1C imports the report waiting in the exchange folder, as it does between two deliveries in real
// life (without that the adapter rightly waits; see the first test above). What 1C imported is
// read back with the package's decoder and matched to the sales handed in by content, so a sale
// written twice shows twice.
const kitRoot = mkdtempSync(join(tmpdir(), 'cfx-1c-kit-'));
after(() => rmSync(kitRoot, { recursive: true, force: true }));
const kit = new WeakMap<object, { base: string; imported: Sale[]; given: Sale[] }>();
const signature = (s: Sale) => [s.terminalId, s.kind, s.time.slice(0, 16), s.total, ...s.lines.map((l) => `${l.code}:${l.qty}:${l.amount}`)].join('|');
let kitN = 0;

async function oneCImports(k: { base: string; imported: Sale[] }): Promise<void> {
  for (const t of existsSync(join(k.base, '1c')) ? readdirSync(join(k.base, '1c')) : []) {
    const p = join(k.base, '1c', t, 'atolexp.txt');
    if (!existsSync(p)) continue;
    const b = readFileSync(p);
    if (b[0] !== 0x23) continue;
    read1CReport(b); // 1C would refuse it otherwise
    for await (const s of decodeReport(Readable.from([b]), { terminal: t, utcOffset: '+02:00' })) k.imported.push(s);
    b[0] = 0x40;
    writeFileSync(p, b);
  }
}

describeBackOfficeConformance('1c (1C importing each report)', {
  create: () => {
    const base = join(kitRoot, `k${++kitN}`);
    const inner = createOneCBackOffice({ exchangeDir: './1c/{terminal}', checkCodes: 'numeric', terminals: { 'box-1': {} } }, { baseDir: base });
    const k = { base, imported: [] as Sale[], given: [] as Sale[] };
    const bo: BackOffice = {
      id: inner.id,
      pendingExports: (o) => inner.pendingExports!(o),
      deliverSales: async (terminal, sales, o) => {
        await oneCImports(k);
        k.given.push(...sales);
        return inner.deliverSales!(terminal, sales, o);
      },
    };
    kit.set(bo, k);
    return bo;
  },
  delivered: async (bo) => {
    const k = kit.get(bo)!;
    await oneCImports(k);
    const pool = new Map<string, string[]>();
    for (const s of k.given) {
      const sig = signature(s);
      if (!pool.has(sig)) pool.set(sig, []);
      if (!pool.get(sig)!.includes(s.saleId)) pool.get(sig)!.push(s.saleId);
    }
    const used = new Map<string, number>();
    return k.imported.map((s) => {
      const sig = signature(s);
      const ids = pool.get(sig) ?? [`unknown:${sig}`];
      const i = used.get(sig) ?? 0;
      used.set(sig, i + 1);
      // more imported than handed in: the last id again (a duplicate shows as one)
      return { terminal: s.terminalId, saleId: ids[Math.min(i, ids.length - 1)]! };
    });
  },
  seedExports: (bo) => {
    const k = kit.get(bo)!;
    mkdirSync(join(k.base, '1c', 'box-1'), { recursive: true });
    writeFileSync(join(k.base, '1c', 'box-1', 'atolimp.txt'), fixture('goods-full.txt'));
    writeFileSync(join(k.base, '1c', 'box-1', 'atolimp.flg'), '');
  },
});

// issue 17: sales of products published from CommerceML (1C's GUIDs as codes) go to 1C as a
// CommerceML orders file per batch instead of waiting in attention/
const GUID1 = '5e000000-0000-4000-8000-000000000011';
const GUID2 = '5e000000-0000-4000-8000-000000000012';
const XSD = fileURLToPath(new URL('../../format-xml/fixtures/commerceml-2.08-document-subset.xsd', import.meta.url));

function xmllintOk(file: string): boolean | undefined {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', XSD, file], { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  return true;
}

const ordersIn = (e: Env, t: string) => ls(e.dir(t)).filter((f) => /^orders-.*\.xml$/.test(f));
const ls = (d: string) => (existsSync(d) ? readdirSync(d).sort() : []);

describe('1c back office: salesTo orders / auto (CommerceML orders files for 1C)', () => {
  it('orders: a batch is one orders file of 2.08 documents that 1C (the test reader) and the schema accept; no report', async () => {
    const e = env({ salesTo: 'orders', commerceml: { dir: './webdata', format: { currency: 'UAH' } } });
    const sales = [mkSale('box-1', 1, [GUID1, GUID2]), { ...mkSale('box-1', 2, [GUID1]), kind: 'return' as const }];
    assert.deepEqual(await deliver(e, 'box-1', sales, 'B1'), { heldBack: [] });
    assert.deepEqual(ordersIn(e, 'box-1'), ['orders-B1.xml']);
    assert.equal(e.report('box-1'), undefined);
    const file = join(e.dir('box-1'), 'orders-B1.xml');
    const orders = read1COrders(readFileSync(file));
    assert.deepEqual(orders.map((o) => [o.id, o.number, o.date, o.operation, o.sum, o.lines.map((l) => [l.id, l.qty, l.sum])]), [
      ['box-1_S000001', '1', '2025-03-15', 'Заказ товара', 105000, [[GUID1, 1000, 35000], [GUID2, 2000, 70000]]],
      ['box-1_S000002', '2', '2025-03-15', 'Возврат товара', 35000, [[GUID1, 1000, 35000]]],
    ]);
    assert.match(readFileSync(file, 'utf8'), /<Валюта>UAH<\/Валюта>/);
    xmllintOk(file);
    assert.deepEqual(e.state('box-1').batches.B1!.orders, { file, saleIds: ['S000001', 'S000002'], landed: true });
  });

  it('orders: exactly once — the same batch again writes nothing, also after 1C took the file; a crash before the file landed writes the very same file', async () => {
    const e = env({ salesTo: 'orders' });
    const sales = [mkSale('box-1', 1, [GUID1])];
    await deliver(e, 'box-1', sales, 'B1');
    const file = join(e.dir('box-1'), 'orders-B1.xml');
    const bytes = readFileSync(file);
    rmSync(file); // 1C imported and removed it
    await deliver(e, 'box-1', sales, 'B1');
    assert.deepEqual(ordersIn(e, 'box-1'), [], 'not written again: 1C would import it twice');
    // a crash after the intent, before the file was in place
    const st = e.state('box-1');
    writeFileSync(join(e.dir('box-1'), '.cfx', 'state.json'), JSON.stringify({ ...st, batches: { B1: { ...st.batches.B1!, orders: { ...st.batches.B1!.orders!, landed: false } } } }));
    await deliver(e, 'box-1', sales, 'B1');
    assert.ok(readFileSync(file).equals(bytes), 'byte for byte');
    assert.equal(e.state('box-1').batches.B1!.orders!.landed, true);
  });

  it('auto: numeric codes into the ATOL report, GUID codes into the orders file, nothing held back; while 1C has not imported the report the batch waits whole', async () => {
    const e = env({ salesTo: 'auto', checkCodes: 'numeric' });
    await deliver(e, 'box-1', [mkSale('box-1', 1), mkSale('box-1', 2, [GUID1]), mkSale('box-1', 3)], 'B1');
    assert.deepEqual(documentsOf(read1CReport(e.report('box-1'))), [1, 3]);
    assert.deepEqual(read1COrders(readFileSync(join(e.dir('box-1'), 'orders-B1.xml'))).map((o) => o.id), ['box-1_S000002']);
    assert.ok(!existsSync(join(e.dir('box-1'), 'attention')));
    await rejects(deliver(e, 'box-1', [mkSale('box-1', 4), mkSale('box-1', 5, [GUID2])], 'B2'), /has not imported the previous report yet/);
    assert.deepEqual(ordersIn(e, 'box-1'), ['orders-B1.xml'], 'nothing of the waiting batch written');
    e.imported('box-1');
    await deliver(e, 'box-1', [mkSale('box-1', 4), mkSale('box-1', 5, [GUID2])], 'B2');
    assert.deepEqual(ordersIn(e, 'box-1'), ['orders-B1.xml', 'orders-B2.xml']);
    assert.deepEqual(documentsOf(read1CReport(e.report('box-1'))), [4]);
  });

  it('what an orders document cannot carry is held back (attention), the rest delivered; ordersDir puts the files elsewhere', async () => {
    const e = env({ salesTo: 'orders', ordersDir: './orders/{terminal}' });
    const bad = { ...mkSale('box-1', 2, [GUID1]), lines: [{ code: '', qty: 1000, price: 100, amount: 100 }], total: 100, payments: [{ kind: 'cash' as const, amount: 100 }] };
    const r = await deliver(e, 'box-1', [mkSale('box-1', 1, [GUID1]), bad], 'B1');
    assert.deepEqual((r as { heldBack: { saleId: string; field: string }[] }).heldBack.map((h) => [h.saleId, h.field]), [['S000002', 'lines[0].code']]);
    assert.deepEqual(ls(join(e.base, 'orders', 'box-1')), ['orders-B1.xml']);
    assert.deepEqual(ls(join(e.dir('box-1'), 'attention')).length, 1);
  });
});

const documentsOf = (imp: ReturnType<typeof read1CReport>) => [...new Set(imp.positions.map((p) => p.document))];

// the kit's exactly-once rules over the orders files, 1C importing (and removing) each file
const orderKit = new Map<BackOffice, { base: string; imported: { terminal: string; saleId: string }[] }>();
describeBackOfficeConformance('1c (salesTo: orders, 1C importing each orders file)', {
  create: () => {
    const base = join(kitRoot, `o${++kitN}`);
    const bo = createOneCBackOffice({ exchangeDir: './1c/{terminal}', salesTo: 'orders', terminals: { 'box-1': {} } }, { baseDir: base });
    orderKit.set(bo, { base, imported: [] });
    return bo;
  },
  delivered: async (bo) => {
    const k = orderKit.get(bo)!;
    for (const t of ls(join(k.base, '1c'))) {
      for (const f of ls(join(k.base, '1c', t)).filter((n) => /^orders-.*\.xml$/.test(n))) {
        const path = join(k.base, '1c', t, f);
        for (const o of read1COrders(readFileSync(path))) k.imported.push({ terminal: t, saleId: o.id.slice(t.length + 1) });
        rmSync(path);
      }
    }
    return [...k.imported];
  },
  seedExports: (bo) => {
    const { base } = orderKit.get(bo)!;
    mkdirSync(join(base, '1c', 'box-1'), { recursive: true });
    writeFileSync(join(base, '1c', 'box-1', 'atolimp.txt'), fixture('goods-full.txt'));
    writeFileSync(join(base, '1c', 'box-1', 'atolimp.flg'), '');
  },
});
