// Shared by the SFTP benches (sftp-download.ts, sftp-flush.ts): the running sshd of the test
// servers, cfx deployments that pin its host key, and the peers' (curl, OpenSSH sftp) pinned options.
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { serversEnv } from './common.js';

export interface SftpServer {
  /** sftp://cfxftp@127.0.0.1:2222 */
  url: string;
  host: string;
  port: number;
  user: string;
  /** the client's private key (its .pub beside it) */
  key: string;
  /** `SHA256:…` as ssh-keygen -lf prints it */
  hostKeySha256: string;
  /** the server's public host key line (`ssh-ed25519 AAAA…`) */
  hostKeyLine: string;
  /** SFTP is not chrooted: remote paths are real paths under this dir */
  root: string;
}

/** the sshd of test/servers/start.sh (its servers.env), its public host key checked against the pin there */
export function sftpServer(): SftpServer {
  const { file, raw } = serversEnv();
  const url = raw.CFX_TEST_SFTP_URL, key = raw.CFX_TEST_SFTP_KEY, pin = raw.CFX_TEST_SFTP_HOSTKEY_SHA256, root = raw.CFX_TEST_SFTP_ROOT;
  if (!url || !key || !pin || !root) throw new Error(`${file} lacks CFX_TEST_SFTP_URL / _KEY / _HOSTKEY_SHA256 / _ROOT`);
  const pub = join(dirname(file), 'ssh', 'host_ed25519.pub');
  const hostKeyLine = readFileSync(pub, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  // the peers are pinned to this file's key: it must be the key the pin names, or both sides would not check the same thing
  const fp = 'SHA256:' + createHash('sha256').update(Buffer.from(hostKeyLine.split(' ')[1]!, 'base64')).digest('base64').replace(/=+$/, '');
  if (fp !== pin) throw new Error(`${pub} is ${fp}, servers.env pins ${pin}`);
  const u = new URL(url);
  return { url, host: u.hostname, port: Number(u.port || 22), user: decodeURIComponent(u.username), key, hostKeySha256: pin, hostKeyLine, root };
}

/** local path of a remote SFTP path (they are the same: no chroot) */
export const sftpLocal = (s: SftpServer, remote: string): string => posix.normalize(remote);

/** `<root>/cfx-bench`, made (owned by the SFTP user) when missing */
export function sftpBenchParent(s: SftpServer): string {
  const parent = join(s.root, 'cfx-bench');
  if (!existsSync(parent)) {
    const own = statSync(s.root);
    mkdirSync(parent, { recursive: true });
    chownSync(parent, own.uid, own.gid);
  }
  return parent;
}

/** a fresh remote dir under the SFTP root, owned by the SFTP user (sshd writes as that user) */
export function sftpFreshDir(s: SftpServer, label: string): string {
  const parent = sftpBenchParent(s);
  const own = statSync(s.root);
  const dir = mkdtempSync(join(parent, `${label}-${process.pid}-`));
  chownSync(dir, own.uid, own.gid);
  return dir;
}

export function chownSftp(s: SftpServer, local: string): void {
  const own = statSync(s.root);
  if (process.getuid?.() === 0) chownSync(local, own.uid, own.gid);
}

/** cfx.yaml of a terminal on the SFTP server: key login, host key pinned by its SHA256 fingerprint */
export function sftpDeploymentYaml(s: SftpServer, o: { pricesDir: string; salesDir: string; connections?: number; poll?: string; logLevel?: string; extra?: string }): string {
  return `role: terminal
terminal: box-1
dataDir: ./data
server: ${s.url}
serverOptions:
  privateKey: ${s.key}
  hostKey: "${s.hostKeySha256}"
timeout: 60s
prices:
  dir: ${o.pricesDir}
  poll: ${o.poll ?? '1h'}
sales:
  dir: ${o.salesDir}
  format: csv
  connections: ${o.connections ?? 1}
log: { level: ${o.logLevel ?? 'warn'}, file: ./cfx.log }
${o.extra ?? ''}`;
}

/** a known_hosts file holding only the server's key, for the OpenSSH peer (StrictHostKeyChecking=yes) */
export function peerKnownHosts(s: SftpServer, dir: string): string {
  const f = join(dir, 'known_hosts');
  writeFileSync(f, `[${s.host}]:${s.port} ${s.hostKeyLine}\n`);
  return f;
}

/** OpenSSH client options: the key, the pinned known_hosts, nothing interactive, nothing from ~/.ssh */
export function opensshArgs(s: SftpServer, knownHosts: string): string[] {
  return [
    '-i', s.key,
    '-P', String(s.port),
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-F', '/dev/null',
  ];
}

/** curl's pin: base64 of the SHA256 of the host key, padded as curl prints it */
export function curlHostPin(s: SftpServer): string {
  const b = s.hostKeySha256.slice('SHA256:'.length);
  return b + '='.repeat((4 - (b.length % 4)) % 4);
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  const { createReadStream } = await import('node:fs');
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

export function runCmd(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err, ms: performance.now() - t0 }));
    child.stdin.end(opts.input ?? '');
  });
}
