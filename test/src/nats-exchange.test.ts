// The whole system on real nats-servers (Debian's 2.9): the office publishes goods files and
// collects sales, terminals pull (woken by the bucket's watch) and push, with exactly-once at the
// back office — on the shared server, on a 3-node cluster losing a node mid-push, on a server
// SIGKILLed and restarted mid-push, and across a shop's leaf node whose link to the hub is cut.
// "Mid-push" is the 20th sale file on the server: an in-process fault hook at sales.push:renamed
// kills the server there, never a timer.
import { describe, it, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { setFaultHook, type Terminal } from '@cfx/core';
import { createNatsTransport } from '@cfx/transport-nats';
import { natsServer, freePort, ownNats, natsTempDir, until, type OwnNats } from './helpers/nats.js';
import { publishOffice, collectOffice, runningTerminal, collectUntil, deliveredSaleIds, goodsAt, GOODS, cleanupDeployments } from './helpers/nats-deploy.js';
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

  it('a shop on a leaf node (own JetStream domain) keeps journaling while its link to the hub is cut; sales and prices arrive once it is back, prices in order', async () => {
    const tmp = natsTempDir('leaf');
    const [hubPort, leafListen, leafPort, relayPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const hub = ownNats(tmp.dir, 'hub', hubPort!, `leafnodes {\n  listen: 127.0.0.1:${leafListen}\n}`, '  domain: hub');
    // the shop's link goes through a relay the test can cut (the WAN)
    const relay = new SwitchableRelay(relayPort!, { host: '127.0.0.1', port: leafListen! });
    const leaf = ownNats(
      tmp.dir,
      'shop1',
      leafPort!,
      `leafnodes {\n  reconnect: 1\n  remotes: [ { url: "nats://cfx:cfx@127.0.0.1:${relayPort}", account: CFX } ]\n}`,
      '  domain: shop1',
    );
    try {
      await hub.start();
      await relay.up();
      await leaf.start();
      const bucket = bucketName('leaf');
      // the terminal talks to its shop's leaf node, the bucket lives in the hub's domain
      const shopOpts = { storage: 'file', domain: 'hub' };
      await bucketReady(leaf.url, bucket, shopOpts);
      const office = publishOffice(hub.url, bucket, { storage: 'file' });
      const collector = collectOffice(hub.url, bucket, { storage: 'file' });
      const t1 = await terminal('box-1', leaf.url, bucket, shopOpts, '500ms');

      office.exportGoods('box-1', GOODS);
      assert.equal(await publish(office), 1);
      await until('350.00 at the shop', () => (price(t1) === 35000 ? true : undefined), 20_000);

      await relay.down();
      const out = await t1.recordSale(Array.from({ length: 5 }, (_, i) => saleJson(i + 1)));
      assert.deepEqual(out.map((o) => o.status), ['recorded', 'recorded', 'recorded', 'recorded', 'recorded']);
      // two price changes while the shop is cut off
      office.exportGoods('box-1', goodsAt('360,00'));
      assert.equal(await publish(office), 1);
      office.exportGoods('box-1', goodsAt('370,00'));
      assert.equal(await publish(office), 1);
      // nothing of the shop's reached the hub
      const c = await runCli(['collect', '--json', '-c', collector.config], { cwd: collector.dir });
      assert.equal(c.json().counts.stored, 0, c.err + c.out);
      assert.equal(t1.app.store.journal.countPending(), 5, 'the sales wait in the journal');
      assert.equal(price(t1), 35000);

      await relay.up();
      await until('the shop’s journal sent after the link came back', () => (t1.app.store.journal.countPending() === 0 ? true : undefined), 60_000);
      await until('370.00 at the shop', () => (price(t1) === 37000 ? true : undefined), 30_000);
      const applied = t1.app.store.inbox.recent(5).map((e) => e.name.replace(/-[0-9a-f]{12}\.txt$/, ''));
      assert.deepEqual(applied, ['goods-00000003', 'goods-00000002', 'goods-00000001'], 'each price file applied once, in the order published');
      const got = await collectUntil(collector, 5, 30_000);
      assert.equal(got.stored, 5);
      assert.deepEqual(deliveredSaleIds(collector), idsOf('box-1', 1, 5));
    } finally {
      await relay.down();
      await tmp.cleanup([leaf, hub]);
    }
  });
});
