// Admin HTTP API bench, against `cfx run` in its own process (as a till runs it) with `admin:` on a
// loopback port and the real vsftpd:
//  (a) GET /api/catalog?q= on a big catalog (default 1,000,000 items, imported by that cfx run from
//      a generated price file through its price pull): p50/p99 over a mix of queries, beside the
//      peer = the same three index reads and merge done in-process with better-sqlite3 on a
//      read-only connection to the same catalog.db (the floor: SQLite without HTTP, JSON or fastify).
//      Every answer is checked against the peer's (same products, same order).
//  (b) POST /api/sales throughput, one at a time and `concurrency` in flight, vs `cfx sale add` (a
//      process per sale, as a till that shells out does), one at a time and `concurrency` at once.
//      All on the same deployment while its cfx run uploads the sales in the background.
//
//   node bench/dist/admin-api.js [--items 1000000] [--queries 2000] [--sales 500] [--cli-sales 40] [--concurrency 8] [--keep] [--json]
// or from run.ts: `renderAdminBench(await adminBench({ items }))`.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { CFX_BIN, chownFtp, fmt, fmtInt, freshRemoteDir, fsType, ftpMkdir, ftpRootPath, intArg, parseArgs, quantile, scratchRoot, servers, terminalDeployment, verdict, type Deployment } from './common.js';
import { cacheDir, ean13, mulberry32 } from './gen-prices.js';
import { bigSale } from './sales-common.js';

export const TARGET_CATALOG_P99_MS = 20;

