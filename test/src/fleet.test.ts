// Whole-system tests of the fleet (issue #18, docs/fleet.md) against a real vsftpd, end to end: real
// terminals (cfx sale add / shift close / push / pull / run, their status.publish job) and a real
// office (cfx collect, cfx fleet, cfx publish with the 1c back office, /api/fleet and /metrics).
// Nothing of the two fleet files is written by the test: the terminals write them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Service, coreServices, silentLogger, type Clock } from '@cfx/core';
import { realServers, freshRemoteDir, ftpRootPath, onServer, type ServersEnv } from './helpers/servers.js';
import { cfxProcess, officeClient, openApp, terminalDeployment, type Deployment } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { officeDeployment, outFiles, rowsOf, type Office } from './helpers/office.js';
import { SwitchableRelay, saleJson } from './helpers/sales.js';
import { until } from './helpers/wait.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

/** yesterday (UTC): inside the fleet's window of a week, never in the future of any till */
const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const COMPACT = DAY.replaceAll('-', '');

interface FleetOffice extends Office {
  base: string;
  sales: (t: string) => string;
  inbox: (t: string) => string;
  statusDir: string;
  /** the admin API's base URL, when asked for */
  admin?: string;
}

/**
 * An office for box-1 and box-2: each terminal's own sales dir and inbox, the status dir, the
 * fleet's settings. The status dir is written relative on both sides (taken from the server's root).
 */
function fleetOffice(opts: { adminPort?: number } = {}): FleetOffice {
  const base = freshRemoteDir('fleet');
  const o = officeDeployment(env, {
    salesDir: `${base}/sales/{terminal}`,
    extra: `prices: { dir: "${base}/in/{terminal}" }\nstatus: { dir: "${base.slice(1)}/status" }\nfleet: { staleAfter: 5m, gapRetry: 10m, gapRetryMax: 6h }\n${opts.adminPort ? `admin: { listen: "127.0.0.1:${opts.adminPort}" }\n` : ''}`,
  });
  return { ...o, base, sales: (t) => `${base}/sales/${t}`, inbox: (t) => `${base}/in/${t}`, statusDir: `${base}/status`, ...(opts.adminPort ? { admin: `http://127.0.0.1:${opts.adminPort}` } : {}) };
}

/** a real terminal of that office: its inbox, its sales dir, the office's status dir (relative, as the office has it) */
function terminal(o: FleetOffice, id: string): Deployment {
  return terminalDeployment({ server: env.ftpUrl, remoteBase: `${o.base}/in`, terminal: id, extra: `sales: { dir: "${o.base}/sales/{terminal}", format: csv }\nstatus: { dir: "${o.base.slice(1)}/status", every: 1s }\n` });
}

const cli = (where: { dir: string; config: string }, ...args: string[]) => runCli([...args, '-c', where.config], { cwd: where.dir });

async function recordAndPush(d: Deployment, sales: Record<string, unknown>[]): Promise<void> {
  writeFileSync(join(d.dir, 'sales.json'), JSON.stringify(sales));
  const add = await cli(d, 'sale', 'add', 'sales.json');
  assert.equal(add.code, 0, add.err);
  const push = await cli(d, 'push', '--json');
  assert.equal(push.code, 0, push.err);
}

/** `cfx shift close FILE.json --push` on the till: journaled, then pushed as `<t>_shift-N.shift.json` */
async function closeShift(d: Deployment, close: Record<string, unknown>): Promise<void> {
  writeFileSync(join(d.dir, 'close.json'), JSON.stringify(close));
  const r = await cli(d, 'shift', 'close', 'close.json', '--push', '--json');
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(r.json().status, 'recorded');
}

/**
 * The terminal's status.publish job run once against the real server, in-process (what `cfx run`
 * does every `status.every` and after each change): the file the office reads.
 */
async function publishStatus(d: Deployment): Promise<{ path: string; seq: number }> {
  const app = openApp(d, 'rw');
  try {
    const r = await app.jobs.run('status.publish', { trigger: 'cli' });
    assert.equal(r.result, 'idle', JSON.stringify(r));
    return r.output as { path: string; seq: number };
  } finally {
    await app.close();
  }
}

/** the terminal's status file as it is on the server */
const statusOnServer = (o: FleetOffice, t: string) => JSON.parse(readFileSync(ftpRootPath(`${o.statusDir}/${t}.status.json`, env), 'utf8'));

