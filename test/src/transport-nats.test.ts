// @cfx/transport-nats against the real nats-server (Debian's 2.9): the conformance kit, then what
// only an object store has (atomic puts, watch, buckets by path, error kinds).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { describeTransportConformance } from '@cfx/core/testing';
import { createNatsTransport, type NatsTransport, type NatsTransportOptions } from '@cfx/transport-nats';
import type { TransportChange } from '@cfx/core/api';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { connect } from 'nats';
import { natsServer, freePort, ownNats, natsTempDir, until } from './helpers/nats.js';
import { readAll, failure } from './helpers/transport.js';

const server = await natsServer();
const skip = 'skip' in server ? server.skip : false;
const baseUrl = 'url' in server ? server.url : 'nats://127.0.0.1:1';
const silent = pino({ level: 'silent' });

/** a bucket no other test (or earlier run) uses */
function freshBucket(label: string): string {
  return `cfxtest-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function nats(bucket: string | undefined, options: NatsTransportOptions = {}, o: { url?: string; timeoutMs?: number } = {}): NatsTransport {
  const u = new URL(o.url ?? baseUrl);
  u.pathname = bucket ? `/${bucket}` : '/';
  return createNatsTransport({ url: u, options: { storage: 'memory', ...options } as Record<string, unknown>, logger: silent, timeoutMs: o.timeoutMs ?? 10_000 });
}

const opened: NatsTransport[] = [];
function open(...a: Parameters<typeof nats>): NatsTransport {
  const t = nats(...a);
  opened.push(t);
  return t;
}
after(async () => {
  await Promise.all(opened.map((t) => t.close()));
});

const conformanceBucket = freshBucket('conformance');
describeTransportConformance('nats:// (JetStream object store)', {
  create: () => nats(conformanceBucket),
  root: '/conformance/run',
  skip,
  largeBytes: 4 * 1024 * 1024,
});

describe('transport-nats against nats-server', { skip }, () => {
  it('declares atomic puts and writes under the final name at once', async () => {
    const t = open(freshBucket('atomic'));
    assert.deepEqual(t.capabilities, { atomicPut: true, multiplexed: true });
    await t.mkdir('/box/inbox');
    assert.equal(await t.write('/box/inbox/goods-1.csv', Buffer.from('A;1;100\n')), 8);
    assert.deepEqual(
      (await t.list('/box/inbox')).map((e) => [e.name, e.size, e.type]),
      [['goods-1.csv', 8, 'file']],
    );
  });

  it('shows another client’s writes and deletes in its listing and its watch', async () => {
    const bucket = freshBucket('watch');
    const office = open(bucket);
    const till = open(bucket);
    await office.mkdir('/box-1/inbox');
    await office.mkdir('/box-2/inbox');
    assert.deepEqual(await till.list('/box-1/inbox'), []);
    const ac = new AbortController();
    const seen: TransportChange[] = [];
    const watching = (async () => {
      for await (const c of till.watch('/box-1/inbox', { signal: ac.signal })) {
        seen.push(c);
        if (seen.length === 2) ac.abort();
      }
    })();
    // another terminal's inbox does not wake this one
    await office.write('/box-2/inbox/other.csv', Buffer.from('x'));
    await office.write('/box-1/inbox/goods-7.csv', Buffer.from('A;1;700\n'));
    await office.delete('/box-1/inbox/goods-7.csv');
    const deadline = setTimeout(() => ac.abort(), 10_000);
    await watching;
    clearTimeout(deadline);
    assert.deepEqual(seen, [
      { name: 'goods-7.csv', kind: 'put' },
      { name: 'goods-7.csv', kind: 'delete' },
    ]);
    assert.deepEqual(await till.list('/box-1/inbox'), []);
  });

  it('a connection that only writes follows no bucket (no consumer); a listing starts the one follower; the watch says when it is live', async () => {
    const bucket = freshBucket('writer');
    const u = new URL(baseUrl);
    const nc = await connect({ servers: `${u.hostname}:${u.port}`, user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) });
    try {
      const jsm = await nc.jetstreamManager();
      const consumers = async () => (await jsm.consumers.list(`OBJ_${bucket}`).next()).length;
      // a till's status file: mkdir + writes into a dir every terminal shares
      const writer = open(bucket);
      await writer.mkdir('/status');
      for (const n of [1, 2, 3]) await writer.write(`/status/t${n}.status.json`, Buffer.from(`{"seq":${n}}`));
      await writer.mkdir('/status');
      assert.equal(await consumers(), 0, 'writes and mkdir follow nothing');
      const reader = open(bucket);
      assert.deepEqual((await reader.list('/status')).map((e) => e.name).sort(), ['t1.status.json', 't2.status.json', 't3.status.json']);
      assert.equal(await consumers(), 1, 'the listing follows the bucket');
      // the watch on the same connection shares that follower, and says it is live, then not
      const live: boolean[] = [];
      const ac = new AbortController();
      const seen: string[] = [];
      const watching = (async () => {
        for await (const c of reader.watch('/status', { signal: ac.signal, onLive: (on) => live.push(on) })) {
          seen.push(c.name);
          ac.abort();
        }
      })();
      await until('the watch is live', () => (live[0] === true ? true : undefined), 10_000);
      await writer.write('/status/t4.status.json', Buffer.from('{}'));
      const deadline = setTimeout(() => ac.abort(), 10_000);
      await watching;
      clearTimeout(deadline);
      assert.deepEqual([seen, live, await consumers()], [['t4.status.json'], [true, false], 1]);
    } finally {
      await nc.close();
    }
  });

  it('names the bucket by the first path segment when the URL has none', async () => {
    const b1 = freshBucket('seg-a');
    const b2 = freshBucket('seg-b');
    const t = open(undefined);
    await t.write(`/${b1}/inbox/p.csv`, Buffer.from('one'));
    await t.write(`/${b2}/inbox/p.csv`, Buffer.from('two!'));
    assert.equal((await readAll(t.read(`/${b1}/inbox/p.csv`))).toString(), 'one');
    const fixed = open(b2);
    assert.deepEqual((await fixed.list('/inbox')).map((e) => [e.name, e.size]), [['p.csv', 4]]);
    assert.equal((await failure(t.list('/not a bucket/x'))).kind, 'Protocol');
    const roots = (await t.list('/')).filter((e) => e.name === b1 || e.name === b2);
    assert.deepEqual(roots.map((e) => [e.name, e.type]).sort(), [[b1, 'dir'], [b2, 'dir']].sort());
  });

  it('overwrites an object and reads the new bytes only', async () => {
    const t = open(freshBucket('overwrite'));
    await t.write('/d/f.bin', randomBytes(300_000));
    const second = randomBytes(1000);
    await t.write('/d/f.bin', second);
    assert.ok((await readAll(t.read('/d/f.bin'))).equals(second));
    assert.deepEqual((await t.list('/d')).map((e) => e.size), [1000]);
  });

  it('fails a wrong password as PermissionDenied and a closed port as Unavailable, without the password in the text', async () => {
    const u = new URL(baseUrl);
    u.password = 'wrong-secret-pw';
    const bad = open(freshBucket('auth'), {}, { url: u.href, timeoutMs: 3000 });
    const e = await failure(bad.list('/x'));
    assert.equal(e.kind, 'PermissionDenied', e.message);
    assert.ok(!e.message.includes('wrong-secret-pw'), e.message);
    const port = await freePort();
    const down = open(freshBucket('down'), {}, { url: `nats://cfx:pw@127.0.0.1:${port}`, timeoutMs: 2000 });
    assert.equal((await failure(down.list('/x'))).kind, 'Unavailable');
  });
});

describe('transport-nats over TLS (tls://, a server of this test)', { skip }, () => {
  it('verifies the server against the given CA and refuses it without', async () => {
    const tmp = natsTempDir('tls');
    const key = join(tmp.dir, 'server.key');
    const crt = join(tmp.dir, 'server.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', crt], { stdio: 'ignore' });
    const n = ownNats(tmp.dir, 'tls', await freePort(), `tls {\n  cert_file: "${crt}"\n  key_file: "${key}"\n}`);
    try {
      await n.start();
      const url = n.url.replace(/^nats:/, 'tls:');
      const t = open(freshBucket('tls'), { tls: { ca: crt } }, { url });
      await t.write('/in/p.csv', Buffer.from('over TLS'));
      assert.equal((await readAll(t.read('/in/p.csv'))).toString(), 'over TLS');
      await t.close();
      const untrusted = open(freshBucket('tls'), {}, { url, timeoutMs: 3000 });
      const e = await failure(untrusted.list('/in'));
      assert.notEqual(e.kind, 'NotFound', e.message);
      assert.match(e.message, /certificate|TLS|self[- ]signed/i);
      await untrusted.close();
    } finally {
      await tmp.cleanup([n]);
    }
  });
});
