// The one-command demo (`npm run demo`, `npm run demo -- --keep`): a theatre back office publishes
// a price list, a box-office terminal pulls it over FTP, and the user watches each step.
// Everything runs in this process against an embedded FTP server on loopback: no root, no
// system packages, nothing left behind (unless --keep).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import iconv from 'iconv-lite';
import { FtpSrv } from 'ftp-srv';
import { cli, silentLogger } from '@cfx/core';
import { createFtpTransport } from '@cfx/transport-ftp';

export interface DemoOptions {
  /** where the story is told */
  out: Writable;
  /** keep the temp dir (its path is printed) */
  keep?: boolean;
  /** work in this dir instead of a new temp dir; it is the caller's and is never removed */
  dir?: string;
}

export interface DemoResult {
  dir: string;
  /** the bytes 1C wrote (cp1251, CRLF, comma decimals) */
  officeFile: Buffer;
  /** the terminal's local copy: dataDir/archive/prices/YYYY-MM-DD/prices-0001.full.csv */
  archived: string;
  /** names left in the terminal's inbox on the server after the pull */
  inboxAfter: string[];
  /** `cfx catalog --json` items after the pull */
  catalog: { code: string; barcodes: string[]; name: string; price: string }[];
  /** the generated FTP password (the demo must never print it) */
  password: string;
  /** the generic back office's delivery file(s) after the office collected: name → content */
  delivered: Record<string, string>;
  /** what the office's second collect (after the terminal's resend) counted */
  afterResend: { stored: number; duplicates: number; deliveredSales: number };
  elapsedMs: number;
}

