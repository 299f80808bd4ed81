// Whole-system test of the office with the `1c` back office, over a real vsftpd: 1C's exchange
// folders (goods file + flag, report file) ⇄ cfx publish / cfx collect ⇄ two terminals that pull
// prices and push sales in the ATOL format. 1C itself is played by this test: it writes the goods
// file and flag, reads each report with the package's test-only model of 1C's import
// (plugins/backoffice-1c/src/testing/one-c-reader.ts) and marks it "@" as 1C does.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { App, silentLogger } from '@cfx/core';
import { read1CReport, type OneCImport } from '../../plugins/backoffice-1c/dist/testing/one-c-reader.js';
import { realServers, freshRemoteDir, ftpRootPath, onServer as onServerAll, type ServersEnv } from './helpers/servers.js';

/** an inbox as the terminal sees its files: without the `.done` flags office.publish writes (asserted on their own) */
const onServer = (dir: string, e?: ServersEnv, o: { mayBeMissing?: boolean } = {}): string[] => onServerAll(dir, e, { ...o, withoutFlags: true });
import { cfxProcess } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

const GOODS = readFileSync(new URL('../../plugins/backoffice-1c/fixtures/atol/goods-full.txt', import.meta.url));
const TERMINALS = ['box-1', 'box-2'] as const;

interface Office {
  dir: string;
  config: string;
  base: string;
  exchange: (t: string) => string;
}

function officeDeployment(): Office {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-office1c-'));
  const base = freshRemoteDir('office-1c');
  const config = join(dir, 'cfx.yaml');
  writeFileSync(
    config,
    `role: office
terminals: [box-1, box-2]
dataDir: ./data
server: ${env.ftpUrl}
timeout: 10s
prices: { dir: "${base}/{terminal}", format: atol }
sales: { dir: ${base}/sales, format: atol }
backoffice:
  use: 1c
  options:
    exchangeDir: ./1c/{terminal}
    goodsFile: atolimp.txt
    goodsFlag: atolimp.flg
    reportFile: atolexp.txt
    databaseId: "7"
log: { level: info, file: ./cfx.log }
`,
  );
  return { dir, config, base, exchange: (t) => join(dir, '1c', t) };
}

interface Terminal {
  id: string;
  dir: string;
  config: string;
}

function terminal(o: Office, id: string): Terminal {
  const dir = mkdtempSync(join(tmpdir(), `cfx-${id}-`));
  const config = join(dir, 'cfx.yaml');
  writeFileSync(
    config,
    `role: terminal
terminal: ${id}
dataDir: ./data
server: ${env.ftpUrl}
timeout: 10s
prices: { dir: "${o.base}/{terminal}", format: atol, poll: 200ms }
sales: { dir: ${o.base}/sales, format: atol }
log: { level: info, file: ./cfx.log }
`,
  );
  return { id, dir, config };
}

/** what 1C does to export the catalog for a register: the goods file, then the (empty) flag */
function oneCExportsGoods(o: Office, t: string, goods: Buffer = GOODS): void {
  mkdirSync(o.exchange(t), { recursive: true });
  writeFileSync(join(o.exchange(t), 'atolimp.txt'), goods);
  writeFileSync(join(o.exchange(t), 'atolimp.flg'), '');
}

const reportPath = (o: Office, t: string) => join(o.exchange(t), 'atolexp.txt');
const report = (o: Office, t: string) => (existsSync(reportPath(o, t)) ? readFileSync(reportPath(o, t)) : undefined);

/** 1C's import of a terminal's report, then "@" on line 1 as 1C writes it */
function oneCImports(o: Office, t: string): OneCImport {
  const b = report(o, t)!;
  const imp = read1CReport(b);
  b[0] = 0x40;
  writeFileSync(reportPath(o, t), b);
  return imp;
}

/** transaction numbers (field 1) of a report */
const transactions = (b: Buffer) =>
  b
    .toString('latin1')
    .split('\r\n')
    .slice(3)
    .filter((l) => l !== '')
    .map((l) => Number(l.split(';')[0]));

/** document numbers 1C imports, once per document: [document, positions] */
const documents = (imp: OneCImport) => {
  const m = new Map<number, number>();
  for (const p of imp.positions) m.set(p.document, (m.get(p.document) ?? 0) + 1);
  return [...m].sort((a, b) => a[0] - b[0]);
};

const cli = (d: { dir: string; config: string }, ...args: string[]) => runCli([...args, '-c', d.config], { cwd: d.dir });

