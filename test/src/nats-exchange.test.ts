// The whole system on real nats-servers (Debian's 2.9): the office publishes goods files and
// collects sales, terminals pull (woken by the bucket's watch) and push, with exactly-once at the
// back office — on the shared server, on a 3-node cluster losing a node mid-push, on a server
// SIGKILLed and restarted mid-push, and in the documented topology (docs/scale.md): a 3-node hub with
// two shops on leaf nodes, one shop's link to the hub cut.
// "Mid-push" is the 20th sale file on the server: an in-process fault hook at sales.push:renamed
// kills the server there, never a timer.
import { describe, it, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { openTerminal, setFaultHook, type Terminal } from '@cfx/core';
import { createNatsTransport } from '@cfx/transport-nats';
import { natsServer, freePort, ownNats, ownNatsConf, natsTempDir, until, OWN_PASS, type OwnNats } from './helpers/nats.js';
import { EXAMPLE_FILES, exampleText, fromExample } from './helpers/nats-examples.js';
import { publishOffice, collectOffice, runningTerminal, collectUntil, deliveredSaleIds, goodsAt, GOODS, cleanupDeployments, deploy } from './helpers/nats-deploy.js';
import { read1CReport } from '../../plugins/backoffice-1c/dist/testing/one-c-reader.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';
import { SwitchableRelay } from './helpers/sales.js';

const server = await natsServer();
const skip = 'skip' in server ? server.skip : false;
const sharedUrl = 'url' in server ? server.url : 'nats://127.0.0.1:1';
const silent = pino({ level: 'silent' });

const bucketName = (label: string) => `cfxsys-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
const pad = (n: number) => `S${String(n).padStart(6, '0')}`;
const idsOf = (terminal: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${terminal}/${pad(from + i)}`);
const price = (t: Terminal) => t.catalog.get('1')?.price;

const terminals: Terminal[] = [];
async function terminal(...a: Parameters<typeof runningTerminal>): Promise<Terminal> {
  const t = await runningTerminal(...a);
  terminals.push(t);
  return t;
}
afterEach(async () => {
  setFaultHook(undefined);
  await Promise.all(terminals.splice(0).map((t) => t.close()));
});
after(() => cleanupDeployments());

/** the office's publish run (1C's exports → the terminals' inboxes) */
async function publish(o: { dir: string; config: string }): Promise<number> {
  const r = await runCli(['publish', '--json', '-c', o.config], { cwd: o.dir });
  assert.equal(r.code, 0, r.err + r.out);
  return r.json().published as number;
}

/** a fault hook that runs `f` once, when the `n`th sale file has appeared on the server */
function afterSaleFile(n: number, f: () => void): void {
  let count = 0;
  setFaultHook({
    at(point: string) {
      if (point === 'sales.push:renamed' && ++count === n) f();
    },
  });
}

/** waits until a transport on `url` can create dirs in `bucket` (a fresh cluster elects its JetStream leader first) */
async function bucketReady(url: string, bucket: string, options: Record<string, unknown>): Promise<void> {
  const u = new URL(url);
  u.pathname = `/${bucket}`;
  const t = createNatsTransport({ url: u, options, logger: silent, timeoutMs: 2000 });
  try {
    await until(`bucket ${bucket} on ${url}`, async () => {
      try {
        await t.mkdir('/shop/box-1/sales');
        return true;
      } catch {
        return undefined;
      }
    }, 30_000);
  } finally {
    await t.close();
  }
}

/**
 * 1C at the office, played by the test: writes goods files + flag into each terminal's exchange
 * folder, imports each new report (the package's test-only model of 1C's import) and marks it "@".
 * Keeps every receipt it imported with its total; a receipt imported again is listed in `repeated`.
 */
class OneC {
  private readonly imported = new Map<string, Map<number, number>>();
  readonly repeated: string[] = [];
  constructor(private readonly officeDir: string, terminals: string[]) {
    for (const t of terminals) this.imported.set(t, new Map());
  }

