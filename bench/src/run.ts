// `npm run bench`: the benchmarks of docs/PERFORMANCE, each beside its peer in the same run.
//   node bench/dist/run.js [--only price,poll,sales,admin,sftp,1c,fuzz,startup] [--rounds 3] [--rows 1000000] …
// Prints a report and writes .bench-out/bench/latest.json (+ a timestamped copy).
// Exits 0 whether targets are met or missed (PASS/MISS is in the report); non-zero only on error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR, intArg, parseArgs, servers } from './common.js';
import { priceImportBench, renderPriceImport, type PriceImportResult } from './price-import.js';
import type { RowOrder } from './gen-prices.js';
import { pollBench, renderPoll, type PollResult, type PollScenario } from './poll-overhead.js';
import { salesFlushBench, renderSalesFlush, type SalesFlushReport } from './sales-flush.js';
import { salesLatencyBench, renderSalesLatency, type SalesLatencyReport } from './sales-latency.js';
import { adminBench, renderAdminBench, type AdminBenchResult } from './admin-api.js';
import { sftpDownloadBench, renderSftpDownload, type SftpDownloadResult } from './sftp-download.js';
import { sftpFlushBench, renderSftpFlush, type SftpFlushResult } from './sftp-flush.js';
import { priceImport1cBench, renderPriceImport1c, type PriceImport1cResult } from './price-import-1c.js';
import { fuzzBench, renderFuzz, type FuzzBenchResult } from './fuzz-decoders.js';
import { startupBench, renderStartup, type StartupResult } from './startup.js';
import { fleetBench, renderFleet, FLEET_SERVERS_START, type FleetResult, type FleetTransport } from './fleet.js';

const BENCHES = ['price', 'poll', 'sales', 'admin', 'sftp', '1c', 'fuzz', 'startup', 'fleet'] as const;
/** benches that need no servers (fleet has its own instance of them) */
const STANDALONE: readonly string[] = ['fuzz', 'startup', 'fleet'];
type Bench = (typeof BENCHES)[number];

