// SFTP download bench (issue #6): one big file (100 MiB of random bytes) downloaded from the real
// sshd by cfx's transport-sftp in a child process (sftp-download-child.ts: App.open on a cfx.yaml
// with `server: sftp://…` and the host key pinned, then the transport's streaming read() with sha256
// and fsync, as the price pull stages a file), interleaved round by round with `curl sftp://…`
// (libssh2, host key pinned with --hostpubsha256). Both write into the same local dir.
//
// The timed part is the transfer on an open connection on both sides: cfx from read() to fsync done
// (its login is done before the clock starts, as a running terminal has it open); curl's
// time_total − time_pretransfer (TCP, SSH handshake and login excluded). Cold figures (login
// included) are reported beside. Every downloaded copy is hashed afterwards and compared with the
// source: a fast but wrong download fails the bench.
//
//   node bench/dist/sftp-download.js [--mib 100] [--rounds 5] [--profile] [--json]
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
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
  /** where both sides write the downloaded copy (default /dev/shm/cfx-bench-work: the transfer, not a disk, is measured) */
  destDir?: string;
  /** V8 CPU profile of every cfx child into .bench-out/prof/ */
  profile?: boolean;
  log?: (line: string) => void;
}

export interface SftpDownloadRound {
  round: number;
  /** who ran first */
  order: string;
  cfx: { transferMs: number; mibPerSec: number; connectMs: number; coldMs: number; cpuMs: number; profile?: string };
  curl: { transferMs: number; mibPerSec: number; coldMs: number; wallMs: number };
  ratio: number;
}