  exportGoods(terminal: string, goods: Buffer): void {
    const x = join(this.officeDir, '1c', terminal);
    mkdirSync(x, { recursive: true });
    writeFileSync(join(x, 'atolimp.txt'), goods);
    writeFileSync(join(x, 'atolimp.flg'), '');
  }

  importReports(): void {
    for (const [t, seen] of this.imported) {
      const file = join(this.officeDir, '1c', t, 'atolexp.txt');
      if (!existsSync(file)) continue;
      const b = readFileSync(file);
      if (b[0] !== 0x23) continue; // "@": imported already, no new report
      const docs = new Map<number, number>();
      for (const p of read1CReport(b).positions) docs.set(p.document, (docs.get(p.document) ?? 0) + p.amount);
      for (const [doc, amount] of docs) {
        if (seen.has(doc)) this.repeated.push(`${t}/${doc}`);
        seen.set(doc, amount);
      }
      b[0] = 0x40;
      writeFileSync(file, b);
    }
  }

  /** the receipt numbers 1C imported for a terminal */
  receipts(terminal: string): number[] {
    return [...this.imported.get(terminal)!.keys()].sort((a, b) => a - b);
  }

  /** [receipt number, total in minor units] of every receipt 1C imported for a terminal */
  documents(terminal: string): [number, number][] {
    return [...this.imported.get(terminal)!].sort((a, b) => a[0] - b[0]);
  }
}

describe('docs/scale.md, Tested configurations', () => {
  it('shows each of docs/examples/nats/*, the files the leaf-node test runs, verbatim in a code block', () => {
    const doc = readFileSync(new URL('../../docs/scale.md', import.meta.url), 'utf8');
    for (const f of EXAMPLE_FILES) {
      assert.ok(doc.includes('```' + (f.endsWith('.yaml') ? 'yaml' : '') + '\n' + exampleText(f) + '```\n'), `docs/scale.md shows docs/examples/nats/${f} as it is`);
    }
  });
});

