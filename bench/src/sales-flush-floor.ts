// The floor of the `cfx push` bench: what ANY Node program pays on this machine for the same
// 1,000 temp-name uploads. A cold `node` process with no dependencies at all (node:net and node:fs
// only: no cfx, no basic-ftp, no journal, no local copies, no config) logs in on N plain sockets and
// sends every file of a local dir the way transport-ftp does: EPSV, a data connection of its own,
// STOR under `.<name>.part`, 150 + 226, then RNFR + RNTO in one write.
//
//   node bench/dist/sales-flush-floor.js <ftp-url> <remote-dir> <local-src-dir> [connections=4]
//
// Spawned and timed by sales-flush.ts (`node-floor`), beside lftp in the same rounds. When this
// floor is itself at or below lftp, no amount of work inside cfx takes a cold `cfx push` past lftp
// on this machine: the rest of `cfx push` (start-up, journal, copies, fsync) only adds to it.
// Exits 1 on any reply it does not expect (never counts a failed run as fast).
import { connect, type Socket } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Conn {
  s: Socket;
  reply(): Promise<string>;
}

function open(host: string, port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    s.setNoDelay(true);
    let acc = '';
    const lines: string[] = [];
    const waiters: ((l: string) => void)[] = [];
    s.on('data', (d: Buffer) => {
      acc += d.toString('latin1');
      let i: number;
      while ((i = acc.indexOf('\r\n')) >= 0) {
        const l = acc.slice(0, i);
        acc = acc.slice(i + 2);
        if (/^\d{3} /.test(l)) lines.push(l); // the last line of a reply (multi-line replies: `ddd-`)
      }
      while (waiters.length && lines.length) waiters.shift()!(lines.shift()!);
    });
    s.on('error', reject);
    s.on('close', () => waiters.forEach((w) => w('closed')));
    s.once('connect', () =>
      resolve({ s, reply: () => new Promise((r) => (lines.length ? r(lines.shift()!) : waiters.push(r))) }),
    );
  });
}

async function expect(c: Conn, code: string, what: string): Promise<string> {
  const l = await c.reply();
  if (!l.startsWith(code)) throw new Error(`${what}: expected ${code}, got "${l}"`);
  return l;
}

async function main(): Promise<void> {
  const [url, dir, src, n = '4'] = process.argv.slice(2);
  if (!url || !dir || !src) throw new Error('usage: sales-flush-floor <ftp-url> <remote-dir> <local-src-dir> [connections]');
  const u = new URL(url);
  const host = u.hostname;
  const port = Number(u.port || 21);
  const names = readdirSync(src).sort();
  const login = async (): Promise<Conn> => {
    const c = await open(host, port);
    await expect(c, '220', 'greeting');
    c.s.write(`USER ${decodeURIComponent(u.username)}\r\nPASS ${decodeURIComponent(u.password)}\r\nTYPE I\r\n`);
    await expect(c, '331', 'USER');
    await expect(c, '230', 'PASS');
    await expect(c, '200', 'TYPE');
    return c;
  };
  const cs = await Promise.all(Array.from({ length: Number(n) }, login));
  cs[0]!.s.write(`MKD ${dir}\r\n`);
  await expect(cs[0]!, '257', 'MKD');
  let next = 0;
  await Promise.all(
    cs.map(async (c) => {
      while (next < names.length) {
        const name = names[next++]!;
        const bytes = readFileSync(join(src, name));
        const tmp = `${dir}/.${name}.part`;
        c.s.write('EPSV\r\n');
        const p = Number(/\|\|\|(\d+)\|/.exec(await expect(c, '229', 'EPSV'))![1]);
        c.s.write(`STOR ${tmp}\r\n`);
        await new Promise<void>((res, rej) => {
          const d = connect(p, host, () => d.end(bytes));
          d.on('close', () => res());
          d.on('error', rej);
        });
        await expect(c, '150', 'STOR');
        await expect(c, '226', 'STOR');
        c.s.write(`RNFR ${tmp}\r\nRNTO ${dir}/${name}\r\n`);
        await expect(c, '350', 'RNFR');
        await expect(c, '250', 'RNTO');
      }
      c.s.end('QUIT\r\n');
    }),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`sales-flush-floor: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
