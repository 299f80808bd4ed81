// Sale latency: a running Service (in-process, as a till written in Node runs cfx) with its sales
// connection open; `service.recordSale(json)` one sale at a time, timed from the call until the
// file is visible (renamed into place) in the server's root on disk. Beside it, interleaved sample
// by sample: raw basic-ftp put (.part) + RNFR/RNTO on an open client, timed the same way.
//
//   node bench/dist/sales-latency.js [--samples 500] [--gap-ms 10] [--json]
// or from run.ts: `renderSalesLatency(await salesLatencyBench({ samples }))`.
//
// The clock includes the durable journal write (journal.db, WAL, synchronous=FULL). dataDir on the
// disk under /tmp (disk: a real fsync) and on /dev/shm (shm), reported separately. Visibility is
// seen by a worker thread (inotify on the server dir, 1 ms existsSync poll as a fallback), so the
// time is not stretched by whatever the event loop of cfx does after the upload.
import { existsSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from 'basic-ftp';
import { App, Service, silentLogger } from '@cfx/core';
import { benchServer, bigSale, deployment, dropRemoteDir, flag, fmt, freshRemoteDir, onDisk, percentile, rawClient, rawPut, type BenchServer } from './sales-common.js';

export const TARGET_P50_MS = 3;
export const TARGET_P99_MS = 15;

export interface SalesLatencyOptions {
  /** sales per variant (default 500) */
  samples?: number;
  /** pause after a file is visible before the next sale, ms (default 10: a till is not a loop) */
  gapMs?: number;
  progress?: boolean;
}

export interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface SalesLatencyReport {
  samples: number;
  gapMs: number;
  /** ms from recordSale() to the file visible, per dataDir */
  cfx: Record<'disk' | 'shm', LatencyStats>;
  /** ms spent inside recordSale() (validation + durable journal write), per dataDir */
  journal: Record<'disk' | 'shm', LatencyStats>;
  /** raw basic-ftp put + rename on an open client, ms to the file visible */
  raw: LatencyStats;
}

function stats(xs: number[]): LatencyStats {
  return { p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), max: Math.max(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Tells when `dir/name` appeared, timed by a worker thread (inotify via fs.watch, plus a 1 ms
 * existsSync poll for the names asked for): an observer on cfx's own event loop would see the file
 * only after whatever cfx does next (its bookkeeping after an upload, say). Times are
 * process.hrtime, the same monotonic clock in every thread.
 */
class Visibility {
  private readonly waiting = new Map<string, (t: number) => void>();
  private readonly seen = new Map<string, number>();
  private readonly worker: Worker;

  constructor(dir: string) {
    this.worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { watch, existsSync } = require('node:fs');
       const { join } = require('node:path');
       const dir = workerData;
       const want = new Set();
       const now = () => Number(process.hrtime.bigint()) / 1e6;
       const check = (name, t) => { if (want.has(name) && existsSync(join(dir, name))) { want.delete(name); parentPort.postMessage({ name, t }); } };
       watch(dir, (_e, f) => { if (f) check(f, now()); });
       setInterval(() => { const t = now(); for (const n of [...want]) check(n, t); }, 1);
       parentPort.on('message', (name) => { want.add(name); check(name, now()); });`,
      { eval: true, workerData: dir },
    );
    this.worker.on('message', (m: { name: string; t: number }) => {
      const r = this.waiting.get(m.name);
      this.waiting.delete(m.name);
      r?.(m.t);
    });
  }

  /** call BEFORE starting the upload */
  wait(name: string): Promise<number> {
    const p = new Promise<number>((resolve) => this.waiting.set(name, resolve));
    this.worker.postMessage(name);
    return p;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CfxSide {
  /** the local copy of the uncounted first sale */
  firstCopy: string;
  sample(i: number): Promise<{ total: number; journal: number }>;
  close(): Promise<void>;
}

async function startCfx(s: BenchServer, where: string, label: string): Promise<CfxSide> {
  const salesDir = freshRemoteDir(`lat-${label}`);
  const inbox = freshRemoteDir('lat-inbox');
  // the price poll (once at start, poll 1h) finds its inbox
  const c = await rawClient(s);
  await c.send('MKD /cfx-bench').catch(() => undefined);
  await c.send('MKD ' + inbox);
  c.close();
  const d = deployment(where, { server: s.ftpUrl, salesDir, connections: 1, inbox });
  const app = App.open({ configFile: d.config, env: {}, store: 'rw', logger: silentLogger() });
  const svc = new Service(app);
  await svc.start();
  const name = (saleId: string) => `box-1_${saleId}.csv`;
  // the first sale opens the connection and creates the sales dir: not counted
  const first = bigSale(1, { prefix: `W${label}` });
  svc.recordSale(first);
  const local = onDisk(s, salesDir);
  const t0 = Date.now();
  while (!existsSync(join(local, name(first.saleId as string)))) {
    if (Date.now() - t0 > 20_000) throw new Error(`cfx (${label}) did not upload its first sale within 20 s`);
    await sleep(5);
  }
  const vis = new Visibility(local);
  return {
    firstCopy: join(d.dir, 'data', 'archive', 'sales', '2025-03-15', name(first.saleId as string)),
    async sample(i) {
      const sale = bigSale(i, { prefix: `L${label}` });
      const seen = vis.wait(name(sale.saleId as string));
      const t0 = nowMs();
      const out = svc.recordSale(sale);
      const t1 = nowMs();
      if (out[0]?.status !== 'recorded') throw new Error(`sale ${String(sale.saleId)} not recorded`);
      const t2 = await seen;
      return { total: t2 - t0, journal: t1 - t0 };
    },
    async close() {
      await vis.close();
      await svc.stop();
      await app.close();
      const n = readdirSync(local).filter((x) => !x.startsWith('.')).length;
      dropRemoteDir(s, salesDir);
      dropRemoteDir(s, inbox);
      rmSync(d.dir, { recursive: true, force: true });
      if (n < 2) throw new Error(`cfx (${label}) left ${n} files`);
    },
  };
}

async function startRaw(s: BenchServer, bytes: Buffer): Promise<{ sample(i: number): Promise<number>; close(): Promise<void> }> {
  const dir = freshRemoteDir('lat-raw');
  const c: Client = await rawClient(s);
  await c.send('MKD /cfx-bench').catch(() => undefined);
  await c.send('MKD ' + dir);
  await rawPut(c, dir, 'warm.csv', bytes);
  const vis = new Visibility(onDisk(s, dir));
  return {
    async sample(i) {
      const name = `box-1_R${String(i).padStart(7, '0')}.csv`;
      const seen = vis.wait(name);
      const t0 = nowMs();
      await rawPut(c, dir, name, bytes);
      return (await seen) - t0;
    },
    async close() {
      await vis.close();
      c.close();
      dropRemoteDir(s, dir);
    },
  };
}

export async function salesLatencyBench(o: SalesLatencyOptions = {}): Promise<SalesLatencyReport> {
  const n = o.samples ?? 500;
  const gapMs = o.gapMs ?? 10;
  const log = (m: string) => o.progress !== false && process.stderr.write(m + '\n');
  const s = benchServer();
  const shm = '/dev/shm/cfx-bench-work';
  const disk = '/tmp/cfx-bench-work';
  mkdirSync(shm, { recursive: true });
  mkdirSync(disk, { recursive: true });

  const cfxDisk = await startCfx(s, disk, 'disk');
  const cfxShm = await startCfx(s, shm, 'shm');
  // the raw side sends the bytes cfx sends (the encoded first sale of the shm side)
  const raw = await startRaw(s, readFileSync(cfxShm.firstCopy));
  const res = { disk: [] as number[], shm: [] as number[], jdisk: [] as number[], jshm: [] as number[], raw: [] as number[] };
  try {
    // warm-up: 20 of each, not counted
    for (let i = 0; i < 20; i++) {
      await cfxDisk.sample(900_000 + i);
      await cfxShm.sample(900_000 + i);
      await raw.sample(900_000 + i);
    }
    for (let i = 1; i <= n; i++) {
      // interleaved sample by sample, the order rotating
      const order = [0, 1, 2].map((k) => (k + i) % 3);
      for (const k of order) {
        if (k === 0) {
          const r = await cfxDisk.sample(i);
          res.disk.push(r.total);
          res.jdisk.push(r.journal);
        } else if (k === 1) {
          const r = await cfxShm.sample(i);
          res.shm.push(r.total);
          res.jshm.push(r.journal);
        } else res.raw.push(await raw.sample(i));
        await sleep(gapMs);
      }
      if (i % 100 === 0) log(`  sales-latency: ${i}/${n}`);
    }
  } finally {
    await raw.close();
    await cfxShm.close();
    await cfxDisk.close();
  }
  return {
    samples: n,
    gapMs,
    cfx: { disk: stats(res.disk), shm: stats(res.shm) },
    journal: { disk: stats(res.jdisk), shm: stats(res.jshm) },
    raw: stats(res.raw),
  };
}

export function renderSalesLatency(r: SalesLatencyReport): string {
  const row = (label: string, x: LatencyStats, target = false) =>
    `${label.padEnd(44)} ${fmt(x.p50, 2).padStart(7)} ${fmt(x.p90, 2).padStart(7)} ${fmt(x.p99, 2).padStart(7)} ${fmt(x.max, 1).padStart(7)}` +
    (target ? `  p50 ≤ ${TARGET_P50_MS} ${x.p50 <= TARGET_P50_MS ? 'PASS' : 'MISS'}, p99 ≤ ${TARGET_P99_MS} ${x.p99 <= TARGET_P99_MS ? 'PASS' : 'MISS'}` : '');
  return [
    `sale latency: recordSale() → file visible on the server (root on /dev/shm), ${r.samples} sales one at a time, ${r.gapMs} ms apart, interleaved`,
    `${'ms'.padEnd(44)} ${'p50'.padStart(7)} ${'p90'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}`,
    row('cfx, dataDir on disk (/tmp)', r.cfx.disk, true),
    row('  of which recordSale() (durable journal)', r.journal.disk),
    row('cfx, dataDir on /dev/shm', r.cfx.shm, true),
    row('  of which recordSale()', r.journal.shm),
    row('raw basic-ftp put + rename, open client', r.raw),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  salesLatencyBench({ samples: Number(flag(args, 'samples') ?? 500), gapMs: Number(flag(args, 'gap-ms') ?? 10), progress: !args.includes('--json') }).then(
    (r) => process.stdout.write((args.includes('--json') ? JSON.stringify(r, null, 2) : renderSalesLatency(r)) + '\n'),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