describe('cfx over the shared nats-server', { skip }, () => {
  it('publishes a goods file to two running terminals, which apply it woken by the watch; a new price replaces it', async () => {
    const bucket = bucketName('publish');
    const office = publishOffice(sharedUrl, bucket, { storage: 'memory' });
    // polling every 60 s: only the watch can bring the file in within the deadlines below
    const t1 = await terminal('box-1', sharedUrl, bucket, { storage: 'memory' }, '60s');
    const t2 = await terminal('box-2', sharedUrl, bucket, { storage: 'memory' }, '60s');
    office.exportGoods('box-1', GOODS);
    office.exportGoods('box-2', GOODS);
    assert.equal(await publish(office), 2);
    await until('350.00 at both terminals', () => (price(t1) === 35000 && price(t2) === 35000 ? true : undefined), 15_000);
    assert.equal(t1.catalog.count(), t2.catalog.count());
    assert.equal(t1.catalog.byBarcode('2000000000015')?.price, 17550);

    office.exportGoods('box-1', goodsAt('361,25'));
    assert.equal(await publish(office), 1);
    await until('361.25 at box-1', () => (price(t1) === 36125 ? true : undefined), 15_000);
    assert.equal(price(t2), 35000, 'box-2 got nothing new');
    // one office counter for all terminals: box-2's file was number 2
    const applied = t1.app.store.inbox.recent(5).map((e) => e.name.replace(/-[0-9a-f]{12}\.txt$/, ''));
    assert.deepEqual(applied, ['goods-00000003', 'goods-00000001']);
  });

  it('40 price files, each written as soon as the previous one is applied: every one applied, in order, woken by the watch alone', async () => {
    // each new file races the terminal's delete of the previous one: on nats-server 2.9.10 a purge
    // by subject (what nats.js's object store does on delete) moved the watcher past the new file
    const bucket = bucketName('race');
    const t1 = await terminal('box-1', sharedUrl, bucket, { storage: 'memory' }, '60s');
    const u = new URL(sharedUrl);
    u.pathname = `/${bucket}`;
    const office = createNatsTransport({ url: u, options: { storage: 'memory' }, logger: silent, timeoutMs: 5000 });
    try {
      await office.mkdir('/shop/box-1/inbox');
      for (let i = 1; i <= 40; i++) {
        const cents = 40000 + i;
        await office.write(`/shop/box-1/inbox/goods-${String(i).padStart(3, '0')}.txt`, goodsAt(`${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')}`));
        // the poll runs every 60 s: within this deadline only the watch can have brought the file
        await until(`goods-${i} applied`, () => (price(t1) === cents ? true : undefined), 15_000);
      }
      const applied = t1.app.store.inbox.recent(50).map((e) => e.name).reverse();
      assert.deepEqual(applied, Array.from({ length: 40 }, (_, i) => `goods-${String(i + 1).padStart(3, '0')}.txt`));
    } finally {
      await office.close();
    }
  });

  it('pushes sales, resends a period, and the office delivers each sale exactly once', async () => {
    const bucket = bucketName('sales');
    const office = collectOffice(sharedUrl, bucket, { storage: 'memory' });
    const t1 = await terminal('box-1', sharedUrl, bucket, { storage: 'memory' });
    const t2 = await terminal('box-2', sharedUrl, bucket, { storage: 'memory' });
    await t1.recordSale(Array.from({ length: 6 }, (_, i) => saleJson(i + 1)));
    await t2.recordSale(Array.from({ length: 4 }, (_, i) => saleJson(101 + i)));
    await until('both journals sent', () => (t1.app.store.journal.countPending() === 0 && t2.app.store.journal.countPending() === 0 ? true : undefined));
    const first = await collectUntil(office, 10);
    assert.deepEqual([first.stored, first.duplicates], [10, 0]);
    assert.deepEqual(deliveredSaleIds(office), [...idsOf('box-1', 1, 6), ...idsOf('box-2', 101, 104)]);

    // the office asks again for box-1's day: the files come again, the back office gets nothing twice
    const resent = await t1.resend('2025-03-15', '2025-03-15');
    assert.equal(resent.sent, 6);
    const again = await collectUntil(office, 0);
    const more = again.duplicates + (await collectUntil(office, 0)).duplicates;
    assert.equal(more, 6, 'the resent sales are counted as duplicates');
    assert.deepEqual(deliveredSaleIds(office), [...idsOf('box-1', 1, 6), ...idsOf('box-2', 101, 104)]);
  });
});

describe('cfx doctor on nats://', { skip }, () => {
  it('a healthy terminal: server reachable, login, both dirs written and removed, exit 0', async () => {
    const bucket = bucketName('doctor');
    // the office made the terminal's dirs (on NATS a directory exists once something is under it)
    const u = new URL(sharedUrl);
    u.pathname = `/${bucket}`;
    const office = createNatsTransport({ url: u, options: { storage: 'memory' }, logger: silent, timeoutMs: 5000 });
    await office.mkdir('/shop/box-1/inbox');
    await office.mkdir('/shop/box-1/sales');
    await office.close();
    const t1 = await terminal('box-1', sharedUrl, bucket, { storage: 'memory' });
    const dir = (t1 as Terminal & { dir: string }).dir;
    await t1.close();
    terminals.splice(terminals.indexOf(t1), 1);
    const r = await runCli(['--json', 'doctor'], { cwd: dir, env: { HOME: dir } });
    const checks = (r.json() as { checks: { id: string; level: string; message: string }[] }).checks;
    const text = checks.map((c) => `${c.level} ${c.id}: ${c.message}`).join('\n');
    assert.equal(r.code, 0, text);
    for (const id of ['server.identity', 'server.reachable', 'server.login', 'dir.inbox', 'dir.sales']) {
      assert.deepEqual(checks.filter((c) => c.id === id).map((c) => c.level), ['OK'], `${id}\n${text}`);
    }
    assert.match(checks.find((c) => c.id === 'dir.sales')!.message, /written and removed/);
  });
});

