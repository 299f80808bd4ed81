// 1C price import bench (issue #7): a 100,000-item 1C goods file (ATOL text, cp1251, CRLF, comma
// decimals, 33 fields a line, as 1C writes a full export) pulled over real FTP (vsftpd, server root
// on /dev/shm) and applied by a terminal with `prices: { format: atol }`, beside the CSV path: the
// same items as a CSV price file (every value the atol decoder takes from a line, so the same
// records reach the store) pulled and applied the same way with `format: csv`. Each pull runs in a
// fresh child process (price-import-1c-child.ts), the two interleaved round by round. After every
// run the catalog must hold all the items, and sampled items must read back with the generated
// price, name and barcode (and the same product from both files).
//
//   node bench/dist/price-import-1c.js [--rows 100000] [--rounds 5] [--profile] [--keep] [--json]
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIST, OUT_DIR, chownFtp, fmt, fmtInt, freshRemoteDir, fsType, ftpMkdir, ftpRootPath, intArg, median, parseArgs, scratchRoot, servers, verdict } from './common.js';
import { goodsFiles, type GoodsFiles, type GoodsItem } from './gen-goods-1c.js';
import { runCmd } from './sftp-common.js';

export const TARGET_ATOL_RATIO = 0.8;

export interface PriceImport1cOptions {
  /** items in the file (default 100000) */
  rows?: number;
  /** interleaved rounds (default 5) */
  rounds?: number;
  /** V8 CPU profile of every child into .bench-out/prof/ */
  profile?: boolean;
  /** keep the deployments and remote dirs */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface Pull1c {
  wallMs: number;
  rowsPerSec: number;
  downloadMs: number;
  /** decode + insert + index + commit + archive + remote delete */
  applyMs: number;
  cpuMs: number;
  peakRssMb: number;
  profile?: string;
}

export interface PriceImport1cResult {
  bench: 'price-import-1c';
  rows: number;
  files: { atol: { bytes: number }; csv: { bytes: number }; csv4: { bytes: number } };
  stores: { ftpRootFs: string; dataDirFs: string };
  /** csv4: the same items in the price-import bench's 4 columns (code;barcodes;name;price), for reference */
  rounds: { round: number; order: string; atol: Pull1c; csv: Pull1c; csv4: Pull1c; ratio: number; ratio4: number }[];
  median: { atolRowsPerSec: number; csvRowsPerSec: number; csv4RowsPerSec: number; ratio: number; ratio4: number; atolWallMs: number; csvWallMs: number; csv4WallMs: number };
  target: { ratio: number; pass: boolean };
}

type Side = 'atol' | 'csv' | 'csv4';
type Product = { code: string; barcodes: string[]; name: string; price: number } & Record<string, unknown>;

/** remote name, its flag, and the cfx.yaml prices block of each side */
const SIDES: Record<Side, { file: string; flag: string; format: string }> = {
  // 1C's handshake: the goods file, then an empty flag file beside it
  atol: { file: 'atolimp.txt', flag: 'atolimp.flg', format: 'atol' },
  csv: { file: 'prices-000001.full.csv', flag: 'prices-000001.full.csv.done', format: 'csv' },
  csv4: { file: 'prices-000001.full.csv', flag: 'prices-000001.full.csv.done', format: 'csv' },
};

async function pull(side: Side, g: GoodsFiles, round: number, o: PriceImport1cOptions): Promise<{ run: Pull1c; samples: Record<string, Product | null> }> {
  const s = servers();
  const remoteBase = freshRemoteDir(`price-1c-${side}`);
  const dir = mkdtempSync(join(scratchRoot(), `cfx-bench-1c-${side}-`));
  const sd = SIDES[side];
  try {
    writeFileSync(
      join(dir, 'cfx.yaml'),
      `role: terminal
terminal: bench-1
dataDir: ./data
server: ${s.ftpUrl}
timeout: 60s
prices:
  dir: ${remoteBase}/{terminal}
  poll: 1s
  format: ${sd.format}
sales:
  dir: ${remoteBase}/sales
log: { level: warn, file: ./cfx.log }
`,
    );
    // the office's upload, done on disk (not measured): temp name, rename, then the flag
    const inbox = ftpMkdir(s, `${remoteBase}/bench-1`);
    const part = join(inbox, `.${sd.file}.part`);
    copyFileSync(g[side].path, part);
    chownFtp(s, part);
    renameSync(part, join(inbox, sd.file));
    writeFileSync(join(inbox, sd.flag), '');
    chownFtp(s, join(inbox, sd.flag));

    const nodeArgs: string[] = [];
    let profile: string | undefined;
    if (o.profile) {
      const profDir = join(OUT_DIR, 'prof');
      mkdirSync(profDir, { recursive: true });
      const name = `price-import-1c-${side}-round${round}-${process.pid}.cpuprofile`;
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}`);
      profile = join(profDir, name);
    }
    const r = await runCmd(process.execPath, [...nodeArgs, join(BENCH_DIST, 'price-import-1c-child.js'), join(dir, 'cfx.yaml'), sd.file, g.samples.map((x) => x.code).join(',')], { cwd: dir });
    const line = r.out.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) {
      const log = existsSync(join(dir, 'cfx.log')) ? readFileSync(join(dir, 'cfx.log'), 'utf8').slice(-2000) : '';
      throw new Error(`cfx child (${side}) failed (exit ${r.code}): ${r.err.slice(-2000)}${r.out.slice(-500)}\n${log}`);
    }
    const j = JSON.parse(line) as { mode: string; products: number; samples: Record<string, Product | null>; wallMs: number; downloadMs: number; applyMs: number; cpuMs: number; peakRssKb: number };
    if (j.mode !== 'full') throw new Error(`${side}: the file was applied as ${j.mode}, not as a full catalog`);
    if (j.products !== g.rows) throw new Error(`${side}: the catalog holds ${j.products} items, the file has ${g.rows}`);
    for (const it of g.samples) checkSample(side, it, j.samples[it.code] ?? null);
    const run: Pull1c = { wallMs: j.wallMs, rowsPerSec: (g.rows / j.wallMs) * 1000, downloadMs: j.downloadMs, applyMs: j.applyMs, cpuMs: j.cpuMs, peakRssMb: j.peakRssKb / 1024, ...(profile ? { profile } : {}) };
    return { run, samples: j.samples };
  } finally {
    if (!o.keep) {
      rmSync(dir, { recursive: true, force: true });
      rmSync(ftpRootPath(s, remoteBase), { recursive: true, force: true });
    }
  }
}

function checkSample(side: Side, it: GoodsItem, p: Product | null): void {
  // the 4-column CSV has no weighed flag
  const weighed = side === 'csv4' ? {} : { weighed: it.weighed };
  const got = p && { price: p.price, name: p.name, barcodes: p.barcodes, ...(side === 'csv4' ? {} : { weighed: p.weighed === true }) };
  const want = { price: it.price, name: it.name, barcodes: [it.barcode], ...weighed };
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${side}: item ${it.code} reads back as ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

export async function priceImport1cBench(o: PriceImport1cOptions = {}): Promise<PriceImport1cResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const rows = o.rows ?? 100_000;
  const nRounds = o.rounds ?? 5;
  const s = servers();
  const g = goodsFiles(rows);
  const root = scratchRoot();
  log(
    `price-import-1c: ${fmtInt(rows)} items; 1C goods file ${fmt(g.atol.bytes / 1e6, 1)} MB (cp1251, 33 fields), CSV ${fmt(g.csv.bytes / 1e6, 1)} MB (UTF-8, 12 columns)${g.cached ? ', cached' : ''}; ` +
      `FTP root ${fsType(s.ftpRoot)}, dataDir under ${root} (${fsType(root)}); ${nRounds} rounds`,
  );
  // warm-up (not counted): the page cache of both files and of node's own code
  await pull('atol', g, 0, { ...o, profile: false });
  await pull('csv', g, 0, { ...o, profile: false });
  await pull('csv4', g, 0, { ...o, profile: false });
  const rounds: PriceImport1cResult['rounds'] = [];
  for (let i = 1; i <= nRounds; i++) {
    const sides: Side[] = ['atol', 'csv', 'csv4'];
    const order = sides.map((_, k) => sides[(k + i - 1) % sides.length]!);
    const res: Partial<Record<Side, { run: Pull1c; samples: Record<string, Product | null> }>> = {};
    for (const side of order) res[side] = await pull(side, g, i, o);
    const atol = res.atol!, csv = res.csv!, csv4 = res.csv4!;
    // both files carry the same values: the store must hold the same product for each
    for (const it of g.samples) {
      const a = JSON.stringify(atol.samples[it.code]), c = JSON.stringify(csv.samples[it.code]);
      if (a !== c) throw new Error(`item ${it.code}: from the goods file ${a}, from the CSV ${c}`);
    }
    const ratio = atol.run.rowsPerSec / csv.run.rowsPerSec;
    const ratio4 = atol.run.rowsPerSec / csv4.run.rowsPerSec;
    rounds.push({ round: i, order: order.join(','), atol: atol.run, csv: csv.run, csv4: csv4.run, ratio, ratio4 });
    const show = (p: Pull1c) => `${fmtInt(p.rowsPerSec)} rows/s (${fmt(p.wallMs / 1000)} s: download ${fmt(p.downloadMs / 1000)} + apply ${fmt(p.applyMs / 1000)}; CPU ${fmt(p.cpuMs / 1000)} s, RSS ${fmt(p.peakRssMb, 0)} MB)`;
    log(`  round ${i} (${order.join(',')}): atol ${show(atol.run)} | csv ${show(csv.run)} | csv 4 columns ${show(csv4.run)} | ratio ${fmt(ratio)} (to 4 columns ${fmt(ratio4)})`);
  }
  const med = {
    atolRowsPerSec: median(rounds.map((r) => r.atol.rowsPerSec)),
    csvRowsPerSec: median(rounds.map((r) => r.csv.rowsPerSec)),
    csv4RowsPerSec: median(rounds.map((r) => r.csv4.rowsPerSec)),
    ratio: NaN,
    ratio4: NaN,
    atolWallMs: median(rounds.map((r) => r.atol.wallMs)),
    csvWallMs: median(rounds.map((r) => r.csv.wallMs)),
    csv4WallMs: median(rounds.map((r) => r.csv4.wallMs)),
  };
  med.ratio = med.atolRowsPerSec / med.csvRowsPerSec;
  med.ratio4 = med.atolRowsPerSec / med.csv4RowsPerSec;
  return {
    bench: 'price-import-1c',
    rows,
    files: { atol: { bytes: g.atol.bytes }, csv: { bytes: g.csv.bytes }, csv4: { bytes: g.csv4.bytes } },
    stores: { ftpRootFs: fsType(s.ftpRoot), dataDirFs: fsType(root) },
    rounds,
    median: med,
    target: { ratio: TARGET_ATOL_RATIO, pass: med.ratio >= TARGET_ATOL_RATIO },
  };
}

export function renderPriceImport1c(r: PriceImport1cResult): string {
  const m = r.median;
  return [
    `1C price import, ${fmtInt(r.rows)} items over FTP (root on ${r.stores.ftpRootFs}, dataDir on ${r.stores.dataDirFs}), catalog count and sampled items checked, medians of ${r.rounds.length} interleaved rounds:`,
    `  atol (1C goods file, ${fmt(r.files.atol.bytes / 1e6, 1)} MB cp1251)  ${fmtInt(m.atolRowsPerSec)} rows/s  (${fmt(m.atolWallMs / 1000)} s end to end)`,
    `  csv  (same items, ${fmt(r.files.csv.bytes / 1e6, 1)} MB UTF-8)       ${fmtInt(m.csvRowsPerSec)} rows/s  (${fmt(m.csvWallMs / 1000)} s end to end)`,
    `  csv  (4 columns, ${fmt(r.files.csv4.bytes / 1e6, 1)} MB, price-import layout) ${fmtInt(m.csv4RowsPerSec)} rows/s  (${fmt(m.csv4WallMs / 1000)} s; fewer values stored: reference only)`,
    `  ratio atol/csv  ${fmt(m.ratio, 3)}   target >= ${fmt(r.target.ratio, 1)}   ${verdict(r.target.pass)}   (atol/csv 4 columns ${fmt(m.ratio4, 3)})`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const json = args.has('json');
  priceImport1cBench({ rows: intArg(args, 'rows', 100_000), rounds: intArg(args, 'rounds', 5), profile: args.has('profile'), keep: args.has('keep'), ...(json ? { log: (l: string) => process.stderr.write(l + '\n') } : {}) }).then(
    (r) => process.stdout.write((json ? JSON.stringify(r, null, 2) : renderPriceImport1c(r)) + '\n'),
    (e) => {
      process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
