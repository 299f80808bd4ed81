// Secrets in cfx.yaml: one written in the file (not ${ENV}) is a `cfx config check` warning, an
// error with --strict; and a password or token never shows in what cfx prints, logs or serves —
// after a real login failure on vsftpd, in the CLI's output, the log file, `cfx status` and the
// admin API (status, runs, the page and its parts, metrics).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Service, silentLogger } from '@cfx/core';
import { realServers, freshRemoteDir, type ServersEnv } from './helpers/servers.js';
import { runCli } from './helpers/cli.js';
import { call } from './helpers/admin.js';
import { SwitchableRelay } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

const PASSWORD = 'Wr0ng-pa55/word@x';
const TOKEN = 'admin-token-never-shown-0123';

function deployment(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-secrets-'));
  writeFileSync(join(dir, 'cfx.yaml'), yaml);
  return dir;
}

function assertNoSecret(outputs: string[]): void {
  for (const o of outputs) {
    for (const s of [PASSWORD, encodeURIComponent(PASSWORD), TOKEN]) assert.ok(!o.includes(s), `a secret leaked in: ${o.slice(0, 400)}`);
  }
}

describe('secrets written in the file', () => {
  it('config check: exit 0 with a warning naming the key and the ${ENV} form; --strict: exit 2', async () => {
    const dir = deployment(`role: terminal
terminal: box-1
server: "ftp://cfx:${encodeURIComponent(PASSWORD)}@127.0.0.1:2121"
admin:
  token: "${TOKEN}"
`);
    const r = await runCli(['config', 'check'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /OK \(2 warnings\)/);
    assert.match(r.err, /^warning: server: the password is written in the file; use \$\{CFX_FTP_PASSWORD\} \("ftp:\/\/cfx:\$\{CFX_FTP_PASSWORD\}@127\.0\.0\.1:2121"\)/m);
    assert.match(r.err, /^warning: admin\.token: the token is written in the file; use "\$\{CFX_ADMIN_TOKEN\}"/m);
    const json = await runCli(['config', 'check', '--json'], { cwd: dir });
    assert.equal(json.code, 0);
    assert.deepEqual(json.json().warnings.map((w: any) => w.path), ['server', 'admin.token']);
    const strict = await runCli(['config', 'check', '--strict'], { cwd: dir });
    assert.equal(strict.code, 2);
    assert.match(strict.err, /^server: the password is written in the file/m);
    assert.match(strict.err, /^admin\.token: the token is written in the file/m);
    assertNoSecret([r.out, r.err, json.out, strict.out, strict.err]);

    writeFileSync(join(dir, 'cfx.yaml'), 'role: terminal\nterminal: box-1\nserver: "ftp://cfx:${CFX_FTP_PASSWORD}@127.0.0.1:2121"\nadmin:\n  token: "${CFX_ADMIN_TOKEN}"\n');
    const clean = await runCli(['config', 'check', '--strict'], { cwd: dir, env: { CFX_FTP_PASSWORD: PASSWORD, CFX_ADMIN_TOKEN: TOKEN } });
    assert.equal(clean.code, 0, clean.err);
    assert.equal(clean.err, '');
  });
});

describe('secrets never shown after a failed login', { skip, timeout: 60_000 }, () => {
  it('pull with a wrong password on vsftpd: the CLI, the log, status and the admin API carry neither password nor token', async () => {
    const port = await SwitchableRelay.freePort();
    const ftp = new URL(env.ftpUrl);
    const dir = deployment(`role: terminal
terminal: box-1
dataDir: ./data
server: "ftp://${ftp.username}:\${CFX_FTP_PASSWORD}@${ftp.host}"
timeout: 5s
prices: { dir: "${freshRemoteDir('secrets')}/{terminal}" }
log: { level: debug, file: ./cfx.log }
admin:
  listen: "127.0.0.1:${port}"
  token: "\${CFX_ADMIN_TOKEN}"
`);
    const vars = { CFX_FTP_PASSWORD: PASSWORD, CFX_ADMIN_TOKEN: TOKEN };
    const outputs: string[] = [];
    const pull = await runCli(['pull', '--json'], { cwd: dir, env: vars });
    assert.equal(pull.code, 1, pull.out + pull.err);
    assert.equal(pull.json().error.code, 'CFX_E_TRANSPORT_PERMISSION_DENIED', pull.out);
    outputs.push(pull.out, pull.err);
    for (const args of [['status'], ['status', '--json'], ['config', 'check', '--print']]) {
      const r = await runCli(args, { cwd: dir, env: vars });
      outputs.push(r.out, r.err);
    }

    const app = App.open({ configFile: join(dir, 'cfx.yaml'), env: vars, store: 'rw', logger: silentLogger() });
    const svc = new Service(app);
    await svc.start();
    try {
      const t = { base: `http://127.0.0.1:${port}` };
      const runs = await call(t, 'GET', '/api/runs');
      assert.ok(runs.json.runs.some((r: any) => r.result === 'failed' && r.error?.code), `a failed run is listed: ${runs.text}`);
      for (const p of ['/api/status', '/api/runs', '/', '/ui/cards', '/ui/log', '/metrics', '/api/auth']) outputs.push((await call(t, 'GET', p, { token: TOKEN })).text);
      // a wrong token in a request is not echoed either
      outputs.push((await call(t, 'POST', '/api/resend', { body: { from: '2025-01-01', to: '2025-01-01' }, token: `${TOKEN}x` })).text);
    } finally {
      await svc.stop();
      await app.close();
    }
    outputs.push(existsSync(join(dir, 'cfx.log')) ? readFileSync(join(dir, 'cfx.log'), 'utf8') : '');
    assert.match(outputs.join('\n'), /530|[Ll]ogin/, 'the login failure itself is reported');
    assertNoSecret(outputs);
  });
});
