import { FormatError } from '@cfx/core/api';

/** which decimal points a number may use when reading: 'auto' takes both (1C writes `,`, some tools `.`) */
export type DecimalMode = 'auto' | ',' | '.';

const POW10 = [1, 10, 100, 1000];

/**
 * Exact decimal text -> integer in 10^-scale units (`12,50`, 2 -> 1250), never through a float.
 * Spaces are 1C's digit grouping (`1 234,50`, often U+00A0). Returns the failure as a phrase.
 * (Same rules as @cfx/format-csv's parseFixed.)
 */
export function parseFixed(s: string, scale: number, decimal: DecimalMode): number | string {
  let i = 0, v = 0, fd = -1, digits = 0;
  const n = s.length;
  let c = s.charCodeAt(0);
  const neg = c === 45;
  if (neg || c === 43) i = 1;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      if (fd >= 0) fd++;
    } else if ((c === 44 || c === 46) && fd < 0 && (decimal === 'auto' || c === decimal.charCodeAt(0))) fd = 0;
    else if (c !== 32 && c !== 0xa0 && c !== 0x202f && c !== 9) return 'is not a number';
  }
  if (digits === 0) return 'is not a number';
  if (fd > scale) return scale === 0 ? 'is not a whole number' : `has more than ${scale} decimals`;
  v *= POW10[scale - (fd < 0 ? 0 : fd)]!;
  if (!Number.isSafeInteger(v)) return 'is out of range';
  return neg ? -v : v;
}

/** money and the like: always `scale` decimals (`350,00`, `-0,05`) */
export function formatFixed(v: number, scale: number, point: string): string {
  const p = POW10[scale]!, a = Math.abs(v), frac = a % p;
  return `${v < 0 ? '-' : ''}${(a - frac) / p}${point}${String(frac).padStart(scale, '0')}`;
}

/** a quantity in thousandths the way Frontol writes one: `2`, `-1`, `0,25`, `1,5` */
export function formatQty(v: number, point: string): string {
  const a = Math.abs(v), frac = a % 1000, whole = (a - frac) / 1000;
  const sign = v < 0 ? '-' : '';
  if (frac === 0) return `${sign}${whole}`;
  return `${sign}${whole}${point}${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/** where a number field sits, for the error */
export interface FieldAt {
  file: string | undefined;
  line: number;
  /** 1-based field number in the ATOL line */
  column: number;
  /** the field's name in messages and FormatError.location.field */
  field: string;
}

/** a number field or a FormatError naming file, line and field */
export function fixedAt(s: string, scale: number, decimal: DecimalMode, at: FieldAt): number {
  const v = parseFixed(s, scale, decimal);
  if (typeof v === 'string') throw new FormatError(`field ${at.column} (${at.field}): "${s}" ${v}`, { file: at.file, line: at.line, field: at.field, column: at.column });
  return v;
}
