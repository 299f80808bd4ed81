// The server going away in the middle of a download: a real vsftpd session killed mid-transfer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { PricePull, TransportError, type Transport } from '@cfx/core';
import { createFtpTransport } from '@cfx/transport-ftp';
import { silentLogger } from '@cfx/core';
import { realServers, freshRemoteDir, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp } from './helpers/deploy.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

/** SIGKILLs every session process of one vsftpd listener (not the listener): the server "goes away" for its clients. */
function killSessions(listenerPidFile: string): number {
  const listener = Number(readFileSync(listenerPidFile, 'utf8').trim());
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const isUnder = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === listener) return true;
    return false;
  };
  let n = 0;
  for (const pid of parent.keys()) {
    if (isUnder(pid)) {
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
    // the FTPS listener: its sessions can be killed without disturbing tests on the plain FTP one
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
              if (killed === 0 && seen >= 1 << 20) killed = killSessions(join(env.base, 'vsftpd-ftps.pid'));
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