const USAGE = `usage: node bench/dist/run.js [--only LIST] [--rounds N] [--rows N] [--orders name,code] [--seconds S] [--samples N]
                              [--scenarios sibling,inbox] [--items N] [--mib N] [--cases N] [--seed N] [--profile] [--keep]
                              [--fleet-n 100,1000] [--fleet-steps 100,500,1000] [--fleet-window S] [--fleet-transports ftp,nats] [--fleet-procs K]
  --only       comma-separated benches to run (default: all, in this order):
                 price  1M-row price CSV pulled over FTP and applied, vs sqlite3 .import
                 poll   CPU of an idle 1 s poll and new-file latency, vs lftp
                 sales  sales backlog flush vs lftp, and record-to-server latency
                 admin  GET /api/catalog?q= on a 1M catalog (p50/p99) vs better-sqlite3;
                        POST /api/sales throughput vs \`cfx sale add\` per process
                 sftp   100 MiB SFTP download vs curl sftp://; backlog flush over SFTP vs sftp -b
                 1c     100k-item 1C goods file (ATOL, cp1251) pulled and applied vs the CSV path
                 fuzz   every decoder fed 100k random and mutated inputs (fast-check); no servers
                 startup  cfx --version / status / sale add vs node -e 0 (median of --runs, default 10); no servers
                 fleet  N terminals in one process (own stores and connections) polling one server: price
                        publish → applied at all N (p50/p99), server CPU per N; FTP on its own vsftpd
                        (start it first: ${FLEET_SERVERS_START}), NATS when plugins/transport-nats is built
  --rounds     rounds of the price/sftp/1c/sales-flush benches, cfx and the peer interleaved
               (default 3 for price, 5 for the others)
  --rows       rows of the generated price file (default 1000000; the 1c bench: 100000)
  --orders     row orders of the price file: name (codes in random order, as a file sorted by
               name), code (sorted by code); default name,code, each compared on its own
  --seconds    CPU window of the poll bench per scenario (default 60)
  --ftp-listing  poll bench: the daemon's serverOptions.listing (auto, stat, list; default: the
               transport's default, auto: STAT on vsftpd) — list vs auto is the before/after of issue #19
  --samples    new-file latency samples per variant (default 5)
  --scenarios  where the 1,000 unrelated files are: sibling (default first), inbox
  --items      catalog size of the admin bench (default 1000000)
  --mib        size of the SFTP download (default 100)
  --cases      fuzz: inputs per decoder (default 100000)
  --runs       startup: runs of each command (default 10)
  --seed       fuzz: the fast-check seed (default a fixed one, as in the tests)
  --profile    write V8 CPU profiles of the cfx children to .bench-out/prof/ (summarise one with
               node bench/dist/profile-summary.js <file>); profiling inflates the poll CPU figure
  --fleet-n    fleet: N of the publish → applied rounds (default 100,1000; rounds: --rounds, default 2 here)
  --fleet-steps  fleet: N of the server-CPU steps (default 100,500,1000; the --fleet-n are added)
  --fleet-window fleet: CPU window per step in seconds (default 5)
  --fleet-items  fleet: products in the published price file (default 100)
  --fleet-transports  fleet: ftp and/or nats (default both; nats is skipped with a reason when unavailable)
  --fleet-procs  fleet: spread the terminals over K processes (default: the machine's cores,
               os.availableParallelism(); each real terminal has its own machine, one event loop
               simulating 1,000 of them measures that loop, not the server; 1: all in one)
  --keep       keep deployments, databases and remote dirs for inspection
Needs the real servers (but for fuzz and startup): sudo bash test/servers/start.sh`;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.has('help') || args.has('h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const only = new Set((args.get('only') ?? BENCHES.join(',')).split(',').map((x) => x.trim()) as Bench[]);
  if (!only.size || [...only].some((x) => !BENCHES.includes(x))) {
    process.stderr.write(`--only takes a comma-separated list of ${BENCHES.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const want = (b: Bench) => only.has(b);
  const scenarios = (args.get('scenarios') ?? 'sibling,inbox').split(',').map((x) => x.trim()) as PollScenario[];
  if (scenarios.some((x) => x !== 'sibling' && x !== 'inbox')) {
    process.stderr.write(`--scenarios takes sibling and/or inbox\n`);
    return 2;
  }
  const orders = (args.get('orders') ?? 'name,code').split(',').map((x) => x.trim()) as RowOrder[];
  if (!orders.length || orders.some((x) => x !== 'name' && x !== 'code')) {
    process.stderr.write(`--orders takes name and/or code\n`);
    return 2;
  }
  if ([...only].some((b) => !STANDALONE.includes(b))) servers(); // fail early and clearly when the servers are not started

  const startedAt = new Date();
  const env = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), loadavgAtStart: loadavg() };
  process.stdout.write(`cfx bench — ${startedAt.toISOString()} — node ${env.node}, ${env.cpus} vCPU (${env.cpuModel}), load ${env.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}\n\n`);

  let price: PriceImportResult | undefined;
  let poll: PollResult | undefined;
  if (want('price')) {
    price = await priceImportBench({ rows: intArg(args, 'rows', 1_000_000), rounds: intArg(args, 'rounds', 3), orders, profile: args.has('profile'), keep: args.has('keep') });
    process.stdout.write('\n');
  }
  if (want('poll')) {
    const ftpListing = args.get('ftp-listing');
    if (ftpListing !== undefined && ftpListing !== 'auto' && ftpListing !== 'stat' && ftpListing !== 'list') {
      process.stderr.write(`--ftp-listing takes auto, stat or list\n`);
      return 2;
    }
    poll = await pollBench({ seconds: intArg(args, 'seconds', 60), samples: intArg(args, 'samples', 5), scenarios, profile: args.has('profile'), keep: args.has('keep'), ...(ftpListing ? { ftpListing } : {}) });
    process.stdout.write('\n');
  }

  let salesFlush: SalesFlushReport | undefined;
  let salesFlushFar: SalesFlushReport | undefined;
  let salesLatency: SalesLatencyReport | undefined;
  if (want('sales')) {
    salesFlush = await salesFlushBench({ rounds: intArg(args, 'rounds', 5), profile: args.has('profile') });
    // the same backlog to a server 10 ms away (a relay delays the control connection): round trips, not CPU
    salesFlushFar = await salesFlushBench({ rounds: 3, sales: 200, rttMs: 10, only: ['node-floor', 'cfx-cli-shm-4'] });
    salesLatency = await salesLatencyBench({ samples: intArg(args, 'sale-samples', 500) });
    process.stdout.write('\n');
  }

  let admin: AdminBenchResult | undefined;
  if (want('admin')) {
    admin = await adminBench({ items: intArg(args, 'items', 1_000_000) });
    process.stdout.write('\n');
  }
  let sftpDownload: SftpDownloadResult | undefined;
  let sftpFlush: SftpFlushResult | undefined;
  if (want('sftp')) {
    sftpDownload = await sftpDownloadBench({ mib: intArg(args, 'mib', 100), rounds: intArg(args, 'rounds', 5), profile: args.has('profile') });
    sftpFlush = await sftpFlushBench({ rounds: intArg(args, 'rounds', 5) });
    process.stdout.write('\n');
  }
  let price1c: PriceImport1cResult | undefined;
  if (want('1c')) {
    price1c = await priceImport1cBench({ rows: intArg(args, 'rows', 100_000), rounds: intArg(args, 'rounds', 5), profile: args.has('profile'), keep: args.has('keep') });
    process.stdout.write('\n');
  }

  let fuzz: FuzzBenchResult | undefined;
  if (want('fuzz')) {
    fuzz = await fuzzBench({ cases: intArg(args, 'cases', 100_000), ...(args.has('seed') ? { seed: intArg(args, 'seed', 0) } : {}) });
    process.stdout.write('\n');
  }

  let startup: StartupResult | undefined;
  if (want('startup')) {
    startup = await startupBench({ runs: intArg(args, 'runs', 10), keep: args.has('keep') });
    process.stdout.write('\n');
  }

  let fleet: FleetResult | undefined;
  if (want('fleet')) {
    const list = (name: string, def: string) => (args.get(name) ?? def).split(',').map((x) => Number(x.trim().replace(/_/g, '')));
    const ns = list('fleet-n', '100,1000'), steps = list('fleet-steps', '100,500,1000');
    const transports = (args.get('fleet-transports') ?? 'ftp,nats').split(',').map((x) => x.trim()) as FleetTransport[];
    if ([...ns, ...steps].some((n) => !Number.isInteger(n) || n <= 0) || transports.some((t) => t !== 'ftp' && t !== 'nats')) {
      process.stderr.write('--fleet-n / --fleet-steps take positive integers, --fleet-transports ftp and/or nats\n');
      return 2;
    }
    fleet = await fleetBench({ ns, steps, rounds: intArg(args, 'rounds', 2), window: intArg(args, 'fleet-window', 5), items: intArg(args, 'fleet-items', 100), transports, procs: intArg(args, 'fleet-procs', availableParallelism()), keep: args.has('keep') });
    process.stdout.write('\n');
  }

  process.stdout.write('==== report ====\n');
  if (price) process.stdout.write(renderPriceImport(price) + '\n');
  if (poll) process.stdout.write(renderPoll(poll) + '\n');
  if (salesFlush) process.stdout.write(renderSalesFlush(salesFlush) + '\n');
  if (salesFlushFar) process.stdout.write(renderSalesFlush(salesFlushFar) + '\n');
  if (salesLatency) process.stdout.write(renderSalesLatency(salesLatency) + '\n');
  if (admin) process.stdout.write(renderAdminBench(admin) + '\n');
  if (sftpDownload) process.stdout.write(renderSftpDownload(sftpDownload) + '\n');
  if (sftpFlush) process.stdout.write(renderSftpFlush(sftpFlush) + '\n');
  if (price1c) process.stdout.write(renderPriceImport1c(price1c) + '\n');
  if (fuzz) process.stdout.write(renderFuzz(fuzz) + '\n');
  if (startup) process.stdout.write(renderStartup(startup) + '\n');
  if (fleet) process.stdout.write(renderFleet(fleet) + '\n');

  const dir = join(OUT_DIR, 'bench');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), env: { ...env, loadavgAtEnd: loadavg() }, args: Object.fromEntries(args), price, poll, salesFlush, salesFlushFar, salesLatency, admin, sftpDownload, sftpFlush, price1c, fuzz, startup, fleet }, null, 2) + '\n';
  writeFileSync(join(dir, 'latest.json'), json);
  writeFileSync(join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`), json);
  process.stdout.write(`\nJSON: ${join(dir, 'latest.json')}\n`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
