// Fleet-scale bench (issue #19): N simulated terminals in one process (fleet-child.ts: each a real
// cfx terminal through the library, its own store and server connection, polling like `cfx run`;
// --fleet-procs K spreads them over K processes),
// an office publishing one price file to all of them with core's real publish job, and the server's
// CPU from /proc. Per transport:
//   - steps: N = 100, 500, 1,000 (--fleet-steps) terminals polling; over a window, the server's CPU (every process of the
//     server summed: vsftpd forks one per connection), the fleet process's CPU and the listings/s the
//     fleet achieved — where the server saturates a core;
//   - at N in --fleet-n (100 and 1,000): rounds of publish → applied at every terminal: per terminal,
//     from its file landing in its inbox (the office's rename, taken at the back office's ack) to the
//     catalog COMMIT at the terminal (p50/p99 across terminals, per round), and the fleet-wide time
//     from the start of the publish until the last terminal applied.
// FTP runs against a second instance of the test servers (not the shared one the tests use):
//   CFX_TEST_FTP_HOME=/dev/shm/cfx-test-servers-home CFX_TEST_BASE=/tmp/cfx-bench-servers \
//     CFX_TEST_PORT_OFFSET=3000 CFX_TEST_FTP_MAX_CLIENTS=4000 bash test/servers/start.sh
// NATS runs when plugins/transport-nats is built and a nats-server is reachable (CFX_BENCH_NATS_URL or
// CFX_TEST_NATS_URL in that servers.env); otherwise its section says why it was skipped.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '@cfx/core';
import { BENCH_DIST, REPO, clockTicks, fmt, fmtInt, fsType, median, quantile, serversEnv, verdict } from './common.js';
import { FLEET_BACKOFFICE, readAcks } from './fleet-backoffice.js';
import { epochMs, terminalName, type FleetChildSpec, type FleetRequest } from './fleet-common.js';
import type { AwaitAnswer } from './fleet-common.js';

export const FTP_TARGET = { n: 100, p99Ms: 2000 };
export const NATS_TARGET = { n: 1000, p99Ms: 500 };
/** the fleet's own instance of the test servers (see the top of this file) */
export const FLEET_SERVERS_BASE = process.env.CFX_BENCH_FLEET_BASE || '/tmp/cfx-bench-servers';
export const FLEET_SERVERS_START = `CFX_TEST_FTP_HOME=/dev/shm/cfx-test-servers-home CFX_TEST_BASE=${FLEET_SERVERS_BASE} CFX_TEST_PORT_OFFSET=3000 CFX_TEST_FTP_MAX_CLIENTS=4000 bash test/servers/start.sh`;

export type FleetTransport = 'ftp' | 'nats';

