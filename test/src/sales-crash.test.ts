// Crash safety of the sales path at every named fault point (core/src/faults): a real child cfx
// SIGKILLs itself exactly there (CFX_FAULT), the next run without the fault completes the work,
// and the invariants are checked against the real vsftpd. No timer decides where a crash lands:
// each point is reached in every run, on a quiet machine or a loaded one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sale } from '@cfx/core';
import { realServers, freshRemoteDir, ftpRootPath, onServer, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, cfxProcess, officeClient, type Deployment } from './helpers/deploy.js';
import { officeDeployment, outFiles, rowsOf, expectedRows, type Office } from './helpers/office.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

/** the jobs whose points this file proves (prices.pull and office.publish have their own tests) */
const JOBS = new Set(['sales.push', 'sales.resend', 'sales.collect', 'delivery']);

const PUSH = ['sales.push:local-copy', 'sales.push:uploaded-temp', 'sales.push:renamed', 'sales.push:recorded'];
const COLLECT = ['sales.collect:downloaded', 'sales.collect:stored', 'sales.collect:archived', 'sales.collect:deleted', 'delivery:batch-assigned', 'delivery:adapter-done', 'delivery:marked'];
const RESEND = ['sales.resend:local-copy', 'sales.resend:uploaded-temp', 'sales.resend:renamed', 'sales.resend:recorded', 'sales.resend:request-served'];

/**
 * One till and one office through push → collect + delivery → resend → collect. Each phase runs
 * once per fault in its list, each run crashing at its point (the second one during the recovery
 * from the first), then once without a fault. The resend is asked for by `cfx resend` or by the
 * office's request file, which `cfx pull` serves.
 */
interface Scenario {
  push: string[];
  collect: string[];
  resend: string[];
  via: 'command' | 'request';
}

const SINGLE: Scenario[] = COLLECT.map((c, i) => {
  const r = RESEND[i % RESEND.length]!;
  return { push: [PUSH[i % PUSH.length]!], collect: [c], resend: [r], via: r.endsWith(':request-served') || i % 2 ? 'request' : 'command' };
});

/**
 * Crashes during the recovery: the second point must be on the recovery's path whatever the first
 * left (so never after `sales.push:recorded`, which may have recorded everything).
 */
const DOUBLE: Scenario[] = [
  { push: ['sales.push:uploaded-temp', 'sales.push:renamed'], collect: ['sales.collect:stored', 'sales.collect:archived'], resend: ['sales.resend:renamed', 'sales.resend:recorded'], via: 'command' },
  { push: ['sales.push:renamed', 'sales.push:recorded'], collect: ['delivery:batch-assigned', 'delivery:adapter-done'], resend: ['sales.resend:renamed', 'sales.resend:request-served'], via: 'request' },
  { push: ['sales.push:local-copy', 'sales.push:uploaded-temp'], collect: ['delivery:adapter-done', 'delivery:adapter-done'], resend: ['sales.resend:uploaded-temp', 'sales.resend:local-copy'], via: 'command' },
  { push: ['sales.push:renamed', 'sales.push:local-copy'], collect: ['sales.collect:deleted', 'delivery:marked'], resend: ['sales.resend:request-served', 'sales.resend:uploaded-temp'], via: 'request' },
];

const label = (s: Scenario) => `push ${s.push.join(' → ')}; collect ${s.collect.join(' → ')}; resend (${s.via}) ${s.resend.join(' → ')}`;

/** the runs of `args` crashing at each point in turn, then one without a fault, which must succeed */
async function crashThenRecover(where: { dir: string; config: string }, args: string[], faults: string[]): Promise<void> {
  for (const point of faults) {
    const r = await cfxProcess([...args, '-c', where.config], { cwd: where.dir, env: { CFX_FAULT: point }, deadlineMs: 60_000 }).done;
    assert.ok(r.signal === 'SIGKILL' && !r.timedOut, `cfx ${args[0]} with CFX_FAULT=${point} should have killed itself there, got code ${r.code} signal ${r.signal}:\n${r.err}${r.out}`);
  }
  const r = await runCli([...args, '-c', where.config], { cwd: where.dir });
  assert.equal(r.code, 0, `cfx ${args[0]} after the crash(es) at ${faults.join(', ')}: ${r.err}${r.out}`);
}

