// Whole-system tests of the office's fleet (issue #18, docs/fleet.md) against a real vsftpd: real
// terminals (cfx sale add / push / pull) and a real office (cfx collect, cfx fleet). The terminal's
// status file and shift close are written in the documented formats by ./fleet-files.ts until the
// terminal writes them itself.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, coreServices, silentLogger, type Clock } from '@cfx/core';
import { realServers, freshRemoteDir, onServer, type ServersEnv } from './helpers/servers.js';
import { cfxProcess, officeClient, terminalDeployment, type Deployment } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { officeDeployment, outFiles, rowsOf, type Office } from './helpers/office.js';
import { saleJson } from './helpers/sales.js';
import { catalogOf, pushShiftClose, servedResend, writeStatus } from './fleet-files.js';

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
}

/** an office for box-1 and box-2: each terminal's own sales dir and inbox, the status dir, the fleet's settings */
function fleetOffice(): FleetOffice {
  const base = freshRemoteDir('fleet');
  const o = officeDeployment(env, {
    salesDir: `${base}/sales/{terminal}`,
    extra: `prices: { dir: "${base}/in/{terminal}" }\nstatus: { dir: "${base}/status" }\nfleet: { staleAfter: 5m, gapRetry: 10m, gapRetryMax: 6h }\n`,
  });
  return { ...o, base, sales: (t) => `${base}/sales/${t}`, inbox: (t) => `${base}/in/${t}`, statusDir: `${base}/status` };
}

function terminal(o: FleetOffice, id: string): Deployment {
  return terminalDeployment({ server: env.ftpUrl, remoteBase: `${o.base}/in`, terminal: id, extra: `sales: { dir: "${o.base}/sales/{terminal}", format: csv }\n` });
}

const cli = (where: { dir: string; config: string }, ...args: string[]) => runCli([...args, '-c', where.config], { cwd: where.dir });

async function recordAndPush(d: Deployment, sales: Record<string, unknown>[]): Promise<void> {
  writeFileSync(join(d.dir, 'sales.json'), JSON.stringify(sales));
  const add = await cli(d, 'sale', 'add', 'sales.json');
  assert.equal(add.code, 0, add.err);
  const push = await cli(d, 'push', '--json');
  assert.equal(push.code, 0, push.err);
}

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

async function fleetJson(o: FleetOffice): Promise<{ code: number; byTerminal: Record<string, any> }> {
  const r = await cli(o, 'fleet', '--json');
  assert.ok(r.code === 0 || r.code === 3, r.err + r.out);
  return { code: r.code, byTerminal: Object.fromEntries(r.json().terminals.map((t: any) => [t.terminal, t])) };
}

/** every data row the generic back office wrote, over all its files */
const allRows = (o: FleetOffice) => [...outFiles(o).values()].flatMap(rowsOf);

