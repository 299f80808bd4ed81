// Whole-system tests of issue 13 against a real vsftpd: a price file is one event in a history.
// Each test asserts prices, counts, exit codes and what is left on the server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { FAULT_POINTS, PricePull, type App } from '@cfx/core';
import { realServers, freshRemoteDir, ftpRootPath, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, officeClient, cp1251Csv, cfxProcess, type Deployment } from './helpers/deploy.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

type Office = ReturnType<typeof officeClient>;

/** the files in a remote dir; a missing dir is an error here (the inbox must exist) */
const remoteNames = (office: Office, dir: string) => office.list(dir).then((l) => l.filter((e) => e.type === 'file').map((e) => e.name).sort());

/** `cfx pull --json` in a child process; its JSON output parsed when there is one */
async function pull(d: Deployment, envVars: NodeJS.ProcessEnv = {}) {
  const r = await cfxProcess(['pull', '--json', '-c', d.config], { cwd: d.dir, env: envVars }).done;
  let json: any;
  try {
    json = JSON.parse(r.out);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

async function cli(d: Deployment, args: string[]) {
  const r = await cfxProcess([...args, '--json', '-c', d.config], { cwd: d.dir }).done;
  return { ...r, json: r.out ? JSON.parse(r.out) : undefined };
}

/** prices of the terminal's catalog by code (minor units), read from a fresh read-only store */
async function prices(d: Deployment): Promise<Record<string, number>> {
  const app = openApp(d, 'ro');
  try {
    return Object.fromEntries(app.store.listProducts({ limit: 1000, offset: 0 }).map((p) => [p.code, p.price]));
  } finally {
    await app.close();
  }
}

const csv = (rows: string[], full = true) => cp1251Csv([...(full ? ['#full'] : []), 'code;barcodes;name;price', ...rows]);
const A = csv(['1;4820000000011;Квиток дорослий;350,00', '2;;Квиток дитячий;175,00']);
const B = csv(['1;4820000000011;Квиток дорослий;400,00', '2;;Квиток дитячий;200,00', '3;;Програмка;20,00']);

describe('price files as a history (vsftpd)', { skip }, () => {
  let office: Office;
  before(() => {
    office = officeClient(env);
  });
  after(async () => {
    await office?.close();
  });

  it('a fixed name written A, B, then A again: every write is applied; the till ends at A', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('fixed-aba') });
    for (const [content, want] of [
      [A, { '1': 35000, '2': 17500 }],
      [B, { '1': 40000, '2': 20000, '3': 2000 }],
      [A, { '1': 35000, '2': 17500 }],
    ] as const) {
      await office.drop(d.inbox, 'prices.csv', content);
      const r = await pull(d);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(r.json.files.map((f: any) => [f.name, f.result]), [['prices.csv', 'applied']]);
      assert.deepEqual(await prices(d), want);
      assert.deepEqual(await remoteNames(office, d.inbox), []);
    }
    // three deliveries, three archive copies, none open
    const app = openApp(d, 'ro');
    try {
      assert.deepEqual(app.store.recentInbox(10).map((e) => [e.name, e.records, e.confirmedAt !== undefined]), [
        ['prices.csv', 2, true],
        ['prices.csv', 3, true],
        ['prices.csv', 2, true],
      ]);
    } finally {
      await app.close();
    }
    const day = readdirSync(join(d.dir, 'data', 'archive', 'prices'));
    assert.equal(readdirSync(join(d.dir, 'data', 'archive', 'prices', day[0]!)).length, 3);
  });

  it('numbers inside names compare as numbers: prices_9 before prices_10 (and prices.order: name keeps plain order)', async () => {
    const base = freshRemoteDir('natural');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base });
    // the terminal was offline: both wait on the server; 10 is the office's latest word
    await office.drop(d.inbox, 'prices_10.csv', B);
    await office.drop(d.inbox, 'prices_9.csv', A);
    const r = await pull(d);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.json.files.map((f: any) => f.name), ['prices_9.csv', 'prices_10.csv']);
    assert.deepEqual(await prices(d), { '1': 40000, '2': 20000, '3': 2000 });

    const plain = terminalDeployment({ server: env.ftpUrl, remoteBase: base, terminal: 'box-2', prices: { order: 'name' } });
    await office.drop(plain.inbox, 'prices_10.csv', B);
    await office.drop(plain.inbox, 'prices_9.csv', A);
    const r2 = await pull(plain);
    assert.deepEqual(r2.json.files.map((f: any) => f.name), ['prices_10.csv', 'prices_9.csv']);
  });

  it('flags: an orphan .flg is removed; a flag older than its file does not complete it; a fresh flag does, and goes before its file', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('flags') });
    await office.drop(d.inbox, 'prices.flg', '');
    let r = await pull(d);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.json.files, []);
    assert.deepEqual(await remoteNames(office, d.inbox), [], 'the flag without a data file is gone');

    // a flag left behind an hour ago, and a file the office is still writing now
    await office.drop(d.inbox, 'prices.flg', '');
    await office.drop(d.inbox, 'prices.csv', A.subarray(0, 40));
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(ftpRootPath(`${d.inbox}/prices.flg`, env), hourAgo, hourAgo);
    const app = openApp(d);
    try {
      const p = new PricePull({ config: app.config, store: app.store, transport: await app.transport(), format: await app.host.format('csv', {}), logger: app.logger });
      const first = await p.listReady();
      assert.deepEqual(first.ready.map((e) => e.name), [], 'a stale flag does not make the half-written file complete');
      assert.deepEqual(first.waiting, ['prices.csv']);
      // the office finishes the file, then writes its flag: now it is complete
      await office.drop(d.inbox, 'prices.csv', A);
      await office.drop(d.inbox, 'prices.flg', '');
      const r2 = await p.cycle();
      assert.deepEqual(r2.files.map((f) => [f.name, f.result]), [['prices.csv', 'applied']]);
      assert.equal(app.store.getProduct('1')!.price, 35000);
      assert.equal(app.store.catalogCount(), 2, 'the whole file, not its first 40 bytes');
    } finally {
      await app.close();
    }
    assert.deepEqual(await remoteNames(office, d.inbox), [], 'file and flag are gone');
  });

  it('a header-only full file is quarantined (exit 3) and the catalog is kept; prices.allowEmptyFull lets it empty the catalog', async () => {
    const base = freshRemoteDir('empty-full');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base });
    await office.drop(d.inbox, 'p1.csv', A);
    assert.equal((await pull(d)).code, 0);
    await office.drop(d.inbox, 'p2.csv', csv([]));
    const r = await pull(d);
    assert.equal(r.code, 3, r.err);
    const q = r.json.files[0];
    assert.equal(q.result, 'quarantined');
    assert.equal(q.reason.code, 'CFX_E_FULL_FILE_REFUSED');
    assert.match(q.reason.message, /no products would empty the catalog \(2 products\)/);
    assert.deepEqual(await prices(d), { '1': 35000, '2': 17500 });
    assert.deepEqual(await remoteNames(office, d.inbox), [], 'moved aside');
    assert.deepEqual(await remoteNames(office, `${d.inbox}/rejected`), ['p2.csv']);

    const allow = terminalDeployment({ server: env.ftpUrl, remoteBase: base, terminal: 'box-2', prices: { allowEmptyFull: true } });
    await office.drop(allow.inbox, 'p1.csv', A);
    await office.drop(allow.inbox, 'p2.csv', csv([]));
    const r2 = await pull(allow);
    assert.equal(r2.code, 0, r2.err);
    assert.deepEqual(r2.json.files.map((f: any) => [f.name, f.result, f.products]), [['p1.csv', 'applied', 2], ['p2.csv', 'applied', 0]]);
    assert.deepEqual(await prices(allow), {});
  });

  it('prices.maxRemovedShare: a full file removing too much is quarantined with the numbers; quarantine retry --force applies it', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('removed-share'), prices: { maxRemovedShare: 0.5 } });
    await office.drop(d.inbox, 'p1.csv', csv(['1;;a;1,00', '2;;b;2,00', '3;;c;3,00', '4;;d;4,00']));
    assert.equal((await pull(d)).code, 0);
    // keeps 1, drops 2-4 (75%), adds 5
    const small = csv(['1;;a;1,50', '5;;e;5,00']);
    await office.drop(d.inbox, 'p2.csv', small);
    const r = await pull(d);
    assert.equal(r.code, 3, r.err);
    assert.match(r.json.files[0].reason.message, /would remove 3 of 4 products \(75%\), more than prices\.maxRemovedShare \(50%\)/);
    assert.deepEqual(await prices(d), { '1': 100, '2': 200, '3': 300, '4': 400 });

    const list = await cli(d, ['quarantine', 'list']);
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(list.json.files.map((f: any) => [f.fileName, f.job, f.state]), [['p2.csv', 'prices.pull', 'quarantined']]);
    const retry = await cli(d, ['quarantine', 'retry', String(list.json.files[0].id), '--force']);
    assert.equal(retry.code, 0, retry.err);
    assert.equal(retry.json.forced, true);
    assert.deepEqual(await remoteNames(office, d.inbox), ['p2.csv'], 'back in the inbox');
    const again = await pull(d);
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(again.json.files.map((f: any) => [f.name, f.result, f.removed]), [['p2.csv', 'applied', 3]]);
    assert.deepEqual(await prices(d), { '1': 150, '5': 500 });
  });

  it('no silent success: a non-empty delta that applies no records says so, exit 3, and cfx status shows it', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('zero-records') });
    await office.drop(d.inbox, 'p1.csv', A);
    assert.equal((await pull(d)).code, 0);
    await office.drop(d.inbox, 'p2.csv', cp1251Csv(['code;barcodes;name;price']));
    const r = await pull(d);
    assert.equal(r.code, 3, r.err);
    assert.deepEqual(r.json.files.map((f: any) => [f.name, f.result, f.records]), [['p2.csv', 'applied', 0]]);
    assert.match(r.json.files[0].warnings[0], /not empty \(\d+ bytes\) but applied no records/);
    const st = await cli(d, ['status']);
    assert.equal(st.code, 0, st.err);
    assert.deepEqual(st.json.catalog.warnings.map((w: any) => [w.name, w.records]), [['p2.csv', 0]]);
    assert.deepEqual(await prices(d), { '1': 35000, '2': 17500 });
  });

  it('strict input: `12 50` and a stray Windows-1251 byte in UTF-8 are quarantined naming file, line and field; the catalog is kept', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('strict') });
    await office.drop(d.inbox, 'p1.csv', A);
    assert.equal((await pull(d)).code, 0);
    await office.drop(d.inbox, 'p2.csv', 'code;barcodes;name;price\n1;;Квиток;12 50\n');
    const stray = Buffer.concat([Buffer.from('code;barcodes;name;price\n2;;Квиток дитячий;180,00\n3;;Кав', 'utf8'), Buffer.from([0xe0]), Buffer.from('а;45,00\n', 'utf8')]);
    await office.drop(d.inbox, 'p3.csv', stray);
    const r = await pull(d);
    assert.equal(r.code, 3, r.err);
    const [q2, q3] = r.json.files;
    assert.deepEqual([q2.name, q2.result, q2.reason.line, q2.reason.field], ['p2.csv', 'quarantined', 2, 'price']);
    assert.deepEqual([q3.name, q3.result, q3.reason.line], ['p3.csv', 'quarantined', 3]);
    assert.match(q3.reason.message, /invalid UTF-8 byte 0xE0 at byte offset \d+/);
    assert.deepEqual(await prices(d), { '1': 35000, '2': 17500 }, 'neither file applied any line');
    assert.deepEqual(await remoteNames(office, `${d.inbox}/rejected`), ['p2.csv', 'p3.csv']);
  });

  it('no silent success: an ATOL goods file with an unknown command is applied without it, exit 3, line named in the output and cfx status', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('skipped'), prices: { format: 'atol' } });
    const goods = readFileSync(fileURLToPath(new URL('../../plugins/backoffice-1c/fixtures/atol/goods-delta-unknown.txt', import.meta.url)));
    await office.drop(d.inbox, 'goods.txt', goods);
    const r = await pull(d);
    assert.equal(r.code, 3, r.err);
    const f = r.json.files[0];
    assert.deepEqual([f.name, f.result, f.skipped.count, f.skipped.lines], ['goods.txt', 'applied', 1, [6]]);
    assert.match(f.warnings.join(' '), /1 line\(s\) skipped \(line 6\).*ADDTAXRATES/);
    assert.equal((await prices(d))['1'], 38000);
    const st = await cli(d, ['status']);
    assert.deepEqual(st.json.catalog.warnings.map((w: any) => [w.name, w.skipped, w.lines]), [['goods.txt', 1, [6]]]);
  });
});

