// Whole-system tests of the office's sales collect and delivery to the `generic` back office,
// against a real vsftpd: sale files are put on the server the way a terminal does.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sale } from '@cfx/core';
import { App, silentLogger } from '@cfx/core';
import { createCsvFormat } from '@cfx/format-csv';
import { realServers, freshRemoteDir, onServer, type ServersEnv } from './helpers/servers.js';
import { officeClient, cfxProcess, terminalDeployment, FIXTURES } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { officeDeployment as deployOffice, outFiles, rowsOf, expectedRows, type Office } from './helpers/office.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;
const csv = createCsvFormat();

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** a sale as the terminal journals it (integer minor units, thousandths) */
function mkSale(terminal: string, n: number, day = '2025-03-15'): Sale {
  const adults = 1 + (n % 3);
  return {
    saleId: `S${pad(n, 6)}`,
    terminalId: terminal,
    shift: 7,
    receiptNo: n,
    cashier: 'Олена',
    time: `${day}T${pad(10 + (n % 10), 2)}:${pad(n % 60, 2)}:00+02:00`,
    kind: 'sale',
    lines: [
      { code: '1', barcode: '4820000000011', name: 'Квиток дорослий', qty: adults * 1000, price: 35000, amount: adults * 35000 },
      { code: '2', name: 'Програмка', qty: 1000, price: 2000, amount: 2000 },
    ],
    payments: [{ kind: n % 2 ? 'card' : 'cash', amount: adults * 35000 + 2000 }],
    total: adults * 35000 + 2000,
  };
}

const officeDeployment = (opts: { logToStderr?: boolean; backoffice?: string } = {}): Office => deployOffice(env, opts);
const fileName = (s: Sale) => `${s.terminalId}_${s.saleId}.csv`;
const encode = (s: Sale) => Buffer.from(csv.encodeSale!(s, { options: {} }));


const collect = (o: Office, ...args: string[]) => runCli(['collect', '--json', '-c', o.config, ...args], { cwd: o.dir });

