// A file server that lies (issue 16): its listings hold names that climb out of the dir
// (`x/../../other/prices.csv`, `a\..\b.csv`, `..`, a control character) and a file listed at 10
// bytes that sends 40 MiB. ftp-srv on 127.0.0.1 resolves the paths it is sent as a real server
// would — `/inbox/box-1/x/../../other/prices.csv` IS `/other/prices.csv` there — and records every
// read, delete and rename. The terminal (`cfx pull`) and the office (`cfx collect`) touch nothing
// outside their dirs, write nothing past their limits, and `cfx status --json` names what they skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileSystem, FtpSrv } from 'ftp-srv';
import { terminalDeployment } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';

const MiB = 1024 * 1024;
const HUGE = 40 * MiB;
/** names the listing of each dir adds: none of them is a file there */
const LIES = ['x/../../other/prices.csv', 'a\\..\\b.csv', '..', 'evil\u0001.csv'];
const OTHER = 'code;barcodes;name;price\n9;;Чужий товар;1,00\n';

interface Op {
  op: 'read' | 'delete' | 'rename';
  /** the path as cfx sent it */
  arg: string;
  /** where the server resolved it */
  at: string;
}

/** what the lying server did: every read/delete/rename, and how much of a huge file it sent */
interface Spy {
  ops: Op[];
  /** dir (as the server resolves it) → names its listing adds */
  lies: Map<string, string[]>;
  /** paths whose content is 40 MiB, whatever their size on disk and in the listing */
  huge: Set<string>;
  sent: number;
}

function hugeStream(spy: Spy): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x31);
  let left = HUGE;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      left -= chunk.length;
      spy.sent += chunk.length;
      this.push(chunk);
    },
  });
}

class LyingFs extends FileSystem {
  constructor(
    connection: ConstructorParameters<typeof FileSystem>[0],
    opts: { root: string; cwd: string },
    private readonly spy: Spy,
  ) {
    super(connection, opts);
  }

  private at(p: string): string {
    return (this as unknown as { _resolvePath(p: string): { clientPath: string } })._resolvePath(p).clientPath;
  }

  override async list(path = '.'): Promise<unknown[]> {
    const real = (await super.list(path)) as unknown[];
    const lies = this.spy.lies.get(this.at(path)) ?? [];
    const mtime = new Date(Date.now() - 3_600_000);
    return [...real, ...lies.map((name) => ({ name, size: 40, mtime, mode: 0o100644, isDirectory: () => false }))];
  }

  override read(fileName: string, opts?: { start?: unknown }): Promise<unknown> {
    const at = this.at(fileName);
    this.spy.ops.push({ op: 'read', arg: fileName, at });
    if (this.spy.huge.has(at)) return Promise.resolve({ stream: hugeStream(this.spy), clientPath: at });
    return super.read(fileName, opts);
  }

  override delete(path: string): Promise<unknown> {
    this.spy.ops.push({ op: 'delete', arg: path, at: this.at(path) });
    return super.delete(path);
  }

  override rename(from: string, to: string): Promise<unknown> {
    this.spy.ops.push({ op: 'rename', arg: from, at: this.at(from) }, { op: 'rename', arg: to, at: this.at(to) });
    return super.rename(from, to);
  }
}

/** every file under `dir` (recursively) */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