describe('cfx on its own nats-servers', { skip }, () => {
  it('a 3-node cluster (replicas 3) loses the terminal’s node mid-push: nothing lost, nothing duplicated', async () => {
    const tmp = natsTempDir('cluster');
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    const routes = await Promise.all([0, 1, 2].map(() => freePort()));
    const nodes: OwnNats[] = [0, 1, 2].map((i) =>
      ownNats(tmp.dir, `n${i + 1}`, ports[i]!, `cluster {\n  name: cfx\n  listen: 127.0.0.1:${routes[i]}\n  routes: [${routes.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}]\n}`),
    );
    try {
      await Promise.all(nodes.map((n) => n.start()));
      const bucket = bucketName('cluster');
      const opts = { replicas: 3, storage: 'file' };
      await bucketReady(nodes[1]!.url, bucket, opts);
      let killed = false;
      afterSaleFile(20, () => {
        killed = true;
        nodes[0]!.proc!.kill('SIGKILL');
      });
      // the terminal knows only n1: the cluster tells its client where else to go
      const t1 = await terminal('box-1', nodes[0]!.url, bucket, opts, '200ms');
      await t1.recordSale(Array.from({ length: 60 }, (_, i) => saleJson(i + 1)));
      await until('the journal sent, through the failover', () => (t1.app.store.journal.countPending() === 0 ? true : undefined), 60_000);
      assert.equal(killed, true, 'n1 was killed after the 20th sale file');
      const office = collectOffice(nodes[2]!.url, bucket, opts);
      const got = await collectUntil(office, 60, 60_000);
      assert.equal(got.stored, 60);
      assert.deepEqual(deliveredSaleIds(office), idsOf('box-1', 1, 60));
    } finally {
      await tmp.cleanup(nodes);
    }
  });

  it('a single server SIGKILLed mid-push and restarted on its file store: nothing lost', async () => {
    const tmp = natsTempDir('restart');
    const n = ownNats(tmp.dir, 'solo', await freePort());
    try {
      await n.start();
      const bucket = bucketName('restart');
      const opts = { storage: 'file' };
      await bucketReady(n.url, bucket, opts);
      let crash!: () => void;
      const crashed = new Promise<void>((r) => (crash = r));
      afterSaleFile(20, () => {
        n.proc!.kill('SIGKILL');
        crash();
      });
      const t1 = await terminal('box-1', n.url, bucket, opts, '200ms');
      await t1.recordSale(Array.from({ length: 50 }, (_, i) => saleJson(i + 1)));
      await crashed;
      await n.kill(); // waits for the exit
      assert.ok(t1.app.store.journal.countPending() > 0, 'the push was cut midway');
      await n.start();
      await until('the journal sent after the restart', () => (t1.app.store.journal.countPending() === 0 ? true : undefined), 60_000);
      const office = collectOffice(n.url, bucket, opts);
      const got = await collectUntil(office, 50, 60_000);
      assert.equal(got.stored, 50);
      assert.deepEqual(deliveredSaleIds(office), idsOf('box-1', 1, 50));
    } finally {
      await tmp.cleanup([n]);
    }
  });

  it('the documented topology — a 3-node hub (replicas 3, domain hub), two shops on leaf nodes: one shop cut off while the other goes on; every sale once at 1C, prices in order', async () => {
    // the configs are docs/examples/nats/*, shown verbatim in docs/scale.md; only hosts, ports and
    // store dirs are replaced by loopback ones here
    const tmp = natsTempDir('leafhub');
    const env = { CFX_NATS_PASSWORD: OWN_PASS };
    const free = (n: number) => Promise.all(Array.from({ length: n }, () => freePort()));
    const [client, route, leafListen, relayPorts, shopPorts] = await Promise.all([free(3), free(3), free(3), free(3), free(2)]);
    const hubs = [0, 1, 2].map((i) =>
      ownNatsConf(
        tmp.dir,
        `hub-${i + 1}`,
        client[i]!,
        fromExample('hub.conf', [
          ['0.0.0.0:4222', `127.0.0.1:${client[i]}`],
          ['server_name: hub-1', `server_name: hub-${i + 1}`],
          ['/var/lib/nats', join(tmp.dir, `hub-${i + 1}`, 'store')],
          ['0.0.0.0:7422', `127.0.0.1:${leafListen[i]}`],
          // a leaf reconnects to the address a node advertises: for shop 1 that is its relay (the WAN)
          ['advertise: hub-1:7422', `advertise: 127.0.0.1:${relayPorts[i]}`],
          ['0.0.0.0:6222', `127.0.0.1:${route[i]}`],
          ...[0, 1, 2].map((j): [string, string] => [`nats-route://hub-${j + 1}:6222`, `nats-route://127.0.0.1:${route[j]}`]),
        ]),
        env,
      ),
    );
    // shop 1's WAN runs through relays (one per hub node) the test cuts; shop 2 reaches the hub directly
    const relays = [0, 1, 2].map((i) => new SwitchableRelay(relayPorts[i]!, { host: '127.0.0.1', port: leafListen[i]! }));
    const shop = (k: 1 | 2, hubLeafPorts: number[]) =>
      ownNatsConf(
        tmp.dir,
        `shop-${k}`,
        shopPorts[k - 1]!,
        fromExample('shop-leaf.conf', [
          ['0.0.0.0:4222', `127.0.0.1:${shopPorts[k - 1]}`],
          ['server_name: shop-1', `server_name: shop-${k}`],
          ['domain: shop1', `domain: shop${k}`],
          ['/var/lib/nats', join(tmp.dir, `shop-${k}`, 'store')],
          ...[0, 1, 2].map((j): [string, string] => [`cfx:PASSWORD@hub-${j + 1}:7422`, `cfx:${OWN_PASS}@127.0.0.1:${hubLeafPorts[j]}`]),
        ]),
        env,
      );
    const leaves = [shop(1, relayPorts), shop(2, leafListen)];
    const cut = () => Promise.all(relays.map((r) => r.down()));
    try {
      await Promise.all(hubs.map((h) => h.start()));
      await Promise.all(relays.map((r) => r.up()));
      await Promise.all(leaves.map((l) => l.start()));
      const [box1, box2] = ['shop1-box1', 'shop2-box1'] as const;
      // a bucket per terminal (the first path segment, docs/scale.md), made by the office on the hub,
      // then reached from each shop's leaf through the hub's domain
      for (const b of [box1, box2]) await bucketReady(hubs[0]!.url, b, { replicas: 3, storage: 'file' });
      await bucketReady(leaves[0]!.url, box1, { domain: 'hub', storage: 'file' });
      await bucketReady(leaves[1]!.url, box2, { domain: 'hub', storage: 'file' });

      const office = deploy(
        'office-hub',
        fromExample('office.cfx.yaml', [
          ['hub-1:4222', `127.0.0.1:${client[0]}`],
          ['"hub-2:4222", "hub-3:4222"', `"127.0.0.1:${client[1]}", "127.0.0.1:${client[2]}"`],
        ]),
      );
      const oneC = new OneC(office.dir, [box1, box2]);
      const cli = (...args: string[]) => runCli([...args, '--json', '-c', office.config], { cwd: office.dir, env });
      /** 1C exports goods at `price` for both terminals, the office publishes: one file each */
      const publishAt = async (price: string) => {
        for (const t of [box1, box2]) oneC.exportGoods(t, goodsAt(price));
        const r = await cli('publish');
        assert.equal(r.code, 0, r.err + r.out);
        assert.equal(r.json().published, 2);
      };
      /** `cfx collect` and 1C's import of every new report, until `done` (a deadline, not a sleep) */
      const collectInto1C = async (what: string, done: () => boolean) =>
        until(what, async () => {
          await cli('collect'); // exit 1 while 1C has a report to import: imported just below
          oneC.importReports();
          return done() ? true : undefined;
        }, 60_000);

      const terminalAt = async (k: 1 | 2) => {
        const d = deploy(
          `shop${k}-box1`,
          fromExample('terminal.cfx.yaml', [
            ['terminal: shop1-box1', `terminal: shop${k}-box1`],
            ['shop-1:4222', `127.0.0.1:${shopPorts[k - 1]}`],
          ]),
        );
        const t = openTerminal({ config: d.config, env });
        terminals.push(t);
        await t.start();
        return t;
      };
      const t1 = await terminalAt(1);
      const t2 = await terminalAt(2);

      await publishAt('350,00');
      await until('350.00 at both shops', () => (price(t1) === 35000 && price(t2) === 35000 ? true : undefined), 20_000);
      await t1.recordSale([1, 2, 3].map((n) => saleJson(n)));
      await collectInto1C('shop 1’s first 3 sales in 1C', () => oneC.receipts(box1).length === 3);

      // shop 1's WAN goes down (all three relays): shop 2 and the office go on
      await cut();
      const out = await t1.recordSale([4, 5, 6, 7, 8].map((n) => saleJson(n)));
      assert.deepEqual(out.map((o) => o.status), Array(5).fill('recorded'), 'the cut shop keeps journaling');
      // the office publishes three price changes; shop 2 applies each in turn, shop 1 cannot
      for (const [text, cents] of [['360,00', 36000], ['370,00', 37000], ['380,00', 38000]] as const) {
        await publishAt(text);
        await until(`${text} at shop 2`, () => (price(t2) === cents ? true : undefined), 30_000);
      }
      await t2.recordSale([101, 102, 103, 104].map((n) => saleJson(n)));
      await collectInto1C('shop 2’s 4 sales in 1C while shop 1 is cut off', () => oneC.receipts(box2).length === 4);
      assert.deepEqual(oneC.receipts(box1), [1, 2, 3], 'nothing new from the cut shop');
      assert.equal(t1.app.store.journal.countPending(), 5, 'its sales wait in its journal');
      assert.equal(price(t1), 35000, 'the cut shop sells at the prices it has');

      await Promise.all(relays.map((r) => r.up()));
      await until('shop 1’s journal sent after the link came back', () => (t1.app.store.journal.countPending() === 0 ? true : undefined), 60_000);
      await until('380.00 at shop 1', () => (price(t1) === 38000 ? true : undefined), 60_000);
      await collectInto1C('shop 1’s 8 sales in 1C', () => oneC.receipts(box1).length === 8);

      // each sale once, with its total, in the terminal's report; nothing else
      const expected = (ns: number[]) => ns.map((n) => [n, (1 + (n % 3)) * 35000 + 2000]);
      assert.deepEqual(oneC.documents(box1), expected([1, 2, 3, 4, 5, 6, 7, 8]));
      assert.deepEqual(oneC.documents(box2), expected([101, 102, 103, 104]));
      assert.deepEqual(oneC.repeated, [], 'no receipt reached 1C twice');
      // the office numbers its files with one counter, two per publish (one per terminal): each
      // shop applied one file of each of the four publishes, once, in the published order
      const publishes = (t: Terminal) =>
        t.app.store.inbox.recent(10).map((e) => Math.ceil(Number(/^goods-(\d{8})-/.exec(e.name)![1]) / 2)).reverse();
      assert.deepEqual(publishes(t1), [1, 2, 3, 4]);
      assert.deepEqual(publishes(t2), [1, 2, 3, 4]);
      assert.equal(price(t2), 38000);
    } finally {
      await cut();
      await tmp.cleanup([...leaves, ...hubs]);
    }
  });
});
