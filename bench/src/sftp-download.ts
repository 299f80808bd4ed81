// SFTP download bench (issue #6): one big file (100 MiB of random bytes) downloaded from the real
// sshd by cfx's transport-sftp in a child process (sftp-download-child.ts: App.open on a cfx.yaml
// with `server: sftp://…` and the host key pinned, then the transport's streaming read() with sha256
// and fsync, as the price pull stages a file), interleaved round by round with `curl sftp://…`
// (libssh2, host key pinned with --hostpubsha256). Both write into the same local dir.
//
// cfx runs two ways each round: `running` — one child kept for the whole bench, as `cfx run` keeps
// its process and connection (the target compares this one); `fresh` — a new child per download, as
// a one-shot `cfx pull` (its code is not yet compiled by V8: it costs about twice the CPU per byte).
// The timed part is the transfer on an open connection on every side: cfx from read() to fsync done
// (login before the clock); curl's time_total − time_pretransfer (TCP, SSH handshake and login
// excluded). Every downloaded copy is hashed afterwards and compared with the source: a fast but
// wrong download fails the bench.
//
//   node bench/dist/sftp-download.js [--mib 100] [--rounds 5] [--profile] [--json]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { BENCH_DIST, OUT_DIR, fmt, fsType, intArg, median, parseArgs, verdict } from './common.js';
import { cacheDir } from './gen-prices.js';
import { chownSftp, curlHostPin, runCmd, sftpDeploymentYaml, sftpFreshDir, sftpServer, sha256File, type SftpServer } from './sftp-common.js';

export const TARGET_SFTP_DOWNLOAD_RATIO = 0.9;

export interface SftpDownloadOptions {
  /** size of the file in MiB (default 100) */
  mib?: number;
  /** interleaved rounds (default 5) */
  rounds?: number;
  /** where every side writes its copy (default /dev/shm/cfx-bench-work: the transfer is measured, not a disk) */
  destDir?: string;
  /** V8 CPU profile of the cfx children into .bench-out/prof/ */
  profile?: boolean;
  log?: (line: string) => void;
}

export interface CfxDownload {
  transferMs: number;
  mibPerSec: number;
  /** CPU of the cfx process during the transfer (user + system, all threads) */
  cpuMs: number;
}

export interface SftpDownloadRound {
  round: number;
  /** who ran in which order */
  order: string;
  /** the running terminal's child (warm process, open connection) */
  running: CfxDownload;
  /** a new child for this download (login untimed) */
  fresh: CfxDownload & { loginMs: number };
  curl: { transferMs: number; mibPerSec: number; coldMs: number };
  ratio: number;
  freshRatio: number;
}

export interface SftpDownloadResult {
  bench: 'sftp-download';
  file: { bytes: number; sha256: string };
  server: { url: string; hostKey: string; rootFs: string };
  dest: { dir: string; fs: string };
  peer: { command: string; version: string };
  rounds: SftpDownloadRound[];
  median: { cfxMibPerSec: number; freshMibPerSec: number; curlMibPerSec: number; ratio: number; freshRatio: number; cfxCpuMs: number; freshCpuMs: number };
  target: { ratio: number; pass: boolean };
}

const MiB = 2 ** 20;

/** the source file: random bytes, generated once per size and cached (RAM) */
function sourceFile(mib: number): { path: string; bytes: number; sha256: string } {
  const path = join(cacheDir(), `sftp-download-${mib}MiB.bin`);
  const shaFile = `${path}.sha256`;
  if (existsSync(path) && existsSync(shaFile) && statSync(path).size === mib * MiB) return { path, bytes: mib * MiB, sha256: readFileSync(shaFile, 'utf8').trim() };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) {
    const b = randomBytes(MiB);
    hash.update(b);
    writeSync(fd, b);
  }
  closeSync(fd);
  renameSync(tmp, path);
  const sha256 = hash.digest('hex');
  writeFileSync(shaFile, sha256 + '\n');
  return { path, bytes: mib * MiB, sha256 };
}

type Src = { bytes: number; sha256: string };

function deploymentDir(s: SftpServer, dest: string, label: string): string {
  const dir = mkdtempSync(join(dest, `cfx-${label}-`));
  writeFileSync(join(dir, 'cfx.yaml'), sftpDeploymentYaml(s, { pricesDir: join(s.root, 'cfx-bench', 'unused-inbox'), salesDir: join(s.root, 'cfx-bench', 'unused-sales') }));
  return dir;
}