async function addSales(t: Terminal, sales: Record<string, unknown>[]): Promise<void> {
  const file = join(t.dir, `sales-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(sales));
  const add = await cli(t, 'sale', 'add', file);
  assert.equal(add.code, 0, add.err + add.out);
  const push = await cli(t, 'push');
  assert.equal(push.code, 0, push.err + push.out);
}

/** a file put on the server as its FTP user would (owned by the owner of the test root: the server may delete it) */
function putOnServer(remote: string, bytes: Uint8Array): string {
  const owner = statSync(ftpRootPath('/cfx-test', env));
  const dir = ftpRootPath(remote.slice(0, remote.lastIndexOf('/')), env);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, owner.uid, owner.gid);
  }
  const path = ftpRootPath(remote, env);
  writeFileSync(path, bytes);
  chownSync(path, owner.uid, owner.gid);
  return path;
}


describe('office with the 1c back office: publish, pull, sales, collect, report (real vsftpd)', { skip }, () => {
  let o: Office;
  const t: Record<string, Terminal> = {};
  before(() => {
    o = officeDeployment();
    for (const id of TERMINALS) t[id] = terminal(o, id);
  });

  it('publishes 1C\'s goods file to both terminals and acknowledges it to 1C; both catalogs are equal', async () => {
    for (const id of TERMINALS) oneCExportsGoods(o, id);
    const r = await cli(o, 'publish', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    const j = r.json();
    assert.deepEqual([j.exports, j.published, j.quarantined], [2, 2, 0]);
    for (const x of j.outcomes) {
      assert.equal(x.result, 'published');
      assert.match(x.name, /^goods-\d{8}-[0-9a-f]{12}\.txt$/);
      assert.equal(x.remote, `${o.base}/${x.terminal}/${x.name}`);
      assert.deepEqual([x.mode, x.records, x.converted], ['full', 4, false]);
      assert.ok(readFileSync(ftpRootPath(x.remote, env)).equals(GOODS), 'uploaded as 1C wrote it (ATOL, cp1251)');
    }
    // acknowledged like a register does: line 2 "@", flag gone; nothing else of 1C's file changed
    const acked = Buffer.from(GOODS);
    acked[GOODS.indexOf('\r\n#\r\n') + 2] = 0x40;
    for (const id of TERMINALS) {
      assert.ok(readFileSync(join(o.exchange(id), 'atolimp.txt')).equals(acked), `${id}: line 2 is "@"`);
      assert.ok(!existsSync(join(o.exchange(id), 'atolimp.flg')), `${id}: flag removed`);
    }
    const again = await cli(o, 'publish', '--json');
    assert.deepEqual([again.code, again.json().exports], [0, 0], 'nothing left to publish');

    const catalogs: unknown[] = [];
    for (const id of TERMINALS) {
      const pull = await cli(t[id]!, 'pull', '--json');
      assert.equal(pull.code, 0, pull.err + pull.out);
      assert.deepEqual(pull.json().files.map((f: { result: string; mode: string; records: number }) => [f.result, f.mode, f.records]), [['applied', 'full', 4]]);
      const cat = await cli(t[id]!, 'catalog', '--json');
      catalogs.push(cat.json().items);
    }
    assert.deepEqual(catalogs[0], catalogs[1], 'both terminals have the same catalog');
    // the 5 records: the clear of the full file, items 1-3, the disable of code 4 (which these terminals never had)
    const items = catalogs[0] as { code: string; price: string; enabled?: boolean; barcodes: string[] }[];
    assert.deepEqual(items.map((p) => [p.code, p.price, p.enabled !== false]), [['1', '350.00', true], ['2', '175.50', true], ['3', '0.00', true]]);
    assert.deepEqual(items.find((p) => p.code === '2')!.barcodes, ['4601234567800', '2000000000015']);
    for (const id of TERMINALS) assert.deepEqual(onServer(`${o.base}/${id}`, env), [], `${id}'s inbox is empty after the pull`);

    const st = await cli(o, 'status', '--json');
    assert.equal(st.code, 0, st.err);
    const app = App.open({ configFile: o.config, env: {}, store: 'ro', logger: silentLogger() });
    try {
      const runs = app.store.listRuns({ job: 'office.publish' });
      assert.deepEqual(runs.map((x) => [x.result, x.files]), [['ok', 0], ['ok', 2]]);
    } finally {
      await app.close();
    }
  });

  it('terminals record sales, one resends a period: each report has every sale exactly once; a sale 1C would refuse is held back', async () => {
    await addSales(t['box-1']!, [saleJson(1, '2025-03-15'), saleJson(2, '2025-03-15')]);
    await addSales(t['box-2']!, [saleJson(3, '2025-03-15'), saleJson(4, '2025-03-15', { lines: [{ code: '99', name: 'not from 1C', qty: '1', price: '10.00', amount: '10.00' }], payments: [{ kind: 'cash', amount: '10.00' }] })]);
    const resend = await cli(t['box-1']!, 'resend', '--from', '2025-03-15', '--to', '2025-03-15');
    assert.equal(resend.code, 0, resend.err);

    const r = await cli(o, 'collect', '--json');
    assert.equal(r.code, 3, `exit 3: a sale was held back (needs attention): ${r.err}${r.out}`);
    const j = r.json();
    assert.deepEqual([j.counts.stored, j.counts.quarantined], [4, 0]);
    assert.deepEqual(j.delivered.batches.map((b: { terminal: string; sales: number; heldBack?: number }) => [b.terminal, b.sales, b.heldBack ?? 0]), [['box-1', 2, 0], ['box-2', 2, 1]]);
    assert.deepEqual([j.delivered.sales, j.delivered.heldBack], [3, 1]);

    const r1 = read1CReport(report(o, 'box-1'));
    assert.deepEqual([r1.databaseId, r1.reportNumber], ['7', '1']);
    assert.deepEqual(documents(r1), [[1, 2], [2, 2]], 'box-1: receipts 1 and 2, once each (the resend changed nothing)');
    const r2 = read1CReport(report(o, 'box-2'));
    assert.deepEqual(documents(r2), [[3, 2]], 'box-2: receipt 3; receipt 4 (code 99) held back');
    // the held-back sale is kept in the exchange folder and counted in cfx status
    const att = readdirSync(join(o.exchange('box-2'), 'attention'));
    assert.equal(att.length, 1);
    const held = JSON.parse(readFileSync(join(o.exchange('box-2'), 'attention', att[0]!), 'utf8'));
    assert.deepEqual(held.sales.map((s: { saleId: string; field: string }) => [s.saleId, s.field]), [['S000004', 'code']]);
    assert.match(held.sales[0].reason, /item code "99" is not in the catalog cfx published to box-2/);
    const st = (await cli(o, 'status', '--json')).json();
    assert.deepEqual(st.quarantine.files.map((q: { job: string; fileName: string }) => [q.job, q.fileName]), [['sales.deliver', 'box-2/S000004']]);
    const text = (await cli(o, 'status')).out;
    assert.match(text, /quarantine 1 file/);

    // box-1 resends the period once more, after the collect: duplicates, nothing delivered, the report unchanged
    const before1 = report(o, 'box-1')!;
    assert.equal((await cli(t['box-1']!, 'resend', '--from', '2025-03-15', '--to', '2025-03-15')).code, 0);
    const again = await cli(o, 'collect', '--json');
    assert.equal(again.code, 0, again.err + again.out);
    assert.deepEqual([again.json().counts.stored, again.json().counts.duplicates], [0, 2]);
    assert.deepEqual(again.json().delivered.batches, []);
    assert.ok(report(o, 'box-1')!.equals(before1));
  });

  it('while 1C has not imported a report, nothing new is written to it and status says why; after the import the next report holds only the new sales', async () => {
    const first = report(o, 'box-1')!;
    const firstTxns = transactions(first);
    await addSales(t['box-1']!, [saleJson(5, '2025-03-16')]);
    const waiting = await cli(o, 'collect', '--json');
    assert.equal(waiting.code, 1, waiting.out);
    assert.match(waiting.json().error.message, /1C has not imported the previous report yet: .*atolexp\.txt \(report No\. 1\)/);
    assert.ok(report(o, 'box-1')!.equals(first), 'the report waiting for 1C is untouched');
    const st = await cli(o, 'status');
    assert.match(st.out, /sales\.collect last failed at .*1C has not imported the previous report yet/);
    const pending = (await cli(o, 'sales', '--json', '--pending')).json();
    assert.deepEqual(pending.sales.map((s: { terminal: string; saleId: string }) => [s.terminal, s.saleId]), [['box-1', 'S000005']]);

    // box-2's report was imported meanwhile too; a new sale there goes out although box-1 waits
    oneCImports(o, 'box-2');
    await addSales(t['box-2']!, [saleJson(6, '2025-03-16')]);
    const partly = await cli(o, 'collect', '--json');
    assert.equal(partly.code, 1);
    assert.deepEqual(documents(read1CReport(report(o, 'box-2'))), [[6, 2]]);

    // 1C imports box-1's report (line 1 becomes "@"): the next collect writes a report with only the new sale
    const imported = oneCImports(o, 'box-1');
    assert.equal(imported.positions.length, 4);
    const r = await cli(o, 'collect', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual(r.json().delivered.batches.map((b: { terminal: string; sales: number; resumed: boolean }) => [b.terminal, b.sales, b.resumed]), [['box-1', 1, true]]);
    const second = report(o, 'box-1')!;
    const r2 = read1CReport(second);
    assert.equal(r2.reportNumber, '2');
    assert.deepEqual(documents(r2), [[5, 2]]);
    const txns = transactions(second);
    assert.equal(txns[0], firstTxns[firstTxns.length - 1]! + 1, 'transaction numbers go on from the last report');
    assert.deepEqual(txns, [...txns].sort((a, b) => a - b));
    const status = (await cli(o, 'status', '--json')).json();
    assert.equal(status.lastRuns['sales.collect'].last.result, 'ok');
    assert.deepEqual(status.collected, { collected: 6, undelivered: 0, assignedBatches: 0 });
  });

  it('cfx run on the office publishes a new goods file by itself (the 1C folder is polled)', async () => {
    oneCExportsGoods(o, 'box-1');
    const run = cfxProcess(['run', '-c', o.config], { cwd: o.dir });
    try {
      for (let i = 0; i < 150 && existsSync(join(o.exchange('box-1'), 'atolimp.flg')); i++) await sleep(100);
    } finally {
      run.child.kill('SIGTERM');
    }
    const res = await run.done;
    assert.equal(res.code, 0, res.err);
    assert.ok(!existsSync(join(o.exchange('box-1'), 'atolimp.flg')), 'acknowledged within 15 s');
    // the same content as before is a new publish (a new number, a new name): the terminal applies it
    const pull = await cli(t['box-1']!, 'pull', '--json');
    assert.equal(pull.code, 0, pull.err);
    assert.deepEqual(pull.json().files.map((f: { result: string }) => f.result), ['applied']);
  });
});