/** `cfx collect` in-process with the office's clock set to `at` (the staleness is judged by the office's clock) */
async function collectAt(o: FleetOffice, at: Date): Promise<Record<string, any>> {
  const app = App.open({ configFile: o.config, env: {}, store: 'rw', logger: silentLogger() });
  const clock: Clock = { now: () => new Date(at) };
  app.services.value(coreServices.clock, clock);
  try {
    return (await app.jobs.run('sales.collect', { trigger: 'cli' })).output as Record<string, any>;
  } finally {
    await app.close();
  }
}

async function fleetJson(o: { dir: string; config: string }): Promise<{ code: number; byTerminal: Record<string, any> }> {
  const r = await cli(o, 'fleet', '--json');
  assert.ok(r.code === 0 || r.code === 3, r.err + r.out);
  return { code: r.code, byTerminal: Object.fromEntries(r.json().terminals.map((t: any) => [t.terminal, t])) };
}

/** every data row the generic back office wrote, over all its files */
const allRows = (o: FleetOffice) => [...outFiles(o).values()].flatMap(rowsOf);

// saleJson's amounts: receipt n pays adults·350.00 + 20.00 (adults = 1 + n mod 3), by card when n is odd, else cash
describe('the fleet end to end: real terminals, a real office (real vsftpd)', { skip }, () => {
  let client: ReturnType<typeof officeClient>;
  before(() => {
    client = officeClient(env);
  });
  after(async () => {
    await client?.close();
  });

  it('a receipt removed from the server heals by itself: request written, served by the terminal, collected once; the shift close then reconciles', { timeout: 120_000 }, async () => {
    const o = fleetOffice();
    const t1 = terminal(o, 'box-1');
    await recordAndPush(t1, [101, 102, 103, 104, 105].map((n) => saleJson(n, DAY, { shift: 12 })));
    const pushed = onServer(o.sales('box-1'));
    assert.deepEqual(pushed, ['box-1_S000101.csv', 'box-1_S000102.csv', 'box-1_S000103.csv', 'box-1_S000104.csv', 'box-1_S000105.csv']);
    // a person cleaning the FTP dir
    await client.delete(`${o.sales('box-1')}/box-1_S000103.csv`);

    const first = await cli(o, 'collect', '--json');
    assert.equal(first.code, 0, first.err + first.out);
    const j = first.json();
    assert.deepEqual([j.counts.stored, j.delivered.sales], [4, 4]);
    assert.deepEqual(j.fleet.gaps.requests, [{ terminal: 'box-1', request: `resend-${COMPACT}-${COMPACT}.req`, gaps: ['12/103'] }]);
    assert.deepEqual(onServer(o.inbox('box-1')), [`resend-${COMPACT}-${COMPACT}.req`]);
    let f = await fleetJson(o);
    assert.deepEqual(f.byTerminal['box-1'].gaps, { open: 0, requested: 1, lostAtTill: 0 });
    assert.deepEqual(f.byTerminal['box-1'].gapList.map((g: any) => [g.shift, g.receiptNo, g.state, g.requests]), [[12, 103, 'requested', 1]]);

    // the terminal's price pull serves the request: the period goes up again
    const pull = await cli(t1, 'pull', '--json');
    assert.equal(pull.code, 0, pull.err + pull.out);
    assert.deepEqual(onServer(o.inbox('box-1')), [], 'the served request is gone');
    assert.equal(onServer(o.sales('box-1')).length, 5);

    const second = await cli(o, 'collect', '--json');
    assert.equal(second.code, 0, second.err + second.out);
    const k = second.json();
    assert.deepEqual([k.counts.stored, k.counts.duplicates, k.delivered.sales, k.fleet.gaps.closed, k.fleet.gaps.requests], [1, 4, 1, 1, []]);
    f = await fleetJson(o);
    assert.deepEqual([f.byTerminal['box-1'].gaps, f.byTerminal['box-1'].gapList], [{ open: 0, requested: 0, lostAtTill: 0 }, []]);

    // the back office got receipt 103 exactly once, and every other sale once
    const rows = allRows(o);
    assert.equal(rows.filter((r) => r.split(';')[1] === 'S000103').length, 2, 'its two lines, once');
    assert.deepEqual([...new Set(rows.map((r) => r.split(';')[1]))].sort(), ['S000101', 'S000102', 'S000103', 'S000104', 'S000105']);
    assert.equal(rows.length, 10);

    // the till closes the shift: cash 370.00 + 1070.00 (102, 104), card 1070.00 + 720.00 + 370.00 (101, 103, 105)
    await closeShift(t1, { shift: 12, closedAt: `${DAY}T20:00:00+02:00`, firstReceiptNo: 101, lastReceiptNo: 105, totals: { cash: '1440.00', card: '2160.00' } });
    assert.deepEqual(onServer(o.sales('box-1')), ['box-1_shift-12.shift.json']);
    const written = await publishStatus(t1);
    assert.equal(written.path, `${o.statusDir}/box-1.status.json`, 'the relative status.dir from the server root');
    const third = await cli(o, 'collect', '--json');
    assert.equal(third.code, 0, third.err + third.out);
    assert.deepEqual([third.json().counts.shifts, onServer(o.sales('box-1'))], [1, []]);
    assert.deepEqual(third.json().fleet.statuses, [{ terminal: 'box-1', result: 'read' }, { terminal: 'box-2', result: 'missing' }]);
    f = await fleetJson(o);
    const b1 = f.byTerminal['box-1'];
    assert.deepEqual(b1.shifts, [{ shift: 12, state: 'reconciled', lastReceiptNo: 105, difference: null, missing: null }]);
    assert.deepEqual([b1.stale, b1.pendingSales, b1.catalog.state, b1.lastError, typeof b1.lastSeen, f.code], [false, 0, 'unknown', null, 'string', 0]);
    // box-2 writes no status: never seen, not an error
    assert.deepEqual([f.byTerminal['box-2'].lastSeen, f.byTerminal['box-2'].stale], [null, false]);
    const text = await cli(o, 'fleet');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^box-1 +\d+s ago +unknown +0 +0\/0\/0 +12:reconciled$/m);
    assert.match(text.out, /^box-2 +never seen +unknown +- +0\/0\/0 +-$/m);
  });

  it('a shift close whose totals differ from the collected sales: mismatch, the difference per payment kind', { timeout: 120_000 }, async () => {
    const o = fleetOffice();
    const t2 = terminal(o, 'box-2');
    // collected: card 720.00 + 370.00 (1, 3), cash 1070.00 (2)
    await recordAndPush(t2, [1, 2, 3].map((n) => saleJson(n, DAY, { shift: 5 })));
    await closeShift(t2, { shift: 5, closedAt: `${DAY}T21:00:00+02:00`, lastReceiptNo: 3, totals: { cash: '1075.00', card: '1089.00', other: '0.50' } });
    const r = await cli(o, 'collect', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual([r.json().counts.stored, r.json().counts.shifts, r.json().fleet.gaps.requests], [3, 1, []]);
    const f = await fleetJson(o);
    assert.equal(f.code, 3, 'a shift not reconciled needs a person');
    assert.deepEqual(f.byTerminal['box-2'].shifts, [{ shift: 5, state: 'mismatch', lastReceiptNo: 3, difference: { cash: '5.00', card: '-1.00', other: '0.50' }, missing: null }]);
    const text = await cli(o, 'fleet');
    assert.equal(text.code, 3);
    assert.match(text.out, /5:mismatch\(cash 5\.00, card -1\.00, other 0\.50\)/);
    assert.match(text.out, /^ATTENTION {5}box-2: shift 5 mismatch: cash 5\.00, card -1\.00, other 0\.50 \(till − office\)$/m);
  });

  it('a shift close whose last receipt never arrived and is not at the till: the terminal (cfx run) serves the request, its status lists what it has → lost at the till in cfx fleet, /api/fleet and /metrics, until acknowledged', { timeout: 180_000 }, async () => {
    const port = await SwitchableRelay.freePort();
    const o = fleetOffice({ adminPort: port });
    const t2 = terminal(o, 'box-2');
    await recordAndPush(t2, [1, 2, 3].map((n) => saleJson(n, DAY, { shift: 5 })));
    // the till reports receipt 4 as the shift's last; its journal never had it
    await closeShift(t2, { shift: 5, closedAt: `${DAY}T21:00:00+02:00`, lastReceiptNo: 4, totals: { cash: '2000.00' } });
    const first = await cli(o, 'collect', '--json');
    assert.equal(first.code, 0, first.err + first.out);
    const request = `resend-${COMPACT}-${COMPACT}.req`;
    assert.deepEqual(first.json().fleet.gaps.requests, [{ terminal: 'box-2', request, gaps: ['5/4'] }]);

    // the real terminal running: it pulls, serves the request (the period again, the close with it) and says so in its status file
    const run = cfxProcess(['run', '-c', t2.config], { cwd: t2.dir, deadlineMs: 90_000 });
    let served: any;
    try {
      served = await until('the served request in box-2\'s status file', () => {
        try {
          const s = statusOnServer(o, 'box-2');
          return s.resends.some((x: any) => x.request === request) && s.sales.pending === 0 ? s : undefined;
        } catch {
          return undefined; // not written yet
        }
      }, 60_000);
    } finally {
      run.child.kill('SIGTERM');
    }
    const stopped = await run.done;
    assert.equal(stopped.code, 0, stopped.err);
    assert.deepEqual(served.resends.map((x: any) => [x.request, x.from, x.to, x.sales, x.receipts]), [[request, DAY, DAY, 3, [{ shift: 5, receiptNos: [1, 2, 3] }]]]);
    assert.deepEqual(served.shifts, [{ shift: 5, lastReceiptNo: 3, closed: true }]);
    assert.deepEqual(onServer(o.inbox('box-2')), [], 'the request taken');

    const second = await cli(o, 'collect', '--json');
    assert.equal(second.code, 3, 'a receipt lost at the till needs a person');
    const k = second.json();
    assert.deepEqual([k.counts.stored, k.counts.duplicates, k.fleet.gaps.lost, k.fleet.gaps.requests], [0, 3, 1, []]);
    assert.deepEqual(onServer(o.sales('box-2')), [], 'the resent close taken too (a duplicate)');
    let f = await fleetJson(o);
    assert.equal(f.code, 3);
    const b2 = f.byTerminal['box-2'];
    assert.deepEqual(b2.gaps, { open: 0, requested: 0, lostAtTill: 1 });
    assert.deepEqual(b2.gapList, [{ shift: 5, receiptNo: 4, state: 'lost', requests: 1, lastRequestAt: b2.gapList[0].lastRequestAt }]);
    assert.deepEqual(b2.shifts, [{ shift: 5, state: 'incomplete', lastReceiptNo: 4, difference: null, missing: [4] }]);
    assert.equal(b2.stale, false);
    const text = await cli(o, 'fleet');
    assert.match(text.out, /^LOST AT TILL {2}box-2 shift 5 receipt 4 \(cfx fleet ack box-2 5 4 once handled\)$/m);
    assert.match(text.out, /^ATTENTION {5}box-2: shift 5 incomplete: receipt 4 missing$/m);

    // the same on the office's admin API and metrics (the office running, as cfx run)
    const app = App.open({ configFile: o.config, env: {}, store: 'rw', logger: silentLogger() });
    const svc = new Service(app);
    await svc.start();
    try {
      const api = (await (await fetch(`${o.admin}/api/fleet`)).json()) as { terminals: any[] };
      const a2 = api.terminals.find((t) => t.terminal === 'box-2');
      assert.deepEqual([a2.gaps, a2.gapList.map((g: any) => [g.receiptNo, g.state]), a2.shifts[0].state], [{ open: 0, requested: 0, lostAtTill: 1 }, [[4, 'lost']], 'incomplete']);
      const m = await (await fetch(`${o.admin}/metrics`)).text();
      assert.match(m, /^cfx_fleet_receipt_gaps\{terminal="box-2",state="lost"\} 1$/m);
      assert.match(m, /^cfx_fleet_shifts\{terminal="box-2",state="incomplete"\} 1$/m);
      assert.match(m, /^cfx_fleet_pending_sales\{terminal="box-2"\} 0$/m);
    } finally {
      await svc.stop();
      await app.close();
    }

    // no further request for a lost receipt
    const third = await cli(o, 'collect', '--json');
    assert.deepEqual(third.json().fleet.gaps.requests, []);

    const ack = await cli(o, 'fleet', 'ack', 'box-2', '5', '4', '--json');
    assert.equal(ack.code, 0, ack.err + ack.out);
    assert.deepEqual([ack.json().state, ack.json().was], ['acked', 'lost']);
    f = await fleetJson(o);
    assert.deepEqual([f.byTerminal['box-2'].gaps.lostAtTill, f.byTerminal['box-2'].gapList], [0, []]);
    assert.equal(f.code, 3, 'the shift is still incomplete');
    const again = await cli(o, 'fleet', 'ack', 'box-2', '5', '4');
    assert.equal(again.code, 2);
    assert.match(again.err, /already acknowledged/);
  });

  it("a terminal whose status the office read more than fleet.staleAfter ago is stale (the office's clock moved, no sleep); its next status is not", { timeout: 60_000 }, async () => {
    const o = fleetOffice();
    const t1 = terminal(o, 'box-1');
    writeFileSync(join(t1.dir, 'sales.json'), JSON.stringify([1, 2].map((n) => saleJson(n, DAY, { shift: 1 }))));
    const add = await cli(t1, 'sale', 'add', 'sales.json');
    assert.equal(add.code, 0, add.err);
    // two sales journaled, not pushed: the status says so
    const w1 = await publishStatus(t1);
    // the office read it 10 minutes "ago" by its own clock
    const r = await collectAt(o, new Date(Date.now() - 10 * 60_000));
    assert.deepEqual(r.fleet.statuses.map((s: any) => [s.terminal, s.result]), [['box-1', 'read'], ['box-2', 'missing']]);
    let f = await fleetJson(o);
    assert.equal(f.code, 3);
    assert.deepEqual([f.byTerminal['box-1'].stale, f.byTerminal['box-1'].pendingSales, f.byTerminal['box-1'].ageSeconds >= 600], [true, 2, true]);
    assert.match((await cli(o, 'fleet')).out, /^ATTENTION {5}box-1: stale: last seen \d+m ago$/m);

    // the same file again changes nothing; the terminal's next write (seq + 1) makes it seen now
    await collectAt(o, new Date());
    assert.equal((await fleetJson(o)).byTerminal['box-1'].stale, true);
    const push = await cli(t1, 'push', '--json');
    assert.equal(push.code, 0, push.err);
    const w2 = await publishStatus(t1);
    assert.equal(w2.seq, w1.seq + 1);
    await collectAt(o, new Date());
    f = await fleetJson(o);
    assert.deepEqual([f.byTerminal['box-1'].stale, f.byTerminal['box-1'].pendingSales, f.code], [false, 0, 0]);
  });
});

