// The plugin SDK end to end: the conformance kit against the built-in csv format, the test host,
// `cfx plugin new` (scaffold → build → its test fails → stubs filled → the kit passes), `cfx plugins
// check`, the third-party `file://` example packed, installed from its tarball and used by a price
// pull and a sales push, a plugin that throws on every call under `cfx run`, and the API report.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import iconv from 'iconv-lite';
import Database from 'better-sqlite3';
import { API_VERSION } from '@cfx/core/api';
import { createTestHost, describeFormatConformance, SAMPLE_PRODUCTS, type TestHost } from '@cfx/core/testing';
import { createCsvFormat } from '@cfx/format-csv';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CORE = join(REPO, 'core');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const EXAMPLE = join(REPO, 'examples', 'transport-file');
const work = mkdtempSync(join(tmpdir(), 'cfx-sdk-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** a child process to its end: `stdout` alone, `out` with stderr after it (for messages) */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** offline, what `npm install` would link into a scaffold: the file: core, and the repo's @types/node */
function linkOffline(dir: string): void {
  mkdirSync(join(dir, 'node_modules', '@cfx'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(CORE, join(dir, 'node_modules', '@cfx', 'core'), 'dir');
  symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
}

/** node --test on a package's compiled tests, in a child (the way its author runs `npm test`) */
const nodeTest = (dir: string) => run(process.execPath, ['--test', 'dist/test/'], dir);

// ------------------------------------------------------------------------------------------------
// 1. the format kit against the built-in csv

const cyrillic = SAMPLE_PRODUCTS.filter((p) => p.code !== '1002'); // no quotes: written by hand below
const csvText = ['code;barcodes;name;price', ...cyrillic.map((p) => `${p.code};${p.barcodes.join(',')};${p.name};${(p.price / 100).toFixed(2).replace('.', ',')}`)].join('\r\n') + '\r\n';

const SALE_HEADER = 'record;saleId;terminal;time;kind;shift;receiptNo;cashier;code;barcode;name;qty;price;discount;amount;payment;total';

describeFormatConformance('csv (@cfx/format-csv)', {
  create: () => createCsvFormat(),
  malformed: [
    { name: 'a price that is not a number', bytes: 'code;barcodes;name;price\r\n1;;Чай;30,00\r\n2;;Кава;abc\r\n', line: 3, field: 'price' },
    { name: 'a header without price', bytes: 'code;barcodes;name\r\n1;;Чай\r\n', line: 1, field: 'price' },
    { name: 'a row with too few fields', bytes: 'code;barcodes;name;price\r\n1;;Чай\r\n', line: 2 },
    {
      name: 'a sale row that is not H, L or P',
      kind: 'sales',
      bytes: `${SALE_HEADER}\r\nH;S1;box-1;2025-03-15T10:00:00+02:00;sale;;;;;;;;;;;;1.00\r\nX;S1;;;;;;;;;;;;;;;\r\n`,
      line: 3,
      field: 'record',
    },
  ],
  encodings: [
    { encoding: 'cp1251', bytes: iconv.encode(csvText, 'win1251'), products: cyrillic.map((p) => ({ ...p, barcodes: [...p.barcodes] })) },
    { encoding: 'cp1251', bytes: iconv.encode(csvText, 'win1251'), options: { encoding: 'cp1251' }, products: cyrillic.map((p) => ({ ...p, barcodes: [...p.barcodes] })) },
    { encoding: 'auto', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csvText, 'utf8')]), products: cyrillic.map((p) => ({ ...p, barcodes: [...p.barcodes] })) },
  ],
});

// ------------------------------------------------------------------------------------------------
// 2. the test host: the real host, a memory:// server, a temp store

describe('createTestHost', () => {
  let th: TestHost;
  before(async () => {
    th = await createTestHost({ baseDir: REPO });
  });
  after(async () => {
    await th?.close();
  });

  it('runs the price pull and the sales push in-process against memory://', async () => {
    assert.match(th.config.server, /^memory:\/\/cfx-test-/);
    await th.put(`${th.inbox}/prices-001.full.csv`, iconv.encode(csvText, 'win1251'));
    const files = await th.pull();
    assert.deepEqual(files.map((f) => [f.name, f.result]), [['prices-001.full.csv', 'applied']]);
    assert.equal(th.store.catalogCount(), cyrillic.length);
    assert.equal(th.store.getProduct('1003')?.name, 'Ґудзик є ї і — Ёё');
    assert.deepEqual(await th.ls(th.inbox), [], 'applied and removed from the server');

    th.recordSale(saleJson(1));
    const pushed = await th.push();
    assert.equal(pushed.sent, 1);
    assert.deepEqual(await th.ls(th.salesDir), ['box-1_S000001.csv']);
    assert.match((await th.get(`${th.salesDir}/box-1_S000001.csv`)).toString('utf8'), /^H;S000001;box-1;/m);

    const st = await th.cli(['status', '--json']);
    assert.equal(st.code, 0, st.err);
    assert.equal(st.json().catalog.products, cyrillic.length);
  });
});

// ------------------------------------------------------------------------------------------------
// 3. cfx plugin new → build → test fails → stubs filled → the conformance kit passes

/** the test's own minimal in-memory implementation, one method at a time, put where the TODOs were */
const FILL: Record<string, string> = {
  'connection state': `private static readonly files = new Map<string, { dir: boolean; data: Buffer; mtime: Date }>([['/', { dir: true, data: Buffer.alloc(0), mtime: new Date() }]]);
  private get fs() {
    return DemoTransport.files;
  }
  private static norm(p: string): string {
    const n = posix.normalize('/' + p);
    return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
  }
  private static abort(opts: CallOptions | undefined, path: string): void {
    if (opts?.signal?.aborted) throw new TransportError('Aborted', 'aborted', { path });
  }`,
  'list()': `DemoTransport.abort(opts, dir);
    const d = DemoTransport.norm(dir);
    if (!this.fs.get(d)?.dir) throw new TransportError('NotFound', 'no such dir', { path: d });
    return [...this.fs].filter(([p]) => p !== d && posix.dirname(p) === d).map(([p, n]) => ({ name: posix.basename(p), size: n.data.length, mtime: n.mtime, type: n.dir ? 'dir' : 'file' }));`,
  'read()': `const p = DemoTransport.norm(path);
    const n = this.fs.get(p);
    return Readable.from(
      (async function* () {
        DemoTransport.abort(opts, p);
        if (!n || n.dir) throw new TransportError('NotFound', 'no such file', { path: p });
        for (let i = 0; i < n.data.length; i += 65536) yield n.data.subarray(i, i + 65536);
      })(),
    );`,
  'write()': `const p = DemoTransport.norm(path);
    DemoTransport.abort(opts, p);
    if (!this.fs.get(posix.dirname(p))?.dir) throw new TransportError('NotFound', 'no such dir', { path: p });
    const chunks: Buffer[] = [];
    if (data instanceof Uint8Array) chunks.push(Buffer.from(data));
    else
      for await (const c of data) {
        DemoTransport.abort(opts, p);
        chunks.push(Buffer.from(c as Uint8Array));
      }
    DemoTransport.abort(opts, p);
    const buf = Buffer.concat(chunks);
    this.fs.set(p, { dir: false, data: buf, mtime: new Date() });
    return buf.length;`,
  'rename()': `DemoTransport.abort(opts, from);
    const [f, t] = [DemoTransport.norm(from), DemoTransport.norm(to)];
    const n = this.fs.get(f);
    if (!n || n.dir) throw new TransportError('NotFound', 'no such file', { path: f });
    if (!this.fs.get(posix.dirname(t))?.dir) throw new TransportError('NotFound', 'no such dir', { path: t });
    this.fs.delete(f);
    this.fs.set(t, n);`,
  'delete()': `DemoTransport.abort(opts, path);
    const p = DemoTransport.norm(path);
    if (!this.fs.get(p) || this.fs.get(p)!.dir) throw new TransportError('NotFound', 'no such file', { path: p });
    this.fs.delete(p);`,
  'mkdir()': `DemoTransport.abort(opts, path);
    let cur = '/';
    for (const part of DemoTransport.norm(path).split('/').filter(Boolean)) {
      cur = posix.join(cur, part);
      const n = this.fs.get(cur);
      if (n && !n.dir) throw new TransportError('AlreadyExists', 'a file is in the way', { path: cur });
      if (!n) this.fs.set(cur, { dir: true, data: Buffer.alloc(0), mtime: new Date() });
    }`,
  'close()': '// nothing held open',
};

describe('cfx plugin new transport demo', () => {
  const demo = join(work, 'demo');

  it('scaffolds outside the repo a package that builds, whose test fails until the TODOs are done, and passes the kit once they are', async () => {
    const r = await runCli(['plugin', 'new', 'transport', 'demo', '--dir', demo, '--core', CORE, '--json'], { cwd: work });
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual(r.json().files.sort(), ['.gitignore', 'README.md', 'package.json', 'src/index.ts', 'test/conformance.test.ts', 'test/manifest.test.ts', 'tsconfig.json']);
    const pkg = JSON.parse(readFileSync(join(demo, 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'cfx-transport-demo');
    assert.deepEqual(pkg.cfx, { apiVersion: 1, contributes: { transports: ['demo'] }, configSchema: pkg.cfx.configSchema });
    assert.equal(pkg.cfx.configSchema.demo.properties.password['x-secret'], true);
    assert.equal(pkg.engines.cfx, '^1.0.0');
    assert.equal(pkg.devDependencies['@cfx/core'], `file:${CORE}`);
    assert.ok(pkg.peerDependencies['@cfx/core']);
    const again = await runCli(['plugin', 'new', 'transport', 'demo', '--dir', demo], { cwd: work });
    assert.equal(again.code, 2, 'a non-empty dir is not overwritten');

    // offline: what `npm install` would link (the file: core, and the repo's typescript + @types/node)
    linkOffline(demo);

    const build = run(process.execPath, [TSC, '-p', demo], demo);
    assert.equal(build.code, 0, `the scaffold builds:\n${build.out}`);
    const failing = nodeTest(demo);
    assert.notEqual(failing.code, 0, 'its test fails while the stubs throw');
    assert.match(failing.out, /TODO: mkdir\(\)/);
    assert.match(failing.out, /# pass 1\b/, 'only the manifest test passes');

    // fill the stubs
    const file = join(demo, 'src', 'index.ts');
    let src = readFileSync(file, 'utf8');
    src = src.replace("import { Readable } from 'node:stream';", "import { posix } from 'node:path';\nimport { Readable } from 'node:stream';");
    for (const [what, body] of Object.entries(FILL)) {
      const re = what === 'connection state' ? /\/\/ TODO: connection state[^\n]*/ : new RegExp(`throw new Error\\('TODO: ${what.replace(/[()]/g, '\\$&')}[^\\n]*`);
      assert.match(src, re, `the stub of ${what}`);
      src = src.replace(re, body);
    }
    assert.doesNotMatch(src, /TODO/);
    writeFileSync(file, src);
    const rebuild = run(process.execPath, [TSC, '-p', demo], demo);
    assert.equal(rebuild.code, 0, `builds with the stubs filled:\n${rebuild.out}`);
    const passing = nodeTest(demo);
    assert.equal(passing.code, 0, `the conformance kit passes:\n${passing.out.slice(-3000)}`);
    assert.match(passing.out, /# fail 0/);

    const check = await runCli(['plugins', 'check', demo], { cwd: work });
    assert.equal(check.code, 0, check.out + check.err);
    assert.match(check.out, /OK: cfx-transport-demo loads and activates in the plugin host; declared == registered/);
  });
});

// ------------------------------------------------------------------------------------------------
// 4. cfx plugins check: every problem in one run

describe('cfx plugins check', () => {
  it('reports a wrong engines range, an undeclared contribution and a schema error at once, exit 2', async () => {
    const dir = join(work, 'bad-plugin');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'cfx-transport-bad',
        version: '1.0.0',
        type: 'module',
        main: 'index.js',
        engines: { cfx: '^2.0.0' },
        peerDependencies: { '@cfx/core': '>=0.1.0' },
        cfx: { apiVersion: 1, contributes: { transports: ['bad'] }, configSchema: { bad: { type: 'object', properties: { port: { type: 'integr' } } } } },
      }),
    );
    writeFileSync(
      join(dir, 'index.js'),
      `const t = { create() { throw new Error('not used'); } };
export function activate(ctx) {
  ctx.registerTransport({ ...t, schemes: ['bad', 'extra'] });
}
`,
    );
    const r = await runCli(['plugins', 'check', dir, '--json'], { cwd: work });
    assert.equal(r.code, 2, r.out + r.err);
    const rep = r.json();
    assert.equal(rep.ok, false);
    const msgs = rep.problems.map((p: { code: string; message: string }) => `${p.code} ${p.message}`);
    assert.equal(msgs.length, 3, msgs.join('\n'));
    assert.ok(msgs[0]!.startsWith(`CFX_E_PLUGIN_ENGINE engines.cfx "^2.0.0" does not match this cfx's plugin API ${API_VERSION}`), msgs[0]);
    assert.match(msgs[1], /^CFX_E_PLUGIN_MANIFEST cfx\.configSchema\.bad is not a valid option schema .*type/);
    assert.match(msgs[2], /^CFX_E_PLUGIN_CONTRIBUTION activate\(\) registers transport "extra", which the manifest does not declare/);
    assert.deepEqual(rep.registered.transport, ['bad', 'extra']);
    // the same in words for a person
    const text = await runCli(['plugins', 'check', dir], { cwd: work });
    assert.equal(text.code, 2);
    assert.match(text.out, /3 problem\(s\):\n {2}✗ engines\.cfx/);
    // and a missing plugin
    const none = await runCli(['plugins', 'check', join(work, 'nowhere')], { cwd: work });
    assert.equal(none.code, 2);
    assert.match(none.out, /CFX_E_PLUGIN_NOT_FOUND/);
  });
});

// ------------------------------------------------------------------------------------------------
// 5. the third-party example: packed, installed from the tarball, used by a pull and a push;
// 6. a plugin that throws on every call under `cfx run`

describe('examples/transport-file, installed from its tarball', () => {
  const deploy = join(work, 'deploy');
  const exchange = join(work, 'exchange');
  const cfxBin = join(deploy, 'node_modules', '.bin', 'cfx');
  const cfx = (args: string[], cwd = deploy) => run(process.execPath, [cfxBin, ...args], cwd);
  let tarball = '';

  before(() => {
    // npm pack runs the package's prepack (tsc), exactly as its author would publish it
    const pack = run('npm', ['pack', '--json', '--pack-destination', work], EXAMPLE);
    assert.equal(pack.code, 0, pack.out);
    tarball = join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    mkdirSync(deploy);
    writeFileSync(join(deploy, 'package.json'), JSON.stringify({ name: 'till-deployment', private: true }));
    // offline: @cfx/core is linked from this checkout (what the peer dependency needs), the plugin comes from the tarball
    const inst = run('npm', ['install', '--no-audit', '--no-fund', '--offline', CORE, tarball], deploy);
    assert.equal(inst.code, 0, inst.out);
  });

  it('passes the transport conformance suite (its own npm test)', () => {
    const r = nodeTest(EXAMPLE);
    assert.equal(r.code, 0, r.out.slice(-3000));
    assert.match(r.out, /transport conformance: file:\/\//);
    assert.match(r.out, /# fail 0/);
  });

  it('holds only the built code and a manifest; installs with no dependency of its own', () => {
    const listed = run('tar', ['-tzf', tarball], work).stdout.trim().split('\n').sort();
    assert.deepEqual(listed, ['package/README.md', 'package/dist/src/file-transport.d.ts', 'package/dist/src/file-transport.js', 'package/dist/src/index.d.ts', 'package/dist/src/index.js', 'package/package.json']);
    const installed = JSON.parse(readFileSync(join(deploy, 'node_modules', 'cfx-transport-file', 'package.json'), 'utf8'));
    assert.equal(installed.dependencies, undefined);
    assert.deepEqual(Object.keys(installed.peerDependencies), ['@cfx/core']);
    assert.ok(!existsSync(join(deploy, 'node_modules', 'cfx-transport-file', 'node_modules')));
  });

  it('cfx plugins check accepts the installed package by name', () => {
    const r = cfx(['plugins', 'check', 'cfx-transport-file', '--json']);
    assert.equal(r.code, 0, r.out);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.ok, true);
    assert.equal(rep.hostActivated, true);
    assert.deepEqual(rep.registered.transport, ['file']);
  });

  it('a price pull and a sales push over file:// from the tarball', () => {
    mkdirSync(join(exchange, 'inbox', 'box-1'), { recursive: true });
    writeFileSync(
      join(deploy, 'cfx.yaml'),
      `role: terminal
terminal: box-1
dataDir: ./data
server: ${pathToFileURL(exchange).href}
serverOptions: { fsync: true }
plugins: [cfx-transport-file]
prices: { dir: "/inbox/{terminal}", poll: 100ms }
sales: { dir: /sales, format: csv }
log: { level: warn, file: ./cfx.log }
`,
    );
    writeFileSync(join(exchange, 'inbox', 'box-1', 'prices-001.full.csv'), iconv.encode(csvText, 'win1251'));
    const pull = cfx(['pull', '--json']);
    assert.equal(pull.code, 0, pull.out);
    assert.deepEqual(JSON.parse(pull.stdout).files.map((f: { name: string; result: string }) => [f.name, f.result]), [['prices-001.full.csv', 'applied']]);
    assert.deepEqual(readdirSync(join(exchange, 'inbox', 'box-1')), [], 'the price file left the folder');
    const cat = cfx(['catalog', '--code', '1001', '--json']);
    assert.equal(JSON.parse(cat.stdout).price, '350.00');

    writeFileSync(join(deploy, 'sale.json'), JSON.stringify(saleJson(1)));
    const add = cfx(['sale', 'add', 'sale.json', '--json']);
    assert.equal(add.code, 0, add.out);
    const push = cfx(['push', '--json']);
    assert.equal(push.code, 0, push.out);
    assert.equal(JSON.parse(push.stdout).sent, 1);
    assert.deepEqual(readdirSync(join(exchange, 'sales')), ['box-1_S000001.csv'], 'the sale file, and no temp file, in the folder');
    assert.match(readFileSync(join(exchange, 'sales', 'box-1_S000001.csv'), 'utf8'), /^H;S000001;box-1;/m);
  });

  it('a plugin that throws on every call does not take `cfx run` down: its job fails naming it, the sales push goes on', async () => {
    // a format plugin whose every method throws, used for prices; sales stay on csv
    const boom = join(deploy, 'boom');
    mkdirSync(boom);
    writeFileSync(
      join(boom, 'package.json'),
      JSON.stringify({ name: 'cfx-format-boom', version: '1.0.0', type: 'module', main: 'index.js', engines: { cfx: '^1.0.0' }, cfx: { apiVersion: 1, contributes: { formats: ['boom'] } } }),
    );
    writeFileSync(
      join(boom, 'index.js'),
      `const fail = (what) => () => { throw new Error('boom: ' + what); };
export function activate(ctx) {
  ctx.registerFormat({ id: 'boom', create: () => ({
    id: 'boom', extension: 'boom',
    decodePrices: fail('decodePrices'), encodePrices: fail('encodePrices'), encodeSale: fail('encodeSale'), decodeSales: fail('decodeSales'),
  }) });
}
`,
    );
    const runDir = join(deploy, 'run');
    const ex = join(work, 'exchange-run');
    mkdirSync(join(ex, 'inbox', 'box-1'), { recursive: true });
    mkdirSync(runDir);
    writeFileSync(
      join(runDir, 'cfx.yaml'),
      `role: terminal
terminal: box-1
dataDir: ./data
server: ${pathToFileURL(ex).href}
plugins: [cfx-transport-file, ../boom]
prices: { dir: "/inbox/{terminal}", poll: 100ms, format: boom }
sales: { dir: /sales, format: csv }
log: { level: info, file: ./cfx.log }
`,
    );
    writeFileSync(join(ex, 'inbox', 'box-1', 'prices.boom'), 'whatever');
    writeFileSync(join(ex, 'inbox', 'box-1', 'prices.boom.done'), '');
    const daemon = spawn(process.execPath, [cfxBin, 'run'], { cwd: runDir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    daemon.stdout.on('data', (c) => (out += c));
    daemon.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((r) => daemon.on('close', (code) => r(code)));
    try {
      const status = () => JSON.parse(cfx(['status', '--json'], runDir).stdout);
      const until = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 150; i++) {
          if (daemon.exitCode !== null) assert.fail(`cfx run exited (${daemon.exitCode}) while waiting for ${what}:\n${out}`);
          if (ok()) return;
          await sleep(100);
        }
        assert.fail(`timed out waiting for ${what}\n${out}\n${readFileSync(join(runDir, 'cfx.log'), 'utf8').slice(-2000)}`);
      };
      await until('the failed price pull', () => existsSync(join(runDir, 'data', 'journal.db')) && status().lastRuns?.['prices.pull']?.last.result === 'failed');
      // a sale journaled meanwhile (by another process, as a till does) is still pushed by the running service
      writeFileSync(join(runDir, 'sale.json'), JSON.stringify(saleJson(2)));
      assert.equal(cfx(['sale', 'add', 'sale.json'], runDir).code, 0);
      await until('the sale on the server', () => existsSync(join(ex, 'sales', 'box-1_S000002.csv')));
      const st = status();
      const pullRun = st.lastRuns['prices.pull'].last;
      assert.equal(pullRun.result, 'failed');
      assert.match(pullRun.error.message, /plugin cfx-format-boom \(format\.decodePrices\): boom: decodePrices/);
      assert.equal(pullRun.error.code, 'CFX_E_PLUGIN_CALL');
      await until('the push recorded', () => status().lastRuns?.['sales.push']?.last.result === 'ok');
      const human = cfx(['status'], runDir).stdout;
      assert.match(human, /prices\.pull last failed .*plugin cfx-format-boom/);
      assert.equal(daemon.exitCode, null, 'cfx run is still running');
      assert.ok(existsSync(join(ex, 'inbox', 'box-1', 'prices.boom')), 'the price file stays on the server for a later cycle');
    } finally {
      daemon.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `cfx run stops cleanly on SIGTERM:\n${out}`);
  });
  it('a plugin whose create() throws does not stop `cfx run` at start either: its job fails, the service stays up', async () => {
    const dir = join(deploy, 'run-create');
    mkdirSync(join(dir, 'boom'), { recursive: true });
    writeFileSync(join(dir, 'boom', 'package.json'), JSON.stringify({ name: 'cfx-format-boom2', version: '1.0.0', type: 'module', main: 'index.js', engines: { cfx: '^1.0.0' }, cfx: { apiVersion: 1, contributes: { formats: ['boom2'] } } }));
    writeFileSync(join(dir, 'boom', 'index.js'), `export function activate(ctx) { ctx.registerFormat({ id: 'boom2', create: () => { throw new Error('boom: create'); } }); }\n`);
    writeFileSync(join(dir, 'cfx.yaml'), `role: terminal\nterminal: box-1\ndataDir: ./data\nserver: memory://create-boom\nplugins: [./boom]\nprices: { dir: "/inbox/{terminal}", poll: 100ms, format: boom2 }\nlog: { level: warn }\n`);
    const daemon = spawn(process.execPath, [cfxBin, 'run'], { cwd: dir, env: { PATH: process.env.PATH }, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => daemon.on('close', (code) => r(code)));
    try {
      const status = () => JSON.parse(cfx(['status', '--json'], dir).stdout);
      let failed = false;
      for (let i = 0; i < 150 && !failed && daemon.exitCode === null; i++) {
        await sleep(100);
        failed = existsSync(join(dir, 'data', 'journal.db')) && status().lastRuns?.['prices.pull']?.last.result === 'failed';
      }
      assert.equal(daemon.exitCode, null, 'cfx run exited at start');
      assert.ok(failed, 'the price pull recorded its failure');
      const last = status().lastRuns['prices.pull'].last;
      assert.match(last.error.message, /cfx-format-boom2.*boom: create/);
      assert.equal(daemon.exitCode, null, 'cfx run is still running');
    } finally {
      daemon.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });
});

// ------------------------------------------------------------------------------------------------
// 7. the API report

it('the plugin API report is up to date (core/api-report/cfx-core-api.d.ts)', () => {
  const r = run(process.execPath, [join(REPO, 'scripts', 'update-api-report.mjs'), '--check'], REPO);
  assert.equal(r.code, 0, `${r.out}\nThe public plugin API changed. If intended: npm run build && node scripts/update-api-report.mjs`);
});

// ------------------------------------------------------------------------------------------------
// 6. a job plugin, scaffolded and built unchanged, runs on a cron entry of `cfx run` and is recorded once per run
describe('cfx plugin new job stock.upload', () => {
  const dir = join(work, 'job');
  const bin = join(REPO, 'core', 'bin', 'cfx.js');
  const cli = (args: string[], cwd: string) => run(process.execPath, [bin, ...args], cwd);

  it('scaffolds a job plugin whose own test passes unchanged; cfx plugins check accepts it', async () => {
    const r = await runCli(['plugin', 'new', 'job', 'stock.upload', '--dir', dir, '--core', CORE, '--json'], { cwd: work });
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual(r.json().files.sort(), ['.gitignore', 'README.md', 'package.json', 'src/index.ts', 'test/job.test.ts', 'test/manifest.test.ts', 'tsconfig.json']);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.cfx, { apiVersion: 1, contributes: { jobs: ['stock.upload'] } });
    assert.equal(pkg.engines.cfx, '^1.1.0');
    linkOffline(dir);
    const build = run(process.execPath, [TSC, '-p', dir], dir);
    assert.equal(build.code, 0, `the scaffold builds:\n${build.out}`);
    const t = nodeTest(dir);
    assert.equal(t.code, 0, t.out.slice(-3000));
    assert.match(t.out, /# pass 2\b/);
    const check = await runCli(['plugins', 'check', dir], { cwd: work });
    assert.equal(check.code, 0, check.out + check.err);
  });

  it('an unknown job in schedule fails cfx config check with exit 2 naming it and the path', () => {
    const d = join(work, 'job-unknown');
    mkdirSync(d);
    writeFileSync(join(d, 'cfx.yaml'), `role: terminal\nterminal: box-1\ndataDir: ./data\nserver: memory://x\nplugins: [${dir}]\nschedule:\n  - { job: stock.uplaod, cron: "0 3 * * *" }\n`);
    const r = cli(['config', 'check'], d);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /schedule\.0\.job: unknown job "stock\.uplaod" \(did you mean "stock\.upload"\?\)/);
  });

  it('runs every second under cfx run; each run is one row in cfx status --json lastRuns, with the summary it returned', async () => {
    const d = join(work, 'job-run');
    mkdirSync(d);
    writeFileSync(
      join(d, 'cfx.yaml'),
      `role: terminal\nterminal: box-1\ndataDir: ./data\nserver: memory://job-run\nplugins: [${dir}]\nprices: { poll: 1h }\nschedule:\n  - { job: stock.upload, cron: "* * * * * *" }\nlog: { level: info, file: ./cfx.log }\n`,
    );
    const daemon = spawn(process.execPath, [bin, 'run'], { cwd: d, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    daemon.stdout.on('data', (c) => (out += c));
    daemon.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((r) => daemon.on('close', (code) => r(code)));
    const status = () => JSON.parse(cli(['status', '--json'], d).stdout);
    try {
      let st: any;
      for (let i = 0; ; i++) {
        if (daemon.exitCode !== null) assert.fail(`cfx run exited (${daemon.exitCode}):\n${out}`);
        st = existsSync(join(d, 'data', 'journal.db')) ? status() : undefined;
        if (st?.lastRuns?.['stock.upload']?.last?.details?.previous) break; // the second run: it saw the first
        if (i > 300) assert.fail(`timed out waiting for two runs of stock.upload:\n${out}`);
        await sleep(100);
      }
      const last = st.lastRuns['stock.upload'].last;
      assert.equal(last.result, 'ok');
      assert.equal(last.details.products, 0);
      assert.match(last.details.previous, /^\d{4}-\d{2}-\d{2}T/);
    } finally {
      daemon.kill('SIGTERM');
      assert.equal(await exited, 0, out);
    }
    // once per run: as many rows as the job logged runs (its own log line), each with its summary
    const ran = readFileSync(join(d, 'cfx.log'), 'utf8').split('\n').filter((l) => l.includes('"msg":"stock.upload ran"')).length;
    const db = new Database(join(d, 'data', 'journal.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT result, details FROM runs WHERE job = 'stock.upload'").all() as { result: string; details: string }[];
      assert.ok(ran >= 2, `ran ${ran} times`);
      assert.equal(rows.length, ran);
      assert.deepEqual([...new Set(rows.map((r) => r.result))], ['ok']);
      assert.ok(rows.every((r) => JSON.parse(r.details).products === 0));
    } finally {
      db.close();
    }
    assert.equal(JSON.parse(cli(['status', '--json'], d).stdout).lastRuns['prices.pull'], undefined, 'an idle poll records nothing');
  });
});
