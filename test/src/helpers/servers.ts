// Real servers (vsftpd FTP + FTPS, pure-ftpd FTP with MLSD, OpenSSH SFTP on loopback) for the whole-system tests.
//
//   const servers = await realServers();
//   describe('...', { skip: 'skip' in servers ? servers.skip : false }, () => { ... });
//
// Started by test/servers/start.sh (as root) when they are not already up; a machine that cannot
// run them (not root, not installed) skips loudly, except in CI (CI=true), where that is a failure.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

export interface ServersEnv {
  /** $CFX_TEST_BASE: configs, keys, logs, PIDs */
  base: string;
  /** ftp://cfxftp:cfxftp@127.0.0.1:2121 */
  ftpUrl: string;
  /** ftp://cfxftp:cfxftp@127.0.0.1:2131: pure-ftpd, the server with MLSD/MLST; same user and root */
  pureFtpdUrl: string;
  /** ftps://cfxftp:cfxftp@127.0.0.1:2990 (explicit TLS, required) */
  ftpsUrl: string;
  /** PEM of the test CA that signed the FTPS server certificate (CN/SAN 127.0.0.1, localhost) */
  ftpsCa: string;
  /** sftp://cfxftp@127.0.0.1:2222 (key login only) */
  sftpUrl: string;
  /** private key file for sftpUrl */
  sftpKey: string;
  /** SHA256:… fingerprint of the sshd host key, for pinning */
  sftpHostKeySha256: string;
  /** local path of the FTP user's root: remote `/x` over FTP is `${ftpRoot}/x` on this machine */
  ftpRoot: string;
  /** SFTP is not chrooted: remote paths are real paths; this is the same directory as ftpRoot */
  sftpRoot: string;
  /** every KEY=value of servers.env */
  raw: Record<string, string>;
}

const START_SH = fileURLToPath(new URL('../../servers/start.sh', import.meta.url));

function baseDir(): string {
  return process.env.CFX_TEST_BASE || '/tmp/cfx-test-servers';
}

function readEnv(base = baseDir()): ServersEnv | undefined {
  const file = join(base, 'servers.env');
  if (!existsSync(file)) return undefined;
  const raw: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) raw[m[1]!] = m[2]!;
  }
  const need = (k: string) => raw[k] ?? '';
  const env: ServersEnv = {
    base,
    ftpUrl: need('CFX_TEST_FTP_URL'),
    ftpsUrl: need('CFX_TEST_FTPS_URL'),
    pureFtpdUrl: need('CFX_TEST_PUREFTPD_URL'),
    ftpsCa: need('CFX_TEST_FTPS_CA'),
    sftpUrl: need('CFX_TEST_SFTP_URL'),
    sftpKey: need('CFX_TEST_SFTP_KEY'),
    sftpHostKeySha256: need('CFX_TEST_SFTP_HOSTKEY_SHA256'),
    ftpRoot: need('CFX_TEST_FTP_ROOT'),
    sftpRoot: need('CFX_TEST_SFTP_ROOT'),
    raw,
  };
  // a servers.env from before a server was added lacks its URL: start.sh is run again
  return env.ftpUrl && env.ftpsUrl && env.pureFtpdUrl && env.sftpUrl && env.ftpRoot ? env : undefined;
}

function portOpen(url: string): Promise<boolean> {
  const u = new URL(url);
  return tcpOpen(Number(u.port), u.hostname);
}

/** Does something accept TCP connections on host:port (1 s to answer)? */
export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function allUp(env: ServersEnv): Promise<boolean> {
  const up = await Promise.all([env.ftpUrl, env.ftpsUrl, env.pureFtpdUrl, env.sftpUrl].map(portOpen));
  return up.every(Boolean);
}

function whyCannotStart(): string | undefined {
  const pureFtpd = `${process.env.CFX_PURE_FTPD_PREFIX || '/opt/cfx-test/pure-ftpd'}/usr/sbin/pure-ftpd`;
  const missing = ['/usr/sbin/vsftpd', '/usr/sbin/sshd', pureFtpd].filter((b) => !existsSync(b));
  if (missing.length) return `${missing.join(' and ')} not installed — run test/servers/install.sh as root`;
  if (process.getuid?.() !== 0) return `not root (uid ${process.getuid?.()}) — start them once with: sudo ${START_SH}`;
  return undefined;
}

