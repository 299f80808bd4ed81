// Summarises a V8 .cpuprofile (from `--profile`): self time by function and by file, and the
// inclusive time of the functions that matter for an import.
//   node bench/dist/profile-summary.js <file.cpuprofile> [top N] [skip ms]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summarise(file: string, top = 25, skipMs = 0): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  // samples after the first skipMs only (e.g. past a daemon's start-up)
  let t = 0, total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < skipMs * 1000) return;
    total += dt;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });

  const short = (u: string) => u.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|core|plugins|bench)\//, '$1/');
  const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;

  const selfByFn = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  const inclByFn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    selfByFn.set(label(n), (selfByFn.get(label(n)) ?? 0) + us);
    const f = n.callFrame.url ? short(n.callFrame.url) : `(${n.callFrame.functionName})`;
    selfByFile.set(f, (selfByFile.get(f) ?? 0) + us);
    // inclusive: every distinct function on the stack of this sample
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclByFn.set(l, (inclByFn.get(l) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms`;
  const list = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${pct(v)}  ${k}`).join('\n');
  return [
    `${file}: ${(total / 1000).toFixed(0)} ms profiled${skipMs ? ` (after the first ${skipMs} ms)` : ''}`,
    `self time by function (top ${top}):`,
    list(selfByFn, top),
    'self time by file:',
    list(selfByFile, 12),
    `inclusive time (top ${top}):`,
    list(inclByFn, top),
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [file, n, skip] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary <file.cpuprofile> [top] [skip ms]\n');
    process.exit(2);
  }
  process.stdout.write(summarise(file, n ? Number(n) : 25, skip ? Number(skip) : 0) + '\n');
}
