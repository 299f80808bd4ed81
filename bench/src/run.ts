// `npm run bench`: the benchmarks of docs/PERFORMANCE (price import vs sqlite3, poll overhead).
//   node bench/dist/run.js [--only price|poll|sales] [--rounds 3] [--rows 1000000] [--orders name,code] [--seconds 60]
//                          [--samples 5] [--scenarios sibling,inbox] [--profile] [--keep]
// Prints a report and writes .bench-out/bench/latest.json (+ a timestamped copy).
// Exits 0 whether targets are met or missed (PASS/MISS is in the report); non-zero only on error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR, intArg, parseArgs, servers } from './common.js';
import { priceImportBench, renderPriceImport, type PriceImportResult } from './price-import.js';
import type { RowOrder } from './gen-prices.js';
import { pollBench, renderPoll, type PollResult, type PollScenario } from './poll-overhead.js';
import { salesFlushBench, renderSalesFlush, type SalesFlushReport } from './sales-flush.js';
import { salesLatencyBench, renderSalesLatency, type SalesLatencyReport } from './sales-latency.js';

const USAGE = `usage: node bench/dist/run.js [--only price|poll|sales] [--rounds N] [--rows N] [--orders name,code] [--seconds S] [--samples N]
                              [--scenarios sibling,inbox] [--profile] [--keep]
  --only       run one bench (default: both)
  --rounds     price import rounds, cfx and sqlite3 interleaved (default 3)
  --rows       rows of the generated price file (default 1000000)
  --orders     row orders of the price file: name (codes in random order, as a file sorted by
               name), code (sorted by code); default name,code, each compared on its own
  --seconds    CPU window of the poll bench per scenario (default 60)
  --samples    new-file latency samples per variant (default 5)
  --scenarios  where the 1,000 unrelated files are: sibling (default first), inbox
  --profile    write V8 CPU profiles of the cfx children to .bench-out/prof/ (summarise one with
               node bench/dist/profile-summary.js <file>); profiling inflates the poll CPU figure
  --keep       keep deployments, databases and remote dirs for inspection
Needs the real servers: sudo bash test/servers/start.sh`;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.has('help') || args.has('h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const only = args.get('only');
  if (only !== undefined && only !== 'price' && only !== 'poll' && only !== 'sales') {
    process.stderr.write(`--only must be price, poll or sales\n${USAGE}\n`);
    return 2;
  }
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
  servers(); // fail early and clearly when the servers are not started

  const startedAt = new Date();
  const env = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), loadavgAtStart: loadavg() };
  process.stdout.write(`cfx bench — ${startedAt.toISOString()} — node ${env.node}, ${env.cpus} vCPU (${env.cpuModel}), load ${env.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}\n\n`);

  let price: PriceImportResult | undefined;
  let poll: PollResult | undefined;
  if (!only || only === 'price') {
    price = await priceImportBench({ rows: intArg(args, 'rows', 1_000_000), rounds: intArg(args, 'rounds', 3), orders, profile: args.has('profile'), keep: args.has('keep') });
    process.stdout.write('\n');
  }
  if (!only || only === 'poll') {
    poll = await pollBench({ seconds: intArg(args, 'seconds', 60), samples: intArg(args, 'samples', 5), scenarios, profile: args.has('profile'), keep: args.has('keep') });
    process.stdout.write('\n');
  }

  let salesFlush: SalesFlushReport | undefined;
  let salesLatency: SalesLatencyReport | undefined;
  if (!only || only === 'sales') {
    salesFlush = await salesFlushBench({ rounds: intArg(args, 'rounds', 5) });
    salesLatency = await salesLatencyBench({ samples: intArg(args, 'sale-samples', 500) });
    process.stdout.write('\n');
  }

  process.stdout.write('==== report ====\n');
  if (price) process.stdout.write(renderPriceImport(price) + '\n');
  if (poll) process.stdout.write(renderPoll(poll) + '\n');
  if (salesFlush) process.stdout.write(renderSalesFlush(salesFlush) + '\n');
  if (salesLatency) process.stdout.write(renderSalesLatency(salesLatency) + '\n');

  const dir = join(OUT_DIR, 'bench');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), env: { ...env, loadavgAtEnd: loadavg() }, args: Object.fromEntries(args), price, poll, salesFlush, salesLatency }, null, 2) + '\n';
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
