// `npm run bench -- --only fuzz`: every decoder fuzzed with 100,000 random and mutated inputs
// (the tests run 1,000 each), the same targets and harness as the plugins' fuzz.test.ts
// (@cfx/core/testing/fuzz). One target at a time, each in a watched worker thread. Not a timing
// bench: the result is cases, failures and the time it took; needs no servers.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fuzzDecoderIsolated, renderFuzzFailures, type DecoderFuzzTarget, type FuzzReport } from '@cfx/core/testing/fuzz';

/** the packages whose dist/fuzz-targets.js list their decoders */
const PACKAGES = ['@cfx/format-csv', '@cfx/backoffice-1c', '@cfx/format-xml'];

export interface FuzzBenchResult {
  cases: number;
  seed: number | undefined;
  ms: number;
  failures: number;
  targets: FuzzReport[];
}

function targetsModule(pkg: string): URL {
  // the module is the package's test support, not an export: found beside its package.json
  const manifest = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  return pathToFileURL(join(dirname(manifest), 'dist', 'fuzz-targets.js'));
}

export async function fuzzBench(opts: { cases: number; seed?: number; deadlineMs?: number }): Promise<FuzzBenchResult> {
  const started = performance.now();
  const targets: FuzzReport[] = [];
  for (const pkg of PACKAGES) {
    const module = targetsModule(pkg);
    const list = (await (await import(module.href)).fuzzTargets()) as DecoderFuzzTarget[];
    for (const t of list) {
      process.stdout.write(`fuzz: ${t.name}: ${opts.cases} cases… `);
      const r = await fuzzDecoderIsolated(module, t.name, { numRuns: opts.cases, ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.deadlineMs ? { deadlineMs: opts.deadlineMs } : {}) });
      process.stdout.write(`${r.failures.length ? `${r.failures.length} FAILURE(S)` : 'ok'} in ${(r.ms / 1000).toFixed(1)} s\n`);
      if (r.failures.length) process.stdout.write(renderFuzzFailures(r) + '\n');
      targets.push(r);
    }
  }
  return { cases: opts.cases, seed: opts.seed, ms: Math.round(performance.now() - started), failures: targets.reduce((n, r) => n + r.failures.length, 0), targets };
}

export function renderFuzz(r: FuzzBenchResult): string {
  const rows = r.targets.map(
    (t) =>
      `  ${t.target.padEnd(48)} ${String(t.cases).padStart(7)} cases  ${String(t.decoded).padStart(6)} decoded  ${String(t.refused).padStart(7)} refused  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ` +
      `endless: ${t.endless.map((e) => `${e.read}/${e.limit} B`).join(', ') || '-'}  ${t.failures.length ? `FAIL ${t.failures.length}` : 'PASS'}`,
  );
  return [
    `decoder fuzzing (fast-check, seed ${r.targets[0]?.seed ?? '-'}): ${r.targets.length} decoders × ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s, ${r.failures} failure(s)`,
    ...rows,
    '  (decoded: to the end; refused: a FormatError; endless: bytes read past the head of a never-ending line when refused / the limit)',
  ].join('\n');
}