function profArgs(o: SftpDownloadOptions, name: string): string[] {
  if (!o.profile) return [];
  const profDir = join(OUT_DIR, 'prof');
  mkdirSync(profDir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}-${process.pid}.cpuprofile`];
}

/** what the child says, checked: the streamed hash, and the bytes that reached the disk */
async function checked(line: string, local: string, src: Src, what: string): Promise<{ ms: number; cpuMs: number; connectMs: number }> {
  const j = JSON.parse(line) as { bytes: number; sha256: string; ms: number; connectMs: number; cpuUserMs: number; cpuSystemMs: number };
  if (j.bytes !== src.bytes || j.sha256 !== src.sha256) throw new Error(`${what} streamed ${j.bytes} bytes with sha256 ${j.sha256}; the file has ${src.bytes}, ${src.sha256}`);
  const size = statSync(local).size;
  const onDisk = await sha256File(local);
  if (size !== src.bytes || onDisk !== src.sha256) throw new Error(`${what} wrote ${size} bytes with sha256 ${onDisk}; expected ${src.bytes}, ${src.sha256}`);
  return { ms: j.ms, cpuMs: j.cpuUserMs + j.cpuSystemMs, connectMs: j.connectMs };
}

/** the running terminal: one child for the whole bench, a download per request */
class RunningCfx {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private err = '';
  readonly dir: string;

  constructor(s: SftpServer, dest: string, o: SftpDownloadOptions) {
    this.dir = deploymentDir(s, dest, 'running');
    this.child = spawn(process.execPath, [...profArgs(o, 'sftp-download-running'), join(BENCH_DIST, 'sftp-download-child.js'), join(this.dir, 'cfx.yaml')], { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (c) => (this.err += c));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async download(remote: string, src: Src): Promise<CfxDownload> {
    const local = join(this.dir, 'download.bin');
    this.child.stdin.write(`${remote}\t${local}\n`);
    const r = await this.lines.next();
    if (r.done || !r.value.startsWith('{')) throw new Error(`the running cfx child failed: ${this.err.slice(-2000)}${r.value ?? ''}`);
    try {
      const c = await checked(r.value, local, src, 'cfx (running)');
      return { transferMs: c.ms, mibPerSec: src.bytes / MiB / (c.ms / 1000), cpuMs: c.cpuMs };
    } finally {
      rmSync(local, { force: true });
    }
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await new Promise((r) => (this.child.exitCode !== null ? r(undefined) : this.child.once('close', r)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freshRound(s: SftpServer, remote: string, src: Src, dest: string, round: number, o: SftpDownloadOptions): Promise<SftpDownloadRound['fresh']> {
  const dir = deploymentDir(s, dest, 'fresh');
  try {
    const local = join(dir, 'download.bin');
    const r = await runCmd(process.execPath, [...profArgs(o, `sftp-download-fresh-round${round}`), join(BENCH_DIST, 'sftp-download-child.js'), join(dir, 'cfx.yaml'), remote, local], { cwd: dir });
    const line = r.out.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) {
      const log = existsSync(join(dir, 'cfx.log')) ? readFileSync(join(dir, 'cfx.log'), 'utf8').slice(-2000) : '';
      throw new Error(`cfx child failed (exit ${r.code}): ${r.err.slice(-2000)}${r.out.slice(-500)}\n${log}`);
    }
    const c = await checked(line, local, src, 'cfx (fresh)');
    return { transferMs: c.ms, mibPerSec: src.bytes / MiB / (c.ms / 1000), cpuMs: c.cpuMs, loginMs: c.connectMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function curlRound(s: SftpServer, remote: string, src: Src, dest: string): Promise<SftpDownloadRound['curl']> {
  const dir = mkdtempSync(join(dest, 'curl-dl-'));
  try {
    const local = join(dir, 'download.bin');
    const r = await runCmd('curl', [
      '-sS', '--fail',
      '-u', `${s.user}:`,
      '--key', s.key,
      '--pubkey', `${s.key}.pub`,
      '--hostpubsha256', curlHostPin(s),
      '-o', local,
      '-w', '%{time_pretransfer} %{time_total} %{size_download}',
      `sftp://${s.host}:${s.port}${remote}`,
    ]);
    if (r.code !== 0) throw new Error(`curl exited ${r.code}: ${r.err.slice(-1000)}`);
    const [pre, total, size] = r.out.trim().split(' ').map(Number);
    const sha = await sha256File(local);
    if (size !== src.bytes || statSync(local).size !== src.bytes || sha !== src.sha256) throw new Error(`curl wrote ${statSync(local).size} bytes with sha256 ${sha}; expected ${src.bytes}, ${src.sha256}`);
    const transferMs = (total! - pre!) * 1000;
    return { transferMs, mibPerSec: src.bytes / MiB / (transferMs / 1000), coldMs: total! * 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function sftpDownloadBench(o: SftpDownloadOptions = {}): Promise<SftpDownloadResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const mib = o.mib ?? 100;
  const nRounds = o.rounds ?? 5;
  const s = sftpServer();
  const dest = o.destDir ?? (existsSync('/dev/shm') ? '/dev/shm/cfx-bench-work' : join(OUT_DIR, 'work'));
  mkdirSync(dest, { recursive: true });
  const src = sourceFile(mib);
  const remoteDir = sftpFreshDir(s, 'download');
  const remote = join(remoteDir, 'big.bin');
  copyFileSync(src.path, remote);
  chownSftp(s, remote);
  const version = (await runCmd('curl', ['-V'])).out.split('\n')[0] ?? 'curl';
  log(`sftp-download: ${mib} MiB (sha256 ${src.sha256.slice(0, 12)}…) from ${s.url} (root on ${fsType(s.root)}), into ${dest} (${fsType(dest)}); ${nRounds} rounds, cfx in child processes vs ${version.split(' ').slice(0, 2).join(' ')}`);
  const rounds: SftpDownloadRound[] = [];
  const running = new RunningCfx(s, dest, o);
  try {
    // warm-up (not counted): the server's page cache, and the running child's login and first transfer
    await curlRound(s, remote, src, dest);
    await running.download(remote, src);
    for (let i = 1; i <= nRounds; i++) {
      // rotate the order, so no side always runs first or right after another
      const sides = ['running', 'curl', 'fresh'] as const;
      const order = sides.map((_, k) => sides[(k + i - 1) % sides.length]!);
      let run!: CfxDownload, fresh!: SftpDownloadRound['fresh'], curl!: SftpDownloadRound['curl'];
      for (const side of order) {
        if (side === 'running') run = await running.download(remote, src);
        else if (side === 'curl') curl = await curlRound(s, remote, src, dest);
        else fresh = await freshRound(s, remote, src, dest, i, o);
      }
      const r: SftpDownloadRound = { round: i, order: order.join(','), running: run, fresh, curl, ratio: run.mibPerSec / curl.mibPerSec, freshRatio: fresh.mibPerSec / curl.mibPerSec };
      rounds.push(r);
      log(
        `  round ${i} (${r.order}): cfx running ${fmt(run.mibPerSec, 0)} MiB/s (${fmt(run.transferMs, 0)} ms, CPU ${fmt(run.cpuMs, 0)} ms)` +
          ` | cfx fresh ${fmt(fresh.mibPerSec, 0)} MiB/s (${fmt(fresh.transferMs, 0)} ms, CPU ${fmt(fresh.cpuMs, 0)} ms)` +
          ` | curl ${fmt(curl.mibPerSec, 0)} MiB/s (${fmt(curl.transferMs, 0)} ms) | ratio ${fmt(r.ratio)} (fresh ${fmt(r.freshRatio)})`,
      );
    }
  } finally {
    await running.close();
    rmSync(remoteDir, { recursive: true, force: true });
  }
  const med = {
    cfxMibPerSec: median(rounds.map((r) => r.running.mibPerSec)),
    freshMibPerSec: median(rounds.map((r) => r.fresh.mibPerSec)),
    curlMibPerSec: median(rounds.map((r) => r.curl.mibPerSec)),
    ratio: NaN,
    freshRatio: NaN,
    cfxCpuMs: median(rounds.map((r) => r.running.cpuMs)),
    freshCpuMs: median(rounds.map((r) => r.fresh.cpuMs)),
  };
  med.ratio = med.cfxMibPerSec / med.curlMibPerSec;
  med.freshRatio = med.freshMibPerSec / med.curlMibPerSec;
  return {
    bench: 'sftp-download',
    file: { bytes: src.bytes, sha256: src.sha256 },
    server: { url: s.url, hostKey: s.hostKeySha256, rootFs: fsType(s.root) },
    dest: { dir: dest, fs: fsType(dest) },
    peer: { command: `curl --hostpubsha256 <pin> --key <key> -o <file> sftp://…`, version },
    rounds,
    median: med,
    target: { ratio: TARGET_SFTP_DOWNLOAD_RATIO, pass: med.ratio >= TARGET_SFTP_DOWNLOAD_RATIO },
  };
}