describe('sales collect and delivery to the generic back office (real vsftpd)', { skip }, () => {
  let office: ReturnType<typeof officeClient>;
  before(() => {
    office = officeClient(env);
  });
  after(async () => {
    await office?.close();
  });

  it('collects the sale files of two terminals, delivers one CSV per terminal, archives, empties the server; a resend is a duplicate', async () => {
    const o = officeDeployment();
    const sales = [mkSale('box-1', 1), mkSale('box-1', 2), mkSale('box-2', 3)];
    for (const s of sales) await office.drop(o.salesDir, fileName(s), encode(s));

    const r = await collect(o);
    assert.equal(r.code, 0, r.err + r.out);
    const j = r.json();
    assert.deepEqual(j.counts, { files: 3, sales: 3, stored: 3, duplicates: 0, quarantined: 0, bytes: j.counts.bytes });
    assert.deepEqual(j.delivered.batches.map((b: any) => [b.terminal, b.sales, b.kind]), [['box-1', 2, 'new'], ['box-2', 1, 'new']]);
    assert.deepEqual(onServer(o.salesDir, env), [], 'every collected file is deleted on the server');

    const files = outFiles(o);
    assert.deepEqual([...files.keys()], j.delivered.batches.map((b: any) => `sales-${b.terminal}-${b.batchId}.csv`));
    const [f1, f2] = [...files.values()];
    assert.deepEqual(rowsOf(f1!), [...expectedRows(sales[0]!), ...expectedRows(sales[1]!)]);
    assert.deepEqual(rowsOf(f2!), expectedRows(sales[2]!));
    // the exact text of one row, decimals as strings
    assert.equal(rowsOf(f1!)[0], 'box-1;S000001;2025-03-15T11:01:00+02:00;sale;7;1;Олена;1;4820000000011;Квиток дорослий;2.000;350.00;0.00;700.00;720.00');

    // archive copies, byte-identical to what the terminal uploaded
    for (const f of j.files) assert.ok(readFileSync(f.archived).equals(encode(sales.find((s) => fileName(s) === f.name)!)), `archive of ${f.name}`);
    assert.match(j.files[0].archived, /data\/archive\/sales-in\/\d{4}-\d{2}-\d{2}\/box-1_S000001\.csv$/);

    // the terminal resends sale 2 (same name, same content)
    await office.drop(o.salesDir, fileName(sales[1]!), encode(sales[1]!));
    const again = await collect(o);
    assert.equal(again.code, 0, again.err);
    assert.deepEqual([again.json().counts.files, again.json().counts.stored, again.json().counts.duplicates], [1, 0, 1]);
    assert.deepEqual(again.json().delivered.batches, [], 'nothing new delivered');
    assert.deepEqual(outFiles(o), files, 'outDir unchanged');
    assert.deepEqual(onServer(o.salesDir, env), []);

    // cfx sales lists the office inbox
    const list = await runCli(['sales', '--json', '-c', o.config], { cwd: o.dir });
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(list.json().sales.map((s: any) => [s.terminal, s.saleId, s.total, s.delivered]), [['box-1', 'S000001', '720.00', true], ['box-1', 'S000002', '1070.00', true], ['box-2', 'S000003', '370.00', true]]);
    const pending = await runCli(['sales', '--json', '--pending', '-c', o.config], { cwd: o.dir });
    assert.equal(pending.json().count, 0);

    const app = App.open({ configFile: o.config, env: {}, store: 'ro', logger: silentLogger() });
    try {
      const runs = app.store.listRuns({ job: 'sales.collect' });
      assert.deepEqual(runs.map((x) => [x.result, x.files]), [['ok', 1], ['ok', 3]]);
      assert.deepEqual([runs[1]!.details!.stored, runs[1]!.details!.deliveredSales, runs[0]!.details!.duplicates], [3, 3, 1]);
    } finally {
      await app.close();
    }
  });

  it('quarantines a malformed sale file with line and field, moves it to rejected/, and collects the others', async () => {
    const o = officeDeployment();
    const good = [mkSale('box-1', 10), mkSale('box-2', 11)];
    const badSale = mkSale('box-1', 12);
    const badText = encode(badSale).toString('utf8').split('\r\n');
    const l = badText[2]!.split(';'); // line 3: the first L row
    l[11] = '1,0x0'; // its qty
    badText[2] = l.join(';');
    await office.drop(o.salesDir, fileName(good[0]!), encode(good[0]!));
    await office.drop(o.salesDir, fileName(badSale), badText.join('\r\n'));
    await office.drop(o.salesDir, fileName(good[1]!), encode(good[1]!));

    const r = await collect(o);
    assert.equal(r.code, 3, `exit 3 when something was quarantined: ${r.err}`);
    const j = r.json();
    assert.deepEqual(j.files.map((f: any) => [f.name, f.result]), [['box-1_S000010.csv', 'collected'], ['box-1_S000012.csv', 'quarantined'], ['box-2_S000011.csv', 'collected']]);
    const q = j.files[1];
    assert.deepEqual([q.reason.file, q.reason.line, q.reason.field], ['box-1_S000012.csv', 3, 'qty']);
    const reason = JSON.parse(readFileSync(`${q.quarantined}.reason.json`, 'utf8'));
    assert.deepEqual([reason.file, reason.line, reason.field], ['box-1_S000012.csv', 3, 'qty']);
    assert.equal(readFileSync(q.quarantined, 'utf8'), badText.join('\r\n'), 'the bad file is kept locally as it was');
    assert.deepEqual(onServer(o.salesDir, env), ['rejected']);
    assert.deepEqual(onServer(`${o.salesDir}/rejected`, env), ['box-1_S000012.csv']);
    assert.deepEqual(j.counts.stored, 2);
    const delivered = [...outFiles(o).values()].flatMap(rowsOf);
    assert.deepEqual(delivered, [...expectedRows(good[0]!), ...expectedRows(good[1]!)], 'nothing of the bad file reached the back office');

    // the text output names the line and field too; the next run ignores rejected/
    const text = await runCli(['collect', '-c', o.config], { cwd: o.dir });
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /files 0, sales stored 0, duplicates 0, quarantined 0/);
  });

  it('the same saleId with different content is quarantined, not overwritten', async () => {
    const o = officeDeployment();
    const s = mkSale('box-2', 20);
    await office.drop(o.salesDir, fileName(s), encode(s));
    assert.equal((await collect(o)).code, 0);
    // another, equally valid sale under the same id: one more programme sold
    const extra = { code: '2', name: 'Програмка', qty: 1000, price: 2000, amount: 2000 };
    const changed = { ...s, lines: [...s.lines, extra], total: s.total + 2000, payments: [{ kind: 'cash' as const, amount: s.total + 2000 }] };
    await office.drop(o.salesDir, fileName(s), encode(changed));
    const r = await collect(o);
    assert.equal(r.code, 3);
    assert.equal(r.json().files[0].reason.code, 'CFX_E_SALE_CONFLICT');
    assert.deepEqual(onServer(`${o.salesDir}/rejected`, env), [fileName(s)]);
    const rows = [...outFiles(o).values()].flatMap(rowsOf);
    assert.deepEqual(rows, expectedRows(s), 'the back office has the first version only');
  });

  it('a tampered sale file (total 999999.99, qty −5 at price −1.00 for 123.45, a payment of −7.00) is quarantined naming file and field, never delivered; the rest goes on, exit 3', async () => {
    const o = officeDeployment();
    const good = mkSale('box-1', 31);
    const tampered: Sale = { ...mkSale('box-1', 32), total: 99999999, lines: [{ code: '1', qty: -5000, price: -100, amount: 12345 }], payments: [{ kind: 'cash', amount: -700 }] };
    await office.drop(o.salesDir, fileName(tampered), encode(tampered));
    await office.drop(o.salesDir, fileName(good), encode(good));
    const r = await collect(o);
    assert.equal(r.code, 3, r.out + r.err);
    const files = r.json().files as { name: string; result: string; reason?: Record<string, unknown> }[];
    assert.deepEqual(files.map((f) => [f.name, f.result]), [[fileName(good), 'collected'], [fileName(tampered), 'quarantined']]);
    const reason = files[1]!.reason!;
    assert.deepEqual([reason.file, reason.saleId, reason.code], [fileName(tampered), 'S000032', 'CFX_E_SALE_INVALID']);
    assert.deepEqual((reason.problems as { field: string }[]).map((p) => p.field).sort(), ['lines[0].price', 'lines[0].qty', 'payments[0].amount']);
    assert.deepEqual(onServer(`${o.salesDir}/rejected`, env), [fileName(tampered)]);
    assert.deepEqual([...outFiles(o).values()].flatMap(rowsOf), expectedRows(good), 'only the sound sale reaches the back office');
  });

  it('per-terminal sales dirs: each terminal pushes to its own dir; a file claiming box-2 found in box-1\'s dir is quarantined, not delivered as box-2\'s', async () => {
    const base = freshRemoteDir('posing');
    const o = deployOffice(env, { salesDir: `${base}/{terminal}/sales` });
    const terminal = (t: string) => terminalDeployment({ server: env.ftpUrl, remoteBase: base, terminal: t, extra: 'sales: { dir: "' + base + '/{terminal}/sales", format: csv }\n' });
    for (const [t, n] of [['box-1', 41], ['box-2', 42]] as const) {
      const d = terminal(t);
      writeFileSync(join(d.dir, 'sale.json'), JSON.stringify(saleJson(n)));
      assert.equal((await runCli(['sale', 'add', 'sale.json', '-c', d.config], { cwd: d.dir })).code, 0);
      const push = await runCli(['push', '-c', d.config], { cwd: d.dir });
      assert.equal(push.code, 0, push.err);
      assert.deepEqual(onServer(`${base}/${t}/sales`, env), [`${t}_S0000${n}.csv`], `${t} pushed into its own dir`);
    }
    // box-1 (its account, its dir) uploads a sale that says it is box-2's
    const posing = mkSale('box-2', 43);
    await office.drop(`${base}/box-1/sales`, fileName(posing), encode(posing));
    const r = await collect(o);
    assert.equal(r.code, 3, r.out + r.err);
    const files = r.json().files as { name: string; result: string; reason?: Record<string, unknown> }[];
    const q = files.find((f) => f.result === 'quarantined')!;
    assert.equal(q.name, fileName(posing));
    assert.equal(q.reason!.field, 'terminal');
    assert.match(String(q.reason!.message), /claims terminal box-2, but it was found in .*\/box-1\/sales, terminal box-1's sales dir/);
    assert.deepEqual(onServer(`${base}/box-1/sales/rejected`, env), [fileName(posing)]);
    const rows = [...outFiles(o).values()].flatMap(rowsOf).map((x) => x.split(';').slice(0, 2).join(';'));
    assert.deepEqual([...new Set(rows)].sort(), ['box-1;S000041', 'box-2;S000042']);
  });

  it('--redeliver --from --to writes a new batch with exactly that period', async () => {
    const o = officeDeployment();
    const sales = [mkSale('box-1', 30, '2025-03-14'), mkSale('box-1', 31, '2025-03-15'), mkSale('box-2', 32, '2025-03-15'), mkSale('box-1', 33, '2025-03-16'), mkSale('box-1', 34, '2025-03-15')];
    for (const s of sales) await office.drop(o.salesDir, fileName(s), encode(s));
    assert.equal((await collect(o)).code, 0);
    const before = outFiles(o);
    assert.equal(before.size, 2);

    assert.equal((await collect(o, '--redeliver')).code, 2, '--redeliver needs the period');
    assert.equal((await collect(o, '--from', '2025-03-15')).code, 2, '--from without --redeliver');
    const r = await collect(o, '--redeliver', '--from', '2025-03-15', '--to', '2025-03-15');
    assert.equal(r.code, 0, r.err);
    const rb = r.json().redelivered;
    assert.deepEqual(rb.batches.map((b: any) => [b.terminal, b.kind, b.sales]), [['box-1', 'redeliver', 2], ['box-2', 'redeliver', 1]]);
    const after = outFiles(o);
    for (const [k, v] of before) assert.equal(after.get(k), v, 'earlier files untouched');
    const added = [...after.keys()].filter((k) => !before.has(k));
    assert.deepEqual(added, rb.batches.map((b: any) => `sales-${b.terminal}-${b.batchId}.csv`));
    assert.deepEqual(rowsOf(after.get(added[0]!)!), [...expectedRows(sales[1]!), ...expectedRows(sales[4]!)]);
    assert.deepEqual(rowsOf(after.get(added[1]!)!), expectedRows(sales[2]!));
  });

  it('end to end: a terminal journals and pushes sales, cfx sales shows them pending then sent, the office collects and delivers them', async () => {
    const o = officeDeployment();
    const base = o.salesDir.replace(/\/sales$/, '');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, terminal: 'box-2', extra: `sales: { dir: ${o.salesDir}, format: csv }\n` });
    writeFileSync(join(d.dir, 'sales.json'), JSON.stringify([saleJson(1, '2025-03-15'), saleJson(2, '2025-03-16')]));
    const add = await runCli(['sale', 'add', 'sales.json', '-c', d.config], { cwd: d.dir });
    assert.equal(add.code, 0, add.err);
    const pendingBefore = await runCli(['sales', '--json', '--pending', '-c', d.config], { cwd: d.dir });
    assert.equal(pendingBefore.code, 0, pendingBefore.err);
    assert.deepEqual(pendingBefore.json().sales.map((s: any) => [s.terminal, s.saleId, s.localDate, s.total, s.sent]), [['box-2', 'S000001', '2025-03-15', '720.00', false], ['box-2', 'S000002', '2025-03-16', '1070.00', false]]);
    const push = await runCli(['push', '-c', d.config], { cwd: d.dir });
    assert.equal(push.code, 0, push.err);
    const journal = await runCli(['sales', '--json', '--from', '2025-03-16', '-c', d.config], { cwd: d.dir });
    assert.deepEqual(journal.json().sales.map((s: any) => [s.saleId, s.sent]), [['S000002', true]]);
    assert.equal((await runCli(['sales', '--json', '--pending', '-c', d.config], { cwd: d.dir })).json().count, 0);

    const r = await collect(o);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual([r.json().counts.stored, r.json().delivered.sales], [2, 2]);
    const rows = [...outFiles(o).values()].flatMap(rowsOf);
    assert.deepEqual(rows.map((x) => x.split(';').slice(0, 2).concat(x.split(';').slice(10)).join(';')), [
      'box-2;S000001;2.000;350.00;0.00;700.00;720.00',
      'box-2;S000001;1.000;20.00;0.00;20.00;720.00',
      'box-2;S000002;3.000;350.00;0.00;1050.00;1070.00',
      'box-2;S000002;1.000;20.00;0.00;20.00;1070.00',
    ]);
    const text = await runCli(['sales', '-c', o.config], { cwd: o.dir });
    assert.match(text.out, /box-2\s+S000002\s+2025-03-16T12:02:00\+02:00\s+sale\s+1070\.00\s+delivered \d{8}T\d{6}Z-000001/);
  });

  it('both services running: a sale journaled at the till reaches the back office by itself, once', async () => {
    const o = officeDeployment();
    const base = o.salesDir.replace(/\/sales$/, '');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, terminal: 'box-1', extra: `sales: { dir: ${o.salesDir}, format: csv }\n` });
    const till = cfxProcess(['run', '-c', d.config], { cwd: d.dir });
    const office = cfxProcess(['run', '-c', o.config], { cwd: o.dir });
    try {
      writeFileSync(join(d.dir, 's.json'), JSON.stringify(saleJson(5, '2025-03-20')));
      assert.equal((await runCli(['sale', 'add', 's.json', '-c', d.config], { cwd: d.dir })).code, 0);
      let rows: string[] = [];
      for (let i = 0; i < 300 && rows.length < 2; i++) {
        await sleep(100);
        rows = [...outFiles(o).values()].flatMap(rowsOf);
      }
      assert.deepEqual(rows.map((r) => r.split(';').slice(0, 2).join(';')), ['box-1;S000005', 'box-1;S000005']);
    } finally {
      till.child.kill('SIGTERM');
      office.child.kill('SIGTERM');
    }
    assert.deepEqual([(await till.done).code, (await office.done).code], [0, 0]);
    const st = await runCli(['status', '--json', '-c', o.config], { cwd: o.dir });
    assert.equal(st.json().lastRuns['sales.collect'].last.result, 'ok');
  });

  it('cfx collect on a terminal config is a usage error (exit 2)', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('collect-term') });
    const r = await runCli(['collect', '-c', d.config], { cwd: d.dir });
    assert.equal(r.code, 2);
    assert.match(r.err, /cfx collect is for the office role/);
  });

  it('SIGTERM during cfx collect: the file in flight is stored, archived and deleted, no new one is started, exit 130; the next collect does the rest', async () => {
    const o = officeDeployment();
    const sales = [mkSale('box-1', 50), mkSale('box-1', 51), mkSale('box-2', 52), mkSale('box-2', 53)];
    for (const s of sales) await office.drop(o.salesDir, fileName(s), encode(s));
    // sent once the first file's sales are stored, before it is archived and deleted. The handler
    // runs at the process's next wait for I/O, which may come after the next file has begun: that
    // one is then the step in flight, and finishes too.
    const r = await cfxProcess(['collect', '--json', '-c', o.config], { cwd: o.dir, env: { CFX_FAULT: 'sales.collect:stored@SIGTERM' }, deadlineMs: 60_000 }).done;
    assert.equal(r.code, 130, r.err);
    assert.match(r.err, /cfx collect: interrupted by SIGTERM after the current step/);
    const j = JSON.parse(r.out);
    const taken = j.files.map((f: any) => f.name);
    assert.ok(taken.length >= 1 && taken.length <= 2, `stopped after the file in flight: ${taken.join(', ')}`);
    assert.ok(j.files.every((f: any) => f.result === 'collected'));
    assert.deepEqual(j.delivered.batches, [], 'no delivery started after the signal');
    assert.deepEqual(onServer(o.salesDir, env), sales.map(fileName).filter((n) => !taken.includes(n)), 'the files taken are gone from the server, the others untouched');
    const again = await collect(o);
    assert.equal(again.code, 0, again.err);
    assert.deepEqual([again.json().counts.stored, again.json().delivered.sales], [sales.length - taken.length, sales.length]);
    assert.deepEqual([...outFiles(o).values()].flatMap(rowsOf).sort(), sales.flatMap(expectedRows).sort(), 'each sale delivered once');
  });

  it('SIGKILL after the back office has a batch but before cfx marks it delivered: the same batch id is delivered again, nothing twice', async () => {
    const outDir = join(mkdtempSync(join(tmpdir(), 'cfx-crashbo-')), 'out'); // absolute: the fixture cannot know the config dir
    const o = { ...officeDeployment({ backoffice: `plugins: [${join(FIXTURES, 'crash-backoffice')}]\nbackoffice:\n  use: crashbo\n  options: { outDir: ${outDir} }` }), outDir };
    const sales = [mkSale('box-1', 40), mkSale('box-1', 41)];
    for (const s of sales) await office.drop(o.salesDir, fileName(s), encode(s));
    const killed = await cfxProcess(['collect', '-c', o.config], { cwd: o.dir, env: { CFX_CRASH_AT: 'delivered' } }).done;
    assert.equal(killed.signal, 'SIGKILL', `the child should have died after delivering: ${killed.err}`);
    const first = readdirSync(o.outDir);
    assert.equal(first.length, 1);
    const again = await collect(o);
    assert.equal(again.code, 0, again.err);
    const d = again.json().delivered;
    assert.deepEqual(d.batches.map((b: any) => [b.resumed, b.sales, `box-1-${b.batchId}.json`]), [[true, 2, first[0]]], 'the interrupted batch, under its id');
    assert.deepEqual(readdirSync(o.outDir), first, 'the same single file');
    assert.deepEqual(JSON.parse(readFileSync(join(o.outDir, first[0]!), 'utf8')).saleIds, ['S000040', 'S000041']);
    const third = await collect(o);
    assert.deepEqual(third.json().delivered.batches, []);
  });
});