// 1C's goods files are a history, not a set of contents (issue 13): X, Y, then X again must leave
// every terminal at X, whether it pulled after each publish or only once at the end.
describe('1C writes goods file X, then Y, then X again (real vsftpd)', { skip }, () => {
  // Y: item 1 at another price, item 3 gone (a full file like X: it replaces the catalog)
  const Y = Buffer.from(GOODS.toString('latin1').replace('350,00', '399,00').replace(/\r\n3;;[^\r]*/, ''), 'latin1');
  const X_ITEMS = [['1', '350.00'], ['2', '175.50'], ['3', '0.00']];
  const Y_ITEMS = [['1', '399.00'], ['2', '175.50']];
  const items = async (term: Terminal) => {
    const cat = await cli(term, 'catalog', '--json');
    assert.equal(cat.code, 0, cat.err);
    return cat.json().items.map((p: { code: string; price: string }) => [p.code, p.price]);
  };
  const pull = async (term: Terminal) => {
    const r = await cli(term, 'pull', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    return r.json().files.map((f: { name: string; result: string }) => [f.name, f.result]);
  };

  it('publishes three files with increasing numbers; an offline terminal and one that pulls each time both end at X', async () => {
    const o = officeDeployment();
    const offline = terminal(o, 'box-1');
    const online = terminal(o, 'box-2');
    const names: string[] = [];
    for (const [goods, expected] of [[GOODS, X_ITEMS], [Y, Y_ITEMS], [GOODS, X_ITEMS]] as const) {
      oneCExportsGoods(o, 'box-1', goods);
      oneCExportsGoods(o, 'box-2', goods);
      const r = await cli(o, 'publish', '--json');
      assert.equal(r.code, 0, r.err + r.out);
      const published = r.json().outcomes as { terminal: string; result: string; name: string; remote: string }[];
      assert.deepEqual(published.map((x) => [x.terminal, x.result]), [['box-1', 'published'], ['box-2', 'published']]);
      const mine = published.find((x) => x.terminal === 'box-1')!;
      assert.ok(readFileSync(ftpRootPath(mine.remote, env)).equals(goods), 'uploaded as 1C wrote it');
      names.push(mine.name);
      assert.deepEqual((await pull(online)).map((f: string[]) => f[1]), ['applied'], 'every publish is a new file to the terminal that pulls each time');
      assert.deepEqual(await items(online), expected);
    }
    const seqs = names.map((n) => Number(/^goods-(\d{8})-/.exec(n)![1]));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'numbers grow with every publish');
    assert.equal(new Set(seqs).size, 3);
    assert.equal(names[0]!.slice(15), names[2]!.slice(15), 'the first and the third carry the same bytes (sha256 prefix)…');
    assert.notEqual(names[0], names[2], '…under different names');
    assert.deepEqual(onServer(`${o.base}/box-1`), names, 'the offline terminal\'s inbox: the three files, in publish order by name');

    assert.deepEqual(await pull(offline), names.map((n) => [n, 'applied']), 'applied in publish order');
    assert.deepEqual(await items(offline), X_ITEMS);
    assert.deepEqual(await items(online), X_ITEMS);
  });
});

