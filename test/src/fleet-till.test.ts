// The terminal side of the fleet (docs/fleet.md, issue 18) against the real vsftpd: shift closes
// pushed like sales (and crash-safe at each of their fault points), the status file `cfx run`
// keeps on the server, and the office's resend request answered with the receipts the journal holds.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realServers, freshRemoteDir, ftpRootPath, onServer, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, officeClient, cfxProcess, type Deployment } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { until } from './helpers/wait.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;


function deployment(extra = ''): Deployment & { salesDir: string; statusDir: string } {
  const base = freshRemoteDir('fleet');
  const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, extra: `sales: { dir: ${base}/sales, format: csv }\nstatus: { dir: ${base}/status, every: 1s }\n${extra}` });
  return { ...d, salesDir: `${base}/sales`, statusDir: `${base}/status` };
}

const CLOSE = { shift: 12, closedAt: '2026-12-05T20:00:00+02:00', firstReceiptNo: 101, lastReceiptNo: 105, totals: { cash: '30.00', card: '20.50', other: '-1.25' } };
const SHIFT_FILE = 'box-1_shift-12.shift.json';
const SHIFT_BODY = '{"format":"cfx.shift/1","terminal":"box-1","shift":12,"closedAt":"2026-12-05T20:00:00+02:00","firstReceiptNo":101,"lastReceiptNo":105,"totals":{"cash":3000,"card":2050,"other":-125}}\n';

/** the till's local copy of its shift close */
const tillCopy = (d: Deployment) => readFileSync(join(d.dir, 'data', 'archive', 'sales', '2026-12-05', SHIFT_FILE));

/** a sale of shift 12 with receipt number `no` on 2026-12-05 */
const receipt = (no: number) => saleJson(no, '2026-12-05', { shift: 12, receiptNo: no });