describe('price pull crashes at every named fault point (vsftpd, real child process)', { skip }, () => {
  let office: Office;
  before(() => {
    office = officeClient(env);
  });
  after(async () => {
    await office?.close();
  });

  const points = Object.entries(FAULT_POINTS).filter(([, p]) => p.job === 'prices.pull').map(([name]) => name);

  it('every prices.pull point is listed', () => {
    assert.deepEqual(points, ['prices.pull:staged', 'prices.pull:building', 'prices.pull:built', 'prices.pull:swapped', 'prices.pull:applied', 'prices.pull:archived', 'prices.pull:flag-deleted', 'prices.pull:deleted']);
  });

  /** the invariants after recovery: the office's last write applied, one archive copy, nothing left on the server, nothing open */
  async function checkRecovered(d: Deployment, want: Record<string, number>, deliveries: number): Promise<void> {
    assert.deepEqual(await prices(d), want);
    assert.deepEqual(await remoteNames(office, d.inbox), [], 'file and flag are gone from the server');
    const day = readdirSync(join(d.dir, 'data', 'archive', 'prices'));
    assert.equal(readdirSync(join(d.dir, 'data', 'archive', 'prices', day[0]!)).length, deliveries, 'one archive copy per delivery');
    assert.deepEqual(readdirSync(join(d.dir, 'data', 'staging')), [], 'nothing left in staging');
    // one catalog generation, the one the pointer names: a crashed build or an old catalog is removed
    const data = join(d.dir, 'data');
    const current = readFileSync(join(data, 'catalog.current'), 'utf8').trim();
    assert.deepEqual(readdirSync(data).filter((f) => /^catalog/.test(f) && !f.startsWith(current) && f !== 'catalog.current'), [], `only ${current} is left`);
    const app: App = openApp(d, 'ro');
    try {
      assert.deepEqual(app.store.inboxOpenAll(), [], 'every delivery confirmed');
    } finally {
      await app.close();
    }
  }

  for (const point of points) {
    it(`crash at ${point}, run again: applied once, archived once, gone from the server; the same name and bytes later are a new delivery`, async () => {
      const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir(`fault-${point.split(':')[1]}`) });
      await office.drop(d.inbox, 'prices.csv', A);
      await office.drop(d.inbox, 'prices.flg', '');
      const killed = await pull(d, { CFX_FAULT: point });
      assert.equal(killed.signal, 'SIGKILL', `the pull should have died at ${point}: ${killed.err}`);
      const again = await pull(d);
      assert.equal(again.code, 0, again.err);
      // before the swap nothing is committed: the file is applied again; from the swap on it is the catalog
      const expected = ['prices.pull:staged', 'prices.pull:building', 'prices.pull:built'].includes(point) ? 'applied' : 'already-applied';
      assert.deepEqual(again.json.files.map((f: any) => [f.name, f.result]), point === 'prices.pull:deleted' ? [] : [['prices.csv', expected]]);
      await checkRecovered(d, { '1': 35000, '2': 17500 }, 1);

      // B, then A again under the same name: both are new deliveries
      await office.drop(d.inbox, 'prices.csv', B);
      assert.equal((await pull(d)).code, 0);
      await office.drop(d.inbox, 'prices.csv', A);
      const third = await pull(d);
      assert.deepEqual(third.json.files.map((f: any) => [f.name, f.result]), [['prices.csv', 'applied']]);
      await checkRecovered(d, { '1': 35000, '2': 17500 }, 3);
    });
  }

  it('a crash during the recovery from a crash (applied, then deleted) still ends with one apply and one copy', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('fault-double') });
    await office.drop(d.inbox, 'prices.csv', B);
    await office.drop(d.inbox, 'prices.flg', '');
    assert.equal((await pull(d, { CFX_FAULT: 'prices.pull:applied' })).signal, 'SIGKILL');
    assert.equal((await pull(d, { CFX_FAULT: 'prices.pull:archived' })).signal, 'SIGKILL');
    assert.equal((await pull(d, { CFX_FAULT: 'prices.pull:deleted' })).signal, 'SIGKILL');
    const r = await pull(d);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.json.files, [], 'the file was deleted before the last crash');
    await checkRecovered(d, { '1': 40000, '2': 20000, '3': 2000 }, 1);
  });
});
