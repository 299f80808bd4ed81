// @cfx/transport-sftp against a real OpenSSH sshd (the shared one on 2222, and one started here with
// its own host key), checked on the server's disk too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { describeTransportConformance } from '@cfx/core/testing';
import { createSftpTransport, type SftpTransport, type SftpTransportOptions } from '@cfx/transport-sftp';
import { realServers, sessionPids, type ServersEnv } from './helpers/servers.js';
import { readAll, failure } from './helpers/transport.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = 'skip' in servers ? undefined : (servers as ServersEnv);
// the direct tests read the server's disk, signal sshd sessions and start a second sshd
const skipDirect = skip || (process.getuid?.() !== 0 ? 'the direct sshd tests need root (server-side files, signals, a second sshd)' : false);
const silent = pino({ level: 'silent' });

/** A pino logger at trace level writing into memory: what the plugin logs, to search for secrets. */
function captureLogger(): { logger: Logger; text(): string } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
  return { logger, text: () => lines.join('') };
}

function sftp(options: SftpTransportOptions = {}, o: { url?: string; timeoutMs?: number; logger?: Logger; storageDir?: string } = {}): SftpTransport {
  return createSftpTransport(
    {
      url: new URL(o.url ?? env?.sftpUrl ?? 'sftp://nobody@127.0.0.1:1'),
      options: { privateKey: env?.sftpKey, hostKey: env?.sftpHostKeySha256, ...options } as Record<string, unknown>,
      logger: o.logger ?? silent,
      timeoutMs: o.timeoutMs ?? 10_000,
    },
    o.storageDir !== undefined ? { storageDir: o.storageDir } : {},
  );
}