describe('fleet, terminal side: shift close and status file (real vsftpd)', { skip, timeout: 180_000 }, () => {
  const procs: ReturnType<typeof cfxProcess>[] = [];
  after(async () => {
    for (const p of procs) {
      p.child.kill('SIGKILL');
      await p.done;
    }
  });

  it('cfx shift close journals it, cfx push uploads it as <t>_shift-12.shift.json in minor units; the same again is a no-op, a different one CFX_E_SHIFT_CONFLICT', async () => {
    const d = deployment();
    writeFileSync(join(d.dir, 'close.json'), JSON.stringify(CLOSE));
    const r = await runCli(['shift', 'close', 'close.json', '-c', d.config], { cwd: d.dir });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), `recorded the close of shift 12 (receipts up to 105; cash 30.00, card 20.50, other -1.25) as ${SHIFT_FILE}`);
    const push = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(push.code, 0, push.err);
    assert.deepEqual([push.json().sent, push.json().shifts, push.json().shiftsLeft], [0, 1, 0]);
    assert.deepEqual(onServer(d.salesDir, env), [SHIFT_FILE], 'the close under its name, no temp name left');
    assert.equal(readFileSync(ftpRootPath(`${d.salesDir}/${SHIFT_FILE}`, env), 'utf8'), SHIFT_BODY);
    assert.equal(tillCopy(d).toString(), SHIFT_BODY, "the till's local copy");

    const again = await runCli(['shift', 'close', 'close.json', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(again.code, 0, again.err);
    assert.deepEqual([again.json().status, again.json().totals], ['duplicate', { cash: '30.00', card: '20.50', other: '-1.25' }]);
    const text = await runCli(['shift', 'close', 'close.json', '-c', d.config], { cwd: d.dir });
    assert.equal(text.out.trim(), 'shift 12 was already closed with the same content: nothing changed');

    writeFileSync(join(d.dir, 'other.json'), JSON.stringify({ ...CLOSE, totals: { cash: '31.00' } }));
    const conflict = await runCli(['shift', 'close', 'other.json', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(conflict.code, 2);
    assert.equal(conflict.json().error.code, 'CFX_E_SHIFT_CONFLICT');

    writeFileSync(join(d.dir, 'bad.json'), JSON.stringify({ ...CLOSE, totals: { cash: '30.001' }, note: 1 }));
    const bad = await runCli(['shift', 'close', 'bad.json', '-c', d.config], { cwd: d.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /CFX_E_SHIFT_INVALID/);
    assert.match(bad.err, /shift close of shift 12 rejected:\n\s+note: is not a known field/);

    const nothing = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.deepEqual([nothing.json().sent, nothing.json().shifts], [0, 0], 'nothing more to push');
    assert.deepEqual(onServer(d.salesDir, env), [SHIFT_FILE]);
  });

  it('cfx run keeps the status file: catalog, pending, shifts; a served resend request lists the receipts the journal holds, a never-journaled one missing', async () => {
    const d = deployment();
    const office = officeClient(env);
    const prices = Buffer.from('code;barcodes;name;price\n1;4820000000011;Квиток дорослий;350,00\n2;;Програмка;20,00\n3;;Чай;30,00\n');
    try {
      await office.drop(d.inbox, 'prices-0007.csv', prices);
      // receipts 101, 102, 104, 105 of shift 12: 103 never reached the journal
      writeFileSync(join(d.dir, 'sales.json'), JSON.stringify([101, 102, 104, 105].map(receipt)));
      const add = await runCli(['sale', 'add', 'sales.json', '-c', d.config], { cwd: d.dir });
      assert.equal(add.code, 0, add.err);

      const proc = cfxProcess(['run', '-c', d.config], { cwd: d.dir });
      procs.push(proc);
      const statusFile = ftpRootPath(`${d.statusDir}/box-1.status.json`, env);
      const read = () => (existsSync(statusFile) ? JSON.parse(readFileSync(statusFile, 'utf8')) : undefined);
      const st = await until('a status with the price file applied and the sales pushed', () => {
        const s = read();
        return s?.catalog?.file === 'prices-0007.csv' && s.sales.pending === 0 ? s : undefined;
      });
      assert.equal(st.format, 'cfx.status/1');
      assert.equal(st.terminal, 'box-1');
      assert.deepEqual(st.catalog, { file: 'prices-0007.csv', sha256: createHash('sha256').update(prices).digest('hex'), appliedAt: st.catalog.appliedAt, products: 3 });
      assert.deepEqual(st.sales, { pending: 0, journaled: 4, lastSaleAt: String(receipt(105).time) });
      assert.deepEqual(st.shifts, [{ shift: 12, lastReceiptNo: 105, closed: false }]);
      assert.deepEqual(st.resends, []);
      assert.equal(st.lastError, null);
      assert.ok(Number.isInteger(st.seq) && st.seq >= 1, `seq ${st.seq}`);
      assert.deepEqual(onServer(d.statusDir, env), ['box-1.status.json'], 'no temp name left');

      // the office asks for the day again
      await office.drop(d.inbox, 'resend-20261205-20261205.req', '');
      const served = await until('the served request in the status', () => {
        const s = read();
        return s?.resends?.length ? s : undefined;
      });
      assert.ok(served.seq > st.seq, `seq ${served.seq} after ${st.seq}`);
      assert.deepEqual(served.resends.map((r: Record<string, unknown>) => ({ ...r, servedAt: typeof r.servedAt })), [
        { request: 'resend-20261205-20261205.req', servedAt: 'string', from: '2026-12-05', to: '2026-12-05', sales: 4, receipts: [{ shift: 12, receiptNos: [101, 102, 104, 105] }] },
      ]);
      await until('the request gone from the inbox', () => (onServer(d.inbox, env).includes('resend-20261205-20261205.req') ? undefined : true));

      // a shift close through the running till's journal: the status says it is closed, the file is on the server
      writeFileSync(join(d.dir, 'close.json'), JSON.stringify(CLOSE));
      const close = await runCli(['shift', 'close', 'close.json', '-c', d.config], { cwd: d.dir });
      assert.equal(close.code, 0, close.err);
      const closed = await until('the closed shift in the status', () => {
        const s = read();
        return s?.shifts?.[0]?.closed === true && s.sales.pending === 0 ? s : undefined;
      });
      assert.deepEqual(closed.shifts, [{ shift: 12, lastReceiptNo: 105, closed: true }]);
      assert.equal(readFileSync(ftpRootPath(`${d.salesDir}/${SHIFT_FILE}`, env), 'utf8'), SHIFT_BODY);

      proc.child.kill('SIGTERM');
      const done = await proc.done;
      assert.equal(done.code, 0, done.err);
      const status = await runCli(['status', '--json', '-c', d.config], { cwd: d.dir });
      assert.equal(status.code, 0, status.err);
      const file = status.json().statusFile;
      assert.equal(file.written.path, `${d.statusDir}/box-1.status.json`);
      assert.equal(file.written.seq, read().seq, 'cfx status shows the last write');
      assert.equal(file.error, undefined);
      const textStatus = await runCli(['status', '-c', d.config], { cwd: d.dir });
      assert.match(textStatus.out, new RegExp(`status\\s+file ${d.statusDir}/box-1\\.status\\.json written at \\S+ \\(seq ${read().seq}, \\d+ bytes\\)`));
    } finally {
      await office.close();
    }
  });
});

// ---- crash safety of the shift-close upload at each of its named fault points (SIGKILL)

const PUSH_POINTS = ['sales.push:shift-local-copy', 'sales.push:shift-uploaded-temp', 'sales.push:shift-renamed', 'sales.push:shift-recorded'];
const RESEND_POINTS = ['sales.resend:shift-local-copy', 'sales.resend:shift-uploaded-temp', 'sales.resend:shift-renamed', 'sales.resend:shift-recorded'];

async function crashThenRecover(d: Deployment, args: string[], point: string): Promise<void> {
  const r = await cfxProcess([...args, '-c', d.config], { cwd: d.dir, env: { CFX_FAULT: point }, deadlineMs: 60_000 }).done;
  assert.ok(r.signal === 'SIGKILL' && !r.timedOut, `cfx ${args[0]} with CFX_FAULT=${point} should have killed itself there, got code ${r.code} signal ${r.signal}:\n${r.err}${r.out}`);
  const again = await runCli([...args, '--json', '-c', d.config], { cwd: d.dir });
  assert.equal(again.code, 0, `cfx ${args[0]} after the crash at ${point}: ${again.err}${again.out}`);
}

/** the close once on the server under its name, byte for byte the till's copy, nothing pending, a sale beside it */
async function assertOnServer(d: Deployment & { salesDir: string }, when: string): Promise<void> {
  assert.deepEqual(onServer(d.salesDir, env), ['box-1_S000101.csv', SHIFT_FILE], `${when}: the sale and the close once each, no temp name`);
  assert.ok(readFileSync(ftpRootPath(`${d.salesDir}/${SHIFT_FILE}`, env)).equals(tillCopy(d)), `${when}: the server's close is the till's copy`);
  assert.equal(tillCopy(d).toString(), SHIFT_BODY);
  const app = openApp(d, 'ro');
  try {
    assert.deepEqual([app.store.journal.countPending(), app.store.shifts.countPending()], [0, 0], `${when}: nothing pending`);
  } finally {
    await app.close();
  }
}

describe('shift close crash safety at every named fault point (SIGKILL, real vsftpd)', { skip, concurrency: 2 }, () => {
  it('every shift fault point has a scenario here', async () => {
    const r = await runCli(['debug', 'fault-points', '--json'], { cwd: process.cwd() });
    assert.equal(r.code, 0, r.err);
    const listed = (r.json().points as { point: string }[]).map((p) => p.point).filter((p) => p.includes(':shift-')).sort();
    assert.deepEqual(listed, [...PUSH_POINTS, ...RESEND_POINTS].sort());
  });

  for (const [i, point] of PUSH_POINTS.entries()) {
    it(`push: a crash at ${point}, then the next push completes it`, { timeout: 120_000 }, async () => {
      const d = deployment();
      writeFileSync(join(d.dir, 'sale.json'), JSON.stringify(receipt(101)));
      writeFileSync(join(d.dir, 'close.json'), JSON.stringify(CLOSE));
      for (const args of [['sale', 'add', 'sale.json'], ['shift', 'close', 'close.json']]) {
        const r = await runCli([...args, '-c', d.config], { cwd: d.dir });
        assert.equal(r.code, 0, r.err);
      }
      await crashThenRecover(d, ['push'], point);
      await assertOnServer(d, `after the crash at ${point} (${i})`);
    });
  }

  for (const point of RESEND_POINTS) {
    it(`resend: a crash at ${point}, then the next resend completes it`, { timeout: 120_000 }, async () => {
      const d = deployment();
      writeFileSync(join(d.dir, 'sale.json'), JSON.stringify(receipt(101)));
      writeFileSync(join(d.dir, 'close.json'), JSON.stringify(CLOSE));
      for (const args of [['sale', 'add', 'sale.json'], ['shift', 'close', 'close.json', '--push']]) {
        const r = await runCli([...args, '-c', d.config], { cwd: d.dir });
        assert.equal(r.code, 0, r.err);
      }
      await assertOnServer(d, 'after the push');
      await crashThenRecover(d, ['resend', '--from', '2026-12-05', '--to', '2026-12-05'], point);
      await assertOnServer(d, `after the resend crashed at ${point}`);
    });
  }
});
