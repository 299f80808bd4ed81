// Whole-system tests of the terminal's price pull against a real vsftpd on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import iconv from 'iconv-lite';
import { PricePull, type App, type FileOutcome } from '@cfx/core';
import { pullAll } from './helpers/transport.js';
import { realServers, freshRemoteDir, ftpRootPath, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, officeClient, cp1251Csv, cfxProcess, FIXTURES } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

async function puller(app: App): Promise<PricePull> {
  return new PricePull({ config: app.config, store: app.store, transport: await app.transport(), format: await app.host.format('csv', app.config.prices.options), logger: app.logger });
}


const remoteNames = (office: ReturnType<typeof officeClient>, dir: string) => office.list(dir).then((l) => l.filter((e) => e.type === 'file').map((e) => e.name).sort());

describe('price pull over real FTP (vsftpd)', { skip }, () => {
  let office: ReturnType<typeof officeClient>;
  before(() => {
    office = officeClient(env);
  });
  after(async () => {
    await office?.close();
  });

  it('applies a full file, then a delta with updates and deletes; archives each and deletes it on the server', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('full-delta') });
    const full = cp1251Csv([
      'code;barcodes;name;price;unit;weighed',
      '1;4820000000011;Квиток дорослий;350,00;шт;0',
      '2;4820000000028,4820000000035;Квиток дитячий;175,00;шт;0',
      '3;;Кава американо;45,50;шт;0',
    ]);
    await office.drop(d.inbox, 'prices-001.full.csv', full);
    const app = openApp(d);
    try {
      const p = await puller(app);
      const first = await pullAll(p);
      assert.deepEqual(first.map((f) => [f.name, f.result]), [['prices-001.full.csv', 'applied']]);
      assert.equal(app.store.catalogCount(), 3);
      const p2 = app.store.getProduct('2')!;
      assert.equal(p2.name, 'Квиток дитячий');
      assert.equal(p2.price, 17500);
      assert.deepEqual(p2.barcodes.sort(), ['4820000000028', '4820000000035']);
      assert.equal(app.store.findByBarcode('4820000000011')?.code, '1');
      assert.deepEqual(await remoteNames(office, d.inbox), [], 'the applied file is gone from the server');
      const archived = (first[0] as { archived: string }).archived;
      assert.ok(readFileSync(archived).equals(full), 'the archive copy is byte-identical');

      await office.drop(d.inbox, 'prices-002.csv', cp1251Csv(['code;barcodes;name;price;deleted', '2;4820000000028;Квиток дитячий;180,50;0', '4;;Чай;30;0', '3;;;;1']));
      const second = await pullAll(p);
      assert.deepEqual(second.map((f) => [f.name, f.result, (f as { mode?: string }).mode]), [['prices-002.csv', 'applied', 'delta']]);
      assert.equal(app.store.catalogCount(), 3);
      assert.equal(app.store.getProduct('2')!.price, 18050);
      assert.deepEqual(app.store.getProduct('2')!.barcodes, ['4820000000028']);
      assert.equal(app.store.getProduct('3'), undefined);
      assert.equal(app.store.getProduct('4')!.price, 3000);
      assert.equal(app.store.getProduct('1')!.price, 35000, 'untouched by the delta');
    } finally {
      await app.close();
    }
  });

  it('applies files in name order', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('order') });
    // uploaded newest first; the terminal must still apply 001 before 002
    await office.drop(d.inbox, 'p-002.csv', 'code;barcodes;name;price\n7;;Сік;20,00\n');
    await office.drop(d.inbox, 'p-001.csv', 'code;barcodes;name;price\n7;;Сік;10,00\n8;;Вода;12,00\n');
    const app = openApp(d);
    try {
      const r = await pullAll(await puller(app));
      assert.deepEqual(r.map((f) => f.name), ['p-001.csv', 'p-002.csv']);
      assert.equal(app.store.getProduct('7')!.price, 2000);
      assert.equal(app.store.getProduct('8')!.price, 1200);
    } finally {
      await app.close();
    }
  });

  it('takes a flagged file on first sight and removes its flag with it', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('flag') });
    await office.drop(d.inbox, 'flagged.csv', 'code;barcodes;name;price\n21;;Пиріжок;18,00\n');
    await office.drop(d.inbox, 'flagged.csv.done', '');
    await office.drop(d.inbox, 'orphan.csv.done', '');
    const app = openApp(d);
    try {
      const r = await (await puller(app)).cycle();
      assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['flagged.csv', 'applied']], 'no second listing needed');
      assert.equal(app.store.getProduct('21')!.price, 1800);
      assert.deepEqual(await remoteNames(office, d.inbox), [], 'the flag and a leftover flag are gone too');
    } finally {
      await app.close();
    }
  });

  it('does not take a file that is still growing', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('growing') });
    await office.mkdir(d.inbox);
    // written straight to its final name, the way a careless sender does
    await office.write(`${d.inbox}/growing.csv`, Buffer.from('code;barcodes;name;price\n1;;Один;1,00\n'));
    const app = openApp(d);
    try {
      const p = await puller(app);
      let r = await p.cycle();
      assert.deepEqual([r.files.length, r.waiting], [0, ['growing.csv']], 'first sight: not yet known to be complete');
      appendFileSync(ftpRootPath(`${d.inbox}/growing.csv`, env), '2;;Два;2,00\n');
      r = await p.cycle();
      assert.deepEqual([r.files.length, r.waiting], [0, ['growing.csv']], 'size changed: still being written');
      appendFileSync(ftpRootPath(`${d.inbox}/growing.csv`, env), '3;;Три;3,00\n');
      r = await p.cycle();
      assert.equal(r.files.length, 0);
      r = await p.cycle();
      assert.deepEqual(r.files.map((f) => [f.name, f.result, (f as { records?: number }).records]), [['growing.csv', 'applied', 3]]);
      assert.equal(app.store.getProduct('3')!.name, 'Три');
    } finally {
      await app.close();
    }
  });

  it('quarantines a file with a bad price on line 5000, applies none of it, and applies the next file', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('bad') });
    const rows = ['code;barcodes;name;price'];
    for (let line = 2; line <= 6000; line++) rows.push(`${100000 + line};;Товар ${line};${line === 5000 ? '12,5x' : '10,00'}`);
    await office.drop(d.inbox, 'a-bad.csv', rows.join('\n') + '\n');
    await office.drop(d.inbox, 'b-good.csv', 'code;barcodes;name;price\n9;;Булочка;15,00\n');
    await sleep(50);
    const first = await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(first.code, 3, `exit 3 when a file was quarantined: ${first.err}${first.out}`);
    const res = first.json();
    assert.deepEqual(res.files.map((f: any) => [f.name, f.result]), [['a-bad.csv', 'quarantined'], ['b-good.csv', 'applied']]);
    assert.equal(res.files[0].reason.line, 5000);
    assert.equal(res.files[0].reason.field, 'price');
    const qfile: string = res.files[0].quarantined;
    const reason = JSON.parse(readFileSync(`${qfile}.reason.json`, 'utf8'));
    assert.equal(reason.file, 'a-bad.csv');
    assert.equal(reason.line, 5000);
    assert.equal(reason.field, 'price');
    assert.equal(readFileSync(qfile, 'utf8').split('\n').length, 6001, 'the whole bad file is kept locally');
    assert.ok(existsSync(ftpRootPath(`${d.inbox}/rejected/a-bad.csv`, env)), 'moved aside on the server');
    assert.deepEqual(await remoteNames(office, d.inbox), []);
    const app = openApp(d, 'ro');
    try {
      assert.equal(app.store.catalogCount(), 1, 'nothing of the bad file was applied');
      assert.equal(app.store.getProduct('9')!.price, 1500);
      assert.equal(app.store.getProduct('100002'), undefined);
    } finally {
      await app.close();
    }
    const st = await runCli(['status', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(st.json().quarantine.count, 1);
    const text = await runCli(['status', '-c', d.config], { cwd: d.dir });
    assert.match(text.out, /catalog\s+1 products, last file b-good\.csv at \d{4}-\d{2}-\d{2}T/);
    assert.match(text.out, /quarantine 1 file/);
    assert.match(text.out, /prices\.pull\s+last partial at \d{4}-\d{2}-\d{2}T/);
  });

  it('quarantines a file over prices.maxFileSize without downloading it', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('limit') });
    writeFileSync(d.config, readFileSync(d.config, 'utf8').replace('  poll: 200ms', '  poll: 200ms\n  maxFileSize: 1KB'));
    await office.drop(d.inbox, 'huge.csv', 'code;barcodes;name;price\n' + '1;;x;1,00\n'.repeat(200));
    await office.drop(d.inbox, 'small.csv', 'code;barcodes;name;price\n2;;y;2,00\n');
    const app = openApp(d);
    try {
      const r = await pullAll(await puller(app));
      assert.deepEqual(r.map((f) => [f.name, f.result]), [['huge.csv', 'quarantined'], ['small.csv', 'applied']]);
      const q = r[0] as Extract<FileOutcome, { result: 'quarantined' }>;
      assert.equal(q.reason.code, 'CFX_E_FILE_TOO_LARGE');
      assert.match(String(q.reason.message), /file is 2025 bytes, the limit \(prices\.maxFileSize\) is 1024/);
      assert.ok(existsSync(ftpRootPath(`${d.inbox}/rejected/huge.csv`, env)));
      assert.equal(app.store.catalogCount(), 1);
    } finally {
      await app.close();
    }
  });

  it('SIGKILL between the local commit and the remote delete: the next run deletes without applying again', async () => {
    const d = terminalDeployment({
      server: env.ftpUrl.replace(/^ftp:/, 'crashftp:'),
      remoteBase: freshRemoteDir('crash'),
      extra: `plugins: [${join(FIXTURES, 'crash-transport')}]\n`,
    });
    await office.drop(d.inbox, 'crash.csv', 'code;barcodes;name;price\n1;;Квиток;350,00\n2;;Програмка;20,00\n');
    const killed = await cfxProcess(['pull', '-c', d.config], { cwd: d.dir, env: { CFX_CRASH_AT: 'delete' } }).done;
    assert.equal(killed.signal, 'SIGKILL', `the child should have died at the delete: ${killed.err}`);
    assert.deepEqual(await remoteNames(office, d.inbox), ['crash.csv'], 'the remote file is still there');
    let app = openApp(d);
    try {
      assert.equal(app.store.catalogCount(), 2, 'the transaction committed before the kill');
      // a later change to the catalog must survive: the next run must not apply crash.csv again
      const tx = app.store.beginPriceApply({ name: 'manual', size: 0, sha256: 'x', mode: 'delta' });
      tx.apply({ op: 'upsert', product: { code: '1', barcodes: [], name: 'Квиток', price: 40000 } });
      tx.commit();
    } finally {
      await app.close();
    }
    const again = await cfxProcess(['pull', '--json', '-c', d.config], { cwd: d.dir }).done;
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(JSON.parse(again.out).files.map((f: any) => [f.name, f.result]), [['crash.csv', 'already-applied']]);
    assert.deepEqual(await remoteNames(office, d.inbox), [], 'deleted on the second run');
    app = openApp(d, 'ro');
    try {
      assert.equal(app.store.getProduct('1')!.price, 40000, 'not applied a second time');
      assert.equal(readdirSync(join(d.dir, 'data', 'archive', 'prices')).length, 1);
    } finally {
      await app.close();
    }
  });

  it('round-trips cp1251 content and a cp1251 file name', async () => {
    const base = freshRemoteDir('cp1251');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, extra: 'serverOptions: { encoding: cp1251 }\n' });
    const office1251 = officeClient(env, { encoding: 'cp1251' });
    try {
      await office1251.drop(d.inbox, 'Ціни_квитки.csv', cp1251Csv(['code;barcodes;name;price', '11;;Вистава «Лісова пісня»;250,00']));
      const onDisk = readdirSync(ftpRootPath(d.inbox, env), { encoding: 'buffer' });
      assert.ok(onDisk.some((b) => b.equals(iconv.encode('Ціни_квитки.csv', 'win1251'))), 'the name is stored as cp1251 bytes on the server');
      const app = openApp(d);
      try {
        const r = await pullAll(await puller(app));
        assert.deepEqual(r.map((f) => [f.name, f.result]), [['Ціни_квитки.csv', 'applied']]);
        assert.equal(app.store.getProduct('11')!.name, 'Вистава «Лісова пісня»');
        assert.ok((r[0] as { archived: string }).archived.endsWith('/Ціни_квитки.csv'));
      } finally {
        await app.close();
      }
    } finally {
      await office1251.close();
    }
  });

  it('cfx run applies a dropped file and exits 0 on SIGTERM', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('daemon'), poll: '1s' });
    const proc = cfxProcess(['run', '-c', d.config], { cwd: d.dir });
    try {
      await office.drop(d.inbox, 'live.csv', 'code;barcodes;name;price\n55;;Морозиво;25,00\n');
      let found = false;
      for (let i = 0; i < 100 && !found; i++) {
        await sleep(100);
        const c = await runCli(['catalog', '--json', '--code', '55', '-c', d.config], { cwd: d.dir });
        found = c.code === 0 && c.json().price === '25.00';
      }
      assert.ok(found, 'the running service applied the file');
    } finally {
      proc.child.kill('SIGTERM');
    }
    const r = await proc.done;
    assert.equal(r.code, 0, `exit code after SIGTERM: ${r.err}`);
    assert.deepEqual(await remoteNames(office, d.inbox), []);
  });
});
