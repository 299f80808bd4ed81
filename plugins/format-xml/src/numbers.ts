import { parseFixed, type DecimalMode } from '@cfx/core/text';

/**
 * parseFixed, also taking more decimals than `scale` when the extra ones are zeros: 1C-Bitrix
 * writes quantities as `1.0000` and prices as `350.0000`, values that are exact in the model.
 * Anything else beyond `scale` (`1.0005`) stays an error: it cannot be held without rounding.
 */
export function exactFixed(v: string, scale: number, decimal: DecimalMode = 'auto'): number | string {
  const m = /[.,](\d+)\s*$/.exec(v);
  if (m && m[1]!.length > scale && /^0+$/.test(m[1]!.slice(scale))) {
    const cut = m[1]!.length - scale;
    const end = m.index + 1 + m[1]!.length;
    v = v.slice(0, end - cut) + v.slice(end);
  }
  return parseFixed(v, scale, decimal);
}
