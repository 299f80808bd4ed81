import { CfxError, ErrorCodes } from '../api/errors.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;

/**
 * A duration in ms, or undefined when `v` is not one. Accepts a number of ms, a string of digits
 * (ms), or one or more number+unit parts: "500ms", "1s", "2m", "1h30m", "1.5s". Units: ms s m h d.
 */
export function tryParseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (s === '') return undefined;
  if (/^\d+$/.test(s)) return Number(s);
  let total = 0;
  let pos = 0;
  DURATION_PART.lastIndex = 0;
  while (pos < s.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = DURATION_PART.lastIndex;
    while (s[pos] === ' ') pos++;
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Duration in ms from "500ms", "1s", "2m", "1h30m" or a number of ms. Throws CfxError(USAGE) otherwise. */
export function parseDuration(v: string | number): number {
  const ms = tryParseDuration(v);
  if (ms === undefined) throw new CfxError(ErrorCodes.USAGE, `invalid duration ${JSON.stringify(v)}: use e.g. 500ms, 1s, 2m, 1h30m or a number of milliseconds`);
  return ms;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/** A size in bytes, or undefined. Numbers are bytes; strings "512", "64KB", "512MB", "1.5GB" (1 KB = 1024 bytes). */
export function tryParseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  if (!m) return undefined;
  const mult = SIZE_UNITS[m[2]!.toLowerCase()];
  if (mult === undefined) return undefined;
  const n = Number(m[1]) * mult;
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

/** Bytes from a number or "64KB" / "512MB" / "1GB" (binary: 1 KB = 1024). Throws CfxError(USAGE) otherwise. */
export function parseSize(v: string | number): number {
  const n = tryParseSize(v);
  if (n === undefined) throw new CfxError(ErrorCodes.USAGE, `invalid size ${JSON.stringify(v)}: use e.g. 64KB, 512MB, 1GB or a number of bytes`);
  return n;
}
