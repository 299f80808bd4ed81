// Sale backlog flush over SFTP (issue #6): N journaled sales (~2 KiB each as format-csv) pushed by
// SalesPush.flush() to a fresh remote dir on the real sshd (host key pinned by its SHA256 in
// cfx.yaml), beside OpenSSH `sftp -b` sending the same files the way cfx does (`put` to a temp name,
// then `rename` to the final one, per file), interleaved in the same run; the server root is /dev/shm.
//
// cfx runs in this process, as sales-flush.ts does for FTP. Every run is cold (SSH handshake and
// login inside the clock, as `cfx push` or the sftp process does); the journal is written before the
// clock starts; the flush (encode, local copy, upload, rename, mark sent) is timed. After every run
// the remote dir must hold exactly the N expected names and nothing else.
//
//   node bench/dist/sftp-flush.js [--rounds 5] [--sales 1000] [--json]
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { App, Service, silentLogger } from '@cfx/core';
import { fmt, intArg, median, parseArgs } from './common.js';
import { bigSale } from './sales-common.js';
import { opensshArgs, peerKnownHosts, runCmd, sftpBenchParent, sftpDeploymentYaml, sftpServer, type SftpServer } from './sftp-common.js';

const SHM_WORK = '/dev/shm/cfx-bench-work';

export interface SftpFlushOptions {
  /** interleaved rounds (default 5) */
  rounds?: number;
  /** sales in the backlog (default 1000) */
  sales?: number;
  /** cfx connection counts to run (default [1, 4]) */
  connections?: number[];
  log?: (line: string) => void;
}

export interface SftpFlushResult {
  bench: 'sftp-flush';
  sales: number;
  bytesPerFile: number;
  rounds: number;
  /** variant id → what it is */
  labels: Record<string, string>;
  /** files/s per variant, one per round */
  rates: Record<string, number[]>;
  medians: Record<string, number>;
  /** median of the variant / median of `sftp -b` */
  ratios: Record<string, number>;
  peer: { command: string; version: string };
}

