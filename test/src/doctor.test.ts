// `cfx doctor` against a real vsftpd: a healthy deployment, and three broken ones that it must name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { realServers, freshRemoteDir, type ServersEnv } from './helpers/servers.js';
import { officeClient, terminalDeployment, CFX_BIN, type Deployment } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

interface Check {
  id: string;
  level: 'OK' | 'WARN' | 'FAIL';
  message: string;
  fix?: string;
}

/** a terminal whose password comes from ${CFX_FTP_PASSWORD}, as a real one's does */
function deployment(remoteBase: string, salesDir: string): Deployment {
  const u = new URL(env.ftpUrl);
  return terminalDeployment({ server: `ftp://${u.username}:\${CFX_FTP_PASSWORD}@${u.host}`, remoteBase, extra: `sales: { dir: "${salesDir}" }\n` });
}

async function doctor(dir: string, password: string): Promise<{ code: number; checks: Check[]; text: string }> {
  const r = await runCli(['--json', 'doctor'], { cwd: dir, env: { CFX_FTP_PASSWORD: password, HOME: dir } });
  const checks = (r.json() as { checks: Check[] }).checks;
  return { code: r.code, checks, text: checks.map((c) => `${c.level} ${c.id}: ${c.message}${c.fix ? ` → ${c.fix}` : ''}`).join('\n') };
}

const only = (checks: Check[], id: string) => checks.filter((c) => c.id === id);

describe('cfx doctor against vsftpd', { skip }, () => {
  let office: ReturnType<typeof officeClient>;
  let remote: string;
  before(async () => {
    office = officeClient(env);
    remote = freshRemoteDir('doctor');
    await office.mkdir(`${remote}/box-1`);
    await office.mkdir(`${remote}/sales`);
  });
  after(async () => {
    await office?.close();
  });

  it('a healthy deployment: every check OK or WARN, exit 0', async () => {
    const d = deployment(remote, `${remote}/sales`);
    // a pull first, so the SQLite files exist and get their integrity_check
    const pull = await runCli(['pull'], { cwd: d.dir, env: { CFX_FTP_PASSWORD: new URL(env.ftpUrl).password } });
    assert.equal(pull.code, 0, pull.err);
    const r = await doctor(d.dir, new URL(env.ftpUrl).password);
    assert.equal(r.code, 0, r.text);
    assert.deepEqual(r.checks.filter((c) => c.level === 'FAIL'), [], r.text);
    for (const id of ['config', 'secrets', 'plugins', 'server.reachable', 'server.login', 'dir.inbox', 'dir.sales', 'server.clock', 'data.writable', 'data.space', 'store.catalog', 'store.journal']) {
      assert.deepEqual(only(r.checks, id).map((c) => c.level), ['OK'], `${id}\n${r.text}`);
    }
    assert.match(only(r.checks, 'store.catalog')[0]!.message, /integrity_check ok/);
    assert.match(only(r.checks, 'dir.inbox')[0]!.message, /written and removed/);
    assert.deepEqual((await office.list(`${remote}/box-1`)).map((e) => e.name), [], 'the probe file is gone');
    assert.equal(only(r.checks, 'service').length, 1, 'the service is checked (here: not installed, a WARN)');
  });

  it('a wrong password: server.login FAILs with the server\'s answer, exit 1', async () => {
    const d = deployment(remote, `${remote}/sales`);
    const r = await doctor(d.dir, 'not-the-password');
    assert.equal(r.code, 1, r.text);
    const login = only(r.checks, 'server.login')[0]!;
    assert.equal(login.level, 'FAIL', r.text);
    assert.match(login.message, /530|Login incorrect/i);
    assert.match(login.fix!, /password/);
    assert.ok(!r.text.includes('not-the-password'), 'the password is not printed');
  });

  it('a missing inbox on the server: dir.inbox FAILs naming it, exit 1', async () => {
    const d = deployment(`${remote}/no-such`, `${remote}/sales`);
    const r = await doctor(d.dir, new URL(env.ftpUrl).password);
    assert.equal(r.code, 1, r.text);
    const inbox = only(r.checks, 'dir.inbox')[0]!;
    assert.equal(inbox.level, 'FAIL', r.text);
    assert.match(inbox.message, new RegExp(`${remote}/no-such/box-1 does not exist`));
    assert.equal(only(r.checks, 'dir.sales')[0]!.level, 'OK', 'the other dir is still checked');
  });

  it('SFTP: a pinned host key is OK, hostKey: tofu a WARN that says how to pin it', async () => {
    // SFTP is not chrooted: remote paths are real paths, here inside the FTP user's (shared) root
    const base = `${env.sftpRoot}${remote}/sftp`;
    mkdirSync(`${base}/box-1`, { recursive: true });
    mkdirSync(`${base}/sales`, { recursive: true });
    chmodSync(`${base}/box-1`, 0o777);
    chmodSync(`${base}/sales`, 0o777);
    for (const [hostKey, level] of [[env.sftpHostKeySha256, 'OK'], ['tofu', 'WARN']] as const) {
      const d = terminalDeployment({ server: env.sftpUrl, remoteBase: base, extra: `serverOptions: { privateKey: "${env.sftpKey}", hostKey: "${hostKey}" }\nsales: { dir: "${base}/sales" }\n` });
      const r = await doctor(d.dir, '');
      assert.equal(r.code, 0, r.text);
      const id = only(r.checks, 'server.identity')[0]!;
      assert.equal(id.level, level, r.text);
      if (level === 'WARN') assert.match(`${id.message} ${id.fix}`, /tofu.*SHA256/s);
      assert.equal(only(r.checks, 'dir.inbox')[0]!.level, 'OK', r.text);
    }
  });

  it('an unwritable data dir: data.writable FAILs naming it, exit 1', () => {
    const d = deployment(remote, `${remote}/sales`);
    const data = join(d.dir, 'data');
    mkdirSync(data);
    chmodSync(data, 0o555);
    // root writes anywhere: the check runs as an unprivileged account, as a service would
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(d.dir, 0o755);
    const r = spawnSync(process.execPath, [CFX_BIN, '--json', 'doctor'], {
      cwd: d.dir,
      env: { PATH: process.env.PATH, HOME: d.dir, CFX_FTP_PASSWORD: new URL(env.ftpUrl).password },
      encoding: 'utf8',
      timeout: 60_000,
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    const checks = (JSON.parse(r.stdout) as { checks: Check[] }).checks;
    const text = checks.map((c) => `${c.level} ${c.id}: ${c.message}`).join('\n');
    assert.equal(r.status, 1, `${text}\n${r.stderr}`);
    const w = only(checks, 'data.writable')[0]!;
    assert.equal(w.level, 'FAIL', text);
    assert.match(w.message, new RegExp(`${data} is not writable: .*EACCES`));
    assert.match(w.fix!, /write permission/);
  });
});