export interface FleetOptions {
  /** N of the latency rounds */
  ns: number[];
  /** N of the CPU steps (the latency Ns are added) */
  steps: number[];
  rounds: number;
  /** CPU window per step, seconds */
  window: number;
  /** products in the published price file */
  items: number;
  transports: FleetTransport[];
  /** processes the terminals are spread over (default 1: all N in one process) */
  procs?: number;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface FleetStep {
  n: number;
  windowS: number;
  /** % of one core, every server process summed */
  serverCpuPct: number;
  serverProcesses: number;
  /** % of one core: the process(es) that run the N terminals */
  fleetCpuPct: number;
  /** price-poll listings per second the fleet achieved (ideal: N / poll interval) */
  listsPerS: number;
  /** listings that failed in the window (the terminal backs off and retries) */
  listErrors: number;
  /** watches the terminals' price pulls started so far (0: the pull polls only) */
  watches: number;
  /** the most frequent list() errors since the start of this transport's run, with counts */
  errorKinds: [string, number][];
  fleetRssMb: number;
  /** the fleet process's event-loop delay over the window (ms): when it lags, the simulation is late, not the server */
  fleetLoopLag: { p50Ms: number; p99Ms: number; maxMs: number };
  /** time to open and start the terminals added in this step */
  openS: number;
  loadavg: number[];
}

export interface FleetRound {
  round: number;
  /** the office's publish run: start → every terminal's file renamed into its inbox */
  publishMs: number;
  /** per terminal: file landed (ack) → applied (COMMIT at the terminal) */
  landedToApplied: { p50Ms: number; p99Ms: number; maxMs: number };
  /** per terminal with a watch event for the file: landed → the event (the server and the watch), the event → applied (the pull) */
  landedToWoken?: { p50Ms: number; p99Ms: number; maxMs: number };
  wokenToApplied?: { p50Ms: number; p99Ms: number; maxMs: number };
  /** per terminal: publish start → applied */
  publishToApplied: { p50Ms: number; p99Ms: number; maxMs: number };
  /** % of one core over the round (publish start → all applied): the server, the fleet process */
  serverCpuPct: number;
  fleetCpuPct: number;
  /** the fleet process's event-loop delay during the round (ms) */
  fleetLoopLag: { p50Ms: number; p99Ms: number; maxMs: number };
  missing: number;
  wrong: string[];
  /** the five terminals that applied last, with their failed listings so far */
  late: { terminal: string; appliedAt: number; listErrors: number; lastError?: string }[];
}

export interface FleetLatency {
  n: number;
  rounds: FleetRound[];
  /** median over rounds of each round's p99 (landed → applied) */
  p99Ms: number;
  p50Ms: number;
}

export interface FleetTransportResult {
  transport: FleetTransport;
  skipped?: string;
  server?: string;
  pollMs?: number;
  /** the poll while the watch is live (transports with watch): the listing rate asked for is N / this */
  listEveryMs?: number;
  steps: FleetStep[];
  latency: FleetLatency[];
  /** first step where the server used ≥ 90 % of a core, if any */
  saturationN?: number;
  /** the largest step where ≤ 1 % of the listings failed and the fleet listed ≥ 95 % of N per poll interval */
  keepsUpToN?: number;
  /** the first step where it did not (failed listings, or fewer listings than the terminals ask for) */
  fallsBehindAtN?: number;
  /** N at which the server would reach one core, extrapolated linearly from the largest step that kept up */
  extrapolatedSaturationN?: number;
  target?: { n: number; p99TargetMs: number; p99Ms: number; pass: boolean };
}

export interface FleetResult {
  bench: 'fleet';
  /** processes the terminals ran in */
  procs: number;
  scratch: string;
  scratchFs: string;
  items: number;
  transports: FleetTransportResult[];
}

// ---------- server CPU from /proc

/**
 * Node flags for the fleet's child processes: none, or CFX_BENCH_FLEET_NODE_ARGS (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the simulated terminals (a profile per child,
 * written when it exits; summarise with profile-summary.js).
 */
function childExecArgv(): string[] {
  return (process.env.CFX_BENCH_FLEET_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/** every process whose command line holds `needle` (vsftpd: its config file; every fork keeps it) */
function pidsOf(match: (cmdline: string, comm: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (match(cmd, comm)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * CPU ticks of a group of processes: utime + stime of each, plus cutime + cstime (its reaped
 * children: a session that ended moves its ticks to the listener), so the sum over the group is
 * conserved across the window.
 */
function groupTicks(pids: number[]): number {
  let t = 0;
  for (const pid of pids) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      t += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* ended in between: its ticks are in its parent's cutime from now on */
    }
  }
  return t;
}

// ---------- the fleet child

interface Counts {
  lag: { p50Ms: number; p99Ms: number; maxMs: number };
  lists: number;
  watches: number;
  listErrors: number;
  errorKinds: [string, number][];
  cpu: { total: number };
  at: number;
  rssMb: number;
}

class FleetChild {
  private next = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  stderr = '';

  constructor(spec: FleetChildSpec) {
    this.proc = fork(join(BENCH_DIST, 'fleet-child.js'), [JSON.stringify(spec)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: childExecArgv() });
    this.proc.stderr!.on('data', (c) => (this.stderr = (this.stderr + c).slice(-20_000)));
    this.ready = new Promise((resolve, reject) => {
      this.proc.on('message', (m: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
        if (m.ready) return resolve();
        const w = this.waiting.get(m.id!);
        this.waiting.delete(m.id!);
        if (m.error) w?.reject(new Error(`fleet child: ${m.error}`));
        else w?.resolve(m.result);
      });
      this.proc.on('exit', (code, sig) => {
        const e = new Error(`fleet child exited (${code ?? sig}): ${this.stderr.slice(-2000)}`);
        reject(e);
        for (const w of this.waiting.values()) w.reject(e);
        this.waiting.clear();
      });
    });
  }

  ask<T>(r: FleetRequest): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ ...r, id });
    });
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    const giveUp = new AbortController();
    await Promise.race([this.ask({ op: 'close' }).catch(() => undefined), sleep(60_000, undefined, { signal: giveUp.signal }).catch(() => undefined)]);
    giveUp.abort();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    this.proc.kill('SIGTERM');
    await exited;
    clearTimeout(t);
  }
}