export interface SftpDownloadResult {
  bench: 'sftp-download';
  file: { bytes: number; sha256: string };
  server: { url: string; hostKey: string; rootFs: string };
  dest: { dir: string; fs: string };
  peer: { command: string; version: string };
  rounds: SftpDownloadRound[];
  median: { cfxMibPerSec: number; curlMibPerSec: number; ratio: number; cfxColdMs: number; curlColdMs: number };
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

async function cfxRound(s: SftpServer, remote: string, src: { bytes: number; sha256: string }, dest: string, round: number, o: SftpDownloadOptions): Promise<SftpDownloadRound['cfx']> {
  const dir = mkdtempSync(join(dest, 'cfx-dl-'));
  try {
    const config = join(dir, 'cfx.yaml');
    writeFileSync(config, sftpDeploymentYaml(s, { pricesDir: join(s.root, 'cfx-bench', 'unused-inbox'), salesDir: join(s.root, 'cfx-bench', 'unused-sales') }));
    const local = join(dir, 'download.bin');
    const nodeArgs: string[] = [];
    let profile: string | undefined;
    if (o.profile) {
      const profDir = join(OUT_DIR, 'prof');
      mkdirSync(profDir, { recursive: true });
      const name = `sftp-download-round${round}-${process.pid}.cpuprofile`;
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}`);
      profile = join(profDir, name);
    }
    const r = await runCmd(process.execPath, [...nodeArgs, join(BENCH_DIST, 'sftp-download-child.js'), config, remote, local], { cwd: dir });
    const line = r.out.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) {
      const log = existsSync(join(dir, 'cfx.log')) ? readFileSync(join(dir, 'cfx.log'), 'utf8').slice(-2000) : '';
      throw new Error(`cfx child failed (exit ${r.code}): ${r.err.slice(-2000)}${r.out.slice(-500)}\n${log}`);
    }
    const j = JSON.parse(line) as { bytes: number; sha256: string; ms: number; connectMs: number; cpuUserMs: number; cpuSystemMs: number };
    if (j.bytes !== src.bytes || j.sha256 !== src.sha256) throw new Error(`cfx streamed ${j.bytes} bytes with sha256 ${j.sha256}; the file has ${src.bytes}, ${src.sha256}`);
    // what reached the disk, not only what went through the hash
    const onDisk = await sha256File(local);
    if (statSync(local).size !== src.bytes || onDisk !== src.sha256) throw new Error(`cfx wrote ${statSync(local).size} bytes with sha256 ${onDisk}; expected ${src.bytes}, ${src.sha256}`);
    return { transferMs: j.ms, mibPerSec: src.bytes / MiB / (j.ms / 1000), connectMs: j.connectMs, coldMs: j.connectMs + j.ms, cpuMs: j.cpuUserMs + j.cpuSystemMs, ...(profile ? { profile } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function curlRound(s: SftpServer, remote: string, src: { bytes: number; sha256: string }, dest: string): Promise<SftpDownloadRound['curl']> {
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
    return { transferMs, mibPerSec: src.bytes / MiB / (transferMs / 1000), coldMs: total! * 1000, wallMs: r.ms };
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
  log(`sftp-download: ${mib} MiB (sha256 ${src.sha256.slice(0, 12)}…) from ${s.url} (root on ${fsType(s.root)}), into ${dest} (${fsType(dest)}); ${nRounds} rounds, cfx in a child process vs ${version.split(' ').slice(0, 2).join(' ')}`);
  const rounds: SftpDownloadRound[] = [];
  try {
    // warm-up (not counted): the server's page cache and both programs' files
    await curlRound(s, remote, src, dest);
    await cfxRound(s, remote, src, dest, 0, { ...o, profile: false });
    for (let i = 1; i <= nRounds; i++) {
      const cfxFirst = i % 2 === 1;
      let cfx: SftpDownloadRound['cfx'], curl: SftpDownloadRound['curl'];
      if (cfxFirst) {
        cfx = await cfxRound(s, remote, src, dest, i, o);
        curl = await curlRound(s, remote, src, dest);
      } else {
        curl = await curlRound(s, remote, src, dest);
        cfx = await cfxRound(s, remote, src, dest, i, o);
      }
      const ratio = cfx.mibPerSec / curl.mibPerSec;
      rounds.push({ round: i, order: cfxFirst ? 'cfx,curl' : 'curl,cfx', cfx, curl, ratio });
      log(
        `  round ${i}: cfx ${fmt(cfx.mibPerSec, 0)} MiB/s (${fmt(cfx.transferMs, 0)} ms + login ${fmt(cfx.connectMs, 0)} ms, CPU ${fmt(cfx.cpuMs, 0)} ms)` +
          ` | curl ${fmt(curl.mibPerSec, 0)} MiB/s (${fmt(curl.transferMs, 0)} ms, cold ${fmt(curl.coldMs, 0)} ms) | ratio ${fmt(ratio)}`,
      );
    }
  } finally {
    rmSync(remoteDir, { recursive: true, force: true });
  }
  const med = {
    cfxMibPerSec: median(rounds.map((r) => r.cfx.mibPerSec)),
    curlMibPerSec: median(rounds.map((r) => r.curl.mibPerSec)),
    ratio: NaN,
    cfxColdMs: median(rounds.map((r) => r.cfx.coldMs)),
    curlColdMs: median(rounds.map((r) => r.curl.coldMs)),
  };
  med.ratio = med.cfxMibPerSec / med.curlMibPerSec;
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
    `SFTP download, ${fmt(r.file.bytes / MiB, 0)} MiB (server root on ${r.server.rootFs}, written to ${r.dest.fs}, sha256 verified), medians of ${r.rounds.length} interleaved rounds:`,
    `  cfx   ${fmt(m.cfxMibPerSec, 0)} MiB/s  (transport-sftp read() + sha256 + fsync on an open connection; cold incl. login ${fmt(m.cfxColdMs, 0)} ms)`,
    `  curl  ${fmt(m.curlMibPerSec, 0)} MiB/s  (time_total − time_pretransfer; cold incl. login ${fmt(m.curlColdMs, 0)} ms)`,
    `  ratio cfx/curl  ${fmt(m.ratio, 3)}   target >= ${fmt(r.target.ratio, 1)}   ${verdict(r.target.pass)}`,
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
