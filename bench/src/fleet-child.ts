// Child process of the fleet bench (fleet.ts): N simulated terminals in this one process, each a
// real cfx terminal opened through the library (`openTerminal` → `start()`: the price poll and the
// sales loop of `cfx run`), with its own cfx.yaml, its own dataDir (catalog.db + journal.db) and its
// own server connection. Driven by the parent over IPC:
//   {op:'grow', n}                     open and start terminals until there are n (with --fleet-procs K:
//                                      this process's share, the indexes i with i % K === shard)
//   {op:'counts'}                      list() calls of the price polls so far, CPU of this process
//   {op:'await', since, n, expect, timeoutMs}
//                                      wait until the first n terminals applied a price file at or
//                                      after `since` (epoch ms); check each one's catalog holds
//                                      `expect` (code → price); answer the applied times
//   {op:'close'}                       stop every terminal (as `cfx run` on SIGTERM) and exit
// When a terminal applied a file is taken at the pull's `prices.pull:applied` step (right after the
// catalog's COMMIT: from then on the till sells at the new prices), through the process-wide fault
// hook; which terminal reached it comes from an AsyncLocalStorage context each terminal is started in.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { coreServices, createLogger, openTerminal, setFaultHook, type Terminal, type Transport } from '@cfx/core';
import { procCpuTicks } from './common.js';
import { epochMs, terminalName, type AwaitAnswer, type FleetChildSpec, type FleetRequest } from './fleet-common.js';

interface Member {
  /** its index in the fleet (terminalName(index) is its name) */
  index: number;
  name: string;
  terminal: Terminal;
  /** epoch ms of the last `prices.pull:applied` */
  appliedAt: number;
  applied: number;
  /** epoch ms of the last new file its watch reported (a `put` with a name): landed → applied splits there */
  wokenAt: number;
  /** its failed listings, and the last one's message: why a terminal was late */
  listErrors: number;
  lastError?: string;
}

const spec = JSON.parse(process.argv[2] ?? 'null') as FleetChildSpec | null;
if (!spec || !process.send) {
  process.stderr.write('fleet-child is started by the fleet bench (fleet.js) with an IPC channel\n');
  process.exit(2);
}
const send = (m: unknown) => process.send!(m);

const fleet: Member[] = [];
const ctx = new AsyncLocalStorage<Member>();
let lists = 0;
let listErrors = 0;
/** watches the terminals' pulls started (transports with the `watch` capability, API 1.2) */
let watches = 0;
/** distinct list() errors (message without the terminal's dir) → count */
const errorKinds = new Map<string, number>();
// how late the fleet process's event loop runs: when it lags, the simulation (not the server) is late
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const logger = createLogger({ level: 'warn', file: spec.logFile });

setFaultHook({
  at(point) {
    if (point !== 'prices.pull:applied') return;
    const m = ctx.getStore();
    if (!m) return;
    m.appliedAt = epochMs();
    m.applied++;
  },
});

/**
 * A terminal's transport, instrumented: the price poll's listings and their failures are counted,
 * and every watch started (a transport with the `watch` capability, API 1.2). Instrumentation only:
 * the calls go through unchanged.
 */
function instrument(t: Transport, countLists: boolean): Transport {
  if (t.watch && !(t as { fleetWatch?: true }).fleetWatch) {
    const watch = t.watch.bind(t);
    t.watch = (dir, opts) => {
      watches++;
      const changes = watch(dir, opts);
      return (async function* () {
        for await (const c of changes) {
          const m = ctx.getStore();
          if (m && c.kind === 'put' && c.name !== '') m.wokenAt = epochMs();
          yield c;
        }
      })();
    };
    (t as { fleetWatch?: true }).fleetWatch = true;
  }
  if (!countLists) return t;
  const list = t.list.bind(t);
  t.list = async (dir, opts) => {
    lists++;
    try {
      return await list(dir, opts);
    } catch (e) {
      listErrors++;
      const m = ctx.getStore();
      if (m) {
        m.listErrors++;
        m.lastError = `${new Date().toISOString()} ${(e as Error).message}`;
      }
      const kind = String((e as Error).message).split(dir).join('<inbox>').slice(0, 300);
      errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
      throw e;
    }
  };
  return t;
}

