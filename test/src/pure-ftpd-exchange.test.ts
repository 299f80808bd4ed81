// The terminal's price pull and sales push over the second FTP server, pure-ftpd, whose MLSD listing
// basic-ftp prefers to LIST: exact mtimes, and dot files (another client's upload in progress) listed.
// The office uploads through vsftpd into the same directory tree, as two servers on one disk.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realServers, freshRemoteDir, ftpRootPath, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, cp1251Csv, officeClient } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : process.getuid?.() !== 0 ? 'the pure-ftpd exchange tests read the server disk (need root)' : false;
const env = servers as ServersEnv;

const bases: string[] = [];
function freshBase(label: string): string {
  const b = freshRemoteDir(`pure-${label}`);
  bases.push(b);
  return b;
}
after(() => {
  for (const b of bases) rmSync(ftpRootPath(b, env), { recursive: true, force: true });
});

const onServer = (remote: string) => readdirSync(ftpRootPath(remote, env)).sort();

describe('price pull and sales push over pure-ftpd (MLSD)', { skip }, () => {
  it('pulls the price file and leaves another upload in progress (a dot name MLSD shows) alone', async () => {
    const d = terminalDeployment({ server: env.pureFtpdUrl, remoteBase: freshBase('prices') });
    const office = officeClient(env);
    try {
      await office.drop(d.inbox, 'prices-001.full.csv', cp1251Csv(['code;barcodes;name;price;unit;weighed', '1;4820000000011;Квиток дорослий;350,00;шт;0', '2;;Кава американо;45,50;шт;0']));
      // half an upload of the next file: it must be neither taken nor deleted
      await office.write(`${d.inbox}/.prices-002.csv.part`, Buffer.from('code;name;price\r\n3;Чай'));
    } finally {
      await office.close();
    }
    const res = await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(res.code, 0, res.err);
    assert.deepEqual(res.json().files.map((f: { name: string; result: string; records?: number }) => [f.name, f.result, f.records]), [['prices-001.full.csv', 'applied', 2]]);
    assert.deepEqual(onServer(d.inbox), ['.prices-002.csv.part'], 'the applied file is deleted, the upload in progress is untouched');
    const app = openApp(d, 'ro');
    try {
      assert.equal(app.store.catalogCount(), 2);
      assert.equal(app.store.getProduct('1')!.price, 35000);
      assert.equal(app.store.getProduct('1')!.name, 'Квиток дорослий');
      assert.equal(app.store.getProduct('2')!.price, 4550);
    } finally {
      await app.close();
    }
  });

  it('20 sales pushed under their names, then a resend overwrites them in place', async () => {
    const base = freshBase('sales');
    const salesDir = `${base}/sales`;
    const d = terminalDeployment({ server: env.pureFtpdUrl, remoteBase: base, extra: `sales: { dir: ${salesDir}, format: csv }\n` });
    const sales = Array.from({ length: 20 }, (_, i) => saleJson(i + 1, `2025-03-${String(1 + (i % 10)).padStart(2, '0')}`));
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify(sales));
    assert.equal((await runCli(['sale', 'add', 'batch.json', '--json', '-c', d.config], { cwd: d.dir })).code, 0);
    const push = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(push.code, 0, push.err);
    assert.equal(push.json().sent, 20);
    const names = sales.map((s) => `box-1_${s.saleId}.csv`).sort();
    assert.deepEqual(onServer(salesDir), names, 'one file per sale, no temp names left');
    const before = readFileSync(ftpRootPath(`${salesDir}/box-1_S000004.csv`, env));
    const resend = await runCli(['resend', '--from', '2025-03-04', '--to', '2025-03-04', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(resend.code, 0, resend.err);
    assert.deepEqual([...resend.json().names].sort(), ['box-1_S000004.csv', 'box-1_S000014.csv']);
    assert.deepEqual(onServer(salesDir), names, 'the same names, nothing added');
    assert.ok(readFileSync(ftpRootPath(`${salesDir}/box-1_S000004.csv`, env)).equals(before));
    assert.equal((await runCli(['push', '--json', '-c', d.config], { cwd: d.dir })).json().sent, 0);
  });
});
