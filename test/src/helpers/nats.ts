// NATS for the whole-system tests: the shared nats-server that test/servers/start.sh runs (its URL in
// servers.env as CFX_TEST_NATS_URL, or CFX_TEST_NATS_URL in the environment), and nats-server
// processes a test starts for itself (a cluster, a server to SIGKILL and restart, a hub and a leaf):
// free loopback ports picked at start, store dirs in a temp dir, stopped by their PIDs.
//
// In CI (CI=true) a missing shared server is a failure, never a skip.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tcpOpen } from './servers.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const NATS_SERVER = '/usr/sbin/nats-server';
const START_SH = fileURLToPath(new URL('../../servers/start.sh', import.meta.url));

function baseDir(): string {
  return process.env.CFX_TEST_BASE || '/tmp/cfx-test-servers';
}

function envUrl(): string | undefined {
  if (process.env.CFX_TEST_NATS_URL) return process.env.CFX_TEST_NATS_URL;
  const file = join(baseDir(), 'servers.env');
  if (!existsSync(file)) return undefined;
  const m = /^CFX_TEST_NATS_URL=(.*)$/m.exec(readFileSync(file, 'utf8'));
  return m?.[1]?.trim() || undefined;
}

export { tcpOpen as portOpen };
const portOpen = tcpOpen;

function unavailable(why: string): { skip: string } {
  const msg = `NATS SERVER UNAVAILABLE, nats tests NOT RUN: ${why}`;
  if (process.env.CI === 'true') throw new Error(`${msg}. In CI a missing server is a failure (.ci/run starts it with test/servers/start.sh).`);
  process.stderr.write(`\n*** ${msg} ***\n\n`);
  return { skip: msg };
}

async function obtain(): Promise<{ url: string } | { skip: string }> {
  let url = envUrl();
  if (url && (await portOpen(Number(new URL(url).port)))) return { url };
  if (!existsSync(NATS_SERVER)) return unavailable(`${NATS_SERVER} not installed — run test/servers/install.sh as root`);
  if (process.getuid?.() !== 0) return unavailable(`not root — start the test servers once with: sudo ${START_SH}`);
  await new Promise<void>((resolve, reject) =>
    execFile('bash', [START_SH], { env: { ...process.env, CFX_TEST_BASE: baseDir() }, timeout: 180_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${START_SH} failed: ${stderr}${stdout}`)) : resolve(),
    ),
  );
  url = envUrl();
  if (!url || !(await portOpen(Number(new URL(url).port)))) throw new Error(`${START_SH} ran but no nats-server answers (CFX_TEST_NATS_URL=${url ?? 'missing'}; see ${baseDir()}/log)`);
  return { url };
}

let pending: Promise<{ url: string } | { skip: string }> | undefined;
/** The shared nats-server (`nats://cfx:…@127.0.0.1:4222`), or why the tests cannot run. */
export function natsServer(): Promise<{ url: string } | { skip: string }> {
  pending ??= obtain();
  return pending;
}

/** A loopback TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface OwnNats {
  name: string;
  port: number;
  /** nats://cfx:cfx@127.0.0.1:port */
  url: string;
  conf: string;
  proc: ChildProcess | undefined;
  /** starts (again) with the same config and store */
  start(): Promise<void>;
  /** SIGTERM, SIGKILL after 5 s; resolves when the process is gone */
  stop(): Promise<void>;
  /** SIGKILL: a crash */
  kill(): Promise<void>;
  log(): string;
}

/**
 * The servers this process started and has not stopped: a test that dies before its `finally`
 * (an uncaught error, the runner's timeout) must not leave them running — SIGKILLed at exit
 * (the 'exit' handler may only do synchronous work).
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export const OWN_USER = 'cfx';
export const OWN_PASS = 'cfx';

/**
 * A nats-server of this test, on a free loopback port, JetStream on file storage under `dir`.
 * `extra` is more config text (cluster, leafnodes, jetstream domain…); `jetstream` replaces the
 * jetstream block's inner lines.
 */
export function ownNats(dir: string, name: string, port: number, extra = '', jetstream = ''): OwnNats {
  const store = join(dir, name, 'store');
  return ownNatsConf(
    dir,
    name,
    port,
    `listen: 127.0.0.1:${port}
server_name: ${name}
accounts {
  CFX { jetstream: enabled, users: [ { user: ${OWN_USER}, password: ${OWN_PASS} } ] }
}
no_auth_user: ${OWN_USER}
jetstream {
  store_dir: "${store}"
  max_memory_store: 64MB
  max_file_store: 1GB
${jetstream}
}
${extra}
`,
  );
}

/**
 * A nats-server of this test running `text` as its whole config (written to <dir>/<name>/nats.conf;
 * <dir>/<name>/store exists for its store_dir). `port` is the client port the text listens on.
 * `env`: the server's environment on top of this process's (a config's `$VAR`s).
 */
export function ownNatsConf(dir: string, name: string, port: number, text: string, env: NodeJS.ProcessEnv = {}): OwnNats {
  mkdirSync(join(dir, name, 'store'), { recursive: true });
  const conf = join(dir, name, 'nats.conf');
  const logFile = join(dir, name, 'nats.log');
  writeFileSync(conf, text);
  const n: OwnNats = {
    name,
    port,
    url: `nats://${OWN_USER}:${OWN_PASS}@127.0.0.1:${port}`,
    conf,
    proc: undefined,
    async start() {
      const p = spawn(NATS_SERVER, ['-c', conf, '-l', logFile], { stdio: 'ignore', env: { ...process.env, ...env } });
      n.proc = p;
      running.add(p);
      p.once('exit', () => running.delete(p));
      const deadline = Date.now() + 15_000;
      while (!(await portOpen(port))) {
        if (p.exitCode !== null) throw new Error(`nats-server ${name} exited with ${p.exitCode}:\n${n.log()}`);
        if (Date.now() > deadline) throw new Error(`nats-server ${name} did not listen on ${port} within 15 s:\n${n.log()}`);
        await sleep(50);
      }
    },
    async stop() {
      await endProcess(n.proc, 'SIGTERM');
      n.proc = undefined;
    },
    async kill() {
      await endProcess(n.proc, 'SIGKILL');
      n.proc = undefined;
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n') : '(no log)'),
  };
  return n;
}

async function endProcess(p: ChildProcess | undefined, sig: NodeJS.Signals): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(sig);
  const t = setTimeout(() => p.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(t);
}

/** A temp dir for a test's servers, removed by `cleanup()` after their processes are stopped. */
export function natsTempDir(label: string): { dir: string; cleanup(servers: OwnNats[]): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), `cfx-nats-${label}-`));
  return {
    dir,
    async cleanup(servers) {
      await Promise.all(servers.map((s) => s.stop()));
      // CFX_TEST_KEEP=1 keeps the servers' configs, logs and stores to look at after a failure
      if (process.env.CFX_TEST_KEEP) return void process.stderr.write(`kept: ${dir}\n`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `f` until it returns a value other than undefined, or fails after `ms` naming `what`. */
export async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}