// Frontol-style goods files (issue 17, case 1): one line per barcode, the code repeated; barcode
// commands; a file line 2 of which is already "@" is reported, not silently passed over.
describe('a Frontol goods file with one line per barcode, through the office to a terminal (real vsftpd)', { skip }, () => {
  const LINES = readFileSync(new URL('../../plugins/backoffice-1c/fixtures/atol/goods-frontol-lines.txt', import.meta.url));
  const BARCODES = readFileSync(new URL('../../plugins/backoffice-1c/fixtures/atol/goods-delta-barcodes.txt', import.meta.url));
  let o: Office;
  let box: Terminal;
  before(() => {
    o = officeDeployment();
    box = terminal(o, 'box-1');
  });

  const barcodes = async () => {
    const app = App.open({ configFile: box.config, env: {}, store: 'ro', logger: silentLogger() });
    try {
      return Object.fromEntries(['101', '102', '103', '104', '105', 'ТП008316'].map((c) => [c, app.store.getProduct(c)?.barcodes]));
    } finally {
      await app.close();
    }
  };

  it('every line\'s barcode reaches the terminal: 11 barcodes of 5 items, each scannable', async () => {
    oneCExportsGoods(o, 'box-1', LINES);
    const r = await cli(o, 'publish', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    const out = r.json().outcomes.find((x: { terminal: string }) => x.terminal === 'box-1');
    assert.deepEqual([out.result, out.mode, out.records, out.converted], ['published', 'delta', 10, false]);
    assert.deepEqual(onServerAll(`${o.base}/box-1`), [out.name, `${out.name}.done`], 'uploaded as it is, no temp name left; its flag says it is complete');

    const pull = await cli(box, 'pull', '--json');
    assert.equal(pull.code, 0, pull.err + pull.out);
    assert.deepEqual(pull.json().files.map((f: { result: string; records: number; skipped?: unknown }) => [f.result, f.records, f.skipped]), [['applied', 10, undefined]]);
    assert.deepEqual(onServer(`${o.base}/box-1`), [], 'taken from the inbox');
    const bc = await barcodes();
    assert.deepEqual(bc['101'], ['4820000001011', '4820000001028', '4820000001035', '4820000001097']);
    assert.deepEqual(bc['103'], ['4820000001059', '4820000001066', '4820000001073']);
    assert.equal(Object.values(bc).reduce((n, b) => n + (b?.length ?? 0), 0), 11);
    for (const code of ['4820000001028', '4820000001066', '2000000001043']) {
      const hit = await cli(box, 'catalog', '--barcode', code, '--json');
      assert.equal(hit.code, 0, `${code}: ${hit.err}`);
      assert.ok(hit.json().barcodes.includes(code), `${code} finds its item`);
    }
    const cat = (await cli(box, 'catalog', '--code', '101', '--json')).json();
    assert.deepEqual([cat.price, cat.stock], ['43.00', '10.000'], 'the last line of a code gives its fields');
  });

  it('a goods file already loaded ("@" on line 2) with a stale flag: cfx publish says so, uploads nothing, exit 0', async () => {
    writeFileSync(join(o.exchange('box-1'), 'atolimp.flg'), '');
    const r = await cli(o, 'publish');
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /waiting {6}.*atolimp\.txt \(terminal box-1\) {2}already loaded by the register \(line 2 is "@"\)/);
    assert.doesNotMatch(r.out, /nothing to publish/);
    const j = (await cli(o, 'publish', '--json')).json();
    assert.deepEqual([j.exports, j.published, j.waiting.map((w: { terminal: string }) => w.terminal)], [0, 0, ['box-1']]);
    assert.deepEqual(onServer(`${o.base}/box-1`, env, { mayBeMissing: true }), [], 'nothing uploaded: the inbox may not even exist');
    assert.ok(existsSync(join(o.exchange('box-1'), 'atolimp.flg')), '1C\'s flag is left alone');
  });

  it('DELETEBARCODESBYWARECODE then the items: their barcodes are exactly the file\'s; one the file cannot carry is counted, exit 3 at the terminal', async () => {
    oneCExportsGoods(o, 'box-1', BARCODES);
    const r = await cli(o, 'publish', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    const pull = await cli(box, 'pull', '--json');
    assert.equal(pull.code, 3, 'no silent success: a line was skipped; ' + pull.err + pull.out);
    const f = pull.json().files[0];
    assert.deepEqual([f.result, f.records, f.skipped.count, f.skipped.lines], ['applied', 4, 1, [6]]);
    assert.match(f.skipped.reasons[0], /DELETEBARCODESBYWARECODE of an item without a line after it/);
    const bc = await barcodes();
    assert.deepEqual([bc['101'], bc['102'], bc['ТП008316']], [['4820000001011'], ['4820000009999'], ['4607001234561', '4607001234578']]);
    assert.deepEqual(bc['103'], ['4820000001059', '4820000001066', '4820000001073'], 'items not in the file keep theirs');
  });

  it('a Frontol report whose last receipt has no closing line stays on the server (never "already collected" and deleted); taken once closed', async () => {
    const REPORT = readFileSync(new URL('../../plugins/backoffice-1c/fixtures/atol/report-frontol-open.txt', import.meta.url));
    const sales = `${o.base}/sales`;
    putOnServer(`${sales}/box-1_frontol.txt`, REPORT);
    const r = await cli(o, 'collect');
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /waiting {6}box-1_frontol\.txt {2}.*receipt 12 \(workplace\/shift\/document 1\/8\/12, opened on line 10\) has no closing line \(55 or 56\) yet.*; left on the server/);
    assert.doesNotMatch(r.out, /already collected/);
    assert.deepEqual(onServer(sales), ['box-1_frontol.txt'], 'never deleted unread');
    const none = (await cli(o, 'sales', '--json')).json();
    assert.deepEqual(none.sales, []);

    // the register closes receipt 12 and writes its report again
    // (its payment line first, as a closed receipt has one: the office checks payments = total)
    const closed = Buffer.concat([
      REPORT,
      Buffer.from('809;17.03.2025;9:02:19;40;1;12;3;;1;0;64,00;64,00;0;8;;;;;;;;;;;;1/8/12;;;;;;;;;;;;;;;;;;;\r\n810;17.03.2025;9:02:20;55;1;12;3;;;;1;64,00;0;8;;;;;;;;;;;;1/8/12;;;;;;;;;;;;;;;;;;;\r\n', 'latin1'),
    ]);
    putOnServer(`${sales}/box-1_frontol.txt`, closed);
    const taken = await cli(o, 'collect', '--json');
    assert.equal(taken.code, 0, taken.err + taken.out);
    assert.deepEqual([taken.json().counts.stored, taken.json().files[0].result], [2, 'collected']);
    assert.deepEqual(onServer(sales), []);
    const imp = read1CReport(report(o, 'box-1'));
    assert.deepEqual(imp.positions.map((p) => [p.document, p.code, p.qty, p.amount]), [[11, '101', 2000, 8600], [11, '104', 25, 975], [12, '105', 1000, 6400]]);
  });

  it('a report whose receipt stays open longer than openReceiptWait (1 h) is quarantined, exit 3, moved to rejected/', async () => {
    oneCImports(o, 'box-1');
    const REPORT = readFileSync(new URL('../../plugins/backoffice-1c/fixtures/atol/report-frontol-open.txt', import.meta.url));
    const sales = `${o.base}/sales`;
    const path = putOnServer(`${sales}/box-1_frontol-2.txt`, REPORT);
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(path, old, old);
    const r = await cli(o, 'collect', '--json');
    assert.equal(r.code, 3, r.err + r.out);
    const f = r.json().files[0];
    assert.equal(f.result, 'quarantined');
    assert.match(f.reason.message, /receipt 12 .* has no closing line \(55 or 56\), and the file has not changed for/);
    assert.deepEqual(onServer(sales), ['rejected']);
  });
});
