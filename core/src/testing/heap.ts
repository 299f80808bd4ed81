import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined | null = null;

/** `global.gc` without `--expose-gc` on the command line (the flag can be set at run time; a new context then sees `gc`). */
export function getGc(): (() => void) | undefined {
  if (gcFn !== null) return gcFn;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return (gcFn = existing);
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    gcFn = typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    gcFn = undefined;
  }
  return gcFn;
}

/** Memory the process retains now (JS heap + ArrayBuffers, Buffers included), after a full GC when one can be forced. */
export function retainedBytes(): number {
  getGc()?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Watches retained memory while a stream is consumed: `sample()` every so many items, `growth` is
 * the largest retained size seen above the baseline. With a forced GC this measures what the code
 * under test holds on to, not garbage waiting to be collected, and not time.
 */
export class HeapWatch {
  readonly baseline: number;
  peak: number;
  readonly exact: boolean;
  constructor() {
    this.exact = getGc() !== undefined;
    this.baseline = retainedBytes();
    this.peak = this.baseline;
  }
  sample(): void {
    const n = retainedBytes();
    if (n > this.peak) this.peak = n;
  }
  get growth(): number {
    return this.peak - this.baseline;
  }
}