/**
 * The simulated terminals: one process by default (the bench's premise: N terminals in one
 * process); `--fleet-procs K` spreads them over K (terminal i in process i % K) to tell the
 * server's limits from the one process's on a machine with cores to spare.
 */
class Fleet {
  readonly children: FleetChild[];

  constructor(spec: FleetChildSpec, procs: number) {
    this.children = Array.from({ length: procs }, (_, shard) => new FleetChild({ ...spec, shard, shards: procs }));
  }

  async ready(): Promise<void> {
    await Promise.all(this.children.map((c) => c.ready));
  }

  async grow(n: number): Promise<{ openMs: number }> {
    const all = await Promise.all(this.children.map((c) => c.ask<{ openMs: number }>({ op: 'grow', n })));
    return { openMs: Math.max(...all.map((x) => x.openMs)) };
  }

  /** summed over the processes; the event-loop delay and the time: the worst / latest of them */
  async counts(): Promise<Counts> {
    const all = await Promise.all(this.children.map((c) => c.ask<Counts>({ op: 'counts' })));
    const kinds = new Map<string, number>();
    for (const c of all) for (const [k, n] of c.errorKinds) kinds.set(k, (kinds.get(k) ?? 0) + n);
    const sum = (f: (c: Counts) => number) => all.reduce((a, c) => a + f(c), 0);
    const worst = (f: (c: Counts) => number) => Math.max(...all.map(f));
    return {
      lag: { p50Ms: worst((c) => c.lag.p50Ms), p99Ms: worst((c) => c.lag.p99Ms), maxMs: worst((c) => c.lag.maxMs) },
      lists: sum((c) => c.lists),
      watches: sum((c) => c.watches),
      listErrors: sum((c) => c.listErrors),
      errorKinds: [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 3),
      cpu: { total: sum((c) => c.cpu.total) },
      at: worst((c) => c.at),
      rssMb: sum((c) => c.rssMb),
    };
  }

  async awaitApplied(r: Omit<Extract<FleetRequest, { op: 'await' }>, 'op'>): Promise<{ appliedAt: (number | null)[]; wokenAt: (number | null)[]; missing: string[]; wrong: string[]; late: FleetRound['late'] }> {
    const all = await Promise.all(this.children.map((c) => c.ask<AwaitAnswer>({ op: 'await', ...r })));
    const appliedAt: (number | null)[] = Array.from({ length: r.n }, () => null);
    const wokenAt: (number | null)[] = Array.from({ length: r.n }, () => null);
    for (const a of all) for (const [i, at] of a.appliedAt) appliedAt[i] = at;
    for (const a of all) for (const [i, at] of a.wokenAt) wokenAt[i] = at;
    return {
      appliedAt,
      wokenAt,
      missing: all.flatMap((a) => a.missing),
      wrong: all.flatMap((a) => a.wrong),
      late: all.flatMap((a) => a.late).sort((x, y) => y.appliedAt - x.appliedAt).slice(0, 5),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => c.close()));
  }
}

// ---------- the office

/** the back office plugin's package dir: a package.json pointing at fleet-backoffice.js */
function writeBackOfficePlugin(dir: string): string {
  const pkg = join(dir, 'fleet-backoffice-plugin');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'index.js'), `export { activate } from ${JSON.stringify(new URL('fleet-backoffice.js', `file://${BENCH_DIST}`).href)};\n`);
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify(
      {
        name: 'cfx-bench-fleet-backoffice',
        version: '1.0.0',
        type: 'module',
        main: './index.js',
        engines: { cfx: '^1.0.0' },
        cfx: { apiVersion: 1, contributes: { backoffices: [FLEET_BACKOFFICE] }, configSchema: { [FLEET_BACKOFFICE]: { type: 'object', additionalProperties: false, required: ['dir'], properties: { dir: { type: 'string' } } } } },
      },
      null,
      2,
    ),
  );
  return pkg;
}

function priceFile(items: number, round: number): { csv: string; code: string; price: number } {
  const lines = ['code;barcodes;name;price'];
  for (let i = 1; i <= items; i++) {
    // every round moves every price, so each terminal's catalog shows which round it holds
    const minor = 10_000 + i * 7 + round * 100;
    lines.push(`${String(i).padStart(8, '0')};${String(4820000000000 + i)};Товар ${i};${Math.floor(minor / 100)},${String(minor % 100).padStart(2, '0')}`);
  }
  return { csv: lines.join('\r\n') + '\r\n', code: '00000001', price: 10_000 + 7 + round * 100 };
}

