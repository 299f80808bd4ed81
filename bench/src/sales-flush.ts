// Sale backlog flush: 1,000 journaled sales (~2 KiB each as format-csv) pushed by SalesPush.flush()
// to a fresh remote dir, beside `lftp mput` with xfer:use-temp-file (the peer) and raw basic-ftp
// (STOR .part + RNFR/RNTO on one client), interleaved in the same run. `node-floor` is the floor of
// any Node program here: a cold process with no dependencies sending the same files (sales-flush-floor.ts).
//
//   node bench/dist/sales-flush.js [--rounds 5] [--sales 1000] [--only cfx-shm-1,raw-1] [--rtt-ms 10] [--profile] [--json]
// or from run.ts: `renderSalesFlush(await salesFlushBench({ rounds }))`.
//
// Every variant starts cold (login included, as `cfx push` or lftp does); `warm` variants log the
// connections in before the clock starts, as a running `cfx run` that still has them open. The
// journal is written before the clock starts; the flush (encode, local copy, upload, mark sent) is
// timed. dataDir on /dev/shm (shm) and on the disk under /tmp (disk); the server root is /dev/shm.
import { spawn, type ChildProcessByStdio, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { CFX_BIN, OUT_DIR } from './common.js';
import { startDelayProxy } from './delay-proxy.js';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, SalesPush, Service, silentLogger, type Transport } from '@cfx/core';
import {
  benchServer, bigSale, deployment, dropRemoteDir, flag, fmt, freshRemoteDir, median, onDisk, rawClient, rawPut, type BenchServer,
} from './sales-common.js';

const SHM_WORK = '/dev/shm/cfx-bench-work';
const DISK_WORK = '/tmp/cfx-bench-work';

interface Variant {
  id: string;
  label: string;
  /** one timed run: the flush of `n` files; returns seconds */
  run(): Promise<number>;
}

export const TARGET_ONE_CONNECTION = 0.45;
export const TARGET_FOUR_CONNECTIONS = 1.0;

export interface SalesFlushOptions {
  /** interleaved rounds (default 5; ≥ 3 for a median) */
  rounds?: number;
  /** sales in the backlog (default 1000) */
  sales?: number;
  /** variant ids to run (lftp always runs: it is the reference) */
  only?: string[];
  /** progress lines on stderr (default true) */
  progress?: boolean;
  /** V8 CPU profiles of the `cfx push` children into .bench-out/prof/ */
  profile?: boolean;
  /**
   * every client reaches the server through a relay that delays the control connection by half of
   * this each way (delay-proxy.ts): a server that is not on loopback. 0 (default): direct.
   */
  rttMs?: number;
}

export interface SalesFlushReport {
  /** variant id → what it is */
  labels: Record<string, string>;
  sales: number;
  bytesPerFile: number;
  rounds: number;
  /** files/s per variant, one per round */
  rates: Record<string, number[]>;
  /** median files/s per variant */
  medians: Record<string, number>;
  /** median CPU seconds (user + sys) of the variants run as a process (lftp, `cfx push`) */
  cpuSec: Record<string, number>;
  /** median of variant / median of lftp */
  ratios: Record<string, number>;
  /** the control connection's added round trip (0: loopback as it is) */
  rttMs: number;
}

/** checks the remote dir holds exactly the expected files and no temp file, then removes it */
function verifyAndDrop(s: BenchServer, dir: string, n: number, what: string): void {
  const names = readdirSync(onDisk(s, dir));
  const visible = names.filter((x) => !x.startsWith('.'));
  if (visible.length !== n || names.length !== n) throw new Error(`${what}: ${visible.length} files and ${names.length - visible.length} temp files in ${dir}, expected ${n} and 0`);
  dropRemoteDir(s, dir);
}

/** a fresh deployment with `sales` journaled (untimed), ready to flush */
async function prepareCfx(s: BenchServer, where: string, connections: number, sales: Record<string, unknown>[]) {
  const salesDir = freshRemoteDir('flush-cfx');
  const d = deployment(where, { server: s.ftpUrl, salesDir, connections, inbox: freshRemoteDir('inbox') });
  const app = App.open({ configFile: d.config, env: {}, store: 'rw', logger: silentLogger() });
  const svc = new Service(app);
  const out = svc.recordSale(sales);
  if (out.length !== sales.length || out.some((o) => o.status !== 'recorded')) throw new Error('journaling the sales failed');
  return { app, svc, salesDir, dir: d.dir };
}