const TERMINAL = 'box-1';
const INBOX = `/ftpbox/${TERMINAL}`;
const FILE = 'prices-0001.full.csv';
// what 1C exports for the box office; `.full` in the name: this list replaces the whole catalog
const PRICE_LINES = [
  'code;barcodes;name;price;unit;weighed',
  '1001;4820000000017;Квиток дорослий;350,00;шт;0',
  '1002;4820000000024;Квиток дитячий;175,00;шт;0',
  '2001;4820000000031;Програмка;20,00;шт;0',
  '3001;4820000000048;Кава американо;45,50;шт;0',
];

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const say = (s = '') => opts.out.write(s + '\n');
  const heading = (s: string) => say(`\n== ${s} ==`);
  const indent = (s: string) => s.replace(/\n$/, '').replace(/^/gm, '  ');
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'cfx-demo-'));
  const ftpRoot = join(dir, 'ftp-root');
  const termDir = join(dir, 'terminal');
  const officeDir = join(dir, 'office');
  for (const d of [ftpRoot, termDir, officeDir]) mkdirSync(d, { recursive: true });

  // the server logs through bunyan (JSON lines on stdout) unless given a logger: keep it quiet,
  // but remember its errors so a failed step can say what the server saw
  const serverErrors: string[] = [];
  const remember = (...a: unknown[]) => serverErrors.push(a.map(String).join(' '));
  const quiet = { child: () => quiet, trace() {}, debug() {}, info() {}, warn() {}, error: remember, fatal: remember };
  const password = randomBytes(12).toString('hex');
  const pasvMin = 50_000 + Math.floor(Math.random() * 10_000); // a random high range: two demos at once rarely collide
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;
  const before = new Set(SIGNALS.flatMap((sig) => process.listeners(sig)));
  // port 0: the OS picks a free port at listen time (no window for another process to take it)
  const ftp = new FtpSrv({ url: 'ftp://127.0.0.1:0', pasv_url: '127.0.0.1', pasv_min: pasvMin, pasv_max: pasvMin + 99, log: quiet, greeting: 'cfx demo server' });
  // ftp-srv hooks SIGINT/SIGTERM/SIGQUIT to "close and exit 0": an interrupted demo must not report success
  for (const sig of SIGNALS) for (const l of process.listeners(sig)) if (!before.has(l)) process.off(sig, l);
  ftp.on('login', ({ username, password: pw }, resolve, reject) => {
    if (username === 'cfx' && pw === password) resolve({ root: ftpRoot });
    else reject(new Error('wrong user or password'));
  });

  let officeFtp: ReturnType<typeof createFtpTransport> | undefined;
  let step = 'starting the FTP server';
  try {
    await ftp.listen();
    const port = ((ftp as unknown as { server: Server }).server.address() as { port: number }).port;
    const server = `ftp://cfx:\${CFX_FTP_PASSWORD}@127.0.0.1:${port}`;
    say('cfx demo: a theatre box office gets its price list from the back office over FTP');
    say(`work dir ${dir}`);

    heading('1. The file server');
    say('An FTP server on this machine stands in for the one the office and the box office share:');
    say(`  ftp://cfx:***@127.0.0.1:${port}  (user cfx, a generated password; files in ${ftpRoot})`);

    step = 'the office publishing the price list';
    heading('2. The office publishes a price list');
    const officeFile = iconv.encode(PRICE_LINES.join('\r\n') + '\r\n', 'win1251');
    writeFileSync(join(officeDir, FILE), officeFile);
    say(`1C exported ${join(officeDir, FILE)}, the way 1C does: cp1251, CRLF line ends, comma decimals:`);
    say(indent(PRICE_LINES.join('\n')));
    // upload under a temp name, then rename: the terminal never sees half a file
    officeFtp = createFtpTransport({ url: new URL(`ftp://cfx:${password}@127.0.0.1:${port}`), options: {}, logger: silentLogger(), timeoutMs: 10_000 });
    await officeFtp.mkdir(INBOX);
    await officeFtp.write(`${INBOX}/.${FILE}.part`, officeFile);
    await officeFtp.rename(`${INBOX}/.${FILE}.part`, `${INBOX}/${FILE}`);
    say(`The office uploaded it (${officeFile.length} bytes) as ${INBOX}/.${FILE}.part, then renamed it to ${INBOX}/${FILE}:`);
    say(`the terminal ignores dot-names and .part files, so it never takes half a file.`);

    const env = { CFX_FTP_PASSWORD: password };
    const run = async (args: string[], show = true, cwd = termDir) => {
      let text = '';
      const sink = new Writable({
        write(chunk, _enc, cb) {
          text += String(chunk);
          if (show) opts.out.write(indent(String(chunk)) + '\n');
          cb();
        },
      });
      if (show) say(`$ cfx ${args.join(' ')}`);
      const code = await cli(['node', 'cfx', ...args], { out: sink, err: sink, env, cwd });
      if (code !== 0) throw new Error(`cfx ${args.join(' ')} exited ${code}${show ? '' : `: ${text.trim()}`}`);
      return text;
    };

    step = 'writing and checking the terminal config';
    heading('3. The terminal is configured');
    const yaml = `role: terminal
terminal: ${TERMINAL}
dataDir: ./data
# the password is not in this file: it comes from the environment
server: "${server}"
timeout: 10s
prices:
  dir: /ftpbox/{terminal}
  poll: 200ms
log: { level: info, file: ./cfx.log }
`;
    writeFileSync(join(termDir, 'cfx.yaml'), yaml);
    say(`${join(termDir, 'cfx.yaml')} (CFX_FTP_PASSWORD is set in the environment):`);
    say(indent(yaml));
    await run(['config', 'check']);

    step = 'running cfx pull';
    heading('4. The terminal pulls its inbox');
    say('It downloads every complete file, applies it to the local catalog in one transaction,');
    say('keeps a copy in dataDir/archive/prices/YYYY-MM-DD/, and only then deletes it on the server.');
    await run(['pull']);
    const archiveBase = join(termDir, 'data', 'archive', 'prices');
    const found = readdirSync(archiveBase, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith(FILE));
    if (found.length !== 1) throw new Error(`expected one archived ${FILE} under ${archiveBase}, found ${found.length}`);
    const archived = join(archiveBase, found[0]!);

    step = 'running cfx catalog';
    heading('5. What the till now sells (prices as decimal strings, never floats)');
    await run(['catalog']);
    const catalog = JSON.parse(await run(['catalog', '--json'], false)).items as DemoResult['catalog'];

    step = 'running cfx status';
    heading('6. The terminal status (from its local store; connects nowhere)');
    await run(['status']);

    step = 'checking the result';
    heading('7. Afterwards');
    const inboxAfter = (await officeFtp.list(INBOX)).map((e) => e.name);
    say(`The server inbox ${INBOX}: ${inboxAfter.length ? `NOT empty: ${inboxAfter.join(', ')}` : 'empty (the terminal took the file)'}`);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const same = sha(readFileSync(archived)) === sha(officeFile);
    say(`The terminal's local copy: ${archived}`);
    say(`  ${same ? 'byte-identical to' : 'DIFFERENT from'} what the office wrote (sha256 ${sha(officeFile).slice(0, 16)}…)`);
    say(`Its log: ${join(termDir, 'cfx.log')}`);
    if (inboxAfter.length) throw new Error(`the server inbox still holds ${inboxAfter.join(', ')}`);
    if (!same) throw new Error(`the archived copy ${archived} differs from what the office wrote`);

    step = 'recording a sale at the till';
    heading('8. A sale at the till goes to the server at once');
    const sale = {
      saleId: 'R-0001',
      time: '2025-03-15T19:05:00+02:00',
      receiptNo: 1,
      shift: 1,
      cashier: 'Олена',
      kind: 'sale',
      lines: [
        { code: '1001', barcode: '4820000000017', name: 'Квиток дорослий', qty: '2', price: '350.00', amount: '700.00' },
        { code: '2001', name: 'Програмка', qty: '1', price: '20.00', amount: '20.00' },
      ],
      payments: [{ kind: 'card', amount: '720.00' }],
    };
    writeFileSync(join(termDir, 'sale.json'), JSON.stringify(sale, null, 2));
    say('The till hands cfx the sale as JSON (decimal strings; cfx keeps integer kopiyky). It is journaled');
    say('durably first, then uploaded as one file under a deterministic name (temp name, then rename):');
    await run(['sale', 'add', 'sale.json', '--push']);
    const salesOnServer = (await officeFtp.list('/ftpbox/sales')).map((e) => e.name);
    say(`On the server, /ftpbox/sales: ${salesOnServer.join(', ')}`);

    step = 'collecting at the office';
    heading('9. The office collects the sales and hands them to the back office, once');
    // the office's cfx lives beside 1C's export folder
    const officeYaml = `role: office
terminals: [${TERMINAL}]
dataDir: ./data
server: "${server}"
sales: { dir: /ftpbox/sales }
backoffice: { use: generic, options: { outDir: ./to-1c } }
log: { level: info, file: ./cfx.log }
`;
    writeFileSync(join(officeDir, 'cfx.yaml'), officeYaml);
    say(indent(officeYaml));
    await run(['collect'], true, officeDir);
    const outDir = join(officeDir, 'to-1c');
    const delivered = Object.fromEntries(readdirSync(outDir).filter((n) => !n.startsWith('.')).map((n) => [n, readFileSync(join(outDir, n), 'utf8')]));
    for (const [n, c] of Object.entries(delivered)) {
      say(`${join(outDir, n)}:`);
      say(indent(c.replace(/^\ufeff/, '').replace(/\r\n/g, '\n')));
    }

    step = 'resending a period';
    heading('10. An admin resends the sales of a day; the office stores nothing twice');
    await run(['resend', '--from', '2025-03-15', '--to', '2025-03-15']);
    const second = JSON.parse(await run(['collect', '--json'], false, officeDir));
    const afterResend = { stored: second.counts.stored, duplicates: second.counts.duplicates, deliveredSales: second.delivered.sales };
    say(`$ cfx collect (office): ${afterResend.stored} new, ${afterResend.duplicates} duplicate, ${afterResend.deliveredSales} delivered — the back office got the sale once`);
    const outAfter = readdirSync(outDir).filter((n) => !n.startsWith('.'));
    if (outAfter.length !== Object.keys(delivered).length) throw new Error(`the resend produced a second delivery: ${outAfter.join(', ')}`);
    return { dir, officeFile, archived, inboxAfter, catalog, password, delivered, afterResend, elapsedMs: Date.now() - started };
  } catch (e) {
    const seen = serverErrors.length ? ` (the FTP server's last error: ${serverErrors.at(-1)})` : '';
    throw new Error(`demo failed while ${step}: ${(e as Error).message}${seen}`, { cause: e });
  } finally {
    await officeFtp?.close();
    await ftp.close();
    say('\nstopped the FTP server');
    if (opts.dir) say(`files left in ${dir}`);
    else if (opts.keep) say(`kept ${dir} (remove it when done)`);
    else {
      rmSync(dir, { recursive: true, force: true });
      say(`removed ${dir} (run with --keep to look around)`);
    }
    say(`elapsed ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

// `node test/dist/demo/demo.js [--keep]`
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (args.some((a) => a !== '--keep')) {
    const help = args.includes('--help') || args.includes('-h');
    (help ? process.stdout : process.stderr).write('usage: npm run demo [-- --keep]   (--keep: keep the temp dir and print its path)\n');
    process.exit(help ? 0 : 2);
  }
  const done = (code: number) => process.stdout.write('', () => process.exit(code)); // exit once stdout is flushed
  runDemo({ out: process.stdout, keep: args.includes('--keep') }).then(
    // exit rather than wait: ftp-srv leaves a 1 s disconnect timer behind after close
    () => done(0),
    (e: Error) => {
      process.stderr.write(`\n${e.message}\n`);
      done(1);
    },
  );
}
