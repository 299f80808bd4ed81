import { Writable } from 'node:stream';

/** Where a command writes: injectable so tests run the CLI in-process and read what it printed. */
export interface Io {
  out: Writable & { isTTY?: boolean };
  err: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function defaultIo(): Io {
  return { out: process.stdout, err: process.stderr, env: process.env, cwd: process.cwd() };
}

export function println(w: Writable, s = ''): void {
  w.write(s + '\n');
}

export function printJson(w: Writable, v: unknown): void {
  w.write(JSON.stringify(v, null, 2) + '\n');
}

/** a fixed-width table for humans; --json is the machine format */
export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('  ')).join('\n');
}

/** minor units → "350.00", thousandths → "1.500": the one formatter, from text/ */
export { formatMoney as money, formatMilli as milli } from '../text/fixed.js';
