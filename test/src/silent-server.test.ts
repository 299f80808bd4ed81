// A server that never answers: one that accepts the TCP connection and then says nothing, one that
// sends the FTP greeting and then nothing, and a relay to the real vsftpd (or sshd) that stops
// answering in the middle of a transfer. `cfx pull` and `cfx push` (real child processes) end on
// their own with exit 1 and CFX_E_TRANSPORT_TIMEOUT / _UNAVAILABLE — within `timeout`, though only
// a 30 s guard on the child is asserted, never a duration — and nothing is half-applied: the
// catalog is what it was, the sale is still pending, no sale file under its final name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realServers, freshRemoteDir, ftpRootPath, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, officeClient, cfxProcess, type Deployment, type ProcResult } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';
import { silentServer, stallingFtpRelay, stallingTcpRelay } from './helpers/silent.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

const ENDED = ['CFX_E_TRANSPORT_TIMEOUT', 'CFX_E_TRANSPORT_UNAVAILABLE'];
const GUARD_MS = 30_000;
const FIRST = 'code;barcodes;name;price\n1;4820000000011;Квиток дорослий;350,00\n2;;Кава;45,50\n';
/** about 1 MiB: a download that is still running when the relay stops passing bytes */
const BIG = 'code;barcodes;name;price\n' + Array.from({ length: 30_000 }, (_, i) => `${100000 + i};;Товар номер ${i} з довгою назвою для обсягу;${i % 1000},${String(i % 100).padStart(2, '0')}\n`).join('');

/** the real `cfx` in a child process; SIGKILLed after GUARD_MS (a guard: the test fails if it fires) */
async function cfx(d: Deployment, args: string[]): Promise<ProcResult & { killed: boolean }> {
  const p = cfxProcess([...args, '-c', d.config], { cwd: d.dir });
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    p.child.kill('SIGKILL');
  }, GUARD_MS);
  const r = await p.done;
  clearTimeout(guard);
  return { ...r, killed };
}

/** the deployment's server (and its serverOptions) replaced; timeout 3s */
function pointAt(d: Deployment, server: string, serverOptions = ''): void {
  const yaml = readFileSync(d.config, 'utf8')
    .replace(/^server: .*$/m, `server: ${server}`)
    .replace(/^timeout: .*$/m, 'timeout: 3s')
    .replace(/^serverOptions: .*\n/m, '');
  writeFileSync(d.config, yaml + serverOptions);
}

function assertEndedWithTimeout(r: ProcResult & { killed: boolean }, what: string): void {
  assert.equal(r.killed, false, `${what}: still running after ${GUARD_MS} ms`);
  assert.equal(r.code, 1, `${what}: exit code\n${r.out}\n${r.err}`);
  const code = JSON.parse(r.out).error?.code;
  assert.ok(ENDED.includes(code), `${what}: error code ${code}\n${r.out}`);
}

async function catalog(d: Deployment): Promise<unknown> {
  const r = await runCli(['catalog', '--json', '--limit', '1000', '-c', d.config], { cwd: d.dir });
  assert.equal(r.code, 0, r.err);
  return r.json();
}

