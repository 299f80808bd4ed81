// The release as a shop installs it: `npm run release`'s tarballs installed with `npm install -g`
// into a temp prefix, outside any checkout, then the installed `cfx` run against a real vsftpd.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { realServers, freshRemoteDir, type ServersEnv } from './helpers/servers.js';
import { officeClient } from './helpers/deploy.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

describe('the release installed with npm install -g, run against vsftpd', { skip }, () => {
  let work: string;
  let prefix: string;
  let cfxBin: string;
  let office: ReturnType<typeof officeClient>;
  let childEnv: NodeJS.ProcessEnv;

  before(async () => {
    // realpath: /tmp may be a link, and the plugin dirs are compared with the prefix
    work = realpathSync(mkdtempSync(join(tmpdir(), 'cfx-release-')));
    const pkgs = join(work, 'pkgs');
    const packed = spawnSync(process.execPath, [join(REPO, 'scripts/release.mjs'), '--out', pkgs], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(packed.status, 0, packed.stderr);
    const tarballs = readFileSync(join(pkgs, 'FILES'), 'utf8').trim().split('\n');
    assert.equal(tarballs.length, 7, `cfx + core + five plugins: ${tarballs.join(', ')}`);
    prefix = join(work, 'prefix');
    // all tarballs at once; the registry's packages come from npm's cache where the repo's `npm ci`
    // put them (--prefer-offline); better-sqlite3 builds its addon (npm 11 asks to allow its script)
    const t0 = Date.now();
    const inst = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--allow-scripts=better-sqlite3', ...tarballs.map((f) => `./${f}`)], {
      cwd: pkgs,
      encoding: 'utf8',
      timeout: 540_000,
      env: { ...process.env, npm_config_loglevel: 'warn' },
    });
    assert.equal(inst.status, 0, `npm install -g failed:\n${inst.stdout}\n${inst.stderr}`);
    process.stderr.write(`[release-install] npm install -g took ${Math.round((Date.now() - t0) / 1000)} s\n`);
    cfxBin = join(prefix, 'bin', 'cfx');
    // only the installed prefix and the system on PATH: nothing from the checkout can be found
    childEnv = { PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: work };
    office = officeClient(env);
  });
  after(async () => {
    await office?.close();
  });

  const cfx = (args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
    spawnSync(cfxBin, args, { cwd, env: { ...childEnv, ...extra }, encoding: 'utf8', timeout: 60_000 });

  it('--version, plugins list (the five built-ins, from the install), init, config check, pull, status, doctor, run', async () => {
    const version = cfx(['--version'], work);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);

    const plugins = cfx(['--json', 'plugins', 'list'], work);
    assert.equal(plugins.status, 0, plugins.stderr);
    const list = (JSON.parse(plugins.stdout) as { plugins: { packageName: string; dir: string; state: string }[] }).plugins;
    const builtins = ['@cfx/transport-ftp', '@cfx/transport-sftp', '@cfx/format-csv', '@cfx/format-xml', '@cfx/backoffice-1c'];
    assert.deepEqual(list.map((p) => p.packageName).filter((n) => n !== '@cfx/core').sort(), [...builtins].sort());
    for (const p of list.filter((x) => x.packageName !== '@cfx/core')) assert.ok(p.dir.startsWith(prefix), `${p.packageName} found in the install (${p.dir}), not the checkout`);

    const dir = join(work, 'till');
    mkdirSync(dir);
    const init = cfx(['init', '--role', 'terminal'], dir);
    assert.equal(init.status, 0, init.stderr);
    const remote = freshRemoteDir('release');
    const u = new URL(env.ftpUrl);
    const yaml = readFileSync(join(dir, 'cfx.yaml'), 'utf8')
      .replace(/^server: .*$/m, `server: "ftp://${u.username}:\${CFX_FTP_PASSWORD}@${u.host}"`)
      .replace(/^ {2}dir: "\/ftpbox\/\{terminal\}".*$/m, `  dir: "${remote}/{terminal}"`)
      // the template's per-terminal sales dir (/ftpbox/{terminal}/sales), under this test's base
      .replace(/^ {2}dir: "?\/ftpbox\/(\{terminal\}\/)?sales"?.*$/m, `  dir: "${remote}/{terminal}/sales"`)
      .replace(/^ {2}poll: 1s .*$/m, '  poll: 200ms')
      .replace(/^ {2}# file: \.\/cfx\.log .*$/m, '  file: ./cfx.log');
    assert.match(yaml, new RegExp(`${remote}/\\{terminal\\}`), 'the template has the keys this test edits');
    writeFileSync(join(dir, 'cfx.yaml'), yaml);
    const secrets = { CFX_FTP_PASSWORD: u.password };
    const check = cfx(['config', 'check'], dir, secrets);
    assert.equal(check.status, 0, check.stderr + check.stdout);
    assert.match(check.stdout, /OK — terminal till-01/);

    const inbox = `${remote}/till-01`;
    await office.mkdir(`${remote}/till-01/sales`);
    await office.drop(inbox, 'prices-001.full.csv', 'code;barcodes;name;price\n1;4820000000011;Квиток дорослий;350,00\n2;;Кава;45,50\n');
    const pull = cfx(['pull'], dir, secrets);
    assert.equal(pull.status, 0, pull.stderr + pull.stdout);
    assert.match(pull.stdout, /applied {6}prices-001\.full\.csv/);

    const status = cfx(['--json', 'status'], dir, secrets);
    assert.equal(status.status, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { catalog: { products: number } }).catalog.products, 2);
    const cat = cfx(['--json', 'catalog', '--code', '1'], dir, secrets);
    assert.equal((JSON.parse(cat.stdout) as { price: string; name: string }).price, '350.00');

    const doctor = cfx(['doctor'], dir, secrets);
    assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
    assert.match(doctor.stdout, /^OK +store\.catalog +catalog(-\d+)?\.db: integrity_check ok$/m);

    // the service: a new file is taken while it runs; SIGTERM stops it cleanly
    const run = spawn(cfxBin, ['run'], { cwd: dir, env: { ...childEnv, ...secrets }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    run.stderr.on('data', (c) => (err += c));
    const exited = new Promise<number | null>((r) => run.on('close', (code) => r(code)));
    try {
      await office.drop(inbox, 'prices-002.csv', 'code;barcodes;name;price\n3;;Чай;30\n');
      const until = Date.now() + 30_000;
      for (;;) {
        const s = JSON.parse(cfx(['--json', 'status'], dir, secrets).stdout) as { catalog: { products: number } };
        if (s.catalog.products === 3) break;
        assert.ok(Date.now() < until, `cfx run did not take prices-002.csv within 30 s:\n${err}`);
        await sleep(200);
      }
    } finally {
      run.kill('SIGTERM');
    }
    assert.equal(await exited, 0, err);
    assert.ok(readdirSync(dir).some((n) => /^cfx\.\d{4}-\d{2}-\d{2}\.\d+\.log$/.test(n)), 'log.file rotates from the install too');
    assert.match(readFileSync(join(dir, 'cfx.log'), 'utf8'), /prices-002\.csv/);
  });
});