/** SFTP is not chrooted: remote paths are real paths under sftpRoot */
const roots: string[] = [];
function fresh(label: string): string {
  const d = `${env?.sftpRoot ?? '/nonexistent'}/cfx-test/sftp-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
  roots.push(d);
  return d;
}
const tmpDirs: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function fingerprintOf(pubFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', pubFile], { encoding: 'utf8' }).split(/\s+/)[1]!;
}

/** The sshd processes serving this transport's connection (found by its local port), with their children. */
function sessionTree(t: SftpTransport): number[] {
  const port = t.connectionInfo().localPort;
  assert.ok(port, 'the transport has an open connection');
  const pids = new Set(sessionPids(env!.sftpUrl, port));
  assert.ok(pids.size > 0, 'found the sshd session processes');
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (pids.has(ppid) && !pids.has(Number(d))) {
          pids.add(Number(d));
          grew = true;
        }
      } catch {
        /* gone */
      }
    }
  }
  return [...pids];
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      /* gone */
    }
  }
}

/**
 * Records what goes to the console meanwhile: console.* calls (what ssh2-sftp-client's default event
 * handlers use) and process warnings (MaxListeners and the like). Raw stdout is the test runner's.
 */
function watchConsole(): { stop(): string } {
  const methods = ['log', 'error', 'warn', 'info', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  let seen = '';
  for (const m of methods) console[m] = (...a: unknown[]) => void (seen += `console.${m}: ${a.map(String).join(' ')}\n`);
  const onWarning = (w: Error) => void (seen += `warning: ${w.name}: ${w.message}\n`);
  process.on('warning', onWarning);
  return {
    stop() {
      methods.forEach((m, i) => (console[m] = saved[i]!));
      process.off('warning', onWarning);
      return seen;
    },
  };
}

// ---------- the shared conformance suite ----------
describeTransportConformance('sftp (OpenSSH)', { create: () => sftp(), root: fresh('conf'), skip, largeBytes: 16 * 1024 * 1024 });
// tiny requests, few in flight: exercises the pipelining's ordering and short reads
describeTransportConformance('sftp (OpenSSH, fastGet 1 KiB × 3)', { create: () => sftp({ fastGet: { chunkSize: 1024, concurrency: 3 } }), root: fresh('conf-small'), skip, largeBytes: 1024 * 1024 + 77 });

describe('transport-sftp against OpenSSH sshd', { skip: skipDirect }, () => {
  let t: SftpTransport;
  let root: string;
  const p = (n: string) => `${root}/${n}`;

  before(async () => {
    root = fresh('direct');
    t = sftp();
    await t.mkdir(root);
  });
  after(() => t?.close());

  it('pinned key: round-trips every byte value, exact on the server disk; any pin of a list is accepted', async () => {
    const data = Buffer.from(Array.from({ length: 256 * 3 }, (_, i) => (i * 7) % 256));
    assert.equal(await t.write(p('all.bin'), data), data.length);
    assert.ok(readFileSync(p('all.bin')).equals(data), 'the server disk has the exact bytes');
    assert.ok((await readAll(t.read(p('all.bin')))).equals(data));
    const info = t.connectionInfo();
    assert.deepEqual([info.keyType, info.fingerprint, info.verifiedBy], ['ssh-ed25519', env!.sftpHostKeySha256, 'pinned']);
    assert.equal(env!.sftpHostKeySha256, fingerprintOf(join(env!.base, 'ssh', 'host_ed25519.pub')), 'our fingerprint is what ssh-keygen -lf prints');
    const rotated = sftp({ hostKey: [`SHA256:${'A'.repeat(43)}`, env!.sftpHostKeySha256] });
    try {
      assert.deepEqual((await rotated.list(root)).map((e) => e.name).sort(), ['all.bin']);
    } finally {
      await rotated.close();
    }
  });

  it('the connection runs with Nagle off (TCP_NODELAY): request/response SFTP would wait ~40 ms per request for delayed ACKs', async () => {
    await t.list(root);
    // Node keeps what setNoDelay() was last told under this symbol (it has no getter); the socket is ssh2's
    const sock = (t as unknown as { conn: { sc: { client: { _sock: object } } } }).conn.sc.client._sock;
    const sym = Object.getOwnPropertySymbols(sock).find((x) => String(x) === 'Symbol(kSetNoDelay)');
    assert.ok(sym, 'this Node keeps the kSetNoDelay symbol on sockets');
    assert.equal((sock as Record<symbol, unknown>)[sym], true);
  });

  it('a known_hosts file (hashed names, as ssh-keygen -H leaves it) is accepted; one without the host is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfx-kh-'));
    tmpDirs.push(dir);
    const kh = join(dir, 'known_hosts');
    const port = new URL(env!.sftpUrl).port;
    writeFileSync(kh, execFileSync('ssh-keyscan', ['-p', port, '-t', 'ed25519,rsa,ecdsa', '127.0.0.1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    assert.ok(readFileSync(kh, 'utf8').startsWith('|1|'), 'names are hashed');
    const viaFile = sftp({ hostKey: kh });
    try {
      await viaFile.list(root);
      assert.match(viaFile.connectionInfo().verifiedBy!, /^known_hosts line \d+$/);
    } finally {
      await viaFile.close();
    }
    const other = join(dir, 'other_hosts');
    writeFileSync(other, readFileSync(join(env!.base, 'ssh', 'host_ed25519.pub'), 'utf8').replace(/^/, 'files.example.com '));
    const e = await failure(sftp({ hostKey: other }).list(root));
    assert.equal(e.kind, 'HostKey');
    assert.match(e.message, /\[127\.0\.0\.1\]:2222 is not in .*other_hosts/);
  });

  it('no pin: refused with the offered key and the config line to add', async () => {
    const nopin = sftp({ hostKey: undefined });
    const e = await failure(nopin.write(p('never.txt'), Buffer.from('x')));
    assert.equal(e.kind, 'HostKey');
    assert.equal(e.code, 'CFX_E_TRANSPORT_HOST_KEY');
    assert.ok(!e.retryable);
    assert.ok(e.message.includes(`ssh-ed25519 ${env!.sftpHostKeySha256}`), e.message);
    assert.ok(e.message.includes(`serverOptions: { hostKey: "${env!.sftpHostKeySha256}" }`), e.message);
    assert.equal(existsSync(p('never.txt')), false, 'nothing written');
  });

  it('wrong pin: refused during key exchange, before authentication, with both fingerprints; nothing written', async () => {
    const wrongPin = `SHA256:${createHash('sha256').update('not the key').digest('base64').replace(/=$/, '')}`;
    const cap = captureLogger();
    const bad = sftp({ hostKey: wrongPin }, { logger: cap.logger });
    const e = await failure(bad.write(p('evil/never.txt'), Buffer.from('secret sales')));
    assert.equal(e.kind, 'HostKey');
    assert.match(e.message, /HOST KEY MISMATCH/);
    assert.ok(e.message.includes(env!.sftpHostKeySha256), 'the offered fingerprint');
    assert.ok(e.message.includes(wrongPin), 'the pinned fingerprint');
    assert.deepEqual(e.details.expected, [wrongPin]);
    assert.equal(existsSync(p('evil')), false, 'nothing written on the server');
    const log = cap.text();
    assert.match(log, /Host denied \(verification failed\)/, 'ssh2 debug shows the refusal');
    assert.doesNotMatch(log, /USERAUTH_REQUEST|SERVICE_REQUEST/, 'no authentication was attempted');
    // the refusal is remembered per attempt only: the next call tries (and is refused) again
    assert.equal((await failure(bad.list(root))).kind, 'HostKey');
  });

  it('rename replaces an existing target (posix-rename), and falls back to delete + rename without the extension', async () => {
    await t.write(p('target.csv'), Buffer.from('old'));
    await t.write(p('.target.csv.part'), Buffer.from('new contents'));
    await t.rename(p('.target.csv.part'), p('target.csv'));
    assert.equal(readFileSync(p('target.csv'), 'utf8'), 'new contents');
    assert.ok(t.connectionInfo().posixRename);

    const cap = captureLogger();
    const old = sftp({}, { logger: cap.logger });
    try {
      await old.list(root);
      // pretend the server never announced posix-rename@openssh.com (what a non-OpenSSH server does)
      const conn = (old as unknown as { conn: { sftp: { _extensions: Record<string, string> } } }).conn;
      delete conn.sftp._extensions['posix-rename@openssh.com'];
      await old.write(p('.target.csv.part'), Buffer.from('newer'));
      await old.rename(p('.target.csv.part'), p('target.csv'));
      assert.equal(readFileSync(p('target.csv'), 'utf8'), 'newer');
      assert.deepEqual(readdirSync(root).filter((n) => n.includes('target')), ['target.csv']);
      await old.write(p('fresh.part'), Buffer.from('1'));
      await old.rename(p('fresh.part'), p('fresh.csv'));
      assert.equal((await failure(old.rename(p('missing.part'), p('fresh.csv')))).kind, 'NotFound');
      assert.equal(readFileSync(p('fresh.csv'), 'utf8'), '1', 'a failed rename leaves the target alone');
      assert.match(cap.text(), /lacks posix-rename/);
    } finally {
      await old.close();
    }
  });

  it('mkdir creates parents, accepts an existing dir, and refuses a file in the way', async () => {
    await t.mkdir(p('m/a/b/c'));
    await t.mkdir(p('m/a/b/c'));
    await t.mkdir(p('m/a') + '/');
    assert.ok(statSync(p('m/a/b/c')).isDirectory());
    await t.write(p('m/file'), Buffer.from('x'));
    const e = await failure(t.mkdir(p('m/file/sub')));
    assert.equal(e.kind, 'AlreadyExists');
    assert.match(e.message, /m\/file exists and is not a directory/);
    assert.equal((await failure(t.write(p('no-such-dir/x.txt'), Buffer.from('x')))).kind, 'NotFound');
  });

  it('lists 1000 files with sizes, types and second-precision mtimes; follows symlinks', async () => {
    const dir = p('thousand');
    await t.mkdir(dir);
    for (let i = 0; i < 1000; i++) writeFileSync(`${dir}/f${String(i).padStart(4, '0')} назва.csv`, 'x'.repeat(i % 50));
    execFileSync('ln', ['-s', `${dir}/f0007 назва.csv`, `${dir}/link.csv`]);
    const entries = await t.list(dir);
    assert.equal(entries.length, 1001);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (let i = 0; i < 1000; i += 37) {
      const e = byName.get(`f${String(i).padStart(4, '0')} назва.csv`)!;
      assert.deepEqual([e.type, e.size], ['file', i % 50]);
      assert.equal(e.mtime!.getTime(), Math.floor(statSync(`${dir}/f${String(i).padStart(4, '0')} назва.csv`).mtimeMs / 1000) * 1000);
    }
    assert.deepEqual([byName.get('link.csv')!.type, byName.get('link.csv')!.size], ['file', 7]);
  });

  it('download() (fastGet) is byte-exact; calls run beside a streaming read on the same connection', async () => {
    const big = randomBytes(24 * 1024 * 1024 + 5);
    writeFileSync(p('big.bin'), big);
    const dir = mkdtempSync(join(tmpdir(), 'cfx-dl-'));
    tmpDirs.push(dir);
    assert.equal(await t.download(p('big.bin'), join(dir, 'big.bin')), big.length);
    assert.ok(readFileSync(join(dir, 'big.bin')).equals(big));
    assert.equal(await t.download(p('target.csv'), join(dir, 'small.csv')), readFileSync(p('target.csv')).length);
    // a listing while a download is half-way: answered at once, not after the download
    const stream = t.read(p('big.bin'));
    const h = createHash('sha256');
    let got = 0;
    let listedAt = -1;
    for await (const c of stream) {
      h.update(c as Buffer);
      got += (c as Buffer).length;
      if (listedAt < 0 && got > 1 << 20) {
        assert.ok((await t.list(root)).some((e) => e.name === 'big.bin'));
        listedAt = got;
      }
    }
    assert.equal(got, big.length);
    assert.equal(h.digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.ok(listedAt > 0 && listedAt < big.length, 'listed mid-download');
  });

  it('the server killed mid-transfer: Unavailable (the closed connection noticed, not waited out), nothing on the console, and the next call reconnects', async () => {
    const big = randomBytes(64 * 1024 * 1024);
    writeFileSync(p('huge.bin'), big);
    const timeoutMs = 8000;
    const cap = captureLogger();
    const k = sftp({}, { timeoutMs, logger: cap.logger });
    const watch = watchConsole();
    try {
      await k.list(root);
      const victims = sessionTree(k);
      let seen = 0;
      let killed = false;
      const e = await failure(
        (async () => {
          for await (const c of k.read(p('huge.bin'))) {
            seen += (c as Buffer).length;
            if (!killed && seen >= 1 << 20) {
              signal(victims, 'SIGKILL');
              killed = true;
            }
            await sleep(1); // a reader slower than the wire, so the kill lands mid-file
          }
        })(),
      );
      assert.ok(killed, 'killed mid-transfer');
      assert.ok(seen < big.length, `the download was cut short (${seen} of ${big.length})`);
      // Unavailable: the closed connection was noticed, not waited out until the deadline (a Timeout)
      assert.equal(e.kind, 'Unavailable', e.message);
      assert.ok(e.retryable);
      // the same transport object: a new connection, the whole file
      assert.equal(createHash('sha256').update(await readAll(k.read(p('huge.bin')))).digest('hex'), createHash('sha256').update(big).digest('hex'));
      assert.notDeepEqual(sessionTree(k), victims);
    } finally {
      const printed = watch.stop();
      await k.close();
      assert.equal(printed, '', 'nothing printed to the console');
    }
    assert.match(cap.text(), /"ssh2":/, 'ssh2 debug output went to the logger');
  });

  it('the server hangs mid-transfer (sessions stopped): Timeout by the progress deadline, and the next call reconnects', async () => {
    if (!existsSync(p('huge.bin'))) writeFileSync(p('huge.bin'), randomBytes(64 * 1024 * 1024));
    const timeoutMs = 1500;
    const k = sftp({}, { timeoutMs });
    let victims: number[] = [];
    try {
      await k.list(root);
      victims = sessionTree(k);
      let seen = 0;
      const e = await failure(
        (async () => {
          for await (const c of k.read(p('huge.bin'))) {
            seen += (c as Buffer).length;
            if (seen >= 1 << 20 && seen - (c as Buffer).length < 1 << 20) signal(victims, 'SIGSTOP');
          }
        })(),
      );
      assert.equal(e.kind, 'Timeout', e.message);
      // the progress deadline, counted from the last data (not the whole call's)
      assert.match(e.message, /no progress within 1500 ms/);
      assert.equal(k.connectionInfo().connected, false, 'the hung connection was dropped');
      assert.ok((await k.list(root)).some((e) => e.name === 'huge.bin'), 'the next call reconnects');
    } finally {
      signal(victims, 'SIGKILL');
      await k.close();
    }
  });

  it('a refused connection and an abort leave the transport usable; close() leaves nothing running', async () => {
    const dead = sftp({}, { url: 'sftp://cfxftp@127.0.0.1:1', timeoutMs: 3000 });
    const e = await failure(dead.list('/'));
    assert.equal(e.kind, 'Unavailable');
    assert.match(e.message, /ECONNREFUSED/);
    await dead.close();
    const ac = new AbortController();
    const r = t.read(p('huge.bin'), { signal: ac.signal });
    let n = 0;
    const aborted = failure(
      (async () => {
        for await (const c of r) {
          n += (c as Buffer).length;
          if (n > 1 << 20) ac.abort();
        }
      })(),
    );
    assert.equal((await aborted).kind, 'Aborted');
    assert.deepEqual((await t.list(p('m'))).map((x) => x.name).sort(), ['a', 'file']);
  });
});

// ---------- a second sshd: its own host key (changed on restart), password login, more client keys ----------

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

class TestSshd {
  private child: ChildProcess | undefined;
  private out = '';
  readonly dir: string;
  port = 0;
  private keyN = 0;
  hostKeyFile = '';

  constructor(private readonly authorizedKeys: string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'cfx-sshd-'));
    tmpDirs.push(this.dir);
    chmodSync(this.dir, 0o755); // sshd reads authorized_keys as the user
    writeFileSync(join(this.dir, 'authorized_keys'), authorizedKeys.join(''), { mode: 0o644 });
  }

  get url(): string {
    return `sftp://cfxftp@127.0.0.1:${this.port}`;
  }

  get fingerprint(): string {
    return fingerprintOf(`${this.hostKeyFile}.pub`);
  }

  /** what sshd logged (-e) since it started */
  get log(): string {
    return this.out;
  }

  /** (Re)starts on the same port with a NEW host key. */
  async start(): Promise<void> {
    await this.stop();
    this.hostKeyFile = join(this.dir, `host_key_${++this.keyN}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cfx-second-sshd', '-f', this.hostKeyFile]);
    this.port ||= await freePort();
    const cfg = join(this.dir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${this.hostKeyFile}`,
        'PidFile none',
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'AllowUsers cfxftp',
        'PubkeyAuthentication yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'X11Forwarding no',
        'AllowTcpForwarding no',
        'Subsystem sftp internal-sftp',
        'Match User cfxftp',
        '  ForceCommand internal-sftp',
        '',
      ].join('\n'),
    );
    execFileSync('/usr/sbin/sshd', ['-t', '-f', cfg]);
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c) => (this.out += c));
    this.child = child;
    for (let i = 0; i < 100 && !(await portOpen(this.port)); i++) await sleep(50);
    assert.ok(await portOpen(this.port), `the second sshd listens on ${this.port}: ${this.out}`);
  }

  /** Stops it by its PID (its sessions end with their connections). */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await gone;
    for (let i = 0; i < 50 && (await portOpen(this.port)); i++) await sleep(20);
  }
}

