import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'cfx-cli-'));
}

const SECRET = 'S3cr3t-pa55!';

function write(dir: string, yaml: string): void {
  writeFileSync(join(dir, 'cfx.yaml'), yaml);
}

describe('cfx CLI (foundation)', () => {
  it('--help documents the commands and the exit codes; --version prints the version', async () => {
    const dir = workdir();
    const h = await runCli(['--help'], { cwd: dir });
    assert.equal(h.code, 0);
    for (const word of ['init', 'config', 'plugins', 'status', 'pull', 'catalog', 'run', 'Exit codes:', '130']) assert.ok(h.out.includes(word), `--help mentions ${word}`);
    const v = await runCli(['--version'], { cwd: dir });
    assert.equal(v.code, 0);
    assert.match(v.out.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('plugins list --json shows the six built-in packages and only what they really serve', async () => {
    const r = await runCli(['plugins', 'list', '--json'], { cwd: workdir() });
    assert.equal(r.code, 0, r.err);
    const byPkg = Object.fromEntries(r.json().plugins.map((p: any) => [p.packageName, p]));
    for (const pkg of ['@cfx/transport-ftp', '@cfx/transport-sftp', '@cfx/transport-nats', '@cfx/format-csv', '@cfx/format-xml', '@cfx/backoffice-1c']) assert.ok(byPkg[pkg], `${pkg} listed`);
    assert.deepEqual(byPkg['@cfx/transport-ftp'].contributes.transports, ['ftp', 'ftps']);
    assert.deepEqual(byPkg['@cfx/format-csv'].contributes.formats, ['csv']);
    assert.deepEqual(byPkg['@cfx/core'].contributes.transports, ['memory']);
    for (const p of r.json().plugins) if (p.id !== 'core') assert.equal(p.state, 'inactive', `${p.id}: list imports no plugin code`);
  });

  it('init writes a commented config that passes config check', async () => {
    const dir = workdir();
    const r = await runCli(['init', '--role', 'terminal'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    assert.match(readFileSync(join(dir, 'cfx.yaml'), 'utf8'), /#/);
    const again = await runCli(['init'], { cwd: dir });
    assert.equal(again.code, 2, 'refuses to overwrite without --force');
    const c = await runCli(['config', 'check'], { cwd: dir, env: { CFX_FTP_PASSWORD: 'x' } });
    assert.equal(c.code, 0, c.err + c.out);
    assert.match(c.out, /OK — terminal /);
  });

  it('config check reports every problem as path: message with exit 2', async () => {
    const dir = workdir();
    write(
      dir,
      `role: terminal
terminal: box-1
server: ftp://cfx:\${CFX_NOT_SET}@127.0.0.1:2121
colour: blue
prices:
  dir: /ftpbox/{terminal}
  poll: true
sales:
  connections: many
`,
    );
    const r = await runCli(['config', 'check'], { cwd: dir, env: {} });
    assert.equal(r.code, 2);
    const lines = r.err.split('\n');
    const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `expected a line matching ${re} in:\n${r.err}`);
    has(/^\s*server: .*CFX_NOT_SET/);
    has(/^\s*colour: .*unknown key/);
    has(/^\s*prices\.poll: /);
    has(/^\s*sales\.connections: /);
  });

  it('never prints the password: config check, --json, status, logs', async () => {
    const dir = workdir();
    write(
      dir,
      `role: terminal
terminal: box-1
server: ftp://cfx:\${CFX_FTP_PASSWORD}@127.0.0.1:1
timeout: 3s
log: { level: debug, file: ./cfx.log }
`,
    );
    const env = { CFX_FTP_PASSWORD: SECRET };
    const outputs: string[] = [];
    for (const args of [['config', 'check', '--print'], ['config', 'check', '--json'], ['status'], ['status', '--json']]) {
      const r = await runCli(args, { cwd: dir, env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      outputs.push(r.out, r.err);
    }
    // a pull against a closed port fails and logs; the log must not carry the password either
    const p = await runCli(['pull'], { cwd: dir, env: { ...env } });
    outputs.push(p.out, p.err);
    assert.equal(p.code, 1);
    const log = existsSync(join(dir, 'cfx.log')) ? readFileSync(join(dir, 'cfx.log'), 'utf8') : '';
    outputs.push(log);
    for (const o of outputs) {
      assert.ok(!o.includes(SECRET), `password leaked in: ${o.slice(0, 500)}`);
      assert.ok(!o.includes(encodeURIComponent(SECRET)), 'url-encoded password leaked');
    }
    assert.ok(outputs.join('\n').includes('***'), 'redaction marker shown');
  });

  it('status on a cold start imports no plugin code', async () => {
    const dir = workdir();
    const pdir = join(dir, 'marker-plugin');
    mkdirSync(pdir);
    writeFileSync(join(pdir, 'package.json'), JSON.stringify({ name: 'cfx-marker', version: '1.0.0', type: 'module', main: 'index.js', engines: { cfx: '^1.0.0' }, cfx: { apiVersion: 1, contributes: { formats: ['marker'] } } }));
    writeFileSync(join(pdir, 'index.js'), `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(join(pdir, 'imported'))}, 'x'); export function activate(ctx) { ctx.registerFormat({ id: 'marker', create: () => ({ id: 'marker', extension: 'm' }) }); }`);
    write(dir, `role: terminal\nterminal: box-1\nserver: memory://cold\nplugins: [./marker-plugin]\nprices: { format: marker }\n`);
    const r = await runCli(['status', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.json().terminal, 'box-1');
    assert.equal(existsSync(join(pdir, 'imported')), false, 'status imported plugin code');
    const s = await runCli(['plugins', 'status', '--json'], { cwd: dir });
    assert.equal(s.json().plugins.find((p: any) => p.id === 'cfx-marker').state, 'active');
    assert.equal(existsSync(join(pdir, 'imported')), true);
  });

  it('plugins status shows a plugin whose activate throws as failed, with the cause', async () => {
    const dir = workdir();
    const pdir = join(dir, 'bad-plugin');
    mkdirSync(pdir);
    writeFileSync(join(pdir, 'package.json'), JSON.stringify({ name: 'cfx-bad', version: '1.0.0', type: 'module', main: 'index.js', engines: { cfx: '^1.0.0' }, cfx: { apiVersion: 1, contributes: { formats: ['bad'] } } }));
    writeFileSync(join(pdir, 'index.js'), `export function activate() { throw new Error('licence file missing'); }`);
    write(dir, `role: terminal\nterminal: box-1\nserver: memory://x\nplugins: [./bad-plugin]\n`);
    const r = await runCli(['plugins', 'status', '--json'], { cwd: dir });
    assert.equal(r.code, 1);
    const bad = r.json().plugins.find((p: any) => p.id === 'cfx-bad');
    assert.equal(bad.state, 'failed');
    assert.match(bad.error.message, /licence file missing/);
    assert.equal(r.json().plugins.find((p: any) => p.id === 'format-csv').state, 'active', 'other plugins still work');
  });
});
