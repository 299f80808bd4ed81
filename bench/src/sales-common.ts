// Shared by the sales benchmarks (sales-flush.ts, sales-latency.ts): the sale generator, the real
// test servers (test/servers/start.sh writes $CFX_TEST_BASE/servers.env), deployments, statistics.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { servers, type Servers } from './common.js';

export type BenchServer = Servers;
/** The running vsftpd of the test servers, or an explanation of how to start it. */
export const benchServer = servers;

/** local path of a remote path on the server */
export const onDisk = (s: BenchServer, remote: string): string => join(s.ftpRoot, posix.normalize('/' + remote));

/** `/cfx-bench/<label>-<pid>-<random>`, never used before */
export const freshRemoteDir = (label: string): string => `/cfx-bench/${label}-${process.pid}-${randomBytes(4).toString('hex')}`;

/** removes a remote dir through the local file system (the server root is local) */
export function dropRemoteDir(s: BenchServer, remote: string): void {
  rmSync(onDisk(s, remote), { recursive: true, force: true });
}

const NAMES = [
  'Квиток дорослий, партер, ряд 12 — вечірня вистава',
  'Квиток дитячий, балкон, ліва сторона — ранкова вистава',
  'Програмка вистави «Наталка Полтавка», кольорова',
  'Кава американо велика з молоком, буфет другого поверху',
  'Вода мінеральна «Моршинська» негазована 0,5 л',
  'Шоколад чорний «Світоч» 85 % какао, плитка 100 г',
  'Сувенірний магніт «Оперний театр», керамічний',
  'Бінокль театральний, прокат на одну виставу',
];

/**
 * A valid sale JSON with `lines` lines and long Cyrillic names; 14 lines encode to ~2 KiB of
 * format-csv (UTF-8, one header, one H row, 14 L rows, one P row).
 */
export function bigSale(n: number, opts: { lines?: number; day?: string; prefix?: string } = {}): Record<string, unknown> {
  const count = opts.lines ?? 14;
  const day = opts.day ?? '2025-03-15';
  const lines = Array.from({ length: count }, (_, k) => {
    const qty = 1 + ((n + k) % 3);
    const price = 15 + ((n * 7 + k * 13) % 400);
    return {
      code: String(1000 + k),
      barcode: `48200000${String(1000 + k).padStart(5, '0')}`,
      name: NAMES[(n + k) % NAMES.length]!,
      qty: String(qty),
      price: `${price}.50`,
      amount: (qty * (price + 0.5)).toFixed(2),
    };
  });
  const total = lines.reduce((a, l) => a + Math.round(Number(l.amount) * 100), 0);
  return {
    saleId: `${opts.prefix ?? 'B'}${String(n).padStart(7, '0')}`,
    time: `${day}T${String(10 + (n % 10)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:${String((n * 7) % 60).padStart(2, '0')}+02:00`,
    receiptNo: n,
    shift: 7,
    cashier: 'Олена Петрівна Коваленко',
    kind: 'sale',
    lines,
    payments: [{ kind: n % 2 ? 'card' : 'cash', amount: (total / 100).toFixed(2) }],
  };
}

/** A terminal deployment (cfx.yaml + dataDir) under `parent`, pointing at the real server. */
export function deployment(parent: string, o: { server: string; salesDir: string; connections: number; inbox: string; poll?: string }): { dir: string; config: string } {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'cfx-bench-'));
  const config = join(dir, 'cfx.yaml');
  writeFileSync(
    config,
    `role: terminal
terminal: box-1
dataDir: ./data
server: ${o.server}
timeout: 10s
prices:
  dir: ${o.inbox}
  poll: ${o.poll ?? '1h'}
sales:
  dir: ${o.salesDir}
  format: csv
  connections: ${o.connections}
log: { level: warn, file: ./cfx.log }
`,
  );
  return { dir, config };
}

/** A logged-in basic-ftp client (the floor: no cfx code in between). */
export async function rawClient(s: BenchServer): Promise<Client> {
  const u = new URL(s.ftpUrl);
  const c = new Client(10_000);
  await c.access({ host: u.hostname, port: Number(u.port || 21), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) });
  return c;
}

/** what cfx does per file, with nothing around it: STOR to `.name.part`, RNFR, RNTO */
export async function rawPut(c: Client, dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${dir}/.${name}.part`;
  await c.uploadFrom(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)]), tmp);
  await c.send('RNFR ' + tmp);
  await c.send('RNTO ' + `${dir}/${name}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** nearest-rank percentile, p in (0, 100] */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const fmt = (n: number, d = 0): string => n.toFixed(d);

/** a command-line flag `--name value` or `--name=value` */
export function flag(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = args[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
}