export function renderSftpDownload(r: SftpDownloadResult): string {
  const m = r.median;
  return [
    `SFTP download, ${fmt(r.file.bytes / MiB, 0)} MiB (server root on ${r.server.rootFs}, written to ${r.dest.fs}, sha256 verified; transfer on an open connection), medians of ${r.rounds.length} interleaved rounds:`,
    `  cfx running  ${fmt(m.cfxMibPerSec, 0)} MiB/s  (transport-sftp read() + sha256 + fsync in a running terminal's process; CPU ${fmt(m.cfxCpuMs, 0)} ms)`,
    `  cfx fresh    ${fmt(m.freshMibPerSec, 0)} MiB/s  (the same in a new process, as a one-shot \`cfx pull\`; CPU ${fmt(m.freshCpuMs, 0)} ms)`,
    `  curl         ${fmt(m.curlMibPerSec, 0)} MiB/s  (time_total − time_pretransfer)`,
    `  ratio cfx running/curl  ${fmt(m.ratio, 3)}   target >= ${fmt(r.target.ratio, 1)}   ${verdict(r.target.pass)}   (fresh/curl ${fmt(m.freshRatio, 3)}, no target)`,
    `  per round (running/curl): ${r.rounds.map((x) => fmt(x.ratio)).join(' ')}`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const json = args.has('json');
  sftpDownloadBench({ mib: intArg(args, 'mib', 100), rounds: intArg(args, 'rounds', 5), profile: args.has('profile'), ...(json ? { log: (l: string) => process.stderr.write(l + '\n') } : {}) }).then(
    (r) => process.stdout.write((json ? JSON.stringify(r, null, 2) : renderSftpDownload(r)) + '\n'),
    (e) => {
      process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
