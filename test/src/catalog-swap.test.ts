// Issue 20: a full price file is built into a fresh catalog file and swapped in. Readers — a till-like
// process with its own long-lived read-only store, and the reader connection of the pulling process
// itself — run catalog lookups throughout the import and must see the old catalog, then the new one,
// never a mix, never a missing product, never the old one again after the new.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PricePull } from '@cfx/core';
import { realServers, freshRemoteDir, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, officeClient, cfxProcess, type Deployment } from './helpers/deploy.js';
import { barcodeOf, classifyReads } from './helpers/catalog-reads.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;
const READER = fileURLToPath(new URL('./helpers/catalog-reader.js', import.meta.url));

/** a full file: codes 1..n, each at `price` minor units (UTF-8, dot decimals) */
function fullFile(n: number, price: number): Buffer {
  const lines = ['#full', 'code;barcodes;name;price'];
  for (let i = 1; i <= n; i++) lines.push(`${i};${barcodeOf(i)};Товар ${i};${(price / 100).toFixed(2)}`);
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

async function pull(d: Deployment) {
  const r = await cfxProcess(['pull', '--json', '-c', d.config], { cwd: d.dir }).done;
  return { ...r, json: r.out ? JSON.parse(r.out) : undefined };
}

/** the catalog files in the data dir: exactly the pointer and the generation it names (+ its -wal/-shm) */
function catalogFiles(d: Deployment): { current: string; others: string[] } {
  const data = join(d.dir, 'data');
  const current = readFileSync(join(data, 'catalog.current'), 'utf8').trim();
  return { current, others: readdirSync(data).filter((f) => f.startsWith('catalog') && f !== 'catalog.current' && !f.startsWith(current)) };
}

describe('full import into a fresh catalog file, swapped in (vsftpd)', { skip }, () => {
  let office: ReturnType<typeof officeClient>;
  before(() => {
    office = officeClient(env);
  });
  after(async () => {
    await office?.close();
  });

  const N = 30_000;

  it('a reader in another process sees the old catalog, then the new one, never a half state; so does the pulling process', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('swap-readers') });
    await office.drop(d.inbox, 'p1.csv', fullFile(N, 10000));
    const first = await pull(d);
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(first.json.files.map((f: any) => [f.name, f.result, f.products]), [['p1.csv', 'applied', N]]);
    assert.equal(catalogFiles(d).current, 'catalog-1.db');
    assert.deepEqual(catalogFiles(d).others, [], 'catalog.db of before the first full file is gone');

    // (1) a till-like reader process, the pull in another process
    const reader = spawn(process.execPath, [READER, d.config, String(N), '10000', String(N + 1), '20000'], { cwd: d.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    reader.stdout!.on('data', (c) => (out += c));
    reader.stderr!.on('data', (c) => (err += c));
    const exited = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    const deadline = Date.now() + 60_000;
    while (!out.includes('ready\n')) {
      assert.ok(Date.now() < deadline && reader.exitCode === null, `the reader did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await office.drop(d.inbox, 'p2.csv', fullFile(N + 1, 20000));
    const second = await pull(d);
    assert.equal(second.code, 0, second.err);
    assert.deepEqual(second.json.files.map((f: any) => [f.name, f.result, f.products]), [['p2.csv', 'applied', N + 1]]);
    await exited;
    const summary = JSON.parse(out.split('\n').filter(Boolean).pop()!);
    assert.equal(summary.timedOut, false, `the reader never settled on the new catalog: ${out} ${err}`);
    assert.deepEqual(summary.bad, [], 'no lookup saw a half state');
    assert.equal(summary.backwards, 0, 'no lookup saw the old catalog after the new one');
    assert.ok(summary.old >= 1 && summary.new >= 200, `saw both catalogs: ${JSON.stringify(summary)}`);
    assert.deepEqual(catalogFiles(d), { current: 'catalog-2.db', others: [] });

    // (2) the pulling process's own reader connection, read between the pull's awaits
    const app = openApp(d);
    try {
      const tally = classifyReads(app.store.catalog, { products: N + 1, price: 20000 }, { products: N + 2, price: 30000 });
      assert.equal(tally.read(), 'old');
      await office.drop(d.inbox, 'p3.csv', fullFile(N + 2, 30000));
      // its flag: complete in the first listing of the one cycle below
      await office.drop(d.inbox, 'p3.csv.done', '');
      const p = new PricePull({ config: app.config, store: app.store, transport: await app.transport(), format: await app.host.format('csv', {}), logger: app.logger });
      let during = 0;
      let running = true;
      const loop = (): void => {
        if (!running) return;
        tally.read();
        during++;
        setImmediate(loop);
      };
      setImmediate(loop);
      const r = await p.cycle();
      running = false;
      assert.deepEqual(r.files.map((f) => [f.name, f.result]), [['p3.csv', 'applied']]);
      assert.equal(tally.read(), 'new', 'the next read after the swap sees the new catalog');
      const s = tally.summary();
      assert.ok(during > 0, 'lookups ran while the file was imported');
      assert.deepEqual(s.bad, []);
      assert.equal(s.backwards, 0);
      assert.deepEqual(app.store.inbox.recent(3).map((e) => [e.name, e.records, e.confirmedAt !== undefined]), [
        ['p3.csv', N + 2, true],
        ['p2.csv', N + 1, true],
        ['p1.csv', N, true],
      ]);
    } finally {
      await app.close();
    }
    assert.deepEqual(catalogFiles(d), { current: 'catalog-3.db', others: [] });
  });

  it('an install from before generations (catalog.db, no pointer) keeps its inbox log and meta through its first full file; a delta stays in place', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('swap-legacy') });
    const csv = (rows: string[], full: boolean) => Buffer.from([...(full ? ['#full'] : []), 'code;barcodes;name;price', ...rows].join('\n') + '\n');
    // a delta first: catalog.db is written in place, as every cfx before did
    await office.drop(d.inbox, 'd1.csv', csv(['1;;a;1.00', '2;;b;2.00'], false));
    assert.equal((await pull(d)).code, 0);
    assert.ok(existsSync(join(d.dir, 'data', 'catalog.db')) && !existsSync(join(d.dir, 'data', 'catalog.current')), 'a delta alone names no generation');
    const app0 = openApp(d);
    try {
      // a setting of an older cfx in meta, which the new file must carry
      (app0.store as any).db.catalogWriter.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run();
    } finally {
      await app0.close();
    }
    await office.drop(d.inbox, 'f1.csv', csv(['2;;b;2.50', '3;;c;3.00'], true));
    const r = await pull(d);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(catalogFiles(d), { current: 'catalog-1.db', others: [] });
    const app = openApp(d, 'ro');
    try {
      assert.deepEqual(app.store.catalog.list({ limit: 10 }).map((p) => [p.code, p.price]), [['2', 250], ['3', 300]]);
      assert.deepEqual(app.store.inbox.recent(5).map((e) => [e.name, e.mode, e.confirmedAt !== undefined]), [['f1.csv', 'full', true], ['d1.csv', 'delta', true]]);
      assert.equal((app.store as any).db.catalogReader.prepare("SELECT value FROM meta WHERE key = 'k'").pluck().get(), 'v');
    } finally {
      await app.close();
    }
    // a delta after it: in place, in the same generation
    await office.drop(d.inbox, 'd2.csv', csv(['4;;d;4.00'], false));
    assert.equal((await pull(d)).code, 0);
    assert.deepEqual(catalogFiles(d), { current: 'catalog-1.db', others: [] });
    const app2 = openApp(d, 'ro');
    try {
      assert.deepEqual(app2.store.catalog.list({ limit: 10 }).map((p) => [p.code, p.price]), [['2', 250], ['3', 300], ['4', 400]]);
    } finally {
      await app2.close();
    }
  });

  it('a leftover of a crashed build (a catalog-<n>.db nobody names) is removed at start-up by a writing command, never by a read-only one', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('swap-leftover') });
    await office.drop(d.inbox, 'p1.csv', fullFile(10, 100));
    assert.equal((await pull(d)).code, 0);
    const data = join(d.dir, 'data');
    writeFileSync(join(data, 'catalog-7.db'), 'half a file');
    writeFileSync(join(data, 'catalog.current.tmp'), 'catalog-7.db\n');
    const st = await cfxProcess(['status', '--json', '-c', d.config], { cwd: d.dir }).done;
    assert.equal(JSON.parse(st.out).catalog.products, 10, 'read-only status reads the named generation');
    assert.ok(readdirSync(data).includes('catalog-7.db'), 'a read-only command removes nothing');
    await office.drop(d.inbox, 'p2.csv', fullFile(11, 200));
    const r = await pull(d);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(catalogFiles(d), { current: 'catalog-2.db', others: [] });
    assert.ok(!readdirSync(data).includes('catalog.current.tmp'));
  });
});
