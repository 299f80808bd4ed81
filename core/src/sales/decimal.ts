/**
 * Decimal text → integer units, exactly (no floats on the way): "350,00" → 35000 with 2 places,
 * "1.5" → 1500 with 3 places. Returns undefined for anything that is not a plain decimal with at
 * most `places` fraction digits.
 */
export function parseDecimal(v: unknown, places: number): number | undefined {
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    s = String(v);
    if (/e/i.test(s)) return undefined;
  } else if (typeof v === 'string') s = v.trim().replace(',', '.');
  else return undefined;
  const m = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  if (frac.length > places && !/^0*$/.test(frac.slice(places))) return undefined;
  const n = Number(m[2]!) * 10 ** places + Number((frac + '0'.repeat(places)).slice(0, places) || '0');
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === '-' ? -n : n;
}