async function cfxRun(s: BenchServer, where: string, connections: number, warm: boolean, sales: Record<string, unknown>[]): Promise<number> {
  const { app, svc, salesDir, dir } = await prepareCfx(s, where, connections, sales);
  try {
    let push: SalesPush;
    if (warm) {
      // the same SalesPush a Service builds, on connections that are already logged in
      const c = app.config;
      const transports: Transport[] = await Promise.all(Array.from({ length: connections }, () => app.newTransport()));
      await Promise.all(transports.map((t) => t.mkdir('/cfx-bench')));
      push = new SalesPush({ config: c, store: app.store, transports, format: await app.host.format(c.sales.format, c.sales.options), logger: app.logger });
    } else {
      push = await svc.salesPush();
    }
    const t0 = process.hrtime.bigint();
    const r = await push.flush();
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.sent !== sales.length) throw new Error(`cfx flush sent ${r.sent} of ${sales.length}`);
    verifyAndDrop(s, salesDir, sales.length, 'cfx');
    return sec;
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `cfx push` as an operator runs it: a new process (node start, App.open, logins, the flush, the
 * run recorded, exit) on a journal written beforehand (untimed, in this process). The peer, lftp,
 * also starts a process and logs in inside its clock.
 */
async function cfxCliRun(s: BenchServer, where: string, connections: number, sales: Record<string, unknown>[], profile: boolean, tag: string, bin = CFX_BIN): Promise<number> {
  const { app, salesDir, dir } = await prepareCfx(s, where, connections, sales);
  await app.close();
  try {
    const prof = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(OUT_DIR, 'prof')}`, `--cpu-prof-name=sales-push-${tag}-${process.pid}-${Date.now()}.cpuprofile`] : [];
    const sec = await new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const p = spawnCpu(process.execPath, [...prof, bin, 'push', '-c', join(dir, 'cfx.yaml'), '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (c) => (out += c));
      p.stderr.on('data', (c) => (err += c));
      p.on('error', reject);
      p.on('close', (code) => {
        const sec = Number(process.hrtime.bigint() - t0) / 1e9;
        if (code !== 0) return reject(new Error(`cfx push exited ${code}: ${out} ${err}`));
        const r = JSON.parse(out) as { sent: number; left: number };
        if (r.sent !== sales.length || r.left !== 0) return reject(new Error(`cfx push sent ${r.sent} of ${sales.length}, ${r.left} left`));
        resolve(sec);
      });
    });
    verifyAndDrop(s, salesDir, sales.length, 'cfx push');
    return sec;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU seconds (user + sys) of the last process started by spawnCpu, once it has exited */
let lastCpu: number | undefined;
const CPU_FILE = join(OUT_DIR, `sales-flush-cpu-${process.pid}.txt`);

/**
 * spawn under /usr/bin/time (when present), so the child's CPU time is known: on a loaded 2-core
 * machine it moves far less than wall time. The wrapper costs both sides the same ~1 ms.
 */
function spawnCpu(cmd: string, args: string[], opts: SpawnOptions): ChildProcessByStdio<null, Readable, Readable> {
  lastCpu = undefined;
  if (!existsSync('/usr/bin/time')) return spawn(cmd, args, opts) as ChildProcessByStdio<null, Readable, Readable>;
  mkdirSync(OUT_DIR, { recursive: true });
  const p = spawn('/usr/bin/time', ['-f', '%U %S', '-o', CPU_FILE, cmd, ...args], opts) as ChildProcessByStdio<null, Readable, Readable>;
  p.once('exit', () => {
    const [u = NaN, sys = NaN] = readFileSync(CPU_FILE, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    lastCpu = u + sys;
  });
  return p;
}

function lftpRun(s: BenchServer, src: string, n: number): Promise<number> {
  const u = new URL(s.ftpUrl);
  const dir = freshRemoteDir('flush-lftp');
  const script = [
    'set xfer:use-temp-file yes',
    'set cmd:fail-exit yes',
    'set ftp:ssl-allow no', // plain FTP, as cfx here
    `open -u ${decodeURIComponent(u.username)},${decodeURIComponent(u.password)} -p ${u.port || 21} ${u.hostname}`,
    `mkdir -p ${dir}`,
    `cd ${dir}`,
    `lcd ${src}`,
    'mput *.csv',
  ].join('; ');
  return timedUpload(s, 'lftp', ['-c', script], dir, n, 'lftp');
}

/**
 * The floor (`node-floor`): a cold node process with no dependencies sends the same files on
 * `connections` plain sockets, the same commands as transport-ftp (sales-flush-floor.ts). Timed from
 * exec to exit like lftp and `cfx push`.
 */
function nodeFloorRun(s: BenchServer, src: string, n: number, connections: number): Promise<number> {
  const dir = freshRemoteDir('flush-floor');
  const script = join(dirname(fileURLToPath(import.meta.url)), 'sales-flush-floor.js');
  return timedUpload(s, process.execPath, [script, s.ftpUrl, dir, src, String(connections)], dir, n, 'node floor');
}

/**
 * Runs an uploader process (lftp, the node floor), timed from exec to exit; then the remote dir
 * must hold exactly the `n` files and no temp file. Seconds.
 */
function timedUpload(s: BenchServer, cmd: string, args: string[], dir: string, n: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawnCpu(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('close', (code) => {
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${what} exited ${code}: ${err}`));
      try {
        verifyAndDrop(s, dir, n, what);
        resolve(sec);
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function rawRun(s: BenchServer, files: { name: string; bytes: Buffer }[], clients: number): Promise<number> {
  const dir = freshRemoteDir('flush-raw');
  const t0 = process.hrtime.bigint();
  const cs = await Promise.all(Array.from({ length: clients }, () => rawClient(s)));
  try {
    await cs[0]!.send('MKD /cfx-bench').catch(() => undefined);
    await cs[0]!.send('MKD ' + dir);
    let next = 0;
    await Promise.all(
      cs.map(async (c) => {
        while (next < files.length) {
          const f = files[next++]!;
          await rawPut(c, dir, f.name, f.bytes);
        }
      }),
    );
  } finally {
    for (const c of cs) c.close();
  }
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  verifyAndDrop(s, dir, files.length, 'raw basic-ftp');
  return sec;
}

export async function salesFlushBench(o: SalesFlushOptions = {}): Promise<SalesFlushReport> {
  const log = (m: string) => o.progress !== false && process.stderr.write(m + '\n');
  const rttMs = o.rttMs ?? 0;
  const direct = benchServer();
  const proxy = rttMs > 0 ? await startDelayProxy(new URL(direct.ftpUrl).hostname, Number(new URL(direct.ftpUrl).port || 21), rttMs / 2) : undefined;
  const s: BenchServer = proxy ? { ...direct, ftpUrl: Object.assign(new URL(direct.ftpUrl), { port: String(proxy.port) }).href } : direct;
  try {
    return await flushRounds(o, s, rttMs, log);
  } finally {
    await proxy?.close();
  }
}

async function flushRounds(o: SalesFlushOptions, s: BenchServer, rttMs: number, log: (m: string) => void): Promise<SalesFlushReport> {
  const rounds = o.rounds ?? 5;
  const n = o.sales ?? 1000;
  const only = o.only;
  const sales = Array.from({ length: n }, (_, i) => bigSale(i + 1, { day: `2025-03-${String(1 + (i % 28)).padStart(2, '0')}` }));
  mkdirSync(SHM_WORK, { recursive: true });
  mkdirSync(DISK_WORK, { recursive: true });

  // warm-up (not counted): one cfx flush; its files on the server become the peer's source, so
  // lftp and raw basic-ftp send exactly the bytes cfx sends
  const src = join(SHM_WORK, `lftp-src-${process.pid}`);
  {
    const { app, svc, salesDir, dir } = await prepareCfx(s, SHM_WORK, 1, sales);
    try {
      const r = await (await svc.salesPush()).flush();
      if (r.sent !== n) throw new Error(`warm-up sent ${r.sent} of ${n}`);
      rmSync(src, { recursive: true, force: true });
      cpSync(onDisk(s, salesDir), src, { recursive: true });
      dropRemoteDir(s, salesDir);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const files = readdirSync(src)
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(src, name)) }));
  const bytesPerFile = files.reduce((a, f) => a + f.bytes.length, 0) / files.length;
  log(`sales-flush: ${n} files of ${fmt(bytesPerFile)} B avg, ${rounds} rounds, server root ${s.ftpRoot}`);

  const variants: Variant[] = [
    { id: 'lftp', label: 'lftp mput, use-temp-file (1 conn)', run: () => lftpRun(s, src, n) },
    { id: 'node-floor', label: 'floor: bare node process, 4 conns', run: () => nodeFloorRun(s, src, n, 4) },
    { id: 'raw-1', label: 'raw basic-ftp, 1 client', run: () => rawRun(s, files, 1) },
    { id: 'raw-4', label: 'raw basic-ftp, 4 clients', run: () => rawRun(s, files, 4) },
    { id: 'cfx-shm-1', label: 'cfx flush, dataDir shm, 1 conn', run: () => cfxRun(s, SHM_WORK, 1, false, sales) },
    { id: 'cfx-shm-4', label: 'cfx flush, dataDir shm, 4 conns', run: () => cfxRun(s, SHM_WORK, 4, false, sales) },
    { id: 'cfx-disk-1', label: 'cfx flush, dataDir disk, 1 conn', run: () => cfxRun(s, DISK_WORK, 1, false, sales) },
    { id: 'cfx-disk-4', label: 'cfx flush, dataDir disk, 4 conns', run: () => cfxRun(s, DISK_WORK, 4, false, sales) },
    { id: 'cfx-cli-disk-4', label: '`cfx push` process, disk, 4 conns', run: () => cfxCliRun(s, DISK_WORK, 4, sales, o.profile === true, 'disk-4') },
    { id: 'cfx-cli-shm-4', label: '`cfx push` process, shm, 4 conns', run: () => cfxCliRun(s, SHM_WORK, 4, sales, o.profile === true, 'shm-4') },
    // CFX_BENCH_BEFORE=<another build's core/bin/cfx.js>: that build's `cfx push` in the same rounds (a before/after from one run)
    ...(process.env.CFX_BENCH_BEFORE
      ? [
          { id: 'before-cli-disk-4', label: 'before: `cfx push`, disk, 4 conns', run: () => cfxCliRun(s, DISK_WORK, 4, sales, false, 'before-disk-4', process.env.CFX_BENCH_BEFORE) },
          { id: 'before-cli-shm-4', label: 'before: `cfx push`, shm, 4 conns', run: () => cfxCliRun(s, SHM_WORK, 4, sales, false, 'before-shm-4', process.env.CFX_BENCH_BEFORE) },
        ]
      : []),
    { id: 'cfx-shm-4-warm', label: 'cfx flush, shm, 4 conns already open', run: () => cfxRun(s, SHM_WORK, 4, true, sales) },
  ].filter((v) => !only || only.includes(v.id) || v.id === 'lftp');

  const rates: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.id, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.id, []]));
  for (let r = 0; r < rounds; r++) {
    // rotate the order every round, so no variant always runs first or right after another
    const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
    const line: string[] = [];
    for (const v of order) {
      lastCpu = undefined;
      const sec = await v.run();
      rates[v.id]!.push(n / sec);
      if (lastCpu !== undefined) cpu[v.id]!.push(lastCpu);
      line.push(`${v.id} ${fmt(n / sec)}`);
    }
    log(`  round ${r + 1}: ${line.join(', ')} files/s`);
  }
  rmSync(src, { recursive: true, force: true });

  const medians = Object.fromEntries(variants.map((v) => [v.id, median(rates[v.id]!)]));
  const ratios = Object.fromEntries(variants.map((v) => [v.id, medians[v.id]! / medians.lftp!]));
  const cpuSec = Object.fromEntries(variants.filter((v) => cpu[v.id]!.length > 0).map((v) => [v.id, median(cpu[v.id]!)]));
  return { labels: Object.fromEntries(variants.map((v) => [v.id, v.label])), sales: n, bytesPerFile, rounds, rates, medians, ratios, cpuSec, rttMs };
}

