// `--only startup`: how long a one-shot `cfx` process takes from exec to exit, beside `node -e 0`
// (issue 20: `cfx --version` ≤ 2.0×, `cfx status` ≤ 3.0×, `cfx sale add` of one sale ≤ 3.0×).
// No servers: a terminal deployment on `memory://` (core's own transport), so only start-up and
// the command's own local work are timed. Rounds interleave the four commands, so a burst of
// load on this shared machine hits all of them alike; the figure is the median per command.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CFX_BIN, fmt, median, scratchRoot, verdict } from './common.js';

export interface StartupRow {
  name: string;
  medianMs: number;
  ratio: number;
  target?: number;
  samples: number[];
}
export interface StartupResult {
  runs: number;
  rows: StartupRow[];
}

function sale(n: number): Record<string, unknown> {
  return {
    saleId: `SU${String(n).padStart(6, '0')}`,
    time: '2025-03-15T10:00:00+02:00',
    receiptNo: n,
    shift: 1,
    cashier: 'Олена',
    kind: 'sale',
    lines: [{ code: '1001', barcode: '4820000001001', name: 'Хліб', qty: '2', price: '15.50', amount: '31.00' }],
    payments: [{ kind: 'cash', amount: '31.00' }],
  };
}

export async function startupBench(o: { runs: number; keep?: boolean }): Promise<StartupResult> {
  const dir = mkdtempSync(join(scratchRoot(), 'cfx-bench-startup-'));
  const config = join(dir, 'cfx.yaml');
  writeFileSync(config, `role: terminal\nterminal: su-1\ndataDir: ./data\nserver: memory://bench\nsales:\n  dir: /sales\nlog: { level: warn, file: ./cfx.log }\n`);
  mkdirSync(join(dir, 'sales'));
  const time = (args: string[], check: (out: string) => boolean): number => {
    const a = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
    const ms = performance.now() - a;
    if (r.status !== 0 || !check(r.stdout)) throw new Error(`startup bench: ${args.join(' ')}: exit ${r.status} ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 500)}`);
    return ms;
  };
  let n = 0;
  const saleFile = () => {
    const f = join(dir, 'sales', `${++n}.json`);
    writeFileSync(f, JSON.stringify(sale(n)));
    return f;
  };
  // CFX_BENCH_BEFORE=<another checkout's core/bin/cfx.js>: the same commands of that build too,
  // interleaved in the same rounds, for a before/after table from one run
  const bins: [string, string][] = [['', CFX_BIN], ...(process.env.CFX_BENCH_BEFORE ? [['before: ', process.env.CFX_BENCH_BEFORE] as [string, string]] : [])];
  const commands: { name: string; target?: number; run: () => number }[] = [
    { name: 'node -e 0', run: () => time(['-e', '0'], () => true) },
    ...bins.flatMap(([label, bin]) => [
      { name: `${label}cfx --version`, target: 2.0, run: () => time([bin, '--version'], (s) => /^\d+\.\d+\.\d+/.test(s)) },
      { name: `${label}cfx status`, target: 3.0, run: () => time([bin, 'status', '-c', config], (s) => s.startsWith('role')) },
      { name: `${label}cfx sale add (1 sale)`, target: 3.0, run: () => time([bin, 'sale', 'add', saleFile(), '-c', config, '--json'], (s) => s.includes('"recorded"')) },
    ]),
  ];
  try {
    // untimed: the store is created by the first sale (status then reads a real one), caches warm
    for (const c of commands) c.run();
    const samples = commands.map(() => [] as number[]);
    for (let i = 0; i < o.runs; i++) commands.forEach((c, k) => samples[k]!.push(c.run()));
    const base = median(samples[0]!);
    const rows = commands.map((c, k) => ({ name: c.name, medianMs: median(samples[k]!), ratio: median(samples[k]!) / base, ...(c.target ? { target: c.target } : {}), samples: samples[k]! }));
    process.stdout.write(`startup: ${rows.map((r) => `${r.name} ${fmt(r.medianMs, 0)} ms (${fmt(r.ratio)}×)`).join(', ')}\n`);
    return { runs: o.runs, rows };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export function renderStartup(r: StartupResult): string {
  const lines = [`== start-up (median of ${r.runs} runs each, interleaved; ratio to node -e 0 of the same run) ==`];
  for (const row of r.rows) {
    lines.push(`  ${row.name.padEnd(24)} ${fmt(row.medianMs, 1).padStart(7)} ms  ${fmt(row.ratio).padStart(5)}×${row.target ? `  target ≤ ${fmt(row.target, 1)}×  ${verdict(row.ratio <= row.target)}` : ''}`);
  }
  return lines.join('\n');
}
