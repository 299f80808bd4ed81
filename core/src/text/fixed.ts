/** which decimal points a number may use: 'auto' takes both (1C writes `,`, most tools `.`) */
export type DecimalMode = 'auto' | ',' | '.';

const POW10 = [1, 10, 100, 1000];

/**
 * Exact decimal text -> integer in 10^-scale units (`12,50`, 2 -> 1250), never through a float.
 * Spaces are 1C's digit grouping (`1 234,50`, often U+00A0). Returns the failure as a phrase.
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

export function formatFixed(v: number, scale: number, point: string): string {
  const p = POW10[scale]!, a = Math.abs(v), frac = a % p;
  return `${v < 0 ? '-' : ''}${(a - frac) / p}${point}${String(frac).padStart(scale, '0')}`;
}