const TARGETS: Record<string, number> = { 'cfx-cli-disk-4': TARGET_FOUR_CONNECTIONS, 'cfx-cli-shm-4': TARGET_FOUR_CONNECTIONS, 'cfx-shm-1': TARGET_ONE_CONNECTION, 'cfx-disk-1': TARGET_ONE_CONNECTION, 'cfx-shm-4': TARGET_FOUR_CONNECTIONS, 'cfx-disk-4': TARGET_FOUR_CONNECTIONS };

export function renderSalesFlush(r: SalesFlushReport): string {
  const out = [
    `sale backlog flush: ${r.sales} files × ${fmt(r.bytesPerFile)} B, temp name + rename, server root on /dev/shm; median of ${r.rounds} interleaved rounds${r.rttMs > 0 ? `; control connection through a relay adding ${r.rttMs} ms round trip` : ''}`,
    `${'variant'.padEnd(40)} ${'files/s'.padStart(8)} ${'× lftp'.padStart(7)} ${'CPU s'.padStart(6)}  target`,
  ];
  for (const id of Object.keys(r.medians)) {
    // the issue's targets are for loopback; over the relay the ratio is shown without a verdict
    const t = r.rttMs > 0 ? undefined : TARGETS[id];
    const verdict = t === undefined ? '' : `≥ ${t.toFixed(2)} ${r.ratios[id]! >= t ? 'PASS' : 'MISS'}`;
    const cpu = r.cpuSec[id] === undefined ? '' : r.cpuSec[id]!.toFixed(2);
    out.push(`${r.labels[id]!.padEnd(40)} ${fmt(r.medians[id]!).padStart(8)} ${fmt(r.ratios[id]!, 2).padStart(7)} ${cpu.padStart(6)}  ${verdict}`);
  }
  return out.join('\n');
}


if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const only = flag(args, 'only');
  salesFlushBench({ rounds: Number(flag(args, 'rounds') ?? 5), sales: Number(flag(args, 'sales') ?? 1000), rttMs: Number(flag(args, 'rtt-ms') ?? 0), ...(only ? { only: only.split(',') } : {}), progress: !args.includes('--json'), profile: args.includes('--profile') }).then((r) => {
    process.stdout.write((args.includes('--json') ? JSON.stringify(r, null, 2) : renderSalesFlush(r)) + '\n');
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}