function dist(xs: number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  return { p50Ms: median(xs), p99Ms: quantile(xs, 0.99), maxMs: xs.length ? Math.max(...xs) : NaN };
}

// ---------- one transport

interface TransportSetup {
  server: string;
  /** the server's processes (pids), looked up at each window (vsftpd forks per connection) */
  serverPids: () => number[];
  pollMs: number;
  /**
   * prices.watchPoll (ms): with a live watch a terminal lists only this often (the poll is the
   * fallback then), so the listings it asks for are N / watchPoll a second; absent: no watch
   */
  watchPollMs?: number;
  remoteBase: string;
  maxTerminals?: number;
  extra?: string;
  /** plugin package dirs both sides load (a transport that is not built in) */
  plugins?: string[];
  /** prices.dir / sales.dir when not under remoteBase */
  inboxDir?: string;
  salesDir?: string;
  /** removes what the run left on the server */
  cleanup?: () => Promise<void>;
}

async function runTransport(kind: FleetTransport, setup: TransportSetup, o: FleetOptions, scratch: string): Promise<FleetTransportResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const res: FleetTransportResult = { transport: kind, server: setup.server.replace(/\/\/[^@/]*@/, '//***@'), pollMs: setup.pollMs, listEveryMs: setup.watchPollMs ?? setup.pollMs, steps: [], latency: [] };
  const ns = [...new Set([...o.steps, ...o.ns])].sort((a, b) => a - b);
  if (setup.maxTerminals !== undefined && ns.at(-1)! > setup.maxTerminals) throw new Error(`${kind}: the server takes at most ${setup.maxTerminals} sessions, the bench needs ${ns.at(-1)} (+1 for the office); restart the bench's servers: ${FLEET_SERVERS_START}`);
  const dir = join(scratch, kind);
  mkdirSync(dir, { recursive: true });
  const all = Array.from({ length: ns.at(-1)! }, (_, i) => terminalName(i));

  // the office: core's publish job, its back office offering one file to every terminal
  const exportsDir = join(dir, 'exports');
  mkdirSync(exportsDir, { recursive: true });
  const officeDir = join(dir, 'office');
  mkdirSync(officeDir, { recursive: true });
  const plugin = writeBackOfficePlugin(dir);
  const officeYaml = join(officeDir, 'cfx.yaml');
  const inboxDir = setup.inboxDir ?? `${setup.remoteBase}/{terminal}`, salesDir = setup.salesDir ?? `${setup.remoteBase}/sales`;
  const officeConfig = (terminals: string[]) =>
    writeFileSync(
      officeYaml,
      `role: office
dataDir: ./data
server: \${CFX_FLEET_SERVER}
timeout: 60s
terminals: [${terminals.join(', ')}]
prices:
  dir: ${inboxDir}
sales:
  dir: ${salesDir}
backoffice:
  use: ${FLEET_BACKOFFICE}
  options: { dir: ${JSON.stringify(exportsDir)} }
plugins: [${[plugin, ...(setup.plugins ?? [])].map((x) => JSON.stringify(x)).join(', ')}]
log: { level: warn, file: ./office.log }
${setup.extra ?? ''}`,
    );

  // the inboxes exist before the terminals start: on a real server the office makes them once
  officeConfig(all);
  {
    const office = App.open({ configFile: officeYaml, store: 'rw', env: { ...process.env, CFX_FLEET_SERVER: setup.server } });
    try {
      const t = await office.transport();
      for (const d of [...all.map((t) => inboxDir.replace('{terminal}', t)), salesDir]) await t.mkdir(d);
      await t.close();
    } finally {
      await office.close();
    }
  }
  const child = new Fleet({
    server: setup.server,
    inboxDir,
    salesDir,
    scratch: join(dir, 'terminals'),
    pollMs: setup.pollMs,
    ...(setup.watchPollMs !== undefined ? { watchPollMs: setup.watchPollMs } : {}),
    logFile: join(dir, 'fleet.log'),
    extra: [setup.extra ?? '', setup.plugins?.length ? `plugins: [${setup.plugins.map((x) => JSON.stringify(x)).join(', ')}]` : ''].join('\n'),
  }, o.procs ?? 1);
  let round = 0;
  try {
    await child.ready();
    for (const n of ns) {
      const g = await child.grow(n);
      // the new terminals' first listings, logins (and on NATS their buckets) are not the steady state
      await sleep(Math.max(3000, n * 5));
      const pids0 = setup.serverPids();
      const s0 = groupTicks(pids0);
      const c0 = await child.counts();
      await sleep(o.window * 1000);
      const pids1 = setup.serverPids();
      const s1 = groupTicks([...new Set([...pids0, ...pids1])]);
      const c1 = await child.counts();
      const secs = (c1.at - c0.at) / 1000;
      const step: FleetStep = {
        n,
        windowS: secs,
        serverCpuPct: ((s1 - s0) / clockTicks() / secs) * 100,
        serverProcesses: pids1.length,
        fleetCpuPct: ((c1.cpu.total - c0.cpu.total) / clockTicks() / secs) * 100,
        listsPerS: (c1.lists - c0.lists) / secs,
        listErrors: c1.listErrors - c0.listErrors,
        errorKinds: c1.errorKinds,
        watches: c1.watches,
        fleetRssMb: c1.rssMb,
        fleetLoopLag: c1.lag,
        openS: g.openMs / 1000,
        loadavg: loadavg(),
      };
      res.steps.push(step);
      log(
        `  fleet ${kind} N=${fmtInt(n)}: server ${fmt(step.serverCpuPct, 1)} % of a core (${step.serverProcesses} processes), fleet process ${fmt(step.fleetCpuPct, 1)} %, ` +
          `${fmt(step.listsPerS, 0)} listings/s (ideal ${fmt((n * 1000) / res.listEveryMs!, 0)}), RSS ${fmt(step.fleetRssMb, 0)} MB, event-loop delay p99 ${fmt(step.fleetLoopLag.p99Ms, 0)} ms, opened in ${fmt(step.openS, 1)} s` +
          (step.listErrors ? `; ${step.listErrors} listings failed, e.g. ${step.errorKinds[0]?.[0]}` : ''),
      );
      if (!o.ns.includes(n)) continue;

      officeConfig(all.slice(0, n));
      const office = App.open({ configFile: officeYaml, store: 'rw', env: { ...process.env, CFX_FLEET_SERVER: setup.server } });
      const lat: FleetLatency = { n, rounds: [], p99Ms: NaN, p50Ms: NaN };
      try {
        for (let r = 0; r < o.rounds; r++) {
          round++;
          const f = priceFile(o.items, round);
          const file = join(exportsDir, `prices-${round}.csv`);
          writeFileSync(file, f.csv);
          writeFileSync(join(exportsDir, 'current.json'), JSON.stringify({ round, file }));
          // a random moment within the poll period, as an office's publish would fall
          await sleep(Math.random() * setup.pollMs);
          const r0 = await child.counts();
          const sp0 = setup.serverPids();
          const st0 = groupTicks(sp0);
          const t0 = epochMs();
          let tries = 0;
          for (;;) {
            tries++;
            const run = await office.jobs.run('office.publish', { trigger: 'api' }).catch((e: Error) => e);
            const acked = readAcks(exportsDir).get(round)?.size ?? 0;
            if (acked >= n) break;
            if (tries >= 3) throw new Error(`the office published round ${round} to ${acked} of ${n} terminals in ${tries} runs: ${run instanceof Error ? run.message : JSON.stringify(run.result)}`);
          }
          const t1 = epochMs();
          const got = await child.awaitApplied({ since: t0, n, expect: { code: f.code, price: f.price }, timeoutMs: 60_000 + n * 20 });
          const r1 = await child.counts();
          const st1 = groupTicks([...new Set([...sp0, ...setup.serverPids()])]);
          const roundS = (r1.at - r0.at) / 1000;
          const acks = readAcks(exportsDir).get(round)!;
          const landed: number[] = [], fromStart: number[] = [], toWoken: number[] = [], wokenTo: number[] = [];
          got.appliedAt.forEach((at, i) => {
            if (at === null) return;
            const ack = acks.get(terminalName(i))!;
            landed.push(at - ack);
            fromStart.push(at - t0);
            const woken = got.wokenAt[i];
            if (woken != null) {
              toWoken.push(woken - ack);
              wokenTo.push(at - woken);
            }
          });
          const fr: FleetRound = {
            round,
            serverCpuPct: ((st1 - st0) / clockTicks() / roundS) * 100,
            fleetCpuPct: ((r1.cpu.total - r0.cpu.total) / clockTicks() / roundS) * 100,
            fleetLoopLag: r1.lag,
            publishMs: t1 - t0, landedToApplied: dist(landed), ...(toWoken.length ? { landedToWoken: dist(toWoken), wokenToApplied: dist(wokenTo) } : {}), publishToApplied: dist(fromStart), missing: got.missing.length, wrong: got.wrong, late: got.late };
          lat.rounds.push(fr);
          log(
            `  fleet ${kind} N=${fmtInt(n)} round ${r + 1}: publish ${fmtInt(fr.publishMs)} ms; landed → applied p50 ${fmtInt(fr.landedToApplied.p50Ms)} / p99 ${fmtInt(fr.landedToApplied.p99Ms)} / max ${fmtInt(fr.landedToApplied.maxMs)} ms` +
              (fr.landedToWoken ? ` (${toWoken.length} woken by the watch: landed → event p50 ${fmtInt(fr.landedToWoken.p50Ms)} / p99 ${fmtInt(fr.landedToWoken.p99Ms)}, event → applied p50 ${fmtInt(fr.wokenToApplied!.p50Ms)} / p99 ${fmtInt(fr.wokenToApplied!.p99Ms)} ms)` : '') +
              '; ' +
              `publish start → applied p50 ${fmtInt(fr.publishToApplied.p50Ms)} / p99 ${fmtInt(fr.publishToApplied.p99Ms)} / all ${fmtInt(fr.publishToApplied.maxMs)} ms; ` +
              `meanwhile server ${fmt(fr.serverCpuPct, 0)} %, fleet ${fmt(fr.fleetCpuPct, 0)} % of a core, fleet loop delay p99 ${fmtInt(fr.fleetLoopLag.p99Ms)} ms` +
              (fr.missing ? `; ${fr.missing} terminals did not apply it` : '') +
              (fr.late[0]?.lastError ? `; the last (${fr.late[0].terminal}) had ${fr.late[0].listErrors} failed listings, the last: ${fr.late[0].lastError}` : '') +
              (fr.wrong.length ? `; ${fr.wrong.length} hold the wrong price` : ''),
          );
          if (fr.missing || fr.wrong.length) throw new Error(`round ${round} at N=${n}: ${fr.missing} terminals did not apply the file (${got.missing.slice(0, 5).join(', ')}…), ${fr.wrong.length} wrong: ${fr.wrong.slice(0, 3).join('; ')}`);
        }
      } finally {
        await office.close();
      }
      lat.p99Ms = median(lat.rounds.map((r) => r.landedToApplied.p99Ms));
      lat.p50Ms = median(lat.rounds.map((r) => r.landedToApplied.p50Ms));
      res.latency.push(lat);
    }
  } finally {
    await child.close();
    if (!o.keep) await setup.cleanup?.().catch((e: Error) => log(`  fleet ${kind}: cleanup failed: ${e.message}`));
  }
  res.saturationN = res.steps.find((s) => s.serverCpuPct >= 90)?.n;
  // kept up: at least 95 % of the listings the terminals ask for, and at most 1 % of them failed
  // a window shorter than the relaxed interval (a live watch) cannot see every terminal list: the rate is judged only over a longer one
  const keepsUp = (s: FleetStep) => s.listErrors <= 0.01 * s.listsPerS * s.windowS && (s.windowS * 1000 < res.listEveryMs! || s.listsPerS >= (0.95 * s.n * 1000) / res.listEveryMs!);
  res.fallsBehindAtN = res.steps.find((s) => !keepsUp(s))?.n;
  const healthy = res.steps.filter((s) => keepsUp(s) && (res.fallsBehindAtN === undefined || s.n < res.fallsBehindAtN)).at(-1);
  if (healthy) res.keepsUpToN = healthy.n;
  if (healthy && healthy.serverCpuPct > 0) res.extrapolatedSaturationN = Math.round((healthy.n * 100) / healthy.serverCpuPct);
  return res;
}