describe('a file server that lies: names that climb out, sizes that lie (ftp-srv on loopback)', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'cfx-hostile-'));
  const ftpRoot = join(root, 'ftp');
  const spy: Spy = { ops: [], lies: new Map(), huge: new Set(), sent: 0 };
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;
  const quiet = { child: () => quiet, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
  let ftp: FtpSrv;
  let server = '';

  before(async () => {
    for (const d of ['inbox/box-1', 'other', 'sales/box-1']) mkdirSync(join(ftpRoot, d), { recursive: true });
    writeFileSync(join(ftpRoot, 'other', 'prices.csv'), OTHER);
    writeFileSync(join(ftpRoot, 'other', 'box-1_S1.csv'), 'another terminal\n');
    const pasvMin = 50_000 + Math.floor(Math.random() * 10_000);
    const before = new Set(SIGNALS.flatMap((sig) => process.listeners(sig)));
    ftp = new FtpSrv({ url: 'ftp://127.0.0.1:0', pasv_url: '127.0.0.1', pasv_min: pasvMin, pasv_max: pasvMin + 99, log: quiet as never, greeting: 'a server that lies' });
    // ftp-srv hooks the signals to "close and exit 0": not in a test process
    for (const sig of SIGNALS) for (const l of process.listeners(sig)) if (!before.has(l)) process.off(sig, l);
    ftp.on('login', ({ connection, username, password }, resolve, reject) => {
      if (username === 'cfx' && password === 'lies') resolve({ fs: new LyingFs(connection, { root: ftpRoot, cwd: '/' }, spy) });
      else reject(new Error('wrong user or password'));
    });
    await ftp.listen();
    const port = ((ftp as unknown as { server: Server }).server.address() as { port: number }).port;
    server = `ftp://cfx:\${CFX_FTP_PASSWORD}@127.0.0.1:${port}`;
  });

  after(async () => {
    await ftp?.close().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  const env = { CFX_FTP_PASSWORD: 'lies' };

  /** no read, delete or rename reached anything outside `dir` on the server */
  function assertStayedIn(dir: string): void {
    const outside = spy.ops.filter((o) => !o.at.startsWith(`${dir}/`));
    assert.deepEqual(outside, [], `touched outside ${dir}`);
    assert.equal(readFileSync(join(ftpRoot, 'other', 'prices.csv'), 'utf8'), OTHER, "the other dir's file is still there, unchanged");
    assert.ok(existsSync(join(ftpRoot, 'other', 'box-1_S1.csv')));
  }

  function assertNothingPast(limit: number, dataDir: string): void {
    for (const sub of ['staging', 'quarantine', 'archive']) {
      for (const f of filesUnder(join(dataDir, sub))) assert.ok(statSync(f).size <= limit, `${f}: ${statSync(f).size} bytes, the limit is ${limit}`);
    }
  }

  it('the terminal: takes its own file, skips the names that climb out, stops the 40 MiB file at prices.maxFileSize', async () => {
    spy.ops.length = 0;
    spy.sent = 0;
    spy.lies.set('/inbox/box-1', LIES);
    spy.huge.add('/inbox/box-1/huge.csv');
    // on the server's disk huge.csv is 10 bytes: the listing says 10, the download sends 40 MiB
    writeFileSync(join(ftpRoot, 'inbox/box-1/huge.csv'), '0123456789');
    writeFileSync(join(ftpRoot, 'inbox/box-1/prices_1.csv'), 'code;barcodes;name;price\n1;;Кава;45,50\n');
    const d = terminalDeployment({ server, remoteBase: '/inbox', prices: { maxFileSize: '1MB' } });

    const r = await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir, env });
    assert.equal(r.code, 3, `${r.out}\n${r.err}`);
    const out = r.json() as { files: { name: string; result: string; reason?: Record<string, unknown> }[] };
    assert.deepEqual(out.files.map((f) => [f.name, f.result]).sort(), [['huge.csv', 'quarantined'], ['prices_1.csv', 'applied']]);
    const q = out.files.find((f) => f.name === 'huge.csv')!;
    assert.equal(q.reason?.code, 'CFX_E_FILE_TOO_LARGE');
    assert.match(String(q.reason?.message), /larger than its listing \(10 bytes\) \/ over the limit: the server sent more than 1048576 bytes \(prices\.maxFileSize\)/);
    assert.ok(spy.sent < HUGE, `the read was aborted: ${spy.sent} of ${HUGE} bytes sent`);

    assertStayedIn('/inbox/box-1');
    assertNothingPast(MiB, join(d.dir, 'data'));
    assert.deepEqual(readdirSync(join(ftpRoot, 'inbox/box-1', 'rejected')), ['huge.csv'], 'the big file was moved aside in its own dir');

    // a second pull: the same names are not warned about again
    assert.equal((await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir, env })).code, 0);
    const warned = readFileSync(join(d.dir, 'cfx.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('not a plain name'))
      .map((l) => (JSON.parse(l) as { name: string }).name);
    const reached = warned.filter((n) => LIES.includes(n));
    assert.deepEqual([...new Set(reached)].sort(), [...reached].sort(), 'one warning per name, over two pulls');
    // basic-ftp drops ".." itself; every other lie reaches cfx
    for (const n of LIES.filter((x) => x !== '..')) assert.ok(reached.includes(n), `${JSON.stringify(n)} warned about`);

    const st = await runCli(['status', '--json', '-c', d.config], { cwd: d.dir, env });
    assert.equal(st.code, 0, st.err);
    const u = (st.json() as { unsafeNames?: { count: number; jobs: Record<string, { count: number; names: { dir: string; name: string }[] }> } }).unsafeNames;
    assert.ok(u, st.out);
    assert.deepEqual(u.jobs['prices.pull']!.names.map((n) => n.name).sort(), [...reached].sort());
    assert.equal(u.jobs['prices.pull']!.names[0]!.dir, '/inbox/box-1');
    assert.equal(u.count, reached.length);
    const text = await runCli(['status', '-c', d.config], { cwd: d.dir, env });
    assert.match(text.out, /unsafe +\d name\(s\) on the server skipped/);
    assert.ok(!text.out.includes('\u0001'), 'a control character is shown escaped, never printed');
  });

  it('the office: collects only from its dirs, stops a 40 MiB sale file at sales.maxFileSize, and names what it skipped', async () => {
    spy.ops.length = 0;
    spy.sent = 0;
    spy.lies.set('/sales/box-1', ['../../other/box-1_S1.csv', 'a\\..\\box-1_S2.csv', 'box-1_\u0007.csv']);
    spy.huge.add('/sales/box-1/box-1_S3.csv');
    writeFileSync(join(ftpRoot, 'sales/box-1/box-1_S3.csv'), '0123456789');
    const dir = mkdtempSync(join(root, 'office-'));
    const config = join(dir, 'cfx.yaml');
    writeFileSync(
      config,
      `role: office
terminals: [box-1]
dataDir: ./data
server: ${server}
timeout: 10s
sales: { dir: "/sales/{terminal}", format: csv, maxFileSize: 64KB }
backoffice: { use: generic, options: { outDir: ./out } }
log: { level: info, file: ./cfx.log }
`,
    );
    const r = await runCli(['collect', '--json', '-c', config], { cwd: dir, env });
    assert.equal(r.code, 3, `${r.out}\n${r.err}`);
    const out = r.json() as { files: { name: string; result: string; reason?: Record<string, unknown> }[] };
    assert.deepEqual(out.files.map((f) => [f.name, f.result, f.reason?.code]), [['box-1_S3.csv', 'quarantined', 'CFX_E_FILE_TOO_LARGE']]);
    assert.ok(spy.sent < HUGE, `the read was aborted: ${spy.sent} of ${HUGE} bytes sent`);
    assertStayedIn('/sales/box-1');
    assertNothingPast(64 * 1024, join(dir, 'data'));
    const st = await runCli(['status', '--json', '-c', config], { cwd: dir, env });
    const u = (st.json() as { unsafeNames?: { jobs: Record<string, { names: { name: string }[] }> } }).unsafeNames;
    assert.deepEqual(u?.jobs['sales.collect']?.names.map((n) => n.name).sort(), ['../../other/box-1_S1.csv', 'a\\..\\box-1_S2.csv', 'box-1_\u0007.csv'].sort());
    assert.ok(!existsSync(join(dir, 'out')) || readdirSync(join(dir, 'out')).length === 0, 'nothing delivered');
  });
});
