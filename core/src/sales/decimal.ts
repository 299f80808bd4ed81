import { parseFixed } from '../text/fixed.js';

/**
 * Decimal text (or a JSON number) → integer units, exactly: "350,00" → 35000 with 2 places, "1.5" →
 * 1500 with 3 places, through the one decimal parser (`parseFixed`). Trailing zeros beyond `places`
 * are fine ("1.0000" is a whole thousandth); anything else that is not a plain decimal → undefined.
 */
export function parseDecimal(v: unknown, places: number): number | undefined {
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    s = String(v);
    if (/e/i.test(s)) return undefined;
  } else if (typeof v === 'string') s = v.trim();
  else return undefined;
  // a plain decimal: digits before the point (".5" is not one), at most one point or comma
  if (!/^[+-]?\d+(?:[.,]\d*)?$/.test(s)) return undefined;
  s = s.replace(/([.,]\d*?)0+$/, '$1').replace(/[.,]$/, '');
  const n = parseFixed(s, places, 'auto');
  return typeof n === 'number' ? n : undefined;
}
