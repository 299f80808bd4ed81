// Shared pieces of the benchmarks: the running test servers, fresh deployments, small stats.
// Self-contained (does not import the test project) so a bench build needs only core.
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CFX_BIN = join(REPO, 'core/bin/cfx.js');
export const BENCH_DIST = fileURLToPath(new URL('./', import.meta.url));
export const OUT_DIR = join(REPO, '.bench-out');

export interface Servers {
  ftpUrl: string;
  /** local path of the FTP user's root (remote `/x` is `${ftpRoot}/x`) */
  ftpRoot: string;
}

/** $CFX_TEST_BASE/servers.env, written by test/servers/start.sh, as KEY → value; or a clear error */
export function serversEnv(base: string = process.env.CFX_TEST_BASE || '/tmp/cfx-test-servers'): { file: string; raw: Record<string, string> } {
  const file = join(base, 'servers.env');
  if (!existsSync(file)) throw new Error(`no ${file}: start the real servers first (as root): bash test/servers/start.sh`);
  const raw: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) raw[m[1]!] = m[2]!;
  }
  return { file, raw };
}

/** The vsftpd of the test servers, or a clear error. */
export function servers(): Servers {
  const { file, raw } = serversEnv();
  const ftpUrl = raw.CFX_TEST_FTP_URL, ftpRoot = raw.CFX_TEST_FTP_ROOT;
  if (!ftpUrl || !ftpRoot) throw new Error(`${file} has no CFX_TEST_FTP_URL / CFX_TEST_FTP_ROOT`);
  return { ftpUrl, ftpRoot };
}

/** local path of a remote FTP path */
export function ftpRootPath(s: Servers, remote: string): string {
  return join(s.ftpRoot, posix.normalize('/' + remote));
}

let ftpIds: { uid: number; gid: number } | undefined | null = null;
/** uid/gid of the FTP user (cfxftp), so files placed on disk are the server's to delete */
export function ftpOwner(s: Servers): { uid: number; gid: number } | undefined {
  if (ftpIds === null) {
    const st = statSync(s.ftpRoot);
    ftpIds = { uid: st.uid, gid: st.gid };
  }
  return ftpIds;
}

/** mkdir -p under the FTP root, every created level owned by the FTP user */
export function ftpMkdir(s: Servers, remote: string): string {
  const parts = posix.normalize('/' + remote).split('/').filter(Boolean);
  let local = s.ftpRoot;
  const own = ftpOwner(s);
  for (const p of parts) {
    local = join(local, p);
    if (!existsSync(local)) {
      mkdirSync(local);
      if (own && process.getuid?.() === 0) chownSync(local, own.uid, own.gid);
    }
  }
  return local;
}

export function chownFtp(s: Servers, local: string): void {
  const own = ftpOwner(s);
  if (own && process.getuid?.() === 0) chownSync(local, own.uid, own.gid);
}

export function freshRemoteDir(label: string): string {
  return `/cfx-bench/${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** where dataDirs and the peer's databases go: the machine's tmpdir (a terminal's disk) unless told */
export function scratchRoot(): string {
  const r = process.env.CFX_BENCH_SCRATCH || tmpdir();
  mkdirSync(r, { recursive: true });
  return resolve(r);
}

export function fsType(path: string): string {
  // findmnt names ext4 as ext4 (stat -f says ext2/ext3 for all three)
  for (const [cmd, args] of [['findmnt', ['-n', '-o', 'FSTYPE', '--target', path]], ['stat', ['-f', '-c', '%T', path]]] as const) {
    try {
      const t = execFileSync(cmd, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (t) return t.split('\n').pop()!.trim();
    } catch {
      /* try the next */
    }
  }
  return 'unknown';
}

export interface Deployment {
  dir: string;
  config: string;
  dataDir: string;
  inbox: string;
  terminal: string;
}

/** a terminal deployment (cfx.yaml + its own dataDir) in a fresh scratch dir */
export function terminalDeployment(o: { server: string; remoteBase: string; poll?: string; extra?: string; logLevel?: string }): Deployment {
  const dir = mkdtempSync(join(scratchRoot(), 'cfx-bench-term-'));
  const terminal = 'bench-1';
  const config = join(dir, 'cfx.yaml');
  writeFileSync(
    config,
    `role: terminal
terminal: ${terminal}
dataDir: ./data
server: ${o.server}
timeout: 60s
prices:
  dir: ${o.remoteBase}/{terminal}
  poll: ${o.poll ?? '1s'}
sales:
  dir: ${o.remoteBase}/sales
log: { level: ${o.logLevel ?? 'info'}, file: ./cfx.log }
${o.extra ?? ''}`,
  );
  return { dir, config, dataDir: join(dir, 'data'), inbox: `${o.remoteBase}/${terminal}`, terminal };
}

// ---- small stats and formatting

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
export const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : String(n));

export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

/** minimal --flag value / --flag=value parser */
export function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) m.set(a.slice(2), argv[++i]!);
    else m.set(a.slice(2), 'true');
  }
  return m;
}

export function intArg(args: Map<string, string>, name: string, def: number): number {
  const v = args.get(name);
  if (v === undefined) return def;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/** CPU time of a process in ticks (user and system, all its threads, from /proc/<pid>/stat) */
export function procCpuTicks(pid: number): { user: number; system: number; total: number } {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name is in parentheses and may hold spaces: fields count from after the last ')'
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); utime is field 14, stime field 15
  const user = Number(f[11]), system = Number(f[12]);
  return { user, system, total: user + system };
}

/** on-CPU nanoseconds of every live thread of a process (/proc/<pid>/task/<tid>/schedstat, first field) */
export function procCpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* a thread that ended meanwhile */
    }
  }
  return ns;
}

let clkTck: number | undefined;
/** clock ticks per second of /proc/<pid>/stat times (asked once, when first needed) */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

export function vmHwmKb(pid: number | 'self' = 'self'): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

type Applied = { name: string; result: 'applied'; mode: 'full' | 'delta'; records: number; bytes: number };

/**
 * Cycles a price pull until it applies `fileName`: the file comes with its flag, so the first cycle
 * normally takes it; a few more only if it does not. start/end: performance.now() around the cycle
 * that took it.
 */
export async function pullUntilApplied(
  pull: { cycle(): Promise<{ files: Array<{ name: string; result: string }> }> },
  fileName: string,
): Promise<{ outcome: Applied; cycles: number; start: number; end: number }> {
  let found: { name: string; result: string } | undefined;
  let cycles = 0;
  let start = 0, end = 0;
  while (!found && cycles < 5) {
    cycles++;
    start = performance.now();
    const r = await pull.cycle();
    end = performance.now();
    found = r.files.find((f) => f.name === fileName);
    if (!found) await new Promise((res) => setTimeout(res, 200));
  }
  if (!found) throw new Error(`${fileName} was not taken in ${cycles} cycles`);
  if (found.result !== 'applied') throw new Error(`${fileName}: ${found.result} ${JSON.stringify(found)}`);
  return { outcome: found as Applied, cycles, start, end };
}