describe('transport-sftp against a second sshd (own host key, password login)', { skip: skipDirect }, () => {
  let sshd: TestSshd;
  let keysDir: string;
  const PASSPHRASE = 'c0rrect horse/battery: staple%';
  let root: string;

  before(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'cfx-keys-'));
    tmpDirs.push(keysDir);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'cfx-passphrase-key', '-f', join(keysDir, 'locked')]);
    sshd = new TestSshd([readFileSync(`${env!.sftpKey}.pub`, 'utf8'), readFileSync(join(keysDir, 'locked.pub'), 'utf8')]);
    await sshd.start();
    root = fresh('second');
  });
  after(async () => {
    await sshd?.stop();
  });

  it('tofu: the first connect records the key; after the server key changes the connection is refused with both fingerprints', async () => {
    const storageDir = mkdtempSync(join(tmpdir(), 'cfx-plugin-store-'));
    tmpDirs.push(storageDir);
    const store = join(storageDir, 'known_hosts.json');
    const first = sshd.fingerprint;
    const t1 = sftp({ hostKey: 'tofu' }, { url: sshd.url, storageDir });
    try {
      await t1.mkdir(root);
      await t1.write(`${root}/tofu.txt`, Buffer.from('first'));
      assert.equal(t1.connectionInfo().verifiedBy, 'tofu, first use');
    } finally {
      await t1.close();
    }
    const rec = JSON.parse(readFileSync(store, 'utf8'));
    assert.deepEqual(Object.keys(rec), [`127.0.0.1:${sshd.port}`]);
    assert.equal(rec[`127.0.0.1:${sshd.port}`].fingerprint, first);
    assert.equal(rec[`127.0.0.1:${sshd.port}`].keyType, 'ssh-ed25519');

    // the same key again: accepted from the record
    const t2 = sftp({ hostKey: 'tofu' }, { url: sshd.url, storageDir });
    try {
      assert.equal((await readAll(t2.read(`${root}/tofu.txt`))).toString(), 'first');
      assert.match(t2.connectionInfo().verifiedBy!, /^tofu, recorded /);
    } finally {
      await t2.close();
    }

    // the server comes back with another key (a reinstall, or someone in between)
    await sshd.start();
    const second = sshd.fingerprint;
    assert.notEqual(second, first);
    const acceptedBefore = (sshd.log.match(/Accepted /g) ?? []).length;
    const t3 = sftp({ hostKey: 'tofu' }, { url: sshd.url, storageDir });
    const e = await failure(t3.write(`${root}/tofu.txt`, Buffer.from('overwritten by an impostor')));
    assert.equal(e.kind, 'HostKey');
    assert.match(e.message, /HOST KEY CHANGED/);
    assert.ok(e.message.includes(first) && e.message.includes(second), e.message);
    assert.equal(readFileSync(`${root}/tofu.txt`, 'utf8'), 'first', 'nothing written');
    assert.equal((sshd.log.match(/Accepted /g) ?? []).length, acceptedBefore, 'the server saw no login');
    assert.equal(JSON.parse(readFileSync(store, 'utf8'))[`127.0.0.1:${sshd.port}`].fingerprint, first, 'the record is kept');
    await t3.close();
  });

  it('a pin refused by this server never reaches authentication (server side: no login attempt)', async () => {
    const before = sshd.log;
    const e = await failure(sftp({ hostKey: env!.sftpHostKeySha256 }, { url: sshd.url }).list('/'));
    assert.equal(e.kind, 'HostKey');
    assert.ok(e.message.includes(sshd.fingerprint) && e.message.includes(env!.sftpHostKeySha256));
    await sleep(100);
    const fresh = sshd.log.slice(before.length);
    assert.doesNotMatch(fresh, /Accepted|Failed|Invalid user|authenticat/i, fresh);
  });

  it('a key with a passphrase works; the passphrase is in no log line and no error', async () => {
    const cap = captureLogger();
    const t = sftp({ privateKey: join(keysDir, 'locked'), passphrase: PASSPHRASE, hostKey: sshd.fingerprint }, { url: sshd.url, logger: cap.logger });
    try {
      await t.mkdir(root);
      await t.write(`${root}/locked.txt`, Buffer.from('with a passphrase'));
      assert.equal(readFileSync(`${root}/locked.txt`, 'utf8'), 'with a passphrase');
    } finally {
      await t.close();
    }
    assert.match(sshd.log, /Accepted publickey for cfxftp .* ED25519 SHA256:/);
    const log = cap.text();
    assert.ok(log.length > 1000, 'trace logging was on');
    for (const form of [PASSPHRASE, encodeURIComponent(PASSPHRASE), 'c0rrect horse']) assert.ok(!log.includes(form), `the passphrase (${form}) leaked into the log`);
    // a wrong or missing passphrase is a configuration error, and says so without the passphrase
    assert.throws(
      () => sftp({ privateKey: join(keysDir, 'locked'), passphrase: 'wrong ' + PASSPHRASE, hostKey: sshd.fingerprint }, { url: sshd.url }),
      (err: Error & { code?: string }) => err.code === 'CFX_E_CONFIG_INVALID' && /cannot use the key/.test(err.message) && !err.message.includes(PASSPHRASE),
    );
    assert.throws(() => sftp({ privateKey: join(keysDir, 'locked'), hostKey: sshd.fingerprint }, { url: sshd.url }), /the key is encrypted: set serverOptions\.passphrase/);
  });

  it('password login from the URL (percent-encoded) or serverOptions.password; a wrong one is PermissionDenied and never shown', async () => {
    const byUrl = sftp({ privateKey: undefined, hostKey: sshd.fingerprint }, { url: `sftp://cfxftp:cfxftp@127.0.0.1:${sshd.port}` });
    try {
      assert.ok(Array.isArray(await byUrl.list('/')));
    } finally {
      await byUrl.close();
    }
    const byOption = sftp({ privateKey: undefined, password: 'cfxftp', hostKey: sshd.fingerprint }, { url: sshd.url });
    try {
      assert.ok(Array.isArray(await byOption.list('/')));
    } finally {
      await byOption.close();
    }
    const WRONG = 'Wr0ng/p@ss wörd';
    const cap = captureLogger();
    const bad = sftp({ privateKey: undefined, hostKey: sshd.fingerprint }, { url: `sftp://cfxftp:${encodeURIComponent(WRONG)}@127.0.0.1:${sshd.port}`, logger: cap.logger });
    const e = await failure(bad.list('/'));
    assert.equal(e.kind, 'PermissionDenied', e.message);
    assert.match(e.message, /authentication methods failed/);
    for (const text of [e.message, JSON.stringify(e.details), cap.text()]) {
      assert.ok(!text.includes(WRONG) && !text.includes(encodeURIComponent(WRONG)) && !text.includes('Wr0ng'), 'the password leaked');
    }
    await bad.close();
  });
});