function unavailable(why: string): { skip: string } {
  const msg = `REAL SERVERS UNAVAILABLE, vsftpd/sshd tests NOT RUN: ${why} (servers.env: ${join(baseDir(), 'servers.env')})`;
  if (process.env.CI === 'true') throw new Error(`${msg}. In CI a missing server is a failure.`);
  process.stderr.write(`\n*** ${msg} ***\n\n`);
  return { skip: msg };
}

function runStart(): Promise<void> {
  return new Promise((resolve, reject) => {
    // start.sh takes a flock itself, so test files starting at once in parallel do not race
    execFile('bash', [START_SH], { env: { ...process.env, CFX_TEST_BASE: baseDir() }, timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${START_SH} failed (${err.message.split('\n')[0]}):\n${stderr}${stdout}`));
      else resolve();
    });
  });
}

async function obtain(): Promise<ServersEnv | { skip: string }> {
  const ready = readEnv();
  if (ready && (await allUp(ready))) return ready;
  const why = whyCannotStart();
  if (why) return unavailable(ready ? `servers.env exists but the servers are down; ${why}` : why);
  await runStart(); // a failure here is a broken machine, not a reason to skip: it throws
  const env = readEnv();
  if (!env || !(await allUp(env))) throw new Error(`${START_SH} reported success but the servers do not answer (see ${baseDir()}/log)`);
  return env;
}

let pending: Promise<ServersEnv | { skip: string }> | undefined;

/** The running servers (started once per process when needed), or why they cannot be had. */
export function realServers(): Promise<ServersEnv | { skip: string }> {
  pending ??= obtain();
  return pending;
}

/** The local path of a remote FTP path, to inspect or prepare files on the server side. */
export function ftpRootPath(remotePath: string, env?: ServersEnv): string {
  const root = (env ?? readEnv())?.ftpRoot;
  if (!root) throw new Error(`no servers.env under ${baseDir()}: await realServers() first`);
  // normalize under '/', so '..' cannot leave the root
  return join(root, posix.normalize('/' + remotePath));
}

/**
 * The names in a local dir, sorted. A dir that does not exist is an error (a wrong path must not
 * pass as "nothing there"); `{ mayBeMissing: true }` is for a wait on a dir that a step has not
 * created yet.
 */
export function namesIn(dir: string, opts: { mayBeMissing?: boolean } = {}, label = dir): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (opts.mayBeMissing) return [];
    throw new Error(`${label} does not exist`);
  }
}

/** The names in a remote FTP dir, sorted, read on the server's disk (see namesIn). */
export function onServer(remoteDir: string, env?: ServersEnv, opts: { mayBeMissing?: boolean; withoutFlags?: boolean } = {}): string[] {
  const local = ftpRootPath(remoteDir, env);
  const names = namesIn(local, opts, `${remoteDir} on the server (${local})`);
  // the `.done` flag office.publish writes after each file (asserted on their own where they matter)
  return opts.withoutFlags ? names.filter((n) => !n.endsWith('.done')) : names;
}

/** A remote directory name no other test (or earlier run) uses: `/cfx-test/<label>-<random>`. */
export function freshRemoteDir(label: string): string {
  return `/cfx-test/${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * PIDs of the server processes (vsftpd session, sshd session) holding the server end of ONE client
 * connection: the one from 127.0.0.1:`clientPort` to the port of `serverUrl`. Signal these to make
 * the server die or hang for that client alone; tests running in parallel on the same server are
 * not disturbed. Needs root (reads other users' /proc entries). Linux, IPv4 loopback.
 */
export function sessionPids(serverUrl: string, clientPort: number): number[] {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const serverPort = Number(new URL(serverUrl).port);
  // /proc/net/tcp rows of the server side: local 127.0.0.1:<server port>, remote 127.0.0.1:<client port>
  const want = `0100007F:${hex(serverPort)} 0100007F:${hex(clientPort)}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && `${f[1]} ${f[2]}` === want) inodes.add(`socket:[${f[9]}]`);
  }
  const pids: number[] = [];
  if (inodes.size === 0) return pids;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readdirSync(`/proc/${p}/fd`).some((fd) => inodes.has(readlinkSync(`/proc/${p}/fd/${fd}`)))) pids.push(Number(p));
    } catch {
      /* gone meanwhile, or not readable */
    }
  }
  return pids;
}
