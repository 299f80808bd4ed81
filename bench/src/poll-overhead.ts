// Poll overhead bench: `cfx run` (a child process, the real daemon) polling an empty inbox every
// 1 s on the real vsftpd, with 1,000 unrelated files on the server. Measures the daemon's CPU
// (% of one core, from /proc) over a window, then how long a new price file takes to be applied.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CFX_BIN,
  OUT_DIR,
  clockTicks,
  chownFtp,
  fmt,
  freshRemoteDir,
  fsType,
  ftpMkdir,
  ftpRootPath,
  median,
  procCpuNs,
  procCpuTicks,
  scratchRoot,
  servers,
  terminalDeployment,
  verdict,
  type Deployment,
  type Servers,
} from './common.js';

export const TARGET_CPU_PCT = 0.5;
export const TARGET_LATENCY_MS = 1100;

/**
 * Where the 1,000 unrelated files are:
 *  - sibling: in another directory of the same FTP account (other terminals' inboxes, the sales
 *    dir); the inbox itself is empty. This is the reading the table's row describes.
 *  - inbox: in the inbox itself, under names the pull must skip (`*.part` uploads in progress), so
 *    every 1 s listing carries 1,000 entries (the "list() 3.6 ms" case).
 */
export type PollScenario = 'sibling' | 'inbox';

export interface PollOptions {
  seconds: number;
  scenarios: PollScenario[];
  /** new-file latency samples per variant (flagged / unflagged) */
  samples: number;
  /** CPU-profile the daemon (inflates its CPU figure: for finding where it goes, not for the numbers) */
  profile?: boolean;
  keep?: boolean;
  /** transport-ftp's `serverOptions.listing` for the daemon (default: the transport's default, auto = STAT on vsftpd) */
  ftpListing?: 'auto' | 'stat' | 'list';
  log?: (line: string) => void;
}

export interface LatencyStats {
  samplesMs: number[];
  p50Ms: number;
  maxMs: number;
}

export interface PollScenarioResult {
  scenario: PollScenario;
  seconds: number;
  cpuPct: number;
  /** the user / kernel split of cpuPct */
  cpuUserPct: number;
  cpuSystemPct: number;
  /** the same from per-thread schedstat (ns resolution), as a cross-check of the tick count */
  cpuPctSchedstat: number;
  /** a bare `node` process with a 1 s timer, measured in the same window (schedstat): the floor of any Node daemon */
  bareNodeCpuPct: number;
  rssMb: number;
  latency: { flagged: LatencyStats; unflagged: LatencyStats };
}

export interface PollResult {
  bench: 'poll-overhead';
  stores: { ftpRoot: string; ftpRootFs: string; dataDirFs: string };
  pollMs: number;
  /** the daemon's serverOptions.listing (undefined: the transport's default) */
  ftpListing?: string;
  scenarios: PollScenarioResult[];
  targets: {
    cpu: { targetPct: number; valuePct: number; pass: boolean };
    latency: { targetMs: number; flaggedMaxMs: number; pass: boolean; unflaggedMaxMs: number; unflaggedPass: boolean };
  };
}

const LAT_CSV = 'code;barcodes;name;price\r\n1;4820000000011;Квиток дорослий;350,00\r\n2;;Кава американо;45,50\r\n';

function putFile(s: Servers, localDir: string, name: string, data: string): void {
  const part = join(localDir, `.${name}.part`);
  writeFileSync(part, data);
  chownFtp(s, part);
  renameSync(part, join(localDir, name));
}

function archived(d: Deployment, name: string): boolean {
  const root = join(d.dataDir, 'archive', 'prices');
  if (!existsSync(root)) return false;
  for (const day of readdirSync(root)) if (existsSync(join(root, day, name))) return true;
  return false;
}

async function waitFor(cond: () => boolean, timeoutMs: number, everyMs = 2): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

function stats(xs: number[]): LatencyStats {
  return { samplesMs: xs, p50Ms: median(xs), maxMs: xs.length ? Math.max(...xs) : NaN };
}