// ---------- the transports' setups

function ftpSetup(): TransportSetup {
  const { file, raw } = serversEnv(FLEET_SERVERS_BASE);
  const url = raw.CFX_TEST_FTP_URL, root = raw.CFX_TEST_FTP_ROOT;
  if (!url || !root) throw new Error(`${file} has no CFX_TEST_FTP_URL / CFX_TEST_FTP_ROOT`);
  const conf = join(FLEET_SERVERS_BASE, 'vsftpd.conf');
  const max = Number(/^max_clients=(\d+)$/m.exec(readFileSync(conf, 'utf8'))?.[1] ?? NaN);
  const remoteBase = `/cfx-bench/fleet-${process.pid}`;
  if (!existsSync(root)) throw new Error(`the FTP root ${root} is missing: ${FLEET_SERVERS_START}`);
  return {
    server: url,
    pollMs: 1000,
    remoteBase,
    // the listener and every session (vsftpd keeps its command line, with the config file, in each fork)
    serverPids: () => pidsOf((cmd) => cmd.includes(` ${conf}`)),
    maxTerminals: max - 1,
    async cleanup() {
      rmSync(join(root, remoteBase), { recursive: true, force: true });
    },
  };
}

/**
 * NATS: the nats-server of the fleet's servers.env (CFX_TEST_NATS_URL, started by the same start.sh),
 * or CFX_BENCH_NATS_URL, through plugins/transport-nats. Each terminal's inbox is its own bucket
 * (`/<run>-<terminal>/prices`: the first path segment names the bucket when the URL names none), so a
 * terminal's index follows its own objects only; one bucket for the whole fleet would send every
 * terminal every other terminal's changes (N² messages per publish).
 */