/** the remote dir holds exactly the expected names (no temp file, nothing else), then it goes */
function verifyAndDrop(dir: string, expected: Set<string>, what: string): void {
  const names = readdirSync(dir);
  const missing = [...expected].filter((n) => !names.includes(n));
  if (names.length !== expected.size || missing.length) {
    throw new Error(`${what}: ${names.length} files in ${dir} (${names.filter((n) => !expected.has(n)).slice(0, 3).join(', ')}…), expected exactly ${expected.size}; ${missing.length} missing`);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** a fresh terminal (dataDir on /dev/shm) with `sales` journaled, pointed at a sales dir that does not exist yet */
function prepareCfx(s: SftpServer, connections: number, sales: Record<string, unknown>[]) {
  mkdirSync(SHM_WORK, { recursive: true });
  const dir = mkdtempSync(join(SHM_WORK, 'cfx-sftp-flush-'));
  const salesDir = join(s.root, 'cfx-bench', `flush-cfx-${process.pid}-${randomBytes(4).toString('hex')}`);
  const config = join(dir, 'cfx.yaml');
  writeFileSync(config, sftpDeploymentYaml(s, { pricesDir: join(s.root, 'cfx-bench', 'unused-inbox'), salesDir, connections }));
  const app = App.open({ configFile: config, env: {}, store: 'rw', logger: silentLogger() });
  const svc = new Service(app);
  const out = svc.recordSale(sales);
  if (out.length !== sales.length || out.some((o) => o.status !== 'recorded')) throw new Error('journaling the sales failed');
  return { app, svc, salesDir, dir };
}

async function cfxRun(s: SftpServer, connections: number, sales: Record<string, unknown>[], expected: Set<string>): Promise<number> {
  const { app, svc, salesDir, dir } = prepareCfx(s, connections, sales);
  try {
    const push = await svc.salesPush();
    const t0 = process.hrtime.bigint();
    const r = await push.flush();
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.sent !== sales.length || r.failed) throw new Error(`cfx flush sent ${r.sent} of ${sales.length} (${r.failed} failed): ${r.errors[0]?.message ?? ''}`);
    verifyAndDrop(salesDir, expected, `cfx (${connections} conn)`);
    return sec;
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `sftp -b`: mkdir, then per file put to `.name.part` and rename to `name`; -b stops at the first failure */
async function sftpRun(s: SftpServer, knownHosts: string, src: string, names: string[], expected: Set<string>): Promise<number> {
  const dir = join(s.root, 'cfx-bench', `flush-sftp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const lines = [`mkdir ${dir}`];
  for (const n of names) lines.push(`put ${join(src, n)} ${dir}/.${n}.part`, `rename ${dir}/.${n}.part ${dir}/${n}`);
  const batch = join(src, '..', `batch-${process.pid}.txt`);
  writeFileSync(batch, lines.join('\n') + '\n');
  const t0 = process.hrtime.bigint();
  const r = await runCmd('sftp', ['-q', '-b', batch, ...opensshArgs(s, knownHosts), `${s.user}@${s.host}`]);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(batch, { force: true });
  if (r.code !== 0) throw new Error(`sftp -b exited ${r.code}: ${r.err.slice(-1500)}`);
  verifyAndDrop(dir, expected, 'sftp -b');
  return sec;
}

export async function sftpFlushBench(o: SftpFlushOptions = {}): Promise<SftpFlushResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const rounds = o.rounds ?? 5;
  const n = o.sales ?? 1000;
  const conns = o.connections ?? [1, 4];
  const s = sftpServer();
  sftpBenchParent(s);
  const sales = Array.from({ length: n }, (_, i) => bigSale(i + 1, { day: `2025-03-${String(1 + (i % 28)).padStart(2, '0')}` }));
  mkdirSync(SHM_WORK, { recursive: true });
  const work = mkdtempSync(join(SHM_WORK, 'sftp-flush-peer-'));
  const src = join(work, 'src');
  const knownHosts = peerKnownHosts(s, work);

  // warm-up (not counted): one cfx flush; its files on the server become the peer's source, so
  // both sides send exactly the same bytes under the same names
  let expected: Set<string>;
  {
    const { app, svc, salesDir, dir } = prepareCfx(s, 1, sales);
    try {
      const r = await (await svc.salesPush()).flush();
      if (r.sent !== n) throw new Error(`warm-up sent ${r.sent} of ${n}: ${r.errors[0]?.message ?? ''}`);
      expected = new Set(r.names);
      if (expected.size !== n) throw new Error(`warm-up: ${expected.size} distinct names for ${n} sales`);
      cpSync(salesDir, src, { recursive: true });
      verifyAndDrop(salesDir, expected, 'cfx warm-up');
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const names = [...expected].sort();
  const bytesPerFile = names.reduce((a, f) => a + statSync(join(src, f)).size, 0) / n;
  const version = (await runCmd('ssh', ['-V'])).err.trim();
  log(`sftp-flush: ${n} files of ${fmt(bytesPerFile, 0)} B avg to ${s.url} (root ${s.root}), ${rounds} rounds, cfx in this process vs sftp -b (${version})`);

  const variants: { id: string; label: string; run: () => Promise<number> }[] = [
    { id: 'sftp', label: 'sftp -b, put .part + rename (1 conn)', run: () => sftpRun(s, knownHosts, src, names, expected) },
    ...conns.map((c) => ({ id: `cfx-${c}`, label: `cfx flush, dataDir shm, ${c} conn${c > 1 ? 's' : ''}`, run: () => cfxRun(s, c, sales, expected) })),
  ];
  const rates: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.id, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
      const line: string[] = [];
      for (const v of order) {
        const sec = await v.run();
        rates[v.id]!.push(n / sec);
        line.push(`${v.id} ${fmt(n / sec, 0)}`);
      }
      log(`  round ${r + 1}: ${line.join(', ')} files/s`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const medians = Object.fromEntries(variants.map((v) => [v.id, median(rates[v.id]!)]));
  const ratios = Object.fromEntries(variants.map((v) => [v.id, medians[v.id]! / medians.sftp!]));
  return {
    bench: 'sftp-flush',
    sales: n,
    bytesPerFile,
    rounds,
    labels: Object.fromEntries(variants.map((v) => [v.id, v.label])),
    rates,
    medians,
    ratios,
    peer: { command: 'sftp -b <batch: mkdir; put f .f.part; rename .f.part f; …> (key login, StrictHostKeyChecking=yes, pinned known_hosts)', version },
  };
}

export function renderSftpFlush(r: SftpFlushResult): string {
  const out = [
    `sale backlog flush over SFTP: ${r.sales} files × ${fmt(r.bytesPerFile, 0)} B, temp name + rename, cold (login included), server root on /dev/shm; median of ${r.rounds} interleaved rounds`,
    `${'variant'.padEnd(40)} ${'files/s'.padStart(8)} ${'× sftp'.padStart(7)}`,
  ];
  for (const id of Object.keys(r.medians)) out.push(`${r.labels[id]!.padEnd(40)} ${fmt(r.medians[id]!, 0).padStart(8)} ${fmt(r.ratios[id]!, 2).padStart(7)}`);
  return out.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const json = args.has('json');
  sftpFlushBench({ rounds: intArg(args, 'rounds', 5), sales: intArg(args, 'sales', 1000), ...(json ? { log: (l: string) => process.stderr.write(l + '\n') } : {}) }).then(
    (r) => process.stdout.write((json ? JSON.stringify(r, null, 2) : renderSftpFlush(r)) + '\n'),
    (e) => {
      process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