const SALES = [saleJson(1, '2025-03-01'), saleJson(2, '2025-03-02'), saleJson(3, '2025-03-02'), saleJson(4, '2025-03-03')];
const fileName = (s: Record<string, unknown>) => `box-1_${String(s.saleId)}.csv`;
const dayOf = (s: Record<string, unknown>) => String(s.time).slice(0, 10);

/** the till's local copy of a sale file: what must reach the server and the office byte for byte */
const tillCopy = (d: Deployment, s: Record<string, unknown>) => readFileSync(join(d.dir, 'data', 'archive', 'sales', dayOf(s), fileName(s)));

/** every sale on the server once under its name, byte-identical to the till's copy; no temp name left; none pending */
async function assertAllOnServer(d: Deployment, salesDir: string, when: string): Promise<void> {
  assert.deepEqual(onServer(salesDir, env), SALES.map(fileName).sort(), `${when}: each sale once under its name, nothing under a temp name`);
  for (const s of SALES) assert.ok(readFileSync(ftpRootPath(`${salesDir}/${fileName(s)}`, env)).equals(tillCopy(d, s)), `${when}: ${fileName(s)} on the server is the till's copy`);
  const app = openApp(d, 'ro');
  try {
    assert.equal(app.store.countPending(), 0, `${when}: nothing pending in the journal`);
  } finally {
    await app.close();
  }
}

/**
 * Each sale delivered to the back office exactly once (in one batch file, its rows as the till
 * journaled it), the office's archived copy byte-identical to the till's, the server dir empty,
 * no batch waiting, no temp file in the back office's folder.
 */
async function assertDeliveredOnce(d: Deployment, o: Office, when: string): Promise<void> {
  assert.deepEqual(onServer(o.salesDir, env), [], `${when}: the server's sales dir is empty`);
  const till = openApp(d, 'ro');
  let journaled: Sale[];
  try {
    journaled = till.store.salesBetween('2025-03-01', '2025-03-31').map((r) => JSON.parse(r.body) as Sale);
  } finally {
    await till.close();
  }
  const rowsBySale = new Map<string, { files: Set<string>; rows: string[] }>();
  for (const [name, content] of outFiles(o)) {
    for (const row of rowsOf(content)) {
      const saleId = row.split(';')[1]!;
      const got = rowsBySale.get(saleId) ?? { files: new Set(), rows: [] };
      got.files.add(name);
      got.rows.push(row);
      rowsBySale.set(saleId, got);
    }
  }
  assert.deepEqual([...rowsBySale.keys()].sort(), journaled.map((s) => s.saleId).sort(), `${when}: the back office has every sale and no other`);
  for (const s of journaled) {
    const got = rowsBySale.get(s.saleId)!;
    assert.equal(got.files.size, 1, `${when}: ${s.saleId} is in exactly one batch file, found in ${[...got.files].join(', ')}`);
    assert.deepEqual(got.rows, expectedRows(s), `${when}: ${s.saleId} delivered once, as journaled`);
  }
  assert.deepEqual(readdirSync(o.outDir).filter((n) => n.startsWith('.')), [], `${when}: no temp file in the back office's folder`);
  // a crash between archive and delete archives a file twice (the second with a time prefix): both are the till's bytes
  const archiveIn = join(o.dir, 'data', 'archive', 'sales-in');
  const archived = readdirSync(archiveIn).flatMap((day) => readdirSync(join(archiveIn, day)).map((n) => join(archiveIn, day, n)));
  for (const s of SALES) {
    const copies = archived.filter((f) => f.endsWith(`/${fileName(s)}`) || f.endsWith(`_${fileName(s)}`));
    assert.ok(copies.length >= 1, `${when}: the office archived ${fileName(s)}`);
    for (const f of copies) assert.ok(readFileSync(f).equals(tillCopy(d, s)), `${when}: ${f} is the till's copy byte for byte`);
  }
  const app = openApp({ ...d, dir: o.dir, config: o.config }, 'ro');
  try {
    assert.deepEqual(app.store.collectedCounts(), { collected: SALES.length, undelivered: 0, assignedBatches: 0 }, `${when}: the office delivered all, no batch waiting`);
  } finally {
    await app.close();
  }
}