export interface AdminBenchOptions {
  /** catalog size (default 1,000,000) */
  items?: number;
  /** timed catalog queries, after 100 untimed (default 2000) */
  queries?: number;
  /** sales per POST /api/sales variant (default 500) */
  sales?: number;
  /** `cfx sale add` processes per variant (default 40) */
  cliSales?: number;
  /** in flight at once in the concurrent variants (default 8) */
  concurrency?: number;
  /** keep the deployment and the remote dir for inspection */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface LatencyMs {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export type QueryKind = 'code prefix' | 'code exact' | 'barcode exact' | 'barcode prefix' | 'name Cyrillic' | 'name Cyrillic, 2 letters' | 'name Latin' | 'name, page 5' | 'no match';

export interface Throughput {
  sales: number;
  concurrency: number;
  ms: number;
  salesPerSec: number;
}

export interface AdminBenchResult {
  bench: 'admin-api';
  stores: { dataDirFs: string; ftpRootFs: string };
  catalog: {
    items: number;
    file: { path: string; bytes: number; cached: boolean };
    /** from starting cfx run until /api/status counted every item (startup, poll, import) */
    readyMs: number;
    /** the price pull's run row (started → finished): the import itself */
    importRunMs?: number;
    queries: number;
    /** GET /api/catalog from this process (node:http, one keep-alive socket), ms from request to parsed JSON */
    http: LatencyMs;
    /** the same reads and merge, in-process, better-sqlite3, read-only connection to the same file */
    peer: LatencyMs;
    peerName: string;
    byKind: Record<string, { http: LatencyMs; peer: LatencyMs; sampleQ: string; sampleHits: number }>;
    target: { p99Ms: number; value: number; pass: boolean };
  };
  sales: {
    saleBytes: number;
    http: { sequential: Throughput; concurrent: Throughput };
    cli: { sequential: Throughput; concurrent: Throughput };
    /** sequential http / sequential cli */
    ratio: number;
  };
}

// ---- the catalog file: codes in random order, EAN-13 barcodes, Cyrillic and Latin names

const GEN_VERSION = 1;
const CYR = ['Молоко', 'Кефір', 'Хліб', 'Батон', 'Сир', 'Масло', 'Ковбаса', 'Цукор', 'Гречка', 'Рис', 'Чай', 'Кава', 'Сік', 'Вода', 'Печиво', 'Шоколад', 'Йогурт', 'Сметана', 'Ґрунтовка', 'Їжа'];
const CYR_ADJ = ['свіже', 'домашнє', 'класичне', 'вершкове', 'житній', 'твердий', 'білий', 'чорний', 'зелений', 'яблучний'];
const LAT = ['Coffee', 'Milk', 'Tea', 'Juice', 'Water', 'Chocolate', 'Cookies', 'Bread', 'Cheese', 'Butter'];
const LAT_ADJ = ['arabica', 'fresh', 'green', 'orange', 'sparkling', 'dark', 'oat', 'rye', 'gouda', 'salted'];

/** generated once per size and cached (like the price import bench's file) */
export function catalogCsv(items: number): { path: string; bytes: number; cached: boolean } {
  const path = join(cacheDir(), `admin-catalog-${items}-v${GEN_VERSION}.csv`);
  if (existsSync(path)) return { path, bytes: statSync(path).size, cached: true };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const rnd = mulberry32(8730 + items);
  let step = Math.floor(items * 0.6180339887) | 1;
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  while (gcd(step, items) !== 1) step += 2;
  let out = 'code;barcodes;name;price\r\n';
  for (let i = 0; i < items; i++) {
    const code = String(((i * step) % items) + 1).padStart(8, '0');
    const bc = ean13('482' + String(Math.floor(rnd() * 1e9)).padStart(9, '0'));
    const latin = rnd() < 0.3;
    const noun = (latin ? LAT : CYR)[Math.floor(rnd() * (latin ? LAT.length : CYR.length))]!;
    const adj = (latin ? LAT_ADJ : CYR_ADJ)[Math.floor(rnd() * 10)]!;
    const name = `${noun} ${adj} ${1 + Math.floor(rnd() * 999)}${latin ? 'g' : 'г'}`;
    const kop = 1 + Math.floor(rnd() * 99999);
    out += `${code};${bc};${name};${Math.floor(kop / 100)},${String(kop % 100).padStart(2, '0')}\r\n`;
    if (out.length > 1 << 16) {
      writeSync(fd, out);
      out = '';
    }
  }
  writeSync(fd, out);
  closeSync(fd);
  renameSync(tmp, path);
  return { path, bytes: statSync(path).size, cached: false };
}

// ---- small helpers

function stats(xs: number[]): LatencyMs {
  return { n: xs.length, p50: quantile(xs, 0.5), p90: quantile(xs, 0.9), p99: quantile(xs, 0.99), max: Math.max(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `n` tasks, at most `c` at once */
async function pool(n: number, c: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      for (let i = next++; i < n; i = next++) await task(i);
    }),
  );
}

function runCli(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CFX_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

// ---- the peer: the catalog search's reads (core/src/store/catalog.ts, CATALOG_SEARCH_SQL) on its own connection

const MAX_CHAR = '\u{10FFFF}';
const SEARCH = {
  code: 'SELECT p.* FROM products p WHERE p.code >= ? AND p.code < ? ORDER BY p.code',
  // (catalog schema 4: the first barcode from an index on json_extract(barcodes, '$[0]'), the others from the side table; its parameters: the range twice)
  barcode:
    "SELECT json_extract(p.barcodes, '$[0]') AS k1, p.rowid AS k2, p.* FROM products p WHERE json_extract(p.barcodes, '$[0]') >= ? AND json_extract(p.barcodes, '$[0]') < ? " +
    'UNION ALL SELECT b.barcode, b.product_code, p.* FROM barcodes b JOIN products p ON p.code = b.product_code WHERE b.barcode >= ? AND b.barcode < ? ORDER BY 1, 2',
  name: 'SELECT p.* FROM products p WHERE p.name_key >= ? AND p.name_key < ? ORDER BY p.name_key, p.rowid',
};

class Peer {
  private readonly db: Database.Database;
  private readonly st: { code: Database.Statement; barcode: Database.Statement; name: Database.Statement; sample: Database.Statement };
  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.st = {
      code: this.db.prepare(SEARCH.code),
      barcode: this.db.prepare(SEARCH.barcode),
      name: this.db.prepare(SEARCH.name),
      sample: this.db.prepare('SELECT code, barcodes, name FROM products WHERE rowid >= ? ORDER BY rowid LIMIT 1'),
    };
  }
  /** the codes of a page, as the API lists them; each row read in full, as the API does */
  search(q: string, limit: number, offset: number): string[] {
    const key = q.toLowerCase();
    const sources = [() => this.st.code.iterate(q, q + MAX_CHAR), () => this.st.barcode.iterate(q, q + MAX_CHAR, q, q + MAX_CHAR), () => this.st.name.iterate(key, key + MAX_CHAR)];
    const seen = new Set<string>();
    const page: string[] = [];
    let skipped = 0;
    for (const open of sources) {
      for (const r of open() as IterableIterator<{ code: string; barcodes: string; extras: string | null }>) {
        if (seen.has(r.code)) continue;
        seen.add(r.code);
        if (skipped < offset) {
          skipped++;
          continue;
        }
        JSON.parse(r.barcodes);
        page.push(r.code);
        if (page.length >= limit) return page;
      }
    }
    return page;
  }
  sample(rowid: number): { code: string; barcodes: string; name: string } | undefined {
    return this.st.sample.get(rowid) as { code: string; barcodes: string; name: string } | undefined;
  }
  close(): void {
    this.db.close();
  }
}

/** a mix of what a cashier types, built from items that exist (and a few that do not) */
function queryMix(peer: Peer, items: number, n: number): { kind: QueryKind; q: string; offset: number }[] {
  const rnd = mulberry32(42);
  const out: { kind: QueryKind; q: string; offset: number }[] = [];
  const mixCase = (s: string, i: number) => (i % 3 === 0 ? s.toUpperCase() : i % 3 === 1 ? s.toLowerCase() : s);
  const kinds: QueryKind[] = ['code prefix', 'code exact', 'barcode exact', 'barcode prefix', 'name Cyrillic', 'name Cyrillic, 2 letters', 'name Latin', 'name, page 5', 'no match'];
  for (let i = 0; out.length < n; i++) {
    const kind = kinds[i % kinds.length]!;
    const row = peer.sample(1 + Math.floor(rnd() * items))!;
    const bc = (JSON.parse(row.barcodes) as string[])[0] ?? '';
    const [noun = '', adj = ''] = row.name.split(' ');
    switch (kind) {
      case 'code prefix':
        out.push({ kind, q: row.code.slice(0, 6), offset: 0 });
        break;
      case 'code exact':
        out.push({ kind, q: row.code, offset: 0 });
        break;
      case 'barcode exact':
        out.push({ kind, q: bc, offset: 0 });
        break;
      case 'barcode prefix':
        out.push({ kind, q: bc.slice(0, 8), offset: 0 });
        break;
      case 'name Cyrillic':
        out.push({ kind, q: mixCase(`${CYR[i % CYR.length]} ${CYR_ADJ[i % CYR_ADJ.length]!.slice(0, 3)}`, i), offset: 0 });
        break;
      case 'name Cyrillic, 2 letters':
        out.push({ kind, q: mixCase(CYR[i % CYR.length]!.slice(0, 2), i), offset: 0 });
        break;
      case 'name Latin':
        out.push({ kind, q: mixCase(`${LAT[i % LAT.length]} ${LAT_ADJ[i % LAT_ADJ.length]!.slice(0, 2)}`, i), offset: 0 });
        break;
      case 'name, page 5':
        out.push({ kind, q: mixCase(`${noun} ${adj.slice(0, 1)}`, i), offset: 200 });
        break;
      case 'no match':
        out.push({ kind, q: i % 2 ? `zq${i}` : `Щюя${i}`, offset: 0 });
        break;
    }
  }
  return out;
}

// ---- cfx run in its own process

interface Running {
  d: Deployment;
  base: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

async function startCfxRun(d: Deployment, port: number): Promise<Running> {
  const child = spawn(process.execPath, [CFX_BIN, 'run', '-c', d.config], { cwd: d.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c) => (err = (err + c).slice(-4000)));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cfx run exited (${child.exitCode}): ${err}`);
    try {
      if ((await fetch(`${base}/api/status`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > 30_000) throw new Error(`cfx run did not serve ${base} within 30 s: ${err}`);
    await sleep(50);
  }
  return {
    d,
    base,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function getJson(url: string): Promise<any> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

export async function adminBench(o: AdminBenchOptions = {}): Promise<AdminBenchResult> {
  const items = o.items ?? 1_000_000;
  const nQueries = o.queries ?? 2000;
  const nSales = o.sales ?? 500;
  const nCli = o.cliSales ?? 40;
  const conc = o.concurrency ?? 8;
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const s = servers();

  const tg = performance.now();
  const csv = catalogCsv(items);
  log(`admin bench: catalog file ${csv.path} (${fmtInt(items)} items, ${fmt(csv.bytes / 1e6, 1)} MB${csv.cached ? ', cached' : `, generated in ${fmt((performance.now() - tg) / 1000, 1)} s`})`);

  const remoteBase = freshRemoteDir('admin');
  const port = await freePort();
  const d = terminalDeployment({ server: s.ftpUrl, remoteBase, logLevel: 'warn', extra: `admin:\n  listen: "127.0.0.1:${port}"\n` });
  // the office's upload, on disk: temp name, rename, `.done` flag
  const inbox = ftpMkdir(s, d.inbox);
  ftpMkdir(s, `${remoteBase}/sales`);
  const name = 'prices-000001.full.csv';
  copyFileSync(csv.path, join(inbox, `.${name}.part`));
  chownFtp(s, join(inbox, `.${name}.part`));
  renameSync(join(inbox, `.${name}.part`), join(inbox, name));
  writeFileSync(join(inbox, `${name}.done`), '');
  chownFtp(s, join(inbox, `${name}.done`));

  const t0 = performance.now();
  const run = await startCfxRun(d, port);
  let peer: Peer | undefined;
  try {
    // ---- the catalog, imported by cfx run's own price pull
    for (;;) {
      const st = await getJson(`${run.base}/api/status`);
      if (st.catalog?.products === items && st.catalog.lastFile?.name === name) break;
      const failed = st.lastRuns?.['prices.pull']?.last;
      if (failed && failed.result !== 'ok') throw new Error(`the price pull of cfx run failed: ${JSON.stringify(failed)}`);
      if (performance.now() - t0 > 15 * 60_000) throw new Error('the catalog was not imported within 15 minutes');
      await sleep(200);
    }
    const readyMs = performance.now() - t0;
    const pullRun = (await getJson(`${run.base}/api/runs?job=prices.pull&limit=1`)).runs[0] as { startedAt: string; finishedAt?: string } | undefined;
    const importRunMs = pullRun?.finishedAt ? Date.parse(pullRun.finishedAt) - Date.parse(pullRun.startedAt) : undefined;
    log(`  catalog of ${fmtInt(items)} items ready in ${fmt(readyMs / 1000, 1)} s${importRunMs !== undefined ? ` (import run ${fmt(importRunMs / 1000, 1)} s)` : ''}`);

    // ---- (a) catalog search
    // the catalog generation in use: a full import builds catalog-<n>.db and names it in catalog.current
    const pointer = join(d.dataDir, 'catalog.current');
    peer = new Peer(join(d.dataDir, existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : 'catalog.db'));
    const mix = queryMix(peer, items, nQueries + 100);
    // node:http on one keep-alive socket, as the admin page's browser tab would: fetch() itself
    // adds ~0.4 ms a request here, which is the client's cost, not the API's
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const httpGet = (url: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        httpRequest(url, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
    const http: number[] = [], floor: number[] = [];
    const byKind = new Map<QueryKind, { http: number[]; peer: number[]; sampleQ: string; sampleHits: number }>();
    for (const [i, m] of mix.entries()) {
      const url = `${run.base}/api/catalog?q=${encodeURIComponent(m.q)}&limit=50${m.offset ? `&offset=${m.offset}` : ''}`;
      const timeHttp = async () => {
        const a = performance.now();
        const r = await httpGet(url);
        const body = JSON.parse(r.body) as { items?: { code: string }[] };
        const ms = performance.now() - a;
        if (r.status !== 200 || !body.items) throw new Error(`GET ${url}: ${r.status} ${r.body.slice(0, 300)}`);
        return { ms, codes: body.items.map((x) => x.code) };
      };
      const timePeer = () => {
        const a = performance.now();
        const codes = peer!.search(m.q, 51, m.offset).slice(0, 50);
        return { ms: performance.now() - a, codes };
      };
      // alternate who goes first, so neither always finds the pages warm
      let h: { ms: number; codes: string[] }, p: { ms: number; codes: string[] };
      if (i % 2) {
        h = await timeHttp();
        p = timePeer();
      } else {
        p = timePeer();
        h = await timeHttp();
      }
      if (h.codes.join() !== p.codes.join()) throw new Error(`q=${JSON.stringify(m.q)} offset ${m.offset}: the API listed ${h.codes.slice(0, 5).join(',')}… (${h.codes.length}), the peer ${p.codes.slice(0, 5).join(',')}… (${p.codes.length})`);
      if (m.kind === 'no match' && h.codes.length) throw new Error(`q=${m.q} should match nothing`);
      if ((m.kind === 'code exact' || m.kind === 'barcode exact') && h.codes.length < 1) throw new Error(`q=${m.q} (${m.kind}) found nothing`);
      if (i < 100) continue; // warm-up
      http.push(h.ms);
      floor.push(p.ms);
      let k = byKind.get(m.kind);
      if (!k) byKind.set(m.kind, (k = { http: [], peer: [], sampleQ: m.q, sampleHits: h.codes.length }));
      k.http.push(h.ms);
      k.peer.push(p.ms);
    }
    agent.destroy();
    const httpStats = stats(http);
    log(`  catalog search: ${http.length} queries, http p50 ${fmt(httpStats.p50)} ms, p99 ${fmt(httpStats.p99)} ms`);

    // ---- (b) sales: POST /api/sales vs cfx sale add
    const sale = (prefix: string, i: number) => bigSale(i, { prefix });
    const saleBytes = Buffer.byteLength(JSON.stringify(sale('X', 1)));
    const post = async (body: unknown) => {
      const r = await fetch(`${run.base}/api/sales`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await r.text();
      if (r.status !== 201) throw new Error(`POST /api/sales: ${r.status} ${text.slice(0, 300)}`);
    };
    await post(sale('HW', 1)); // the first opens the sales connection: not counted
    const httpRun = async (prefix: string, c: number): Promise<Throughput> => {
      const a = performance.now();
      await pool(nSales, c, (i) => post(sale(prefix, i + 1)));
      const ms = performance.now() - a;
      return { sales: nSales, concurrency: c, ms, salesPerSec: (nSales / ms) * 1000 };
    };
    const httpSeq = await httpRun('HS', 1);
    const httpConc = await httpRun('HC', conc);
    log(`  POST /api/sales: ${fmtInt(httpSeq.salesPerSec)} sales/s one at a time, ${fmtInt(httpConc.salesPerSec)} sales/s with ${conc} in flight`);

    const saleDir = join(d.dir, 'sale-files');
    mkdirSync(saleDir, { recursive: true });
    const cliRun = async (prefix: string, c: number): Promise<Throughput> => {
      for (let i = 0; i < nCli; i++) writeFileSync(join(saleDir, `${prefix}-${i}.json`), JSON.stringify(sale(prefix, i + 1)));
      const a = performance.now();
      await pool(nCli, c, async (i) => {
        const r = await runCli(['sale', 'add', join(saleDir, `${prefix}-${i}.json`), '-c', d.config, '--json'], d.dir);
        if (r.code !== 0 || !/"recorded"/.test(r.out)) throw new Error(`cfx sale add: exit ${r.code} ${r.out.slice(0, 300)} ${r.err.slice(0, 500)}`);
      });
      const ms = performance.now() - a;
      return { sales: nCli, concurrency: c, ms, salesPerSec: (nCli / ms) * 1000 };
    };
    const cliSeq = await cliRun('CS', 1);
    const cliConc = await cliRun('CC', conc);
    log(`  cfx sale add: ${fmt(cliSeq.salesPerSec, 1)} sales/s one process at a time, ${fmt(cliConc.salesPerSec, 1)} sales/s with ${conc} at once`);

    const pSt = stats(floor);
    return {
      bench: 'admin-api',
      stores: { dataDirFs: fsType(d.dataDir), ftpRootFs: fsType(s.ftpRoot) },
      catalog: {
        items,
        file: csv,
        readyMs,
        ...(importRunMs !== undefined ? { importRunMs } : {}),
        queries: http.length,
        http: httpStats,
        peer: pSt,
        peerName: 'better-sqlite3 in the bench process, read-only connection to the same catalog.db: the same three index reads and merge, no HTTP/JSON',
        byKind: Object.fromEntries([...byKind].map(([k, v]) => [k, { http: stats(v.http), peer: stats(v.peer), sampleQ: v.sampleQ, sampleHits: v.sampleHits }])),
        target: { p99Ms: TARGET_CATALOG_P99_MS, value: httpStats.p99, pass: httpStats.p99 <= TARGET_CATALOG_P99_MS },
      },
      sales: { saleBytes, http: { sequential: httpSeq, concurrent: httpConc }, cli: { sequential: cliSeq, concurrent: cliConc }, ratio: httpSeq.salesPerSec / cliSeq.salesPerSec },
    };
  } catch (e) {
    const logFile = join(d.dir, 'cfx.log');
    if (existsSync(logFile)) (e as Error).message += `\ncfx.log (tail): ${readFileSync(logFile, 'utf8').slice(-2000)}\nstderr: ${run.stderr()}`;
    throw e;
  } finally {
    peer?.close();
    await run.stop();
    if (!o.keep) {
      rmSync(d.dir, { recursive: true, force: true });
      rmSync(ftpRootPath(s, remoteBase), { recursive: true, force: true });
    } else log(`  kept: ${d.dir}, remote ${remoteBase}`);
  }
}

export function renderAdminBench(r: AdminBenchResult): string {
  const c = r.catalog;
  const lat = (x: LatencyMs) => `p50 ${fmt(x.p50).padStart(6)}  p99 ${fmt(x.p99).padStart(6)}  max ${fmt(x.max).padStart(6)} ms`;
  const tp = (t: Throughput) => `${fmt(t.salesPerSec, t.salesPerSec < 100 ? 1 : 0).padStart(6)} sales/s  (${t.sales} in ${fmt(t.ms / 1000, 2)} s, ${t.concurrency} at once)`;
  return [
    `Admin API — catalog search, GET /api/catalog?q= on ${fmtInt(c.items)} items (cfx run in its own process, dataDir on ${r.stores.dataDirFs}; imported by its price pull: ready in ${fmt(c.readyMs / 1000, 1)} s${c.importRunMs !== undefined ? `, import run ${fmt(c.importRunMs / 1000, 1)} s` : ''}), ${c.queries} queries, limit 50:`,
    `  cfx HTTP  ${lat(c.http)}   target p99 <= ${c.target.p99Ms} ms   ${verdict(c.target.pass)}`,
    `  peer      ${lat(c.peer)}   (${c.peerName})`,
    ...Object.entries(c.byKind).map(([k, v]) => `    ${k.padEnd(26)} http ${lat(v.http)} | peer p50 ${fmt(v.peer.p50)} p99 ${fmt(v.peer.p99)} ms   e.g. q=${JSON.stringify(v.sampleQ)} → ${v.sampleHits}`),
    `Admin API — recording sales (one ~${fmt(r.sales.saleBytes / 1024, 1)} KiB sale each, durable journal; cfx run uploads them meanwhile):`,
    `  POST /api/sales   ${tp(r.sales.http.sequential)}`,
    `  POST /api/sales   ${tp(r.sales.http.concurrent)}`,
    `  cfx sale add      ${tp(r.sales.cli.sequential)}   (a process per sale)`,
    `  cfx sale add      ${tp(r.sales.cli.concurrent)}`,
    `  one at a time: POST /api/sales is ${fmt(r.sales.ratio, 0)}x cfx sale add`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const opts: AdminBenchOptions = {
    items: intArg(args, 'items', 1_000_000),
    queries: intArg(args, 'queries', 2000),
    sales: intArg(args, 'sales', 500),
    cliSales: intArg(args, 'cli-sales', 40),
    concurrency: intArg(args, 'concurrency', 8),
    keep: args.has('keep'),
    ...(args.has('json') ? { log: (l: string) => process.stderr.write(l + '\n') } : {}),
  };
  mkdirSync(scratchRoot(), { recursive: true });
  adminBench(opts).then(
    (r) => process.stdout.write((args.has('json') ? JSON.stringify(r, null, 2) : renderAdminBench(r)) + '\n'),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