async function grow(n: number): Promise<{ n: number; openMs: number }> {
  const t0 = performance.now();
  const starting: Promise<void>[] = [];
  const shard = spec!.shard ?? 0, shards = spec!.shards ?? 1;
  for (let index = (fleet.at(-1)?.index ?? shard - shards) + shards; index < n; index += shards) {
    const name = terminalName(index);
    const dir = join(spec!.scratch, name);
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'cfx.yaml');
    writeFileSync(
      config,
      `role: terminal
terminal: ${name}
dataDir: ./data
server: \${CFX_FLEET_SERVER}
timeout: 60s
prices:
  dir: ${spec!.inboxDir}
  poll: ${spec!.pollMs}ms
${spec!.watchPollMs !== undefined ? `  watchPoll: ${spec!.watchPollMs}ms\n` : ''}sales:
  dir: ${spec!.salesDir}
${spec!.extra ?? ''}`,
    );
    const terminal = openTerminal({ config, env: { ...process.env, CFX_FLEET_SERVER: spec!.server }, logger: logger.child({ terminal: name }) });
    // the jobs' connections come from the transports ref; others (a watch) from App.transport()
    const base = terminal.app.services.resolve(coreServices.transports);
    terminal.app.services.value(coreServices.transports, { open: async (purpose) => instrument(await base.open(purpose), purpose === 'prices.pull') });
    const appTransport = terminal.app.transport.bind(terminal.app);
    terminal.app.transport = async () => instrument(await appTransport(), false);
    const m: Member = { index, name, terminal, appliedAt: 0, applied: 0, wokenAt: 0, listErrors: 0 };
    fleet.push(m);
    // everything the terminal's loops do later (timers, sockets, promises) runs in this context;
    // started at a random moment within a poll period, as a fleet's terminals are out of step
    starting.push(ctx.run(m, async () => {
      await sleep(Math.random() * spec!.pollMs);
      await terminal.start();
    }));
  }
  await Promise.all(starting);
  return { n: fleet.length, openMs: performance.now() - t0 };
}

async function awaitApplied(r: Extract<FleetRequest, { op: 'await' }>): Promise<AwaitAnswer> {
  const members = fleet.filter((m) => m.index < r.n);
  const deadline = performance.now() + r.timeoutMs;
  while (members.some((m) => m.appliedAt < r.since) && performance.now() < deadline) await sleep(5);
  const missing = members.filter((m) => m.appliedAt < r.since).map((m) => m.name);
  // the till sells at the office's latest prices: every terminal that applied must hold them
  const wrong: string[] = [];
  for (const m of members) {
    if (m.appliedAt < r.since) continue;
    const p = m.terminal.catalog.get(r.expect.code);
    if (p?.price !== r.expect.price) wrong.push(`${m.name}: ${r.expect.code} at ${p?.price ?? 'absent'}, expected ${r.expect.price}`);
  }
  // the latest five, with their failed listings: why they were late
  const late = members
    .filter((m) => m.appliedAt >= r.since)
    .sort((a, b) => b.appliedAt - a.appliedAt)
    .slice(0, 5)
    .map((m) => ({ terminal: m.name, appliedAt: m.appliedAt, listErrors: m.listErrors, ...(m.lastError ? { lastError: m.lastError } : {}) }));
  return {
    appliedAt: members.map((m) => [m.index, m.appliedAt >= r.since ? m.appliedAt : null]),
    wokenAt: members.map((m) => [m.index, m.appliedAt >= r.since && m.wokenAt >= r.since && m.wokenAt <= m.appliedAt ? m.wokenAt : null]),
    missing,
    wrong,
    late,
  };
}

process.on('message', (raw) => {
  const r = raw as FleetRequest & { id: number };
  (async () => {
    switch (r.op) {
      case 'grow':
        return grow(r.n);
      case 'counts': {
        // the event loop's delay since the last `counts` (ms)
        const lag = { p50Ms: loopDelay.percentile(50) / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 };
        loopDelay.reset();
        return { lag, lists, listErrors, watches, errorKinds: [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 3), cpu: procCpuTicks(process.pid), at: epochMs(), rssMb: process.memoryUsage().rss / 2 ** 20 };
      }
      case 'await':
        return awaitApplied(r);
      case 'close': {
        const t0 = performance.now();
        await Promise.all(fleet.map((m) => m.terminal.close().catch(() => undefined)));
        return { closeMs: performance.now() - t0 };
      }
    }
  })().then(
    (result) => {
      send({ id: r.id, result });
      if (r.op === 'close') process.disconnect();
    },
    (e) => send({ id: r.id, error: (e as Error).stack ?? String(e) }),
  );
});
// the parent ends this process with SIGTERM once its terminals are closed: exit through
// process.exit, so a --cpu-prof (CFX_BENCH_FLEET_NODE_ARGS) profile is written
process.on('SIGTERM', () => process.exit(0));
send({ ready: true });