describe('the office sees its fleet (real vsftpd)', { skip }, () => {
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

    // the shift close: cash 370.00 + 1070.00, card 1070.00 + 720.00 + 370.00 (saleJson's amounts)
    await pushShiftClose(client, o.sales('box-1'), 'box-1', { shift: 12, closedAt: `${DAY}T20:00:00+02:00`, firstReceiptNo: 101, lastReceiptNo: 105, totals: { cash: 144000, card: 216000 } });
    const third = await cli(o, 'collect', '--json');
    assert.equal(third.code, 0, third.err + third.out);
    assert.deepEqual([third.json().counts.shifts, onServer(o.sales('box-1'))], [1, []]);
    f = await fleetJson(o);
    assert.deepEqual(f.byTerminal['box-1'].shifts, [{ shift: 12, state: 'reconciled', lastReceiptNo: 105, difference: null, missing: null }]);
    // box-1 has no status file yet: never seen, not an error
    assert.deepEqual([f.byTerminal['box-1'].lastSeen, f.byTerminal['box-1'].stale, f.code], [null, false, 0]);
  });

  it('a shift close whose last receipt never arrived and is not at the till: lost at the till (exit 3) until acknowledged', { timeout: 120_000 }, async () => {
    const o = fleetOffice();
    const t2 = terminal(o, 'box-2');
    await recordAndPush(t2, [1, 2, 3].map((n) => saleJson(n, DAY, { shift: 5 })));
    // the till reports receipt 4 as the shift's last; its journal never had it
    await pushShiftClose(client, o.sales('box-2'), 'box-2', { shift: 5, closedAt: `${DAY}T21:00:00+02:00`, lastReceiptNo: 4, totals: { cash: 200000 } });
    const first = await cli(o, 'collect', '--json');
    assert.equal(first.code, 0, first.err + first.out);
    const request = `resend-${COMPACT}-${COMPACT}.req`;
    assert.deepEqual(first.json().fleet.gaps.requests, [{ terminal: 'box-2', request, gaps: ['5/4'] }]);

    const pull = await cli(t2, 'pull', '--json');
    assert.equal(pull.code, 0, pull.err + pull.out);
    // the status after serving: the journal's receipts in the period
    const served = servedResend(t2, request);
    assert.deepEqual(served.receipts, [{ shift: 5, receiptNos: [1, 2, 3] }]);
    await writeStatus(client, o.statusDir, 'box-2', { seq: 1, resends: [served], shifts: [{ shift: 5, lastReceiptNo: 3, closed: true }] });

    const second = await cli(o, 'collect', '--json');
    assert.equal(second.code, 3, 'a receipt lost at the till needs a person');
    assert.deepEqual([second.json().counts.duplicates, second.json().fleet.gaps.lost], [3, 1]);
    let f = await fleetJson(o);
    assert.equal(f.code, 3);
    const b2 = f.byTerminal['box-2'];
    assert.deepEqual(b2.gaps, { open: 0, requested: 0, lostAtTill: 1 });
    assert.deepEqual(b2.gapList, [{ shift: 5, receiptNo: 4, state: 'lost', requests: 1, lastRequestAt: b2.gapList[0].lastRequestAt }]);
    assert.deepEqual(b2.shifts, [{ shift: 5, state: 'incomplete', lastReceiptNo: 4, difference: null, missing: [4] }]);
    const text = await cli(o, 'fleet');
    assert.match(text.out, /LOST AT TILL {2}box-2 shift 5 receipt 4 \(cfx fleet ack box-2 5 4 once handled\)/);

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

  it("a terminal whose status the office read more than fleet.staleAfter ago is stale (the office's clock moved, no sleep); a fresh status is not", { timeout: 60_000 }, async () => {
    const o = fleetOffice();
    await writeStatus(client, o.statusDir, 'box-1', { seq: 7, pending: 2 });
    // the office read it 10 minutes "ago" by its own clock
    const r = await collectAt(o, new Date(Date.now() - 10 * 60_000));
    assert.deepEqual(r.fleet.statuses.map((s: any) => [s.terminal, s.result]), [['box-1', 'read'], ['box-2', 'missing']]);
    let f = await fleetJson(o);
    assert.equal(f.code, 3);
    assert.deepEqual([f.byTerminal['box-1'].stale, f.byTerminal['box-1'].pendingSales, f.byTerminal['box-1'].ageSeconds >= 600], [true, 2, true]);
    assert.match((await cli(o, 'fleet')).out, /ATTENTION {5}box-1: stale: last seen \d+s ago/);

    // the same file again changes nothing; a newer one (seq 8) makes it seen now
    await collectAt(o, new Date());
    assert.equal((await fleetJson(o)).byTerminal['box-1'].stale, true);
    await writeStatus(client, o.statusDir, 'box-1', { seq: 8, pending: 0 });
    await collectAt(o, new Date());
    f = await fleetJson(o);
    assert.deepEqual([f.byTerminal['box-1'].stale, f.byTerminal['box-1'].pendingSales, f.code], [false, 0, 0]);
  });

  it('a terminal behind on prices shows as behind, current once it has what the office published', { timeout: 60_000 }, async () => {
    const o = fleetOffice();
    const t1 = terminal(o, 'box-1');
    // the terminal applies a price file from its inbox
    await client.drop(o.inbox('box-1'), 'prices-0001.csv', 'code;barcodes;name;price;unit;weighed\r\n1;4820000000011;Квиток дорослий;350,00;шт;0\r\n');
    const pull = await cli(t1, 'pull', '--json');
    assert.equal(pull.code, 0, pull.err + pull.out);
    const applied = catalogOf(t1)!;
    assert.equal(applied.file, 'prices-0001.csv');
    await writeStatus(client, o.statusDir, 'box-1', { seq: 1, catalog: applied });

    // what office.publish records after each upload: a newer file than the terminal applied
    const app = App.open({ configFile: o.config, env: {}, store: 'rw', logger: silentLogger() });
    try {
      app.store.fleet.recordPublished({ terminalId: 'box-1', name: 'goods-2-bbbbbbbbbbbb.csv', sha256: 'b'.repeat(64), publishedAt: new Date().toISOString() });
    } finally {
      await app.close();
    }
    await cli(o, 'collect', '--json');
    let f = await fleetJson(o);
    assert.equal(f.code, 3);
    assert.deepEqual(f.byTerminal['box-1'].catalog, { state: 'behind', file: 'prices-0001.csv', products: 1, published: 'goods-2-bbbbbbbbbbbb.csv' });
    assert.equal(f.byTerminal['box-2'].catalog.state, 'unknown');

    const app2 = App.open({ configFile: o.config, env: {}, store: 'rw', logger: silentLogger() });
    try {
      app2.store.fleet.recordPublished({ terminalId: 'box-1', name: 'prices-0001.csv', sha256: applied.sha256, publishedAt: new Date().toISOString() });
    } finally {
      await app2.close();
    }
    f = await fleetJson(o);
    assert.deepEqual([f.byTerminal['box-1'].catalog.state, f.code], ['current', 0]);
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
  let client: ReturnType<typeof officeClient>;
  before(() => {
    client = officeClient(env);
  });
  after(async () => {
    await client?.close();
  });

  it('every fault point of the fleet step has a scenario here', async () => {
    const r = await runCli(['debug', 'fault-points', '--json'], { cwd: process.cwd() });
    assert.equal(r.code, 0, r.err);
    const listed = (r.json().points as { point: string }[]).map((p) => p.point).filter((p) => p.startsWith('sales.collect:fleet-')).sort();
    assert.deepEqual(listed, [...FLEET_POINTS].sort());
  });

  it('killed after a shift close is stored (file still on the server): the next run archives and deletes it, the close is kept once', { timeout: 120_000 }, async () => {
    const o = fleetOffice();
    await pushShiftClose(client, o.sales('box-1'), 'box-1', { shift: 3, closedAt: `${DAY}T20:00:00+02:00`, lastReceiptNo: 0, firstReceiptNo: 0, totals: { cash: 0 } });
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