function natsSetup(): TransportSetup | string {
  if (!existsSync(join(REPO, 'plugins/transport-nats/package.json'))) return 'plugins/transport-nats is not in this tree (issue #19: it is built on branch wt-nats)';
  if (!existsSync(join(REPO, 'plugins/transport-nats/dist/index.js'))) return 'plugins/transport-nats is not built (npx tsc -b)';
  let url = process.env.CFX_BENCH_NATS_URL;
  let conf: string | undefined;
  if (!url) {
    try {
      url = serversEnv(FLEET_SERVERS_BASE).raw.CFX_TEST_NATS_URL;
      conf = join(FLEET_SERVERS_BASE, 'nats-server.conf');
    } catch {
      /* below */
    }
  }
  if (!url) return `no nats-server: start the fleet's servers (${FLEET_SERVERS_START}) or set CFX_BENCH_NATS_URL=nats://user:pass@host:port`;
  const run = `fleet${process.pid}`;
  // named in the config until core lists it among its built-in plugins
  const builtIn = readFileSync(join(REPO, 'core/dist/host/manifest.js'), 'utf8').includes("'@cfx/transport-nats'");
  const server = url.replace(/\/+$/, '');
  return {
    server,
    // polling stays the fallback; the watch wakes the pull at once, and while it is live the pull
    // lists every watchPoll (cfx's default, written out) instead of every second
    pollMs: 1000,
    watchPollMs: 30_000,
    remoteBase: '',
    // the status files in a bucket of this run's (removed with the others), not the default /ftpbox
    extra: `status:\n  dir: /${run}-status/status`,
    ...(builtIn ? {} : { plugins: [join(REPO, 'plugins/transport-nats')] }),
    inboxDir: `/${run}-{terminal}/prices`,
    salesDir: `/${run}-sales/sales`,
    // the fleet's own nats-server by its config file; another one (CFX_BENCH_NATS_URL): every nats-server here
    serverPids: () => pidsOf((cmd, comm) => comm === 'nats-server' && (conf === undefined || cmd.includes(conf))),
    async cleanup() {
      // the run's buckets (one stream each), so runs do not pile up in the server's store
      const { connect } = await import('nats');
      const u = new URL(server);
      const nc = await connect({ servers: `${u.hostname}:${u.port || 4222}`, ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}) });
      try {
        const jsm = await nc.jetstreamManager();
        // names first: deleting while the paged listing runs would skip every other page
        const names: string[] = [];
        for await (const si of jsm.streams.list()) if (si.config.name.startsWith(`OBJ_${run}-`)) names.push(si.config.name);
        for (const n of names) await jsm.streams.delete(n);
      } finally {
        await nc.close();
      }
    },
  };
}