// ---- catalog current or behind: an office that really publishes (the 1c back office, ATOL goods files)

const GOODS = readFileSync(new URL('../../plugins/backoffice-1c/fixtures/atol/goods-full.txt', import.meta.url));
/** 1C's next export: item 1 at another price */
const GOODS_2 = Buffer.from(GOODS.toString('latin1').replace('350,00', '399,00'), 'latin1');

describe('a terminal behind on prices (an office publishing 1C goods files, real vsftpd)', { skip }, () => {
  it('behind while it has not pulled the newest file the office published, current once it has', { timeout: 120_000 }, async () => {
    const base = freshRemoteDir('fleet-1c');
    // the 1C office: goods files from ./1c/<terminal>, published as atol into each terminal's inbox
    const office = officeDeployment(env, {
      salesDir: `${base}/sales`,
      salesFormat: 'atol',
      backoffice: 'backoffice:\n  use: 1c\n  options: { exchangeDir: "./1c/{terminal}", goodsFile: atolimp.txt, goodsFlag: atolimp.flg, reportFile: atolexp.txt, databaseId: "7" }',
      extra: `prices: { dir: "${base}/{terminal}", format: atol }\nstatus: { dir: ${base}/status }\n`,
    });
    const dir = office.dir;
    const t1 = terminalDeployment({ server: env.ftpUrl, remoteBase: base, terminal: 'box-1', prices: { format: 'atol' }, extra: `sales: { dir: ${base}/sales, format: atol }\nstatus: { dir: ${base}/status }\n` });
    /** 1C exports the goods file for box-1 (file, then flag), cfx publish puts it in box-1's inbox */
    const publish = async (goods: Buffer): Promise<string> => {
      mkdirSync(join(dir, '1c', 'box-1'), { recursive: true });
      writeFileSync(join(dir, '1c', 'box-1', 'atolimp.txt'), goods);
      writeFileSync(join(dir, '1c', 'box-1', 'atolimp.flg'), '');
      const r = await cli(office, 'publish', '--json');
      assert.equal(r.code, 0, r.err + r.out);
      const out = (r.json().outcomes as { terminal: string; result: string; name: string }[]).filter((x) => x.result === 'published');
      assert.deepEqual(out.map((x) => x.terminal), ['box-1']);
      return out[0]!.name;
    };
    const pull = async () => {
      const r = await cli(t1, 'pull', '--json');
      assert.equal(r.code, 0, r.err + r.out);
      return r.json().files.map((x: { name: string; result: string }) => [x.name, x.result]);
    };
    /** the terminal writes its status, the office collects (reads it) and reports box-1's catalog */
    const catalogSeen = async () => {
      await publishStatus(t1);
      const c = await cli(office, 'collect', '--json');
      assert.equal(c.code, 0, c.err + c.out);
      const f = await fleetJson(office);
      return { code: f.code, catalog: f.byTerminal['box-1'].catalog, other: f.byTerminal['box-2'].catalog.state };
    };

    const first = await publish(GOODS);
    assert.deepEqual(await pull(), [[first, 'applied']]);
    assert.deepEqual(await catalogSeen(), { code: 0, catalog: { state: 'current', file: first, products: 3, published: first }, other: 'unknown' });

    // 1C exports new prices; the office publishes them; the terminal has not pulled yet
    const second = await publish(GOODS_2);
    assert.notEqual(second, first);
    assert.deepEqual(await catalogSeen(), { code: 3, catalog: { state: 'behind', file: first, products: 3, published: second }, other: 'unknown' });
    assert.match((await cli(office, 'fleet')).out, new RegExp(`^box-1 +\\S+ ago +BEHIND ${first.replaceAll('.', '\\.')} `, 'm'));

    assert.deepEqual(await pull(), [[second, 'applied']]);
    assert.deepEqual(await catalogSeen(), { code: 0, catalog: { state: 'current', file: second, products: 3, published: second }, other: 'unknown' });
  });
});