describe('a server that never answers (FTP)', { skip, timeout: 240_000 }, () => {
  const ftp = skip ? undefined : new URL(env.ftpUrl);
  const userinfo = ftp ? `${ftp.username}:${ftp.password}` : '';
  /**
   * `check(what)` with the deployment pointed at each FTP server that goes quiet: after accepting,
   * after the greeting, inside the transfer (`transfer` names it); the relay must have stalled
   */
  async function eachQuietServer(d: Deployment, transfer: string, check: (what: string) => Promise<void>): Promise<void> {
    const silent = await silentServer();
    const greeting = await silentServer('220 cfx test server ready\r\n');
    const relay = await stallingFtpRelay({ host: ftp!.hostname, port: Number(ftp!.port) });
    try {
      for (const [what, port] of [['accepts, then silence', silent.port], ['greeting, then silence', greeting.port], [transfer, relay.port]] as const) {
        pointAt(d, `ftp://${userinfo}@127.0.0.1:${port}`);
        await check(what);
      }
      assert.ok(relay.stalled(), `the relay stopped: ${transfer}`);
    } finally {
      await Promise.all([silent.close(), greeting.close(), relay.close()]);
    }
  }
  let office: ReturnType<typeof officeClient>;
  before(() => {
    office = officeClient(env);
  });
  after(async () => {
    await office?.close();
  });

  it('cfx pull: silent after accepting, silent after the greeting, silent mid-download: exit 1, timeout error, the catalog as it was', async () => {
    const remote = freshRemoteDir('silent-pull');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: remote });
    await office.drop(d.inbox, 'prices-001.csv', FIRST);
    pointAt(d, env.ftpUrl);
    const first = await cfx(d, ['pull', '--json']);
    assert.equal(first.code, 0, first.err);
    const before = await catalog(d);
    await office.drop(d.inbox, 'prices-002.csv', BIG);

    await eachQuietServer(d, 'silent mid-download', async (what) => {
      assertEndedWithTimeout(await cfx(d, ['pull', '--json']), what);
      assert.deepEqual(await catalog(d), before, `${what}: the catalog changed`);
    });
    // the file was left where it was: the next pull from the real server takes it whole
    pointAt(d, env.ftpUrl);
    const again = await cfx(d, ['pull', '--json']);
    assert.equal(again.code, 0, again.out + again.err);
    assert.equal(((await catalog(d)) as { total: number }).total, 30_002, 'the two products of the first file and the 30,000 of the second (a delta)');
  });

  it('cfx push: silent after accepting, after the greeting, and with the upload never confirmed: exit 1, the sale still pending, no file under its final name', async () => {
    const remote = freshRemoteDir('silent-push');
    const salesDir = `${remote}/sales`;
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: remote, extra: `sales: { dir: ${salesDir}, format: csv }\n` });
    await office.mkdir(salesDir);
    writeFileSync(join(d.dir, 'sale.json'), JSON.stringify(saleJson(1)));
    const finals = () => readdirSync(ftpRootPath(salesDir, env)).filter((n) => !n.startsWith('.'));
    // journaled locally: `sale add` needs no server
    const add = await cfx(d, ['sale', 'add', 'sale.json']);
    assert.equal(add.code, 0, add.err);
    await eachQuietServer(d, 'upload never confirmed', async (what) => {
      assertEndedWithTimeout(await cfx(d, ['push', '--json']), what);
      const st = await runCli(['status', '--json', '-c', d.config], { cwd: d.dir });
      assert.equal(st.json().sales.pending, 1, `${what}: the sale is still pending`);
      assert.deepEqual(finals(), [], `${what}: no sale file under its final name`);
    });
    pointAt(d, env.ftpUrl);
    const push = await cfx(d, ['push', '--json']);
    assert.equal(push.code, 0, push.out + push.err);
    assert.equal(JSON.parse(push.out).left, 0);
    assert.equal(finals().length, 1, 'uploaded once');
  });
});

describe('a server that never answers (SFTP)', { skip, timeout: 180_000 }, () => {
  const sftp = skip ? undefined : new URL(env.sftpUrl);
  const options = () => `serverOptions: { privateKey: "${env.sftpKey}", hostKey: "${env.sftpHostKeySha256}" }\n`;

  it('cfx pull and cfx push against a silent port, and a pull whose download stalls: exit 1, timeout error, nothing applied', async () => {
    // SFTP is not chrooted: the terminal names the real paths of the dirs the office fills over FTP
    const remote = freshRemoteDir('silent-sftp');
    const d = terminalDeployment({ server: env.sftpUrl, remoteBase: `${env.sftpRoot}${remote}`, extra: `sales: { dir: ${env.sftpRoot}${remote}/sales, format: csv }\n` });
    pointAt(d, env.sftpUrl, options());
    const office = officeClient(env);
    try {
      await office.drop(`${remote}/${d.terminal}`, 'prices-001.csv', FIRST);
      await office.mkdir(`${remote}/sales`);
      const first = await cfx(d, ['pull', '--json']);
      assert.equal(first.code, 0, first.out + first.err);
      assert.equal(JSON.parse(first.out).files[0]?.result, 'applied', first.out);
      await office.drop(`${remote}/${d.terminal}`, 'prices-002.csv', BIG);
    } finally {
      await office.close();
    }
    const before = await catalog(d);
    writeFileSync(join(d.dir, 'sale.json'), JSON.stringify(saleJson(2)));
    const silent = await silentServer();
    // past the key exchange, login and listing (a few KiB), inside the 1 MiB download
    const relay = await stallingTcpRelay({ host: sftp!.hostname, port: Number(sftp!.port) }, 256 * 1024);
    try {
      pointAt(d, `sftp://${sftp!.username}@127.0.0.1:${silent.port}`, options());
      assertEndedWithTimeout(await cfx(d, ['pull', '--json']), 'sftp pull, silent');
      const add = await cfx(d, ['sale', 'add', 'sale.json']);
      assert.equal(add.code, 0, add.err);
      assertEndedWithTimeout(await cfx(d, ['push', '--json']), 'sftp push, silent');
      const st = await runCli(['status', '--json', '-c', d.config], { cwd: d.dir });
      assert.equal(st.json().sales.pending, 1);
      pointAt(d, `sftp://${sftp!.username}@127.0.0.1:${relay.port}`, options());
      assertEndedWithTimeout(await cfx(d, ['pull', '--json']), 'sftp pull, stalled mid-download');
      assert.deepEqual(await catalog(d), before, 'the catalog changed');
      assert.ok(relay.stalled(), 'the relay stopped inside the download');
    } finally {
      await Promise.all([silent.close(), relay.close()]);
    }
  });
});