function stopChild(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

async function scenario(kind: PollScenario, o: PollOptions): Promise<PollScenarioResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const s = servers();
  const remoteBase = freshRemoteDir(`poll-${kind}`);
  const d = terminalDeployment({ server: s.ftpUrl, remoteBase, poll: '1s', ...(o.ftpListing ? { extra: `serverOptions: { listing: ${o.ftpListing} }\n` } : {}) });
  const inbox = ftpMkdir(s, d.inbox);
  const unrelated = kind === 'sibling' ? ftpMkdir(s, `${remoteBase}/other-terminal`) : inbox;
  const body = 'code;barcodes;name;price\r\n' + '1;;Товар;1,00\r\n'.repeat(40);
  for (let i = 0; i < 1000; i++) {
    const name = kind === 'sibling' ? `prices-${String(i).padStart(4, '0')}.csv` : `upload-${String(i).padStart(4, '0')}.csv.part`;
    writeFileSync(join(unrelated, name), body);
    chownFtp(s, join(unrelated, name));
  }

  let child: ChildProcess | undefined, bare: ChildProcess | undefined;
  let err = '';
  try {
    const prof = o.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(OUT_DIR, 'prof')}`, `--cpu-prof-name=poll-${kind}-${process.pid}.cpuprofile`] : [];
    child = spawn(process.execPath, [...prof, CFX_BIN, 'run', '-c', d.config], { cwd: d.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c) => (err += c));
    // the floor: an idle Node process waking once a second
    bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid!;
    // start-up (module loading, schema compile, login, first listings) is not the steady state
    await sleep(4000);
    if (child.exitCode !== null) throw new Error(`cfx run exited early (${child.exitCode}): ${err}`);

    const t0 = performance.now();
    const ticks0 = procCpuTicks(pid), ns0 = procCpuNs(pid), bare0 = procCpuNs(bare.pid!);
    await sleep(o.seconds * 1000);
    const ticks1 = procCpuTicks(pid), ns1 = procCpuNs(pid), bare1 = procCpuNs(bare.pid!);
    const wallS = (performance.now() - t0) / 1000;
    const pctOf = (ticks: number) => (ticks / clockTicks() / wallS) * 100;
    const cpuPct = pctOf(ticks1.total - ticks0.total);
    const cpuUserPct = pctOf(ticks1.user - ticks0.user), cpuSystemPct = pctOf(ticks1.system - ticks0.system);
    const cpuPctSchedstat = ((ns1 - ns0) / 1e9 / wallS) * 100;
    const bareNodeCpuPct = ((bare1 - bare0) / 1e9 / wallS) * 100;
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    log(`  ${kind}: cfx run CPU ${fmt(cpuPct, 3)} % of one core over ${fmt(wallS, 1)} s (user ${fmt(cpuUserPct, 3)} + system ${fmt(cpuSystemPct, 3)}; schedstat ${fmt(cpuPctSchedstat, 3)} %; bare node ${fmt(bareNodeCpuPct, 3)} %), RSS ${fmt(rssMb, 0)} MB`);

    // new-file latency: a file appears at a random moment relative to the poll phase
    const lat = { flagged: [] as number[], unflagged: [] as number[] };
    for (const variant of ['flagged', 'unflagged'] as const) {
      for (let k = 0; k < o.samples; k++) {
        await sleep(200 + Math.random() * 1000);
        const name = `new-${variant}-${k}.csv`;
        putFile(s, inbox, name, LAT_CSV);
        if (variant === 'flagged') {
          writeFileSync(join(inbox, `${name}.done`), '');
          chownFtp(s, join(inbox, `${name}.done`));
        }
        const t = performance.now();
        if (!(await waitFor(() => archived(d, name), 10_000))) throw new Error(`${name} was not applied within 10 s: ${err}`);
        lat[variant].push(performance.now() - t);
      }
    }
    log(`  ${kind}: new file applied after p50 ${fmt(median(lat.flagged), 0)} / max ${fmt(Math.max(...lat.flagged), 0)} ms with a .done flag; p50 ${fmt(median(lat.unflagged), 0)} / max ${fmt(Math.max(...lat.unflagged), 0)} ms without (size-stable rule)`);
    const code = await stopChild(child);
    if (code !== 0) throw new Error(`cfx run exited ${code} on SIGTERM: ${err}`);
    return { scenario: kind, seconds: wallS, cpuPct, cpuUserPct, cpuSystemPct, cpuPctSchedstat, bareNodeCpuPct, rssMb, latency: { flagged: stats(lat.flagged), unflagged: stats(lat.unflagged) } };
  } finally {
    if (child && child.exitCode === null) await stopChild(child);
    bare?.kill('SIGKILL');
    if (!o.keep) {
      rmSync(d.dir, { recursive: true, force: true });
      rmSync(ftpRootPath(s, remoteBase), { recursive: true, force: true });
    }
  }
}

export async function pollBench(o: PollOptions): Promise<PollResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const s = servers();
  const out: PollScenarioResult[] = [];
  log(`poll: cfx run, prices.poll 1s, ${o.seconds} s CPU window per scenario, ${o.samples} latency samples per variant, FTP listing: ${o.ftpListing ?? 'default (auto)'}`);
  for (const k of o.scenarios) out.push(await scenario(k, o));
  const primary = out[0]!;
  const allFlagged = out.flatMap((r) => r.latency.flagged.samplesMs);
  const allUnflagged = out.flatMap((r) => r.latency.unflagged.samplesMs);
  const cpuMax = Math.max(...out.map((r) => r.cpuPct));
  return {
    bench: 'poll-overhead',
    stores: { ftpRoot: s.ftpRoot, ftpRootFs: fsType(s.ftpRoot), dataDirFs: fsType(scratchRoot()) },
    pollMs: 1000,
    ...(o.ftpListing ? { ftpListing: o.ftpListing } : {}),
    scenarios: out,
    targets: {
      cpu: { targetPct: TARGET_CPU_PCT, valuePct: primary.cpuPct, pass: cpuMax <= TARGET_CPU_PCT },
      latency: {
        targetMs: TARGET_LATENCY_MS,
        flaggedMaxMs: Math.max(...allFlagged),
        pass: Math.max(...allFlagged) <= TARGET_LATENCY_MS,
        unflaggedMaxMs: Math.max(...allUnflagged),
        unflaggedPass: Math.max(...allUnflagged) <= TARGET_LATENCY_MS,
      },
    },
  };
}

export function renderPoll(r: PollResult): string {
  const lines = [`Poll overhead (cfx run, poll 1 s; FTP root on ${r.stores.ftpRootFs}, dataDir on ${r.stores.dataDirFs}):`];
  for (const s of r.scenarios) {
    const where = s.scenario === 'sibling' ? 'empty inbox, 1,000 files in a sibling dir' : 'inbox holding 1,000 *.part files the pull skips';
    lines.push(`  ${where}:`);
    lines.push(`    CPU ${fmt(s.cpuPct, 3)} % of one core over ${fmt(s.seconds, 0)} s (user ${fmt(s.cpuUserPct, 3)} + system ${fmt(s.cpuSystemPct, 3)}; schedstat ${fmt(s.cpuPctSchedstat, 3)} %; a bare idle node: ${fmt(s.bareNodeCpuPct, 3)} %)   target <= ${TARGET_CPU_PCT} %   ${verdict(s.cpuPct <= TARGET_CPU_PCT)}`);
    const f = s.latency.flagged, u = s.latency.unflagged;
    lines.push(`    new file with a .done flag applied after p50 ${fmt(f.p50Ms, 0)} ms, max ${fmt(f.maxMs, 0)} ms (n=${f.samplesMs.length})   target <= ${TARGET_LATENCY_MS} ms   ${verdict(f.maxMs <= TARGET_LATENCY_MS)}`);
    lines.push(`    new file without a flag (complete after two equal listings) p50 ${fmt(u.p50Ms, 0)} ms, max ${fmt(u.maxMs, 0)} ms (n=${u.samplesMs.length})   ${verdict(u.maxMs <= TARGET_LATENCY_MS)}`);
  }
  return lines.join('\n');
}