/** the fleet step's fault points, each with its scenario below */
const FLEET_POINTS = ['sales.collect:fleet-shift-stored', 'sales.collect:fleet-gap-requested'];

/** `cfx collect` killed at `point` (a real child process), then run again without the fault */
async function crashThenCollect(o: FleetOffice, point: string): Promise<Record<string, any>> {
  const r = await cfxProcess(['collect', '--json', '-c', o.config], { cwd: o.dir, env: { CFX_FAULT: point }, deadlineMs: 60_000 }).done;
  assert.ok(r.signal === 'SIGKILL' && !r.timedOut, `cfx collect with CFX_FAULT=${point} should have killed itself there, got code ${r.code} signal ${r.signal}:\n${r.err}${r.out}`);
  const again = await cli(o, 'collect', '--json');
  assert.ok(again.code === 0, again.err + again.out);
  return again.json();
}

describe('fleet crash safety at every fleet fault point (SIGKILL, real vsftpd)', { skip }, () => {
  it('every fault point of the fleet step has a scenario here', async () => {
    const r = await runCli(['debug', 'fault-points', '--json'], { cwd: process.cwd() });
    assert.equal(r.code, 0, r.err);
    const listed = (r.json().points as { point: string }[]).map((p) => p.point).filter((p) => p.startsWith('sales.collect:fleet-')).sort();
    assert.deepEqual(listed, [...FLEET_POINTS].sort());
  });

  it('killed after a shift close is stored (file still on the server): the next run archives and deletes it, the close is kept once', { timeout: 120_000 }, async () => {
    const o = fleetOffice();
    await closeShift(terminal(o, 'box-1'), { shift: 3, closedAt: `${DAY}T20:00:00+02:00`, lastReceiptNo: 0, firstReceiptNo: 0, totals: { cash: '0.00' } });
    const j = await crashThenCollect(o, 'sales.collect:fleet-shift-stored');
    assert.deepEqual(j.files.map((f: any) => [f.name, f.result, f.stored]), [['box-1_shift-3.shift.json', 'shift', false]], 'already stored by the killed run');
    assert.deepEqual(onServer(o.sales('box-1')), []);
    const f = await fleetJson(o);
    assert.deepEqual(f.byTerminal['box-1'].shifts.map((s: any) => [s.shift, s.lastReceiptNo]), [[3, 0]]);
  });

  it('killed after a resend request is written (gap not yet marked): the next run writes the same request once more and marks the gap', { timeout: 120_000 }, async () => {
    const o = fleetOffice();
    const t1 = terminal(o, 'box-1');
    await recordAndPush(t1, [1, 2, 4].map((n) => saleJson(n, DAY, { shift: 9 })));
    const j = await crashThenCollect(o, 'sales.collect:fleet-gap-requested');
    const request = `resend-${COMPACT}-${COMPACT}.req`;
    assert.deepEqual(j.fleet.gaps.requests, [{ terminal: 'box-1', request, gaps: ['9/3'] }]);
    assert.deepEqual(onServer(o.inbox('box-1')), [request], 'one request file: the same name overwritten');
    const f = await fleetJson(o);
    assert.deepEqual(f.byTerminal['box-1'].gapList.map((g: any) => [g.receiptNo, g.state, g.requests]), [[3, 'requested', 1]]);
    assert.equal(allRows(o).length, 6, 'the three sales delivered once (two lines each)');
  });
});
