// The terminal's price pull and sales push end to end over SFTP (real OpenSSH sshd), checked on the
// server's disk: the same jobs as over FTP, only `server:` and `serverOptions` differ.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PricePull, silentLogger, type App, type Transport } from '@cfx/core';
import { createSftpTransport } from '@cfx/transport-sftp';
import { pullAll } from './helpers/transport.js';
import { realServers, namesIn, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, cp1251Csv } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : process.getuid?.() !== 0 ? 'the SFTP exchange tests read the server disk (need root)' : false;
const env = servers as ServersEnv;

const bases: string[] = [];
/** a fresh remote base: SFTP is not chrooted, so remote paths are real paths under sftpRoot */
function freshBase(label: string): string {
  const b = `${env.sftpRoot}/cfx-test/sftp-x-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
  bases.push(b);
  return b;
}
after(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});

const serverOptions = () => `serverOptions: { privateKey: "${env.sftpKey}", hostKey: "${env.sftpHostKeySha256}" }\n`;

/** files (not temp names) in a server dir, read straight from the server's disk (SFTP paths are real paths) */
const onServer = (dir: string) => namesIn(dir, {}, `${dir} on the SFTP server`).filter((n) => !n.startsWith('.'));


describe('price pull and sales push over SFTP (OpenSSH)', { skip }, () => {
  // the office side: another SFTP client, uploading the way cfx does (temp name, then rename)
  let office: Transport;
  const drop = async (dir: string, name: string, data: Buffer) => {
    await office.mkdir(dir);
    await office.write(`${dir}/.${name}.part`, data);
    await office.rename(`${dir}/.${name}.part`, `${dir}/${name}`);
  };
  before(() => {
    office = createSftpTransport({ url: new URL(env.sftpUrl), options: { privateKey: env.sftpKey, hostKey: env.sftpHostKeySha256 }, logger: silentLogger(), timeoutMs: 10_000 });
  });
  after(() => office?.close());

  it('a full price file is applied, archived byte-identical, and deleted on the server', async () => {
    const d = terminalDeployment({ server: env.sftpUrl, remoteBase: freshBase('prices'), extra: serverOptions() });
    const rows = ['code;barcodes;name;price;unit;weighed', '1;4820000000011;Квиток дорослий;350,00;шт;0', '2;4820000000028,4820000000035;Квиток дитячий;175,00;шт;0', '3;;Кава американо;45,50;шт;0'];
    for (let i = 4; i <= 5000; i++) rows.push(`${i};482${String(i).padStart(10, '0')};Товар ${i};${i % 1000},${String(i % 100).padStart(2, '0')};шт;0`);
    const full = cp1251Csv(rows);
    await drop(d.inbox, 'prices-001.full.csv', full);
    assert.deepEqual(onServer(d.inbox), ['prices-001.full.csv'], 'on the server disk before the pull');
    let app: App | undefined = openApp(d);
    try {
      const pull = new PricePull({ config: app.config, store: app.store, transport: await app.transport(), format: await app.host.format('csv', app.config.prices.options), logger: app.logger });
      const r = await pullAll(pull);
      assert.deepEqual(r.map((f) => [f.name, f.result, (f as { records?: number }).records]), [['prices-001.full.csv', 'applied', 5000]]);
      assert.equal(app.store.catalogCount(), 5000);
      const p2 = app.store.getProduct('2')!;
      assert.equal(p2.name, 'Квиток дитячий');
      assert.equal(p2.price, 17500);
      assert.deepEqual([...p2.barcodes].sort(), ['4820000000028', '4820000000035']);
      assert.equal(app.store.findByBarcode('4820000004321')?.code, '4321');
      assert.deepEqual(onServer(d.inbox), [], 'the applied file is gone from the server');
      assert.ok(existsSync(d.inbox), 'the inbox itself stays');
      assert.ok(readFileSync((r[0] as { archived: string }).archived).equals(full), 'the archive copy is byte-identical');
      // the plugin host ran the sftp plugin: it is active and the connection was checked against the pin
      assert.equal(app.host.list().find((p) => p.id.includes('sftp'))?.state, 'active');
    } finally {
      await app.close();
      app = undefined;
    }
    // the CLI path: a second file through `cfx pull`
    await drop(d.inbox, 'prices-002.csv', cp1251Csv(['code;barcodes;name;price;deleted', '2;4820000000028;Квиток дитячий;180,50;0', '3;;;;1']));
    await new Promise((r) => setTimeout(r, 300));
    let res = await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir });
    for (let i = 0; i < 5 && res.code === 0 && res.json().files.length === 0; i++) res = await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(res.code, 0, res.err);
    assert.deepEqual(res.json().files.map((f: { name: string; result: string }) => [f.name, f.result]), [['prices-002.csv', 'applied']]);
    assert.deepEqual(onServer(d.inbox), []);
    app = openApp(d, 'ro');
    try {
      assert.equal(app.store.getProduct('2')!.price, 18050);
      assert.equal(app.store.getProduct('3'), undefined);
      assert.equal(app.store.catalogCount(), 4999);
    } finally {
      await app.close();
    }
  });

  it('50 sales pushed: one file each under its deterministic name, byte-identical to the local copies', async () => {
    const base = freshBase('sales');
    const salesDir = `${base}/sales`;
    const d = terminalDeployment({ server: env.sftpUrl, remoteBase: base, extra: `${serverOptions()}sales: { dir: ${salesDir}, format: csv }\n` });
    const sales = Array.from({ length: 50 }, (_, i) => saleJson(i + 1, `2025-03-${String(1 + (i % 20)).padStart(2, '0')}`));
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify(sales));
    const rec = await runCli(['sale', 'add', 'batch.json', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(rec.code, 0, rec.err);
    const push = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(push.code, 0, push.err);
    assert.equal(push.json().sent, 50);
    assert.equal(push.json().left, 0);
    const names = onServer(salesDir);
    assert.deepEqual(names, sales.map((s) => `box-1_${s.saleId}.csv`).sort());
    assert.deepEqual(readdirSync(salesDir).filter((n) => n.startsWith('.')), [], 'no temp names left behind');
    const archive = join(d.dir, 'data', 'archive', 'sales');
    let compared = 0;
    for (const day of readdirSync(archive)) {
      for (const f of readdirSync(join(archive, day))) {
        assert.ok(readFileSync(join(archive, day, f)).equals(readFileSync(`${salesDir}/${f}`)), f);
        compared++;
      }
    }
    assert.equal(compared, 50);
    assert.match(readFileSync(`${salesDir}/box-1_S000007.csv`, 'utf8'), /^H;S000007;box-1;2025-03-07T17:07:00\+02:00;sale;7;7;Олена;;;;;;;;;720\.00\r$/m);
    // a resend overwrites (posix-rename over the existing file) instead of failing or duplicating
    const before = readFileSync(`${salesDir}/box-1_S000003.csv`);
    const resend = await runCli(['resend', '--from', '2025-03-03', '--to', '2025-03-03', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(resend.code, 0, resend.err);
    assert.deepEqual([...resend.json().names].sort(), ['box-1_S000003.csv', 'box-1_S000023.csv', 'box-1_S000043.csv']);
    assert.deepEqual(onServer(salesDir), names, 'the same names, nothing added');
    assert.ok(readFileSync(`${salesDir}/box-1_S000003.csv`).equals(before));
    const again = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(again.json().sent, 0, 'a second push sends nothing');
  });
});
