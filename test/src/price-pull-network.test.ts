// The server going away in the middle of a download: a real vsftpd session killed mid-transfer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Transform } from 'node:stream';
import { PricePull, TransportError, type Transport } from '@cfx/core';
import { createFtpTransport } from '@cfx/transport-ftp';
import { silentLogger } from '@cfx/core';
import { realServers, freshRemoteDir, sessionPids, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp } from './helpers/deploy.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

/** local ports of this process's TCP connections to a server port (read from /proc, no help from cfx) */
function ownClientPorts(serverPort: number): number[] {
  const mine = new Set(readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  }));
  const ports: number[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !mine.has(`socket:[${f[9]}]`)) continue;
    const remotePort = parseInt(f[2]!.split(':')[1]!, 16);
    if (remotePort === serverPort) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
  }
  return ports;
}

/** SIGKILLs the server processes of this test's own sessions: the server "goes away" for cfx only. */
function killOwnSessions(serverUrl: string): number {
  let n = 0;
  for (const port of ownClientPorts(Number(new URL(serverUrl).port))) {
    for (const pid of sessionPids(serverUrl, port)) {
      if (pid === process.pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
        n++;
      } catch {
        /* gone */
      }
    }
  }
  return n;
}

describe('price pull when the server goes away mid-download', { skip }, () => {
  it('fails the cycle with a network error, applies nothing, and the next cycle takes the whole file', async () => {
    const tls = `serverOptions: { tls: { ca: ${env.ftpsCa} } }\n`;
    const d = terminalDeployment({ server: env.ftpsUrl, remoteBase: freshRemoteDir('net'), extra: tls });
    const office = createFtpTransport({ url: new URL(env.ftpsUrl), options: { tls: { ca: env.ftpsCa } }, logger: silentLogger(), timeoutMs: 10_000 });
    const rows = ['code;barcodes;name;price'];
    for (let i = 1; i <= 200_000; i++) rows.push(`${i};482${String(i).padStart(10, '0')};Товар номер ${i} з довгою назвою для обсягу;${i % 1000},${String(i % 100).padStart(2, '0')}`);
    const body = Buffer.from(rows.join('\n') + '\n');
    await office.mkdir(d.inbox);
    await office.write(`${d.inbox}/.big.csv.part`, body);
    await office.rename(`${d.inbox}/.big.csv.part`, `${d.inbox}/big.csv`);
    await office.write(`${d.inbox}/big.csv.done`, Buffer.alloc(0));
    await office.close();

    const app = openApp(d);
    try {
      const real = await app.transport();
      let killed = 0;
      let seen = 0;
      // a pass-through that kills the server's session processes once the first MiB has arrived
      const cutting: Transport = {
        ...real,
        list: (p, o) => real.list(p, o),
        read(path, o) {
          const src = real.read(path, o);
          const tap = new Transform({
            transform(chunk: Buffer, _e, cb) {
              seen += chunk.length;
              if (killed === 0 && seen >= 1 << 20) killed = killOwnSessions(env.ftpsUrl);
              cb(null, chunk);
            },
          });
          src.on('error', (e) => tap.destroy(e));
          return src.pipe(tap);
        },
      };
      const format = await app.host.format('csv', {});
      const broken = new PricePull({ config: app.config, store: app.store, transport: cutting, format, logger: app.logger });
      await assert.rejects(broken.cycle(), (e: unknown) => {
        assert.ok(e instanceof TransportError, `a transport error, got ${String(e)}`);
        assert.ok(['Unavailable', 'Timeout', 'Protocol'].includes(e.kind), e.kind);
        return true;
      });
      assert.ok(killed > 0, 'sessions were killed mid-transfer');
      assert.ok(seen < body.length, `the download was cut short (${seen} of ${body.length} bytes)`);
      assert.equal(app.store.catalogCount(), 0, 'nothing half-applied');
      assert.equal(app.store.lastInbox(), undefined);

      // next cycle: the same transport object reconnects and the whole file goes through
      const pull = new PricePull({ config: app.config, store: app.store, transport: real, format, logger: app.logger });
      const r = await pull.cycle();
      assert.deepEqual(r.files.map((f) => [f.name, f.result, (f as { records?: number }).records]), [['big.csv', 'applied', 200_000]]);
      assert.equal(app.store.catalogCount(), 200_000);
      assert.equal(app.store.getProduct('123456')!.price, 45656);
    } finally {
      await app.close();
    }
  });
});
