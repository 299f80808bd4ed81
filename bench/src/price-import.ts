// Price import bench: a 1M-row price CSV pulled over real FTP (vsftpd, server root on /dev/shm),
// parsed and applied by cfx in a child process, interleaved round by round with the peer,
// `sqlite3` importing the same file into the same key layout (code primary key + barcode index +
// name-search index, since catalog.db v2 indexes a lower-cased name for the admin catalog search).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BENCH_DIST,
  OUT_DIR,
  chownFtp,
  fmt,
  fmtInt,
  freshRemoteDir,
  fsType,
  ftpMkdir,
  ftpRootPath,
  median,
  scratchRoot,
  servers,
  terminalDeployment,
  verdict,
} from './common.js';
import { priceCsv, type RowOrder } from './gen-prices.js';

export const TARGET_RATIO = 1.0;
export const TARGET_RSS_MB = 200;

export interface PriceImportOptions {
  rows: number;
  rounds: number;
  /** row orders of the file to run, each its own cfx/sqlite3 comparison (first one: name) */
  orders: RowOrder[];
  /** write a V8 CPU profile of every cfx child into .bench-out/prof/ */
  profile?: boolean;
  /** keep the deployments and peer databases (for inspection) */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface CfxRun {
  wallMs: number;
  rowsPerSec: number;
  records: number;
  products: number;
  downloadMs: number;
  applyMs: number;
  commitMs: number;
  /** parts of commitMs: INSERT INTO barcodes SELECT … json_each … ORDER BY; SELECT count(*); COMMIT (WAL + fsync + checkpoint) */
  commitParts?: { rebuildMs: number; countMs: number; commitSqlMs: number };
  finishMs: number;
  peakRssMb: number;
  rssAfterOpenMb: number;
  cpuMs: number;
  /** highest RSS sampled (every 20 ms, from /proc) in each phase */
  rssPeakByPhaseMb: Record<string, number>;
  /** V8 heap and off-heap memory just before the commit */
  jsBeforeCommitMb?: { heapUsed: number; heapTotal: number; external: number; rss: number };
  profile?: string;
}

export interface PeerRun {
  wallMs: number;
  rowsPerSec: number;
  rows: number;
  peakRssMb?: number;
}

export interface PriceImportVariant {
  /** row order of the file */
  order: RowOrder;
  file: { path: string; rows: number; bytes: number };
  /** `order` here: who ran first in that round */
  rounds: { round: number; order: string; cfx: CfxRun; peer: PeerRun; ratio: number }[];
  median: { cfxRowsPerSec: number; peerRowsPerSec: number; ratio: number; cfxPeakRssMb: number; cfxWallMs: number; peerWallMs: number };
  maxPeakRssMb: number;
  targets: { ratio: { target: number; value: number; pass: boolean }; rss: { targetMb: number; valueMb: number; pass: boolean } };
}

export interface PriceImportResult {
  bench: 'price-import';
  stores: { ftpRoot: string; ftpRootFs: string; dataDirRoot: string; dataDirFs: string };
  peer: { command: string; script: string };
  variants: PriceImportVariant[];
}

const FILE_NAME = 'prices-000001.full.csv';

/**
 * the peer's script: the products table keyed like cfx's (code PRIMARY KEY), then the barcode index
 * and the name index (cfx lower-cases in JS into name_key; sqlite3's lower() on an expression index
 * is the nearest it has, and costs about the same to build)
 */
function peerScript(csv: string): string {
  return [
    'CREATE TABLE products (code TEXT PRIMARY KEY NOT NULL, barcodes TEXT NOT NULL, name TEXT NOT NULL, price TEXT NOT NULL);',
    '.mode csv',
    '.separator ";"',
    `.import --skip 1 '${csv.replace(/'/g, "''")}' products`,
    'CREATE INDEX products_barcodes ON products (barcodes);',
    'CREATE INDEX products_name ON products (lower(name), code);',
    '',
  ].join('\n');
}

interface RssSample {
  /** epoch ms */
  at: number;
  kb: number;
}

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; sampleRssMs?: number } = {},
): Promise<{ code: number | null; out: string; err: string; ms: number; rss: RssSample[] }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    const rss: RssSample[] = [];
    // sampled from outside: works while the child sits in a long synchronous SQLite call
    const timer = opts.sampleRssMs
      ? setInterval(() => {
          try {
            const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) rss.push({ at: performance.timeOrigin + performance.now(), kb: Number(m[1]) });
          } catch {
            /* exited */
          }
        }, opts.sampleRssMs)
      : undefined;
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      resolve({ code, out, err, ms: performance.now() - t0, rss });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** the highest sampled RSS (MB) within each phase of the pull */
function rssByPhase(rss: RssSample[], e: Record<string, number>): Record<string, number> {
  const phases: [string, number | undefined, number | undefined][] = [
    ['beforePull', 0, e.start],
    ['download', e.start, e.decodeStart],
    ['parseInsert', e.decodeStart, e.commitStart],
    ['indexCommit', e.commitStart, e.commitEnd],
    ['after', e.commitEnd, Infinity],
  ];
  const out: Record<string, number> = {};
  for (const [name, from, to] of phases) {
    if (from === undefined || to === undefined) continue;
    const xs = rss.filter((s) => s.at >= from && s.at < to).map((s) => s.kb);
    if (xs.length) out[name] = Math.max(...xs) / 1024;
  }
  return out;
}

