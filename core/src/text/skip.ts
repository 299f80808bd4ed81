import type { SkippedInput } from '../api/index.js';

const KEEP = 10;

/**
 * PriceDecoding.skipped as a decoder fills it: every passing-over counted, the first lines and
 * distinct reasons kept (bounded, so a file of a million unusable lines costs nothing). Reasons
 * are short phrases without line numbers, so equal causes fold into one.
 */
export class SkipCounter {
  readonly skipped: SkippedInput = { count: 0, lines: [], reasons: [] };

  skip(line: number, reason: string): void {
    const s = this.skipped;
    s.count++;
    if (s.lines.length < KEEP) s.lines.push(line);
    if (s.reasons.length < KEEP && !s.reasons.includes(reason)) s.reasons.push(reason);
  }
}