async function run(sc: Scenario): Promise<void> {
  const base = freshRemoteDir('crash');
  const o = officeDeployment(env, { salesDir: `${base}/sales` });
  // two connections: a crash lands while the other lane has a file in flight too
  const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, extra: `sales: { dir: ${o.salesDir}, format: csv, connections: 2 }\n` });
  writeFileSync(join(d.dir, 'sales.json'), JSON.stringify(SALES));
  const add = await runCli(['sale', 'add', 'sales.json', '-c', d.config], { cwd: d.dir });
  assert.equal(add.code, 0, add.err);

  await crashThenRecover(d, ['push', '--json'], sc.push);
  await assertAllOnServer(d, o.salesDir, 'after the push');

  await crashThenRecover(o, ['collect', '--json'], sc.collect);
  await assertDeliveredOnce(d, o, 'after the collect');
  const delivered = outFiles(o);

  if (sc.via === 'command') {
    await crashThenRecover(d, ['resend', '--from', '2025-03-01', '--to', '2025-03-31', '--json'], sc.resend);
  } else {
    const office = officeClient(env);
    try {
      await office.drop(d.inbox, 'resend-20250301-20250331.req', '');
    } finally {
      await office.close();
    }
    await crashThenRecover(d, ['pull', '--json'], sc.resend);
    assert.deepEqual(onServer(d.inbox, env), [], 'the served request is gone from the inbox');
  }
  await assertAllOnServer(d, o.salesDir, 'after the resend');

  const again = await runCli(['collect', '--json', '-c', o.config], { cwd: o.dir });
  assert.equal(again.code, 0, again.err);
  assert.deepEqual([again.json().counts.stored, again.json().counts.duplicates, again.json().delivered.batches], [0, SALES.length, []], 'the resent sales are duplicates: nothing delivered again');
  assert.deepEqual(outFiles(o), delivered, "the back office's folder is unchanged by the resend");
  await assertDeliveredOnce(d, o, 'after the resend was collected');
}

describe('sales crash safety at every named fault point (SIGKILL, real vsftpd)', { skip, concurrency: 2 }, () => {
  it('every fault point of the sales push, resend, collect and delivery has a scenario here', async () => {
    const r = await runCli(['debug', 'fault-points', '--json'], { cwd: process.cwd() });
    assert.equal(r.code, 0, r.err);
    // the shift-close points have their scenarios in fleet-till.test.ts, the fleet step's (sales.collect:fleet-*) in fleet.test.ts
    const listed = (r.json().points as { point: string; job: string }[]).filter((p) => JOBS.has(p.job) && !p.point.includes(':shift-') && !p.point.startsWith('sales.collect:fleet-')).map((p) => p.point).sort();
    const covered = new Set([...SINGLE, ...DOUBLE].flatMap((s) => [...s.push, ...s.collect, ...s.resend]));
    assert.deepEqual(listed.filter((p) => !covered.has(p)), [], 'points no scenario crashes at');
    assert.deepEqual([...covered].filter((p) => !listed.includes(p)), [], 'scenario points that are not in FAULT_POINTS');
  });

  for (const sc of SINGLE) it(`one crash each: ${label(sc)}`, { timeout: 120_000 }, () => run(sc));
  for (const sc of DOUBLE) it(`a crash during each recovery: ${label(sc)}`, { timeout: 120_000 }, () => run(sc));
});