export async function fleetBench(o: FleetOptions): Promise<FleetResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  // many small SQLite stores: on tmpfs unless told, so a thousand fsyncs in one process measure
  // the simulation's disk, not the propagation (a real terminal has a disk of its own)
  const scratchBase = process.env.CFX_BENCH_SCRATCH || (existsSync('/dev/shm') ? '/dev/shm' : undefined) || '/tmp';
  const scratch = join(scratchBase, `cfx-bench-fleet-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  const result: FleetResult = { bench: 'fleet', procs: o.procs ?? 1, scratch, scratchFs: fsType(scratch), items: o.items, transports: [] };
  log(`fleet: N ${o.ns.join(', ')} (CPU steps ${[...new Set([...o.steps, ...o.ns])].sort((a, b) => a - b).join(', ')}), ${o.rounds} rounds, ${o.items}-item price file, stores in ${scratch} (${result.scratchFs})`);
  try {
    for (const kind of o.transports) {
      const setup = kind === 'ftp' ? ftpSetup() : natsSetup();
      if (typeof setup === 'string') {
        log(`  fleet ${kind}: skipped — ${setup}`);
        result.transports.push({ transport: kind, skipped: setup, steps: [], latency: [] });
        continue;
      }
      const r = await runTransport(kind, setup, o, scratch);
      const target = kind === 'ftp' ? FTP_TARGET : NATS_TARGET;
      const at = r.latency.find((l) => l.n === target.n);
      if (at) r.target = { n: target.n, p99TargetMs: target.p99Ms, p99Ms: at.p99Ms, pass: at.p99Ms <= target.p99Ms };
      result.transports.push(r);
    }
  } finally {
    if (!o.keep) rmSync(scratch, { recursive: true, force: true });
  }
  return result;
}

export function renderFleet(r: FleetResult): string {
  const out: string[] = [`Fleet (N terminals in ${r.procs === 1 ? 'one process' : `${r.procs} processes`}, each its own store + connection; ${r.items}-item price file; stores on ${r.scratchFs})`];
  for (const t of r.transports) {
    if (t.skipped) {
      out.push(`  ${t.transport}: skipped — ${t.skipped}`);
      continue;
    }
    const w = t.steps.at(-1)?.watches ?? 0;
    out.push(`  ${t.transport} (${t.server}, poll ${t.pollMs} ms${t.listEveryMs !== t.pollMs ? `, ${t.listEveryMs} ms while the watch is live` : ''}; ${w ? `watch started ${w} times` : 'no watch: the pull polled only'})`);
    out.push('    N      server CPU (% of a core)  fleet process CPU  listings/s (ideal)  failed listings  fleet loop delay p99  load avg');
    for (const s of t.steps)
      out.push(
        `    ${String(s.n).padEnd(6)} ${fmt(s.serverCpuPct, 1).padStart(8)} % (${s.serverProcesses} proc)    ${fmt(s.fleetCpuPct, 1).padStart(8)} %       ${`${fmt(s.listsPerS, 0)} (${fmt((s.n * 1000) / (t.listEveryMs ?? t.pollMs!), 0)})`.padEnd(18)}  ${String(s.listErrors).padStart(6)}           ${`${fmt(s.fleetLoopLag.p99Ms, 0)} ms`.padStart(8)}              ${fmt(s.loadavg[0]!, 1)}`,
      );
    const kinds = t.steps.at(-1)?.errorKinds ?? [];
    if (kinds.length) out.push(`    failed listings, most frequent: ${kinds.map(([k, c]) => `${c}× ${k}`).join(' | ')}`);
    out.push(
      `    server saturates a core: ${t.saturationN !== undefined ? `at N = ${t.saturationN}` : `not within N ≤ ${t.steps.at(-1)?.n}${t.extrapolatedSaturationN !== undefined ? ` (linear from N = ${t.keepsUpToN}: N ≈ ${t.extrapolatedSaturationN})` : ''}`}; ` +
        `${t.keepsUpToN !== undefined ? `the fleet kept up to N = ${t.keepsUpToN}` : 'no step kept up'}${t.fallsBehindAtN !== undefined ? `, fell behind at N = ${t.fallsBehindAtN} (failed or missing listings)` : ''}`,
    );
    for (const l of t.latency) {
      const rounds = l.rounds.map((x) => `${fmtInt(x.landedToApplied.p50Ms)}/${fmtInt(x.landedToApplied.p99Ms)}`).join(', ');
      const all = l.rounds.map((x) => fmtInt(x.publishToApplied.maxMs)).join(', ');
      const pub = l.rounds.map((x) => fmtInt(x.publishMs)).join(', ');
      out.push(`    N=${l.n}: landed → applied p50/p99 per round ${rounds} ms (median p99 ${fmtInt(l.p99Ms)}); publish ${pub} ms; publish start → all applied ${all} ms`);
    }
    if (t.target) out.push(`    target: ${t.transport} at ${t.target.n} terminals p99 ≤ ${t.target.p99TargetMs} ms: ${fmtInt(t.target.p99Ms)} ms ${verdict(t.target.pass)}`);
    else out.push(`    target: not measured (N = ${(t.transport === 'ftp' ? FTP_TARGET : NATS_TARGET).n} not in --fleet-n)`);
  }
  return out.join('\n');
}