async function cfxRound(csv: { path: string; rows: number; order: RowOrder }, round: number, o: PriceImportOptions): Promise<CfxRun> {
  const s = servers();
  const remoteBase = freshRemoteDir('price');
  const d = terminalDeployment({ server: s.ftpUrl, remoteBase });
  try {
    // the office's upload, done on disk (not measured): temp name, rename, then the `.done` flag
    const inbox = ftpMkdir(s, d.inbox);
    const part = join(inbox, `.${FILE_NAME}.part`);
    copyFileSync(csv.path, part);
    chownFtp(s, part);
    renameSync(part, join(inbox, FILE_NAME));
    writeFileSync(join(inbox, `${FILE_NAME}.done`), '');
    chownFtp(s, join(inbox, `${FILE_NAME}.done`));

    const nodeArgs: string[] = [];
    let profDir: string | undefined;
    if (o.profile) {
      profDir = join(OUT_DIR, 'prof');
      mkdirSync(profDir, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=price-import-${csv.order}-round${round}-${process.pid}.cpuprofile`);
    }
    // CFX_BENCH_WRAP: a command line to run the child under, e.g. "perf record -g -o /tmp/p.data --" (diagnosis only)
    const wrap = process.env.CFX_BENCH_WRAP?.split(' ').filter(Boolean) ?? [];
    const argv = [process.execPath, ...nodeArgs, join(BENCH_DIST, 'price-import-child.js'), d.config, FILE_NAME];
    const r = await run(wrap[0] ?? argv[0]!, [...wrap.slice(1), ...(wrap.length ? argv : argv.slice(1))], { cwd: d.dir, sampleRssMs: 20 });
    const line = r.out.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) {
      const log = existsSync(join(d.dir, 'cfx.log')) ? readFileSync(join(d.dir, 'cfx.log'), 'utf8').slice(-2000) : '';
      throw new Error(`cfx child failed (exit ${r.code}): ${r.err.slice(-2000)}${r.out.slice(-500)}\n${log}`);
    }
    const j = JSON.parse(line) as Record<string, number> & { epoch: Record<string, number>; memBeforeCommit?: NodeJS.MemoryUsage; memEnd: NodeJS.MemoryUsage };
    if (j.products !== csv.rows) throw new Error(`cfx applied ${j.products} products, the file has ${csv.rows} rows`);
    const res: CfxRun = {
      wallMs: j.wallMs!,
      rowsPerSec: (j.records! / j.wallMs!) * 1000,
      records: j.records!,
      products: j.products!,
      downloadMs: j.downloadMs!,
      applyMs: j.applyMs!,
      commitMs: j.commitMs!,
      finishMs: j.finishMs!,
      ...(j.rebuildMs !== undefined && j.commitSqlMs !== undefined ? { commitParts: { rebuildMs: j.rebuildMs, countMs: j.countMs!, commitSqlMs: j.commitSqlMs } } : {}),
      peakRssMb: Math.max(j.maxRssKb!, j.vmHwmKb!) / 1024,
      rssAfterOpenMb: j.rssAfterOpenKb! / 1024,
      cpuMs: j.cpuUserMs! + j.cpuSystemMs!,
      rssPeakByPhaseMb: rssByPhase(r.rss, j.epoch),
      ...(j.memBeforeCommit ? { jsBeforeCommitMb: { heapUsed: j.memBeforeCommit.heapUsed / 2 ** 20, heapTotal: j.memBeforeCommit.heapTotal / 2 ** 20, external: j.memBeforeCommit.external / 2 ** 20, rss: j.memBeforeCommit.rss / 2 ** 20 } } : {}),
    };
    if (profDir) res.profile = join(profDir, `price-import-${csv.order}-round${round}-${process.pid}.cpuprofile`);
    return res;
  } finally {
    if (!o.keep) {
      rmSync(d.dir, { recursive: true, force: true });
      rmSync(ftpRootPath(s, remoteBase), { recursive: true, force: true });
    }
  }
}

const TIME_BIN = '/usr/bin/time';

async function peerRound(csv: { path: string; rows: number }, o: PriceImportOptions): Promise<PeerRun> {
  const dir = mkdtempSync(join(scratchRoot(), 'cfx-bench-sqlite-'));
  try {
    const db = join(dir, 'peer.db');
    // /usr/bin/time adds a fork+exec (~1 ms) and gives the peer's peak RSS; without it, sqlite3 alone
    const withTime = existsSync(TIME_BIN);
    const r = withTime ? await run(TIME_BIN, ['-f', 'maxrss=%M', 'sqlite3', db], { input: peerScript(csv.path) }) : await run('sqlite3', [db], { input: peerScript(csv.path) });
    if (r.code !== 0 || /error/i.test(r.err.replace(/maxrss=\d+/, ''))) throw new Error(`sqlite3 failed (exit ${r.code}): ${r.err.slice(-2000)}`);
    const n = await run('sqlite3', [db, "SELECT count(*), sum(instr(price, char(13)) > 0) FROM products;"]);
    const [count, cr] = n.out.trim().split('|').map(Number);
    if (count !== csv.rows || cr) throw new Error(`sqlite3 imported ${count} rows (${cr} with a stray CR), the file has ${csv.rows}`);
    const m = /maxrss=(\d+)/.exec(r.err);
    return { wallMs: r.ms, rowsPerSec: (csv.rows / r.ms) * 1000, rows: count!, ...(m ? { peakRssMb: Number(m[1]) / 1024 } : {}) };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export async function priceImportBench(o: PriceImportOptions): Promise<PriceImportResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const s = servers();
  const files = o.orders.map((order) => {
    const tg = performance.now();
    const csv = priceCsv(o.rows, order);
    log(`price file (${order} order): ${csv.path} (${fmtInt(csv.rows)} rows, ${fmt(csv.bytes / 1e6, 1)} MB${csv.cached ? ', cached' : `, generated in ${fmt((performance.now() - tg) / 1000, 1)} s`})`);
    return csv;
  });
  const root = scratchRoot();
  log(`stores: FTP root ${s.ftpRoot} (${fsType(s.ftpRoot)}); cfx dataDir and sqlite3 db under ${root} (${fsType(root)})`);
  const rounds = new Map<RowOrder, PriceImportVariant['rounds']>(o.orders.map((k) => [k, []]));
  for (let i = 1; i <= o.rounds; i++) {
    for (const csv of files) {
      // alternate who goes first, so a drift within a round does not always favour the same side
      const cfxFirst = i % 2 === 1;
      let cfx: CfxRun, peer: PeerRun;
      if (cfxFirst) {
        cfx = await cfxRound(csv, i, o);
        peer = await peerRound(csv, o);
      } else {
        peer = await peerRound(csv, o);
        cfx = await cfxRound(csv, i, o);
      }
      const ratio = cfx.rowsPerSec / peer.rowsPerSec;
      rounds.get(csv.order)!.push({ round: i, order: cfxFirst ? 'cfx,sqlite3' : 'sqlite3,cfx', cfx, peer, ratio });
      log(
        `  round ${i} ${csv.order} order: cfx ${fmtInt(cfx.rowsPerSec)} rows/s (${fmt(cfx.wallMs / 1000)} s: download ${fmt(cfx.downloadMs / 1000)} + parse/insert ${fmt(cfx.applyMs / 1000)} + index/commit ${fmt(cfx.commitMs / 1000)}${cfx.commitParts ? ` [rebuild ${fmt(cfx.commitParts.rebuildMs / 1000)}, COMMIT ${fmt(cfx.commitParts.commitSqlMs / 1000)}]` : ''} + archive/delete ${fmt(cfx.finishMs / 1000)}; ` +
          `peak RSS ${fmt(cfx.peakRssMb, 0)} MB: ${Object.entries(cfx.rssPeakByPhaseMb).map(([k, v]) => `${k} ${fmt(v, 0)}`).join(', ')})` +
          ` | sqlite3 ${fmtInt(peer.rowsPerSec)} rows/s (${fmt(peer.wallMs / 1000)} s) | ratio ${fmt(ratio)}`,
      );
    }
  }
  const variants = files.map((csv): PriceImportVariant => {
    const rs = rounds.get(csv.order)!;
    const med = {
      cfxRowsPerSec: median(rs.map((r) => r.cfx.rowsPerSec)),
      peerRowsPerSec: median(rs.map((r) => r.peer.rowsPerSec)),
      ratio: NaN,
      cfxPeakRssMb: median(rs.map((r) => r.cfx.peakRssMb)),
      cfxWallMs: median(rs.map((r) => r.cfx.wallMs)),
      peerWallMs: median(rs.map((r) => r.peer.wallMs)),
    };
    med.ratio = med.cfxRowsPerSec / med.peerRowsPerSec;
    const maxRss = Math.max(...rs.map((r) => r.cfx.peakRssMb));
    return {
      order: csv.order,
      file: { path: csv.path, rows: csv.rows, bytes: csv.bytes },
      rounds: rs,
      median: med,
      maxPeakRssMb: maxRss,
      targets: {
        ratio: { target: TARGET_RATIO, value: med.ratio, pass: med.ratio >= TARGET_RATIO },
        rss: { targetMb: TARGET_RSS_MB, valueMb: maxRss, pass: maxRss <= TARGET_RSS_MB },
      },
    };
  });
  return {
    bench: 'price-import',
    stores: { ftpRoot: s.ftpRoot, ftpRootFs: fsType(s.ftpRoot), dataDirRoot: root, dataDirFs: fsType(root) },
    peer: { command: 'sqlite3 <fresh db> < script', script: peerScript('<file>') },
    variants,
  };
}

export function renderPriceImport(r: PriceImportResult): string {
  const out: string[] = [];
  for (const v of r.variants) {
    const m = v.median;
    out.push(
      `Price import, ${v.order} order (${fmtInt(v.file.rows)} rows, ${fmt(v.file.bytes / 1e6, 1)} MB; FTP root on ${r.stores.ftpRootFs}, dataDir on ${r.stores.dataDirFs}), medians of ${v.rounds.length} rounds:`,
      `  cfx      ${fmtInt(m.cfxRowsPerSec)} rows/s  (${fmt(m.cfxWallMs / 1000)} s end to end: list, download+fsync, parse, insert, index, commit, archive, remote delete)`,
      `  sqlite3  ${fmtInt(m.peerRowsPerSec)} rows/s  (${fmt(m.peerWallMs / 1000)} s: .import of the local file + barcode and name indexes)`,
      `  ratio cfx/sqlite3  ${fmt(m.ratio, 3)}   target >= ${fmt(TARGET_RATIO, 1)}   ${verdict(v.targets.ratio.pass)}`,
      `  cfx peak RSS  ${fmt(v.maxPeakRssMb, 0)} MB (max of rounds; median ${fmt(m.cfxPeakRssMb, 0)})   target <= ${TARGET_RSS_MB} MB   ${verdict(v.targets.rss.pass)}`,
    );
  }
  return out.join('\n');
}
